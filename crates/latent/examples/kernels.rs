//! Times the matrix products of one W1 training step (DESIGN.md §4: 784-512-128-32-128-512-784,
//! batch 256) with the engine's `latent::engine::matmul` (the `gemm` crate) against
//! `faer::linalg::matmul::matmul`, both on 2 threads, plus each on 1 thread for reference.
//!
//! ```text
//! cargo run --release -p latent --features faer --example kernels [-- --threads N --batch N]
//! ```
//!
//! A second table times the engine's element-wise passes of the same step (bias + activation,
//! loss gradient, the gradient norm of the training loop, the Adam update), since a step is
//! more than its matrix products.
//!
//! Each product uses the engine's exact layouts: forward `y = x · Wᵀ` (W row-major `[out, in]`,
//! so a transposed view), backward `dW = dzᵀ · x` and `dx = dz · W` (no `dx` for the first layer,
//! as in the engine). Prints a markdown table of GFLOP/s (median of many calls) and the total
//! matmul time of one step per kernel.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use faer::linalg::matmul::matmul as faer_matmul;
use faer::{Accum, Par};
use latent::engine::{matmul, Activation, Adam, AdamConfig, MatRef, Params};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// A strided view, described once and handed to each kernel in its own type.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    /// Transposed view of a row-major `cols x rows` buffer.
    transposed: bool,
}

