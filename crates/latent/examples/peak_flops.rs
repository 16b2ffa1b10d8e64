//! The machine's measured fp32 peak: independent AVX2 FMA chains on every thread, so that the
//! benchmarks can report achieved GFLOP/s as a fraction of what the cores can do at the clock
//! they actually run at (a VM's nominal MHz hides turbo).
//!
//! peak_flops [--threads N] [--seconds S]
//!
//! Prints one JSON line: `{"threads":2,"gflops":...,"per_thread_gflops":...,"flop_per_cycle_at_nominal":...}`.
//! Each thread runs 12 independent 8-lane FMA accumulators (2 FLOP per lane), enough to hide the
//! FMA latency on two pipes; the figure is the best of five timed rounds.

use std::time::Instant;

const CHAINS: usize = 12;

/// FMA chains for `iters` iterations; returns a value the optimiser cannot drop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_chains(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(0.0); CHAINS];
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut out = [0f32; 8];
    let mut sum = _mm256_set1_ps(0.0);
    for v in acc {
        sum = _mm256_add_ps(sum, v);
    }
    // SAFETY: `out` holds 8 f32 values, the width of one unaligned 256-bit store.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sum) };
    out.iter().sum()
}

#[cfg(target_arch = "x86_64")]
fn run(iters: u64) -> f32 {
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { fma_chains(iters) }
    } else {
        f32::NAN
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn run(_iters: u64) -> f32 {
    f32::NAN
}

fn arg(args: &[String], name: &str, default: f64) -> f64 {
    args.windows(2).find(|w| w[0] == name).and_then(|w| w[1].parse().ok()).unwrap_or(default)
}

fn nominal_mhz() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu MHz"))?;
    line.split(':').nth(1)?.trim().parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads = arg(&args, "--threads", 2.0) as usize;
    let seconds = arg(&args, "--seconds", 0.5);
    if run(1).is_nan() {
        println!(
            "{{\"threads\":{threads},\"gflops\":null,\"note\":\"needs x86-64 with AVX2 and FMA\"}}"
        );
        return;
    }
    // Calibrate one thread's iterations to about `seconds`.
    let t = Instant::now();
    std::hint::black_box(run(1_000_000));
    let per_iter = t.elapsed().as_secs_f64() / 1e6;
    let iters = (seconds / per_iter).max(1e6) as u64;
    let flop_per_iter = (CHAINS * 8 * 2) as f64;
    let mut best = 0f64;
    for _ in 0..5 {
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| std::hint::black_box(run(iters)));
            }
        });
        let gflops =
            threads as f64 * iters as f64 * flop_per_iter / t.elapsed().as_secs_f64() / 1e9;
        best = best.max(gflops);
    }
    let per_thread = best / threads as f64;
    let mhz = nominal_mhz();
    let json = |v: Option<f64>, digits: usize| v.map_or("null".into(), |v| format!("{v:.digits$}"));
    println!(
        "{{\"threads\":{threads},\"gflops\":{best:.1},\"per_thread_gflops\":{per_thread:.1},\
         \"nominal_mhz\":{},\"flop_per_cycle_at_nominal\":{}}}",
        json(mhz, 0),
        json(mhz.map(|m| per_thread * 1e3 / m), 1)
    );
}
