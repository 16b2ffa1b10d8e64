//! The CUDA backend (feature `cuda`): matrix products through cuBLAS `sgemm`, and the
//! element-wise and reduction kernels of `kernels.cu`, compiled once by NVRTC when the backend
//! is created. The CUDA libraries are loaded at run time (cudarc's `dynamic-loading`), so this
//! builds with no toolkit; creating a backend without a driver, a device or the libraries is a
//! typed error ([`Error::Device`]), never a panic.
//!
//! Random draws come from Philox-4x32-10 keyed by the seed, one counter per value, so a run is
//! reproducible on the device; they are not the CPU's ChaCha8 draws (see the RNG contract in
//! DESIGN-NOTES.md).

use super::{Backend, Checked, Mat, NllGrad, Sigma};
use crate::config::{Corruption, Loss};
use crate::engine::adam::AdamConfig;
use crate::engine::conv::Patches;
use crate::engine::Activation;
use crate::{Error, Result};
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr, LaunchConfig,
    PushKernelArg,
};
use std::sync::Arc;

/// The kernels' CUDA C source.
const KERNELS: &str = include_str!("kernels.cu");
/// Threads per block (the reductions' block size in `kernels.cu`).
const THREADS: u32 = 256;
/// Most blocks per launch (kernels loop over the rest).
const MAX_BLOCKS: usize = 4096;
/// Most blocks of a reduction (one f64 partial sum each, summed on the host in order).
const MAX_RED_BLOCKS: usize = 1024;

/// The device's random stream: Philox keyed by the seed, `counter` values drawn so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Philox {
    /// The key (the seed).
    pub key: u64,
    /// Draws so far.
    pub counter: u64,
}

impl Philox {
    /// Reserves `n` draws and returns the first counter.
    fn take(&mut self, n: usize) -> u64 {
        let at = self.counter;
        self.counter = self.counter.wrapping_add(n as u64);
        at
    }
}

/// Patch geometry as the kernels read it (`struct Geo` in `kernels.cu`); its fields are read on
/// the device only.
#[allow(dead_code)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Geo {
    rh: i64,
    rw: i64,
    sh: i64,
    sw: i64,
    c: i64,
    kh: i64,
    kw: i64,
    sy: i64,
    sx: i64,
    py: i64,
    px: i64,
}

// SAFETY: `Geo` is `repr(C)`, plain integers, laid out as the CUDA struct it mirrors.
unsafe impl DeviceRepr for Geo {}

impl Geo {
    fn of(p: &Patches) -> Self {
        let one_d = p.is_1d();
        let i = |v: usize| v as i64;
        Geo {
            rh: i(p.rows.0),
            rw: i(p.rows.1),
            sh: i(p.source.h),
            sw: i(p.source.w),
            c: i(p.source.c),
            kh: i(p.kernel_h()),
            kw: i(p.kernel),
            sy: if one_d { 1 } else { i(p.stride) },
            sx: i(p.stride),
            py: if one_d { 0 } else { i(p.pad) },
            px: i(p.pad),
        }
    }
}

/// The compiled kernels.
struct Kernels {
    bias_act: CudaFunction,
    act_backward: CudaFunction,
    bias_grad: CudaFunction,
    im2col: CudaFunction,
    col2im: CudaFunction,
    dropout: CudaFunction,
    normal_fill: CudaFunction,
    corrupt: CudaFunction,
    reparameterize: CudaFunction,
    head_backward: CudaFunction,
    gaussian_kl: CudaFunction,
    gaussian_nll: CudaFunction,
    log_sigma_grad: CudaFunction,
    bernoulli_nll: CudaFunction,
    recon_loss: CudaFunction,
    adam: CudaFunction,
    sum_squares: CudaFunction,
    scale: CudaFunction,
}

impl Kernels {
    fn load(module: &Arc<CudaModule>) -> Result<Self> {
        let f = |name: &str| {
            module.load_function(name).map_err(|e| device(format!("kernel {name}: {e}")))
        };
        Ok(Kernels {
            bias_act: f("bias_act")?,
            act_backward: f("act_backward")?,
            bias_grad: f("bias_grad")?,
            im2col: f("im2col")?,
            col2im: f("col2im")?,
            dropout: f("dropout")?,
            normal_fill: f("normal_fill")?,
            corrupt: f("corrupt")?,
            reparameterize: f("reparameterize")?,
            head_backward: f("head_backward")?,
            gaussian_kl: f("gaussian_kl")?,
            gaussian_nll: f("gaussian_nll")?,
            log_sigma_grad: f("log_sigma_grad")?,
            bernoulli_nll: f("bernoulli_nll")?,
            recon_loss: f("recon_loss")?,
            adam: f("adam")?,
            sum_squares: f("sum_squares")?,
            scale: f("scale")?,
        })
    }
}

