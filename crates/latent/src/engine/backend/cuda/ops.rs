//! [`Backend`] for [`Cuda`]: each operation launches its kernel (or cuBLAS), mirroring the CPU
//! backend's operation of the same name. The trait's provided methods have checked the buffers
//! before any of these runs (the [`Checked`] token): a kernel reads no bounds.

use super::*;

fn op(t: bool) -> cublasOperation_t {
    if t {
        cublasOperation_t::CUBLAS_OP_T
    } else {
        cublasOperation_t::CUBLAS_OP_N
    }
}

fn int(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| device(format!("matmul: {what} = {v} is too large for cuBLAS")))
}

impl Backend for Cuda {
    type Buf = CudaSlice<f32>;
    type Rng = Philox;

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn rng(&self, seed: u64) -> Philox {
        Philox { key: seed, counter: 0 }
    }

    fn len(&self, buf: &CudaSlice<f32>) -> usize {
        buf.len()
    }

    fn zeros(&self, len: usize) -> Result<CudaSlice<f32>> {
        self.stream.alloc_zeros::<f32>(len.max(1)).map_err(device)
    }

    fn upload(&self, host: &[f32]) -> Result<CudaSlice<f32>> {
        if host.is_empty() {
            return self.zeros(0);
        }
        self.stream.clone_htod(host).map_err(device)
    }

    fn write_unchecked(
        &self,
        _: Checked,
        dst: &mut CudaSlice<f32>,
        offset: usize,
        host: &[f32],
    ) -> Result<()> {
        if host.is_empty() {
            return Ok(());
        }
        let mut view = dst.slice_mut(offset..offset + host.len());
        self.stream.memcpy_htod(host, &mut view).map_err(device)
    }

    fn read_unchecked(
        &self,
        _: Checked,
        src: &CudaSlice<f32>,
        offset: usize,
        host: &mut [f32],
    ) -> Result<()> {
        if host.is_empty() {
            return Ok(());
        }
        let view = src.slice(offset..offset + host.len());
        self.stream.memcpy_dtoh(&view, host).map_err(device)?;
        self.stream.synchronize().map_err(device)
    }

    fn scale_unchecked(
        &self,
        _: Checked,
        x: &mut CudaSlice<f32>,
        n: usize,
        factor: f32,
    ) -> Result<()> {
        let n64 = n as u64;
        launch!(self, scale, grid(n, MAX_BLOCKS), x, &n64, &factor)
    }

    fn matmul_unchecked(
        &self,
        _: Checked,
        dst: &mut CudaSlice<f32>,
        dst_offset: usize,
        a: &CudaSlice<f32>,
        am: Mat,
        b: &CudaSlice<f32>,
        bm: Mat,
        accumulate: bool,
    ) -> Result<()> {
        let (m, k, n) = (am.used_rows(), am.used_cols(), bm.used_cols());
        if m == 0 || n == 0 {
            return Ok(());
        }
        let mut c = dst.slice_mut(dst_offset..dst_offset + m * n);
        if k == 0 {
            return if accumulate {
                Ok(())
            } else {
                self.stream.memset_zeros(&mut c).map_err(device)
            };
        }
        // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: B's buffer goes first. A row-major
        // stored matrix read column-major is its transpose, so a view not transposed here is
        // used as stored (N) and a transposed one with T.
        let cfg = GemmConfig {
            transa: op(bm.transposed),
            transb: op(am.transposed),
            m: int(n, "columns")?,
            n: int(m, "rows")?,
            k: int(k, "inner dimension")?,
            alpha: 1.0f32,
            lda: int(bm.ld, "leading dimension")?,
            ldb: int(am.ld, "leading dimension")?,
            beta: if accumulate { 1.0 } else { 0.0 },
            ldc: int(n, "columns")?,
        };
        let av = a.slice(am.offset..am.offset + am.span());
        let bv = b.slice(bm.offset..bm.offset + bm.span());
        // SAFETY: `Backend::matmul` verified that every value the product reads lies inside the
        // views and that the output view holds m x n values; leading dimensions are at least
        // the stored widths.
        unsafe { self.blas.gemm(cfg, &bv, &av, &mut c) }
            .map_err(|e| device(format!("cuBLAS sgemm: {e}")))
    }

