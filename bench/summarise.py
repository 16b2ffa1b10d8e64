#!/usr/bin/env python3
"""Summarises .bench/results.jsonl (one JSON line per run, from scripts/bench.sh) as markdown:
medians per workload and implementation, the ratio latent/PyTorch, peak RSS, and the targets.

Usage: summarise.py [results.jsonl]     (stdlib only)
"""
import json
import os
import statistics
import sys

# Targets (issue 13): minimum ratio latent/PyTorch of samples/s, and whether latent's peak RSS
# must stay below PyTorch's; W2 also against ONNX Runtime.
TARGETS = {"w1": (1.6, True), "w2": (1.4, True), "w3": (2.0, False), "tiny": (5.0, False)}
ORT_TARGET = 1.1
ORDER = ["w1", "w2", "w3", "tiny"]
# Floating-point operations per sample (2 per multiply-add), to turn samples/s into GFLOP/s.
# Dense 784-512-128-32-128-512-784: 942,080 multiply-adds forward; a training step adds the
# weight gradients (as many) and the input gradients of every layer but the first (540,672).
# W3 (DESIGN.md): 1,919,232 forward; training adds as many again and all but the first
# convolution's input gradients (1,862,784).
FLOP_PER_SAMPLE = {"w1": 2 * 2_424_832, "w2": 2 * 942_080, "w3": 2 * 5_701_248}


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else ".bench/results.jsonl"
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            runs.setdefault((r["workload"], r["impl"]), []).append(r)
    workloads = [w for w in ORDER if any(k[0] == w for k in runs)]
    workloads += sorted({k[0] for k in runs} - set(workloads))

    def contended(r):
        return (r.get("busy_cpus_before", 0) >= 0.5
                or r.get("load1_before", 0) > r.get("threads", 2) + 1)

    busy_runs = sum(contended(r) for rs in runs.values() for r in rs)
    caveat = " (unreliable: the machine was busy)" if busy_runs else ""

    def med(w, impl, key):
        vals = [r[key] for r in runs.get((w, impl), []) if key in r]
        return statistics.median(vals) if vals else None

    peak = None
    try:
        with open(os.path.join(os.path.dirname(path) or ".", "peak.json")) as f:
            peak = json.load(f).get("gflops")
    except (OSError, ValueError):
        pass
    if peak:
        print(f"Measured fp32 peak of the threads used (examples/peak_flops): {peak:.0f} GFLOP/s\n")

    def gflops(w, v):
        if v is None or w not in FLOP_PER_SAMPLE:
            return "–"
        g = v * FLOP_PER_SAMPLE[w] / 1e9
        return f"{g:.0f}" + (f" ({100 * g / peak:.0f}%)" if peak else "")

    print("| workload | latent samples/s | PyTorch samples/s | latent/PyTorch | "
          "latent GFLOP/s (of peak) | PyTorch GFLOP/s | "
          "latent peak RSS (MiB) | PyTorch peak RSS (MiB) | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for w in workloads:
        l, p = med(w, "latent", "samples_per_s"), med(w, "pytorch", "samples_per_s")
        lr, pr = med(w, "latent", "peak_rss_mb"), med(w, "pytorch", "peak_rss_mb")
        ratio = l / p if l and p else None
        n = f'{len(runs.get((w, "latent"), []))}+{len(runs.get((w, "pytorch"), []))}'
        cell = lambda v: fmt(v) if v is not None else "–"
        print(f"| {w} | {cell(l)} | {cell(p)} | "
              f"{f'**{ratio:.2f}×**' if ratio else '–'} | {gflops(w, l)} | {gflops(w, p)} | "
              f"{cell(lr)} | {cell(pr)} | {n} |")
        o = med(w, "onnxruntime", "samples_per_s")
        if o:
            n_o = len(runs.get((w, "onnxruntime"), []))
            print(f"| {w} vs ONNX Runtime | {cell(l)} | {cell(o)} (ORT) | "
                  f"**{l / o:.2f}×** | {gflops(w, l)} | {gflops(w, o)} (ORT) | – | "
                  f"{cell(med(w, 'onnxruntime', 'peak_rss_mb'))} | {n_o} |")
            verdicts.append(f"{w}: {l / o:.2f}× ONNX Runtime (target ≥ {ORT_TARGET}×) — "
                            f"{'met' if l / o >= ORT_TARGET else 'NOT met'}")
        if w in TARGETS and ratio is not None:
            need, rss = TARGETS[w]
            speed_ok = ratio >= need
            text = f"{w}: ratio {ratio:.2f}× (target ≥ {need}×) — {'met' if speed_ok else 'NOT met'}"
            if rss and lr is not None and pr is not None:
                text += (f"; peak RSS {lr:.0f} vs {pr:.0f} MiB (target below PyTorch) — "
                         f"{'met' if lr < pr else 'NOT met'}")
            verdicts.append(text + caveat)
    print()
    for v in verdicts:
        print(f"- {v}")
    if busy_runs:
        print(f"\n**Warning:** other processes competed for the CPUs during {busy_runs} of "
              f"{sum(len(rs) for rs in runs.values())} runs (CPUs busy just before a run, or a "
              "load average above the benchmark's own threads + 1). PyTorch's OpenMP threads "
              "slow down by large factors when they share CPUs: these ratios and verdicts are "
              "not meaningful; rerun on a quiet machine.")
    print("\nIndividual runs (samples/s, in run order; 1-minute load average and CPUs kept busy "
          "by other processes just before the run):\n")
    for w in workloads:
        for impl in ("latent", "pytorch", "onnxruntime"):
            rs = runs.get((w, impl), [])
            if rs:
                vals = ", ".join(
                    f"{fmt(r['samples_per_s'])}"
                    + (f" (load {r['load1_before']}" if "load1_before" in r else "")
                    + (f", {r['busy_cpus_before']} CPUs busy" if "busy_cpus_before" in r
                       else "")
                    + (")" if "load1_before" in r else "")
                    for r in rs)
                print(f"- {w} {impl}: {vals}")


if __name__ == "__main__":
    main()
