#!/usr/bin/env python3
"""The exported scorer in ONNX Runtime over a Parquet file, the way a Python service or a
batch job would run it: read the table with pyarrow, then score it in batches of `--batch`
rows with one `InferenceSession` (CPU). Prints one JSON line: read and score seconds, rows per
second of the scoring alone, and (with `--check`, a CSV of `latent score` on the same file)
the largest score difference and whether every flag agrees.

Usage: onnx_scorer.py --onnx scorer.onnx --data rows.parquet [--batch 1024] [--check s.csv]
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort
import pyarrow.parquet as pq


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--onnx", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--check")
    args = p.parse_args()
    session = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    names = meta["latent.columns"].split(",")

    t0 = time.perf_counter()
    table = pq.read_table(args.data, columns=names)
    x = np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float32)
    t1 = time.perf_counter()
    scores = np.empty(len(x), dtype=np.float32)
    flags = np.empty(len(x), dtype=bool)
    for i in range(0, len(x), args.batch):
        s, f = session.run(None, {"x": x[i:i + args.batch]})
        scores[i:i + args.batch], flags[i:i + args.batch] = s, f
    t2 = time.perf_counter()
    out = {"rows": len(x), "batch": args.batch, "read_s": round(t1 - t0, 3),
           "score_s": round(t2 - t1, 3), "score_rows_per_s": int(len(x) / (t2 - t1)),
           "threads": session.get_session_options().intra_op_num_threads,
           "onnxruntime": ort.__version__}
    if args.check:
        import pyarrow.csv as pc
        ref = pc.read_csv(args.check)
        want = ref.column("score").to_numpy()
        out["max_abs_diff_vs_latent"] = float(np.abs(scores - want).max())
        out["flags_equal"] = bool((flags == (ref.column("is_anomaly").to_numpy() == 1)).all())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
