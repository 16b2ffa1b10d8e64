"""Scoring throughput on one machine: in-process Python, the `latent` binary, Ray Data
(map_batches, 2 workers) and Spark (mapInPandas, local[2]), on the same rows and model.

    .ci-venv/bin/python crates/latent-py/bench/scale_out.py [--rows N]

The rows are satimage-2 (../shared/data/anomaly) repeated to N rows; the model is fitted on
the original rows with preset "anomaly". Ray and Spark times include moving the rows in and
the scores out (from and to pandas), not their start-up. Times are raw wall times.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

import latent

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "examples"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")])
os.environ["PYSPARK_PYTHON"] = sys.executable


def timed(label, rows, fn):
    t = time.perf_counter()
    out = fn()
    s = time.perf_counter() - t
    print(f"{label:34s} {s:8.2f} s   {rows / s / 1e3:9.1f} k rows/s")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500_000)
    args = ap.parse_args()
    src = pd.read_csv(ROOT.parent / "shared/data/anomaly/satimage-2.csv").drop(columns="label")
    det = latent.AutoEncoder(preset="anomaly", epochs=100, seed=0).fit(src)
    reps = -(-args.rows // len(src))
    df = pd.concat([src] * reps, ignore_index=True).iloc[: args.rows].astype(np.float32)
    n = len(df)
    print(f"{n} rows x {df.shape[1]} columns, model {det.model_.layer_widths} + forest")
    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(tmp) / "m.safetensors"
        det.save(model)
        csv = pathlib.Path(tmp) / "x.csv"
        df.to_csv(csv, index=False)
        timed("python decision_function", n, lambda: det.decision_function(df))
        cli = [str(ROOT / "target/release/latent"), "score", "--model", str(model), "--data",
               str(csv), "--out", str(pathlib.Path(tmp) / "s.csv"), "--quiet"]
        timed("cli latent score (CSV in and out)", n, lambda: subprocess.run(cli, check=True))

        import ray
        import ray_score

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ds = ray.data.from_pandas(df).repartition(8).materialize()
        timed("ray map_batches (2 workers)", n,
              lambda: ray_score.score(ds, model, workers=2, batch_size=8192).to_pandas())
        ray.shutdown()

        from pyspark.sql import SparkSession
        import spark_score

        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.addPyFile(str(ROOT / "examples/spark_score.py"))
        sdf = spark.createDataFrame(df).repartition(8).cache()
        sdf.count()
        timed("spark mapInPandas (local[2])", n,
              lambda: spark_score.score(spark, sdf, model).select("score").toPandas())
        spark.stop()


if __name__ == "__main__":
    main()
