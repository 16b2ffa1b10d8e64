"""latent on Spark: batch scoring with `mapInPandas`, the model file shipped to executors.

`SparkContext.addFile` copies the model file to every executor; each Python worker loads it
once (cached per process) and scores its partitions' pandas batches with the Rust library.

    spark-submit examples/spark_score.py MODEL.safetensors DATA.csv [OUT_DIR]
"""

import sys

import pandas as pd

import latent

_LOADED = {}


def _detector(name):
    from pyspark import SparkFiles

    if name not in _LOADED:
        _LOADED[name] = latent.load(SparkFiles.get(name))
    return _LOADED[name]


def score(spark, df, model_path):
    """`df` (a Spark DataFrame with the model's columns) with `score` (float) and
    `is_anomaly` (int) columns added."""
    import os

    spark.sparkContext.addFile(str(model_path))
    name = os.path.basename(str(model_path))

    def batches(it):
        det = _detector(name)
        columns = det.model_.input_names
        for pdf in it:
            scores = det.decision_function(pdf[columns])
            yield pdf.assign(score=scores.astype("float64"), is_anomaly=det.model_.flags(scores))

    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    added = [StructField("score", DoubleType()), StructField("is_anomaly", LongType())]
    return df.mapInPandas(batches, schema=StructType(df.schema.fields + added))


if __name__ == "__main__":
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("latent-score").getOrCreate()
    df = spark.read.csv(sys.argv[2], header=True, inferSchema=True)
    scored = score(spark, df, sys.argv[1])
    if len(sys.argv) > 3:
        scored.write.mode("overwrite").parquet(sys.argv[3])
    else:
        scored.select("score", "is_anomaly").summary().show()
    spark.stop()
