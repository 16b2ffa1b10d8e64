//! All trainable parameters of a network in one contiguous buffer, with their gradients.
//!
//! One buffer makes the optimiser a single fused pass, gradient-norm clipping a single
//! reduction, and saving a walk over named ranges.

/// Index of one parameter tensor in a [`Params`] store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamId(usize);

impl ParamId {
    /// The tensor's position in its store (creation order).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Name, shape and location of one parameter tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Name following the module tree, e.g. `encoder.0.weight`.
    pub name: String,
    /// Shape, PyTorch convention (`[out, in]` for a linear weight).
    pub shape: Vec<usize>,
    /// Offset in the store.
    pub offset: usize,
    /// Number of values.
    pub len: usize,
    /// Whether weight decay applies (weights yes, biases no).
    pub decay: bool,
}

/// Parameter values and gradients, each in one contiguous buffer.
#[derive(Clone, Debug, Default)]
pub struct Params {
    values: Vec<f32>,
    grads: Vec<f32>,
    specs: Vec<ParamSpec>,
}

impl Params {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a zero-initialised tensor and returns its id.
    pub fn add(&mut self, name: impl Into<String>, shape: &[usize], decay: bool) -> ParamId {
        let len = shape.iter().product();
        let offset = self.values.len();
        self.values.resize(offset + len, 0.0);
        self.grads.resize(offset + len, 0.0);
        self.specs.push(ParamSpec { name: name.into(), shape: shape.to_vec(), offset, len, decay });
        ParamId(self.specs.len() - 1)
    }

    /// The tensors' descriptions in creation order.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Description of one tensor.
    pub fn spec(&self, id: ParamId) -> &ParamSpec {
        &self.specs[id.0]
    }

    /// Values of one tensor.
    pub fn value(&self, id: ParamId) -> &[f32] {
        let s = &self.specs[id.0];
        &self.values[s.offset..s.offset + s.len]
    }

    /// Mutable values of one tensor.
    pub fn value_mut(&mut self, id: ParamId) -> &mut [f32] {
        let s = &self.specs[id.0];
        &mut self.values[s.offset..s.offset + s.len]
    }

    /// Gradient of one tensor.
    pub fn grad(&self, id: ParamId) -> &[f32] {
        let s = &self.specs[id.0];
        &self.grads[s.offset..s.offset + s.len]
    }

    /// Values of one tensor and, mutably, the gradient of another (or the same) tensor.
    pub fn value_and_grad_mut(&mut self, value: ParamId, grad: ParamId) -> (&[f32], &mut [f32]) {
        let v = &self.specs[value.0];
        let g = &self.specs[grad.0];
        (&self.values[v.offset..v.offset + v.len], &mut self.grads[g.offset..g.offset + g.len])
    }

    /// The whole value buffer.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The whole value buffer, mutably.
    pub fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    /// The whole gradient buffer.
    pub fn grads(&self) -> &[f32] {
        &self.grads
    }

    /// Both buffers, values mutable (for the optimiser).
    pub fn values_and_grads_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.values, &mut self.grads)
    }

    /// Both buffers as vectors (the CPU backend's buffer type).
    pub(crate) fn buffers(&self) -> (&Vec<f32>, &Vec<f32>) {
        (&self.values, &self.grads)
    }

    /// The values buffer and, mutably, the gradients buffer, as vectors.
    pub(crate) fn buffers_mut(&mut self) -> (&Vec<f32>, &mut Vec<f32>) {
        (&self.values, &mut self.grads)
    }

    /// Id of the tensor with this name.
    pub fn find(&self, name: &str) -> Option<ParamId> {
        self.specs.iter().position(|s| s.name == name).map(ParamId)
    }

    /// Total number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// L2 norm of the whole gradient, summed in a fixed order (f64 accumulator).
    pub fn grad_norm(&self) -> f32 {
        l2_norm(&self.grads)
    }

    /// Multiplies every gradient by `factor`.
    pub fn scale_grads(&mut self, factor: f32) {
        scale(&mut self.grads, factor);
    }
}

/// L2 norm of `x`, summed in order in f64.
pub fn l2_norm(x: &[f32]) -> f32 {
    x.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt() as f32
}

/// `x *= factor`.
pub fn scale(x: &mut [f32], factor: f32) {
    x.iter_mut().for_each(|g| *g *= factor);
}
