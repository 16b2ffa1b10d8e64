#!/usr/bin/env python3
"""Summarises .bench/results.jsonl (one JSON line per run, from scripts/bench.sh) as markdown:
medians per workload and implementation, the ratio latent/PyTorch, peak RSS, and the targets.

Usage: summarise.py [results.jsonl]     (stdlib only)
"""
import json
import statistics
import sys

# Targets (the issue): minimum ratio latent/PyTorch of samples/s, and whether latent's peak RSS
# must stay below PyTorch's.
TARGETS = {"w1": (1.0, True), "w2": (0.9, True), "w3": (0.7, False), "tiny": (5.0, False)}
ORDER = ["w1", "w2", "w3", "tiny"]


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

    print("| workload | latent samples/s | PyTorch samples/s | latent/PyTorch | "
          "latent peak RSS (MiB) | PyTorch peak RSS (MiB) | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for w in workloads:
        l, p = med(w, "latent", "samples_per_s"), med(w, "pytorch", "samples_per_s")
        lr, pr = med(w, "latent", "peak_rss_mb"), med(w, "pytorch", "peak_rss_mb")
        ratio = l / p if l and p else None
        n = f'{len(runs.get((w, "latent"), []))}+{len(runs.get((w, "pytorch"), []))}'
        cell = lambda v: fmt(v) if v is not None else "–"
        print(f"| {w} | {cell(l)} | {cell(p)} | "
              f"{f'**{ratio:.2f}×**' if ratio else '–'} | {cell(lr)} | {cell(pr)} | {n} |")
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
        for impl in ("latent", "pytorch"):
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