    fn bias_act_forward_unchecked(
        &self,
        _: Checked,
        y: &mut CudaSlice<f32>,
        rows: usize,
        width: usize,
        bias: &CudaSlice<f32>,
        bias_offset: usize,
        act: Activation,
        pre: Option<&mut CudaSlice<f32>>,
    ) -> Result<()> {
        let n = rows * width;
        if n == 0 {
            return Ok(());
        }
        let bv = bias.slice(bias_offset..bias_offset + width);
        let (n64, w64, a) = (n as u64, width as u64, act_code(act));
        match pre {
            Some(pre) => {
                let one = 1i32;
                launch!(self, bias_act, grid(n, MAX_BLOCKS), y, pre, &bv, &n64, &w64, &a, &one)
            }
            None => {
                let zero = 0i32;
                launch!(
                    self,
                    bias_act,
                    grid(n, MAX_BLOCKS),
                    y,
                    &self.dummy,
                    &bv,
                    &n64,
                    &w64,
                    &a,
                    &zero
                )
            }
        }
    }

    fn dropout_forward_unchecked(
        &self,
        _: Checked,
        y: &mut CudaSlice<f32>,
        mask: &mut CudaSlice<f32>,
        n: usize,
        p: f32,
        rng: &mut Philox,
    ) -> Result<()> {
        let (n64, key, ctr) = (n as u64, rng.key, rng.take(n));
        launch!(self, dropout, grid(n, MAX_BLOCKS), y, mask, &n64, &p, &key, &ctr)
    }

    fn act_backward_unchecked(
        &self,
        _: Checked,
        dy: &mut CudaSlice<f32>,
        y: &CudaSlice<f32>,
        pre: Option<&CudaSlice<f32>>,
        mask: Option<&CudaSlice<f32>>,
        act: Activation,
        n: usize,
    ) -> Result<()> {
        let (has_pre, has_mask) = (i32::from(pre.is_some()), i32::from(mask.is_some()));
        let (pre, mask) = (pre.unwrap_or(&self.dummy), mask.unwrap_or(&self.dummy));
        let (n64, a) = (n as u64, act_code(act));
        launch!(
            self,
            act_backward,
            grid(n, MAX_BLOCKS),
            dy,
            y,
            pre,
            mask,
            &n64,
            &a,
            &has_pre,
            &has_mask
        )
    }

    fn bias_grad_unchecked(
        &self,
        _: Checked,
        db: &mut CudaSlice<f32>,
        db_offset: usize,
        dz: &CudaSlice<f32>,
        rows: usize,
        width: usize,
    ) -> Result<()> {
        if width == 0 {
            return Ok(());
        }
        let mut dbv = db.slice_mut(db_offset..db_offset + width);
        let (r64, w64) = (rows as u64, width as u64);
        launch!(self, bias_grad, grid(width, MAX_BLOCKS), &mut dbv, dz, &r64, &w64)
    }

    fn im2col_unchecked(
        &self,
        _: Checked,
        p: &Patches,
        src: &CudaSlice<f32>,
        cols: &mut CudaSlice<f32>,
        samples: usize,
    ) -> Result<()> {
        let n = samples * p.per_sample() * p.width();
        let (s64, geo) = (samples as u64, Geo::of(p));
        launch!(self, im2col, grid(n, MAX_BLOCKS), src, cols, &s64, &geo)
    }

    fn col2im_unchecked(
        &self,
        _: Checked,
        p: &Patches,
        cols: &CudaSlice<f32>,
        dst: &mut CudaSlice<f32>,
        samples: usize,
    ) -> Result<()> {
        let n = samples * p.source.len();
        let (s64, geo) = (samples as u64, Geo::of(p));
        launch!(self, col2im, grid(n, MAX_BLOCKS), cols, dst, &s64, &geo)
    }

    fn normal_unchecked(
        &self,
        _: Checked,
        dst: &mut CudaSlice<f32>,
        n: usize,
        rng: &mut Philox,
    ) -> Result<()> {
        let (n64, key, ctr) = (n as u64, rng.key, rng.take(n));
        launch!(self, normal_fill, grid(n, MAX_BLOCKS), dst, &n64, &key, &ctr)
    }

