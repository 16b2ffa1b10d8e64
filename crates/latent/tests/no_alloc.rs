//! The training step allocates nothing once its buffers exist: a counting global allocator
//! watches forward, backward and the Adam update over many steps.
//!
//! The one exception is inside the matrix-product crate: `gemm` allocates its packing buffers
//! on every call (about 2 to 3 small allocations per product). The test measures that
//! separately and requires the step to allocate no more than its products do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::config::ModelConfig;
use latent::config::Objective;
use latent::engine::backend::Cpu;
use latent::engine::{Activation, Adam, AdamConfig, Params};
use latent::model::net::Net;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn training_steps_do_not_allocate() {
    let cfg = ModelConfig {
        hidden: Some(vec![512, 128]),
        latent: Some(32),
        activation: Activation::Relu,
        output: Some(Activation::Sigmoid),
        dropout: 0.1,
        ..ModelConfig::default()
    };
    let mut params = Params::new();
    let net =
        Net::new(&mut params, 784, None, &cfg, Activation::Sigmoid, &Objective::default()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    net.init(&mut params, &mut rng);
    let batch = 256;
    let x: Vec<f32> = (0..batch * 784).map(|i| (i % 255) as f32 / 255.0).collect();
    let mut ws = net.workspace(batch);
    let mut adam = Adam::new(&params, AdamConfig::default());
    let mut step = |params: &mut Params| {
        net.train_step(&Cpu, params, &mut ws, &x, batch, 1.0, &mut rng).unwrap();
        adam.step(params);
    };
    for _ in 0..5 {
        step(&mut params);
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let steps = 20;
    for _ in 0..steps {
        step(&mut params);
    }
    let during = ALLOCATIONS.load(Ordering::SeqCst) - before;

    // The same matrix products alone: 3 per layer, minus the first layer's input gradient.
    let products = kernel_allocations(&net, batch, steps);
    // One allocation of ours per step would add `steps`; allow for the thread pool's rare
    // one-off bookkeeping below that.
    assert!(during < products + steps, "{during} allocations in {steps} steps, {products} in gemm");
}

/// Allocations made by `steps` rounds of the products of one training step.
fn kernel_allocations(net: &Net, batch: usize, steps: usize) -> usize {
    use latent::engine::{matmul, MatRef};
    let shapes: Vec<(usize, usize)> =
        net.layers().iter().map(|l| (l.inputs(), l.outputs())).collect();
    let buf = vec![0.25f32; batch * 1024 * 4];
    let mut dst = vec![0.0f32; batch * 1024 * 4];
    let mut run = || {
        for (i, &(n_in, n_out)) in shapes.iter().enumerate() {
            let x = MatRef::row_major(&buf, batch, n_in);
            let w = MatRef::row_major(&buf, n_out, n_in);
            let dz = MatRef::row_major(&buf, batch, n_out);
            matmul(&mut dst, x, w.t(), false);
            matmul(&mut dst, dz.t(), x, false);
            if i > 0 {
                matmul(&mut dst, dz, w, false);
            }
        }
    };
    run();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..steps {
        run();
    }
    ALLOCATIONS.load(Ordering::SeqCst) - before
}