/// A CUDA device with its stream, cuBLAS handle and compiled kernels.
pub struct Cuda {
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    k: Kernels,
    /// Stands in for an absent optional buffer (never read or written: its flag is 0).
    dummy: CudaSlice<f32>,
    name: String,
}

impl std::fmt::Debug for Cuda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cuda").field("device", &self.name).finish()
    }
}

fn device(msg: impl std::fmt::Display) -> Error {
    Error::Device(format!("CUDA: {msg}"))
}

fn missing(msg: impl std::fmt::Display) -> Error {
    Error::Device(format!("CUDA was asked for but no CUDA driver/device was found: {msg}"))
}

fn act_code(act: Activation) -> i32 {
    match act {
        Activation::Identity => 0,
        Activation::Relu => 1,
        Activation::LeakyRelu => 2,
        Activation::Tanh => 3,
        Activation::Gelu => 4,
        Activation::Sigmoid => 5,
    }
}

fn grid(n: usize, max: usize) -> LaunchConfig {
    let blocks = n.div_ceil(THREADS as usize).clamp(1, max);
    LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

impl Cuda {
    /// Opens CUDA device `ordinal`, creates its cuBLAS handle and compiles the kernels.
    ///
    /// Fails with [`Error::Device`] ("CUDA was asked for but no CUDA driver/device was found:
    /// …") when the driver, cuBLAS or NVRTC library cannot be loaded, or there is no such
    /// device.
    pub fn new(ordinal: usize) -> Result<Self> {
        // SAFETY: each probe only tries to load the shared library (dlopen) and reports whether
        // it could; nothing is called through it.
        let (driver, blas, nvrtc) = unsafe {
            (
                cudarc::driver::sys::is_culib_present(),
                cudarc::cublas::sys::is_culib_present(),
                cudarc::nvrtc::sys::is_culib_present(),
            )
        };
        let hint = "set LD_LIBRARY_PATH to the CUDA toolkit's lib folder";
        if !driver {
            return Err(missing("the driver library (libcuda) cannot be loaded"));
        }
        if !blas || !nvrtc {
            let lib = if blas { "libnvrtc" } else { "libcublas" };
            return Err(missing(format!(
                "the driver is present but {lib} cannot be loaded ({hint})"
            )));
        }
        // cudarc panics on a missing symbol (a library older than its bindings): keep that a
        // typed error as well.
        std::panic::catch_unwind(|| Self::open(ordinal))
            .unwrap_or_else(|_| Err(missing("the CUDA libraries failed to load (a symbol is missing: too old a driver or toolkit?)")))
    }

    fn open(ordinal: usize) -> Result<Self> {
        let count =
            CudaContext::device_count().map_err(|e| missing(format!("the driver reports: {e}")))?;
        if ordinal >= count.max(0) as usize {
            return Err(missing(format!(
                "cuda:{ordinal} was asked for and the driver sees {count} device(s)"
            )));
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| missing(format!("cuda:{ordinal}: {e}")))?;
        let stream = ctx.default_stream();
        let blas = CudaBlas::new(stream.clone()).map_err(|e| device(format!("cuBLAS: {e}")))?;
        let ptx = cudarc::nvrtc::compile_ptx(KERNELS).map_err(|e| device(format!("NVRTC: {e}")))?;
        let module =
            ctx.load_module(ptx).map_err(|e| device(format!("loading the kernels: {e}")))?;
        let k = Kernels::load(&module)?;
        let dummy = stream.alloc_zeros::<f32>(1).map_err(device)?;
        let name = ctx.name().unwrap_or_else(|_| "unknown device".into());
        Ok(Cuda { stream, blas, k, dummy, name: format!("cuda:{ordinal} ({name})") })
    }

    /// Sums the per-block partial sums of a reduction kernel launched by `launch`.
    fn reduce(
        &self,
        n: usize,
        launch: impl FnOnce(&mut CudaSlice<f64>, LaunchConfig) -> Result<()>,
    ) -> Result<f64> {
        let cfg = grid(n, MAX_RED_BLOCKS);
        let mut partial =
            self.stream.alloc_zeros::<f64>(cfg.grid_dim.0 as usize).map_err(device)?;
        launch(&mut partial, cfg)?;
        let host = self.stream.clone_dtoh(&partial).map_err(device)?;
        Ok(host.iter().sum())
    }
}

/// Runs a launch builder, mapping the driver's error.
macro_rules! launch {
    ($self:ident, $f:ident, $cfg:expr, $($arg:expr),+ $(,)?) => {{
        let mut b = $self.stream.launch_builder(&$self.k.$f);
        $( b.arg($arg); )+
        // SAFETY: the argument list matches the kernel's signature in kernels.cu (same order,
        // same types: device pointers, u64 for sizes, i32 flags, f32 scalars), and every buffer
        // was checked to hold the values the kernel touches.
        unsafe { b.launch($cfg) }.map(|_| ()).map_err(|e| device(format!("kernel {}: {e}", stringify!($f))))
    }};
}

mod ops;
