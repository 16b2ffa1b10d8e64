//! Parameter values and gradients as a backend's buffers: the host [`Params`] on the CPU (no
//! copy), [`DeviceParams`] on a device (uploaded from, and read back into, the host store that
//! the model file is written from).

use super::{Backend, Cpu};
use crate::engine::{ParamId, Params};
use crate::Result;

/// The parameters a network reads (values) and writes (gradients) on backend `B`, each in one
/// buffer laid out as in [`Params`].
pub trait ParamStore<B: Backend> {
    /// Where tensor `id` starts in the values and the gradients buffer.
    fn offset(&self, id: ParamId) -> usize;
    /// The values buffer.
    fn values(&self) -> &B::Buf;
    /// The values buffer and, mutably, the gradients buffer.
    fn values_and_grads(&mut self) -> (&B::Buf, &mut B::Buf);
    /// The host store, when the parameters live on the host: layers not yet written as
    /// backend operations read it (see [`Backend::host`]).
    fn host(&self) -> Option<&Params>;
    /// The host store, mutably.
    fn host_mut(&mut self) -> Option<&mut Params>;
}

impl ParamStore<Cpu> for Params {
    fn offset(&self, id: ParamId) -> usize {
        self.spec(id).offset
    }
    fn values(&self) -> &Vec<f32> {
        self.buffers().0
    }
    fn values_and_grads(&mut self) -> (&Vec<f32>, &mut Vec<f32>) {
        self.buffers_mut()
    }
    fn host(&self) -> Option<&Params> {
        Some(self)
    }
    fn host_mut(&mut self) -> Option<&mut Params> {
        Some(self)
    }
}

/// Parameters on a device: a copy of a host [`Params`] (same layout), trained there and read
/// back with [`DeviceParams::download`].
pub struct DeviceParams<B: Backend> {
    values: B::Buf,
    grads: B::Buf,
    offsets: Vec<usize>,
}

impl<B: Backend> DeviceParams<B> {
    /// Copies the values of `host` to the device; the gradients start at zero.
    pub fn upload(be: &B, host: &Params) -> Result<Self> {
        Ok(DeviceParams {
            values: be.upload(host.values())?,
            grads: be.zeros(host.len())?,
            offsets: host.specs().iter().map(|s| s.offset).collect(),
        })
    }

    /// Copies the values back into `host` (the store they were uploaded from).
    pub fn download(&self, be: &B, host: &mut Params) -> Result<()> {
        be.read(&self.values, 0, host.values_mut())
    }
}

impl<B: Backend> ParamStore<B> for DeviceParams<B> {
    fn offset(&self, id: ParamId) -> usize {
        self.offsets[id.index()]
    }
    fn values(&self) -> &B::Buf {
        &self.values
    }
    fn values_and_grads(&mut self) -> (&B::Buf, &mut B::Buf) {
        (&self.values, &mut self.grads)
    }
    fn host(&self) -> Option<&Params> {
        None
    }
    fn host_mut(&mut self) -> Option<&mut Params> {
        None
    }
}