impl<'a> View<'a> {
    fn rm(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View { data, rows, cols, transposed: false }
    }
    fn t(self) -> Self {
        View { data: self.data, rows: self.cols, cols: self.rows, transposed: !self.transposed }
    }
    fn latent(self) -> MatRef<'a> {
        if self.transposed {
            MatRef::row_major(self.data, self.cols, self.rows).t()
        } else {
            MatRef::row_major(self.data, self.rows, self.cols)
        }
    }
    fn faer(self) -> faer::MatRef<'a, f32> {
        if self.transposed {
            faer::MatRef::from_row_major_slice(self.data, self.cols, self.rows).transpose()
        } else {
            faer::MatRef::from_row_major_slice(self.data, self.rows, self.cols)
        }
    }
    /// (row stride, column stride) in elements.
    fn strides(self) -> (isize, isize) {
        if self.transposed {
            (1, self.rows as isize)
        } else {
            (self.cols as isize, 1)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kernel {
    /// The engine's `latent::engine::matmul` (gemm, rayon pool of `--threads`).
    Engine,
    /// faer with `Par::rayon(threads)`.
    FaerPar,
    /// gemm with `Parallelism::None`.
    Gemm1,
    /// faer with `Par::Seq`.
    Faer1,
}

const KERNELS: [(Kernel, &str); 4] = [
    (Kernel::Engine, "engine (gemm, 2 thr)"),
    (Kernel::FaerPar, "faer Par::rayon(2)"),
    (Kernel::Gemm1, "gemm 1 thr"),
    (Kernel::Faer1, "faer Par::Seq"),
];

fn run(kernel: Kernel, threads: usize, dst: &mut [f32], a: View<'_>, b: View<'_>) {
    let (m, n) = (a.rows, b.cols);
    match kernel {
        Kernel::Engine => matmul(dst, a.latent(), b.latent(), false),
        Kernel::FaerPar | Kernel::Faer1 => {
            let par = if kernel == Kernel::FaerPar { Par::rayon(threads) } else { Par::Seq };
            let d = faer::MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
            faer_matmul(d, Accum::Replace, a.faer(), b.faer(), 1.0f32, par);
        }
        Kernel::Gemm1 => {
            let k = a.cols;
            let (ars, acs) = a.strides();
            let (brs, bcs) = b.strides();
            assert!(dst.len() >= m * n && a.data.len() >= m * k && b.data.len() >= k * n);
            // SAFETY: the views' strides address only elements inside their slices (checked
            // above), and `dst` is exclusively borrowed, so it aliases neither input.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    dst.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.data.as_ptr(),
                    acs,
                    ars,
                    b.data.as_ptr(),
                    bcs,
                    brs,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    }
}

/// Median seconds per call, after a warm-up, over at least ~0.3 s or 15 calls.
fn time(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let calls = ((0.3 / once) as usize).clamp(15, 2000);
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random::<f32>() - 0.5).collect()
}

fn main() {
    let mut threads = 2usize;
    let mut batch = 256usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok());
        match (flag.as_str(), value) {
            ("--threads", Some(v)) => threads = v.max(1),
            ("--batch", Some(v)) => batch = v.max(1),
            _ => {
                eprintln!("usage: kernels [--threads N] [--batch N]");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global() {
        eprintln!("kernels: thread pool: {e}");
        std::process::exit(1);
    }
    let widths = [784usize, 512, 128, 32, 128, 512, 784];
    let mut rng = ChaCha8Rng::seed_from_u64(7);

    struct Row {
        name: String,
        flops: f64,
        seconds: Vec<f64>,
        max_diff: f32,
    }
    let mut rows: Vec<Row> = Vec::new();
    for (l, pair) in widths.windows(2).enumerate() {
        let (inp, out) = (pair[0], pair[1]);
        let x = random(&mut rng, batch * inp);
        let w = random(&mut rng, out * inp);
        let dz = random(&mut rng, batch * out);
        let xv = View::rm(&x, batch, inp);
        let wv = View::rm(&w, out, inp);
        let dzv = View::rm(&dz, batch, out);
        let mut products = vec![
            (format!("L{l} fwd  y=x·Wᵀ  {batch}x{inp}·{inp}x{out}"), xv, wv.t()),
            (format!("L{l} bwd dW=dzᵀ·x {out}x{batch}·{batch}x{inp}"), dzv.t(), xv),
        ];
        if l > 0 {
            products.push((format!("L{l} bwd dx=dz·W  {batch}x{out}·{out}x{inp}"), dzv, wv));
        }
        for (name, a, b) in products {
            let (m, k, n) = (a.rows, a.cols, b.cols);
            let mut reference = vec![0.0f32; m * n];
            run(Kernel::Engine, threads, &mut reference, a, b);
            let mut dst = vec![0.0f32; m * n];
            let mut seconds = Vec::new();
            let mut max_diff = 0.0f32;
            for (kernel, _) in KERNELS {
                seconds.push(time(|| run(kernel, threads, &mut dst, a, b)));
                let diff =
                    dst.iter().zip(&reference).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max);
                max_diff = max_diff.max(diff);
            }
            rows.push(Row { name, flops: 2.0 * (m * k * n) as f64, seconds, max_diff });
        }
    }

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split_once(':').map_or("", |(_, v)| v).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!("W1 training-step matrix products, batch {batch}, {threads} threads, {cpu}");
    println!("GFLOP/s, median of many calls (higher is better)\n");
    let names: Vec<&str> = KERNELS.iter().map(|(_, n)| *n).collect();
    println!("| product | {} | max |diff| |", names.join(" | "));
    println!("|---|{}---|", "---:|".repeat(names.len()));
    let mut totals = vec![0.0f64; KERNELS.len()];
    let mut total_flops = 0.0;
    for r in &rows {
        let cells: Vec<String> =
            r.seconds.iter().map(|s| format!("{:.1}", r.flops / s / 1e9)).collect();
        println!("| {} | {} | {:.1e} |", r.name, cells.join(" | "), r.max_diff);
        for (t, s) in totals.iter_mut().zip(&r.seconds) {
            *t += s;
        }
        total_flops += r.flops;
    }
    let cells: Vec<String> = totals
        .iter()
        .map(|t| format!("**{:.2} ms ({:.1})**", t * 1e3, total_flops / t / 1e9))
        .collect();
    println!("| **matmul time per step (GFLOP/s)** | {} | |", cells.join(" | "));
    println!(
        "\n{:.2} GFLOP of matrix products per step; at the engine's rate that bounds W1 at \
         {:.0} samples/s if nothing else took time.",
        total_flops / 1e9,
        batch as f64 / totals[0]
    );
    elementwise(&widths, batch, &mut rng);
}

/// Times the engine's non-matmul passes of a W1 step (and of a W2 inference chunk).
fn elementwise(widths: &[usize], batch: usize, rng: &mut ChaCha8Rng) {
    let ms = |s: f64| format!("{:.3}", s * 1e3);
    println!("\nElement-wise passes of the engine (ms per call, median)\n");
    println!("| pass | size | ms | per step |");
    println!("|---|---|---:|---|");
    let out = *widths.last().unwrap_or(&784);
    // Output layer: bias + sigmoid, keeping the pre-activation, as the engine does for the last
    // layer (training batch and one W2 inference chunk of 1,024 rows).
    for rows in [batch, 1024] {
        let z = random(rng, rows * out);
        let bias = random(rng, out);
        let mut y = z.clone();
        let mut pre = vec![0.0f32; rows * out];
        let t = time(|| {
            y.copy_from_slice(&z);
            Activation::Sigmoid.bias_forward(&mut y, &bias, Some(&mut pre));
        });
        let when = if rows == batch { "1 (forward)" } else { "1 per W2 chunk" };
        println!("| bias + sigmoid (engine, keeps pre) | {rows}x{out} | {} | {when} |", ms(t));
        // The same without the sign branch of the stable sigmoid (reference, not the engine).
        let t = time(|| {
            for (row, zr) in y.chunks_exact_mut(out).zip(z.chunks_exact(out)) {
                for ((v, &zz), &b) in row.iter_mut().zip(zr).zip(&bias) {
                    *v = 1.0 / (1.0 + (-(zz + b)).exp());
                }
            }
        });
        println!(
            "| bias + sigmoid, branch-free `1/(1+exp(-z))` (reference) | {rows}x{out} | {} | |",
            ms(t)
        );
    }
    let hidden = widths[1];
    let z = random(rng, batch * hidden);
    let bias = random(rng, hidden);
    let mut y = z.clone();
    let t = time(|| {
        y.copy_from_slice(&z);
        Activation::Relu.bias_forward(&mut y, &bias, None);
    });
    println!("| bias + relu (engine, fused) | {batch}x{hidden} | {} | 4 |", ms(t));
    // Loss gradient of the sigmoid output layer.
    let yv: Vec<f32> = random(rng, batch * out).iter().map(|v| v + 0.5).collect();
    let target: Vec<f32> = random(rng, batch * out).iter().map(|v| v + 0.5).collect();
    let pre = random(rng, batch * out);
    let mut dz = vec![0.0f32; batch * out];
    let t = time(|| {
        std::hint::black_box(latent::objective::loss_and_grad(
            latent::Loss::Mse,
            Activation::Sigmoid,
            &yv,
            &pre,
            &target,
            &mut dz,
        ));
    });
    println!("| MSE loss + gradient through sigmoid | {batch}x{out} | {} | 1 |", ms(t));
    // The whole parameter vector of W1: gradient norm (train loop) and Adam.
    let mut params = Params::new();
    for (l, pair) in widths.windows(2).enumerate() {
        params.add(format!("l{l}.weight"), &[pair[1], pair[0]], true);
        params.add(format!("l{l}.bias"), &[pair[1]], false);
    }
    let n = params.len();
    {
        let (v, g) = params.values_and_grads_mut();
        for x in v.iter_mut().chain(g.iter_mut()) {
            *x = rng.random::<f32>() - 0.5;
        }
    }
    let t = time(|| {
        std::hint::black_box(params.grad_norm());
    });
    println!("| `Params::grad_norm` (train loop, every step) | {n} params | {} | 1 |", ms(t));
    let mut adam = Adam::new(&params, AdamConfig::default());
    let t = time(|| adam.step(&mut params));
    println!("| `Adam::step` | {n} params | {} | 1 |", ms(t));
}
