//! Which device to run on: `cpu`, `cuda` or `cuda:N`.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A compute device, as named on a command line (`cpu`, `cuda`, `cuda:1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    /// The CPU backend (always available).
    #[default]
    Cpu,
    /// A CUDA device by ordinal (`cuda` is `cuda:0`).
    Cuda(usize),
}

impl Device {
    /// Whether this build can run on the device at all: the CPU always, CUDA only when built
    /// with the `cuda` feature (a build without it fails here with a typed error). Whether a
    /// driver and the device are present is known only when the backend is created.
    pub fn check_supported(self) -> Result<()> {
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda(_) if cfg!(feature = "cuda") => Ok(()),
            Device::Cuda(_) => Err(Error::Device(format!(
                "{self} was asked for but this build of latent has no CUDA support (build it \
                 with the `cuda` feature)"
            ))),
        }
    }

    /// Whether models (training, encoding, scoring) can run on the device: the one place that
    /// decides it. The CPU always; CUDA is a typed error, [`Device::check_supported`]'s in a
    /// build without the `cuda` feature and, in a build with it, that models do not run on the
    /// CUDA backend yet (the [`super::Backend`] seam and its kernels exist, `Net` is not on it
    /// yet).
    pub fn check_models(self) -> Result<()> {
        self.check_supported()?;
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda(_) => Err(Error::Device(format!(
                "{self} was asked for but models do not run on the CUDA backend yet (its \
                 operations are in place and checked against the CPU's; the models are not on \
                 it yet): they run on the CPU"
            ))),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for Device {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!("unknown device \"{s}\": expected cpu, cuda or cuda:N (N ≥ 0)"))
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            other => {
                let n = other.strip_prefix("cuda:").ok_or_else(bad)?;
                n.parse::<usize>().map(Device::Cuda).map_err(|_| bad())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices_and_refuses_others() {
        assert_eq!("cpu".parse::<Device>().ok(), Some(Device::Cpu));
        assert_eq!("CUDA".parse::<Device>().ok(), Some(Device::Cuda(0)));
        assert_eq!("cuda:3".parse::<Device>().ok(), Some(Device::Cuda(3)));
        for bad in ["", "tpu", "cuda:", "cuda:-1", "cuda:x", "cpu:0"] {
            let err = bad.parse::<Device>().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("expected cpu, cuda or cuda:N"), "{bad}: {err}");
        }
        assert_eq!(Device::Cuda(2).to_string(), "cuda:2");
        assert!(Device::Cpu.check_supported().is_ok());
        let cuda = Device::Cuda(0).check_supported();
        if cfg!(feature = "cuda") {
            assert!(cuda.is_ok());
        } else {
            let msg = cuda.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains("no CUDA support"), "{msg}");
        }
    }

    #[test]
    fn models_run_on_the_cpu_only_for_now() {
        assert!(Device::Cpu.check_models().is_ok());
        for d in [Device::Cuda(0), Device::Cuda(3)] {
            let msg = match d.check_models() {
                Err(Error::Device(msg)) => msg,
                other => panic!("{d}: expected Error::Device, got {other:?}"),
            };
            assert!(msg.starts_with(&format!("{d} was asked for but ")), "{msg}");
            let want = if cfg!(feature = "cuda") {
                "models do not run on the CUDA backend yet"
            } else {
                "no CUDA support"
            };
            assert!(msg.contains(want), "{msg}");
        }
    }
}
