#!/usr/bin/env python3
"""The exported latent scorer inside Spark: `onnxruntime` in `mapInPandas`, one
`InferenceSession` per partition iterator, fed each pandas batch's columns (in the order of the
model's `latent.columns` metadata) as float32 `x`. Writes `score` and `is_anomaly` beside the
input columns as Parquet, and prints one JSON line (rows, seconds, and with `--check`, a CSV of
`latent score` on the same rows, the largest score difference and whether every flag agrees).

Usage: spark_scorer.py --onnx scorer.onnx --data rows.parquet --out scored.parquet [--check s.csv]

Needs pyspark (with Java), onnxruntime, numpy, pandas and pyarrow on the driver and executors.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort
from pyspark.sql import SparkSession
from pyspark.sql.types import BooleanType, FloatType, StructField, StructType


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--onnx", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--check")
    args = p.parse_args()
    spark = SparkSession.builder.master("local[2]").appName("latent-onnx").getOrCreate()
    model = open(args.onnx, "rb").read()
    names = ort.InferenceSession(model).get_modelmeta().custom_metadata_map["latent.columns"]
    names = names.split(",")
    shipped = spark.sparkContext.broadcast(model)

    def score(batches):
        session = ort.InferenceSession(shipped.value, providers=["CPUExecutionProvider"])
        for pdf in batches:
            x = pdf[names].to_numpy(dtype=np.float32)
            s, flag = session.run(None, {"x": x})
            yield pdf.assign(score=s, is_anomaly=flag)

    t0 = time.perf_counter()
    df = spark.read.parquet(args.data)
    schema = StructType(df.schema.fields + [StructField("score", FloatType()),
                                            StructField("is_anomaly", BooleanType())])
    df.mapInPandas(score, schema).write.mode("overwrite").parquet(args.out)
    t1 = time.perf_counter()
    out = {"rows": spark.read.parquet(args.out).count(), "seconds": round(t1 - t0, 2)}
    if args.check:
        import pyarrow.csv as pc
        # Spark's output is not in input order: compare by a row key (all columns).
        got = spark.read.parquet(args.out).toPandas()
        src = spark.read.parquet(args.data).toPandas()
        ref = pc.read_csv(args.check).to_pandas()
        src["want"], src["want_flag"] = ref["score"].to_numpy(), ref["is_anomaly"].to_numpy() == 1
        m = got.merge(src, on=names)
        out["matched_rows"] = len(m)
        out["max_abs_diff_vs_latent"] = float(np.abs(m["score"] - m["want"]).max())
        out["flags_equal"] = bool((m["is_anomaly"] == m["want_flag"]).all())
    print(json.dumps(out))
    spark.stop()


if __name__ == "__main__":
    main()