    fn corrupt_unchecked(
        &self,
        _: Checked,
        corruption: Corruption,
        x: &CudaSlice<f32>,
        out: &mut CudaSlice<f32>,
        n: usize,
        rng: &mut Philox,
    ) -> Result<()> {
        let (kind, a) = match corruption {
            Corruption::None => (0i32, 0.0f32),
            Corruption::Gaussian { sigma } => (1, sigma),
            Corruption::Mask { p } => (2, p),
            Corruption::SaltPepper { p } => (3, p),
        };
        let (n64, key, ctr) = (n as u64, rng.key, rng.take(n));
        launch!(self, corrupt, grid(n, MAX_BLOCKS), out, x, &n64, &kind, &a, &key, &ctr)
    }

    fn reparameterize_unchecked(
        &self,
        _: Checked,
        h: &CudaSlice<f32>,
        eps: &CudaSlice<f32>,
        z: &mut CudaSlice<f32>,
        rows: usize,
        k: usize,
    ) -> Result<()> {
        let (r64, k64) = (rows as u64, k as u64);
        launch!(self, reparameterize, grid(rows * k, MAX_BLOCKS), z, h, eps, &r64, &k64)
    }

    fn vae_head_backward_unchecked(
        &self,
        _: Checked,
        h: &CudaSlice<f32>,
        eps: &CudaSlice<f32>,
        dz: &CudaSlice<f32>,
        out: &mut CudaSlice<f32>,
        rows: usize,
        k: usize,
        kl_weight: f32,
    ) -> Result<()> {
        let (r64, k64) = (rows as u64, k as u64);
        launch!(
            self,
            head_backward,
            grid(rows * k, MAX_BLOCKS),
            out,
            h,
            eps,
            dz,
            &r64,
            &k64,
            &kl_weight
        )
    }

    fn gaussian_kl_unchecked(
        &self,
        _: Checked,
        h: &CudaSlice<f32>,
        rows: usize,
        k: usize,
    ) -> Result<f64> {
        let (r64, k64) = (rows as u64, k as u64);
        self.reduce(rows * k, |partial, cfg| {
            launch!(self, gaussian_kl, cfg, partial, h, &r64, &k64)
        })
    }

    fn gaussian_nll_unchecked(
        &self,
        _: Checked,
        y: &CudaSlice<f32>,
        t: &CudaSlice<f32>,
        n: usize,
        sigma: Sigma<'_, CudaSlice<f32>>,
        grad: Option<NllGrad<'_, CudaSlice<f32>>>,
    ) -> Result<f64> {
        let (ls, ls_width, fixed) = match sigma {
            Sigma::Fixed(l) => (self.dummy.slice(..), 0u64, l),
            Sigma::PerFeature { buf, offset, width } => {
                (buf.slice(offset..offset + width), width as u64, 0.0)
            }
        };
        let n64 = n as u64;
        match grad {
            Some(g) => {
                let (one, a, rows) = (1i32, act_code(g.act), g.rows);
                let (dz, pre) = (g.dz, g.pre);
                self.reduce(n, |partial, cfg| {
                    launch!(
                        self,
                        gaussian_nll,
                        cfg,
                        partial,
                        dz,
                        y,
                        t,
                        pre,
                        &ls,
                        &n64,
                        &ls_width,
                        &fixed,
                        &one,
                        &a,
                        &rows
                    )
                })
            }
            None => {
                let (zero, a, rows) = (0i32, 0i32, 1.0f32);
                self.reduce(n, |partial, cfg| {
                    launch!(
                        self,
                        gaussian_nll,
                        cfg,
                        partial,
                        &self.dummy,
                        y,
                        t,
                        &self.dummy,
                        &ls,
                        &n64,
                        &ls_width,
                        &fixed,
                        &zero,
                        &a,
                        &rows
                    )
                })
            }
        }
    }

    fn log_sigma_grad_unchecked(
        &self,
        _: Checked,
        y: &CudaSlice<f32>,
        t: &CudaSlice<f32>,
        n: usize,
        ls: &CudaSlice<f32>,
        ls_offset: usize,
        width: usize,
        g: &mut CudaSlice<f32>,
        g_offset: usize,
        rows: f32,
    ) -> Result<()> {
        if width == 0 {
            return Ok(());
        }
        let lsv = ls.slice(ls_offset..ls_offset + width);
        let mut gv = g.slice_mut(g_offset..g_offset + width);
        let (n64, w64) = (n as u64, width as u64);
        launch!(
            self,
            log_sigma_grad,
            grid(width, MAX_BLOCKS),
            &mut gv,
            y,
            t,
            &lsv,
            &n64,
            &w64,
            &rows
        )
    }

    fn bernoulli_nll_unchecked(
        &self,
        _: Checked,
        y: &CudaSlice<f32>,
        z: &CudaSlice<f32>,
        t: &CudaSlice<f32>,
        n: usize,
        grad: Option<(&mut CudaSlice<f32>, f32)>,
    ) -> Result<f64> {
        let n64 = n as u64;
        match grad {
            Some((dz, d)) => {
                let one = 1i32;
                self.reduce(n, |partial, cfg| {
                    launch!(self, bernoulli_nll, cfg, partial, dz, y, z, t, &n64, &one, &d)
                })
            }
            None => {
                let (zero, d) = (0i32, 1.0f32);
                self.reduce(n, |partial, cfg| {
                    launch!(
                        self,
                        bernoulli_nll,
                        cfg,
                        partial,
                        &self.dummy,
                        y,
                        z,
                        t,
                        &n64,
                        &zero,
                        &d
                    )
                })
            }
        }
    }

    fn loss_unchecked(
        &self,
        checked: Checked,
        loss: Loss,
        act: Activation,
        y: &CudaSlice<f32>,
        z: &CudaSlice<f32>,
        t: &CudaSlice<f32>,
        n: usize,
        dz: Option<&mut CudaSlice<f32>>,
    ) -> Result<f64> {
        let nf = n.max(1) as f64;
        let kind = match loss {
            Loss::Mse => 0i32,
            Loss::Mae => 1,
            Loss::Bce => {
                let grad = dz.map(|dz| (dz, n as f32));
                return Ok(self.bernoulli_nll_unchecked(checked, y, z, t, n, grad)? / nf);
            }
        };
        let (n64, a) = (n as u64, act_code(act));
        let total = match dz {
            Some(dz) => {
                let one = 1i32;
                self.reduce(n, |partial, cfg| {
                    launch!(self, recon_loss, cfg, partial, dz, y, z, t, &n64, &kind, &one, &a)
                })?
            }
            None => {
                let zero = 0i32;
                self.reduce(n, |partial, cfg| {
                    launch!(
                        self,
                        recon_loss,
                        cfg,
                        partial,
                        &self.dummy,
                        y,
                        z,
                        t,
                        &n64,
                        &kind,
                        &zero,
                        &a
                    )
                })?
            }
        };
        Ok(total / nf)
    }

    fn adam_step_unchecked(
        &self,
        _: Checked,
        values: &mut CudaSlice<f32>,
        grads: &CudaSlice<f32>,
        m: &mut CudaSlice<f32>,
        v: &mut CudaSlice<f32>,
        decay: &CudaSlice<f32>,
        n: usize,
        c: &AdamConfig,
        step: u32,
    ) -> Result<()> {
        // The step's scalars exactly as `adam::update` computes them.
        let t = step as i32;
        let (bc1, bc2) = (1.0 - c.beta1.powi(t), 1.0 - c.beta2.powi(t));
        let (step_size, inv_sqrt_bc2) = (c.lr / bc1, 1.0 / bc2.sqrt());
        let (n64, dec) = (n as u64, i32::from(c.decoupled));
        launch!(
            self,
            adam,
            grid(n, MAX_BLOCKS),
            values,
            grads,
            m,
            v,
            decay,
            &n64,
            &c.lr,
            &c.beta1,
            &c.beta2,
            &c.eps,
            &step_size,
            &inv_sqrt_bc2,
            &dec
        )
    }

    fn norm_unchecked(&self, _: Checked, x: &CudaSlice<f32>, n: usize) -> Result<f32> {
        let n64 = n as u64;
        let s = self.reduce(n, |partial, cfg| launch!(self, sum_squares, cfg, partial, x, &n64))?;
        Ok(s.sqrt() as f32)
    }
}
