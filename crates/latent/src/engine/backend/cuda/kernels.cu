// The CUDA backend's element-wise and reduction kernels, compiled once by NVRTC when the
// backend is created (engine/backend/cuda/mod.rs). Each mirrors a Rust loop of the engine:
// engine/activation.rs, dense.rs, conv.rs (Patches), vae.rs, adam.rs, objective.rs.
// Every kernel is a grid-stride loop; reductions write one f64 partial sum per block, summed
// on the host in block order (deterministic for a given size).

typedef unsigned int u32;
typedef unsigned long long u64;

#define LEAKY 0.01f
#define GELU_C 0.7978846f
#define GELU_A 0.044715f
#define HALF_LN_2PI 0.9189385f
#define RED_THREADS 256

// Activation codes, as Rust's `act_code`: Identity Relu LeakyRelu Tanh Gelu Sigmoid.
__device__ __forceinline__ float act_apply(int act, float z) {
    switch (act) {
    case 1: return fmaxf(z, 0.0f);
    case 2: return z > 0.0f ? z : LEAKY * z;
    case 3: return tanhf(z);
    case 4: return 0.5f * z * (1.0f + tanhf(GELU_C * (z + GELU_A * z * z * z)));
    case 5: return 1.0f / (1.0f + expf(-z));
    default: return z;
    }
}

// f'(z) from y = f(z) and, for GELU, z (Activation::derivative).
__device__ __forceinline__ float act_deriv(int act, float y, float z) {
    switch (act) {
    case 1: return y > 0.0f ? 1.0f : 0.0f;
    case 2: return y > 0.0f ? 1.0f : LEAKY;
    case 3: return 1.0f - y * y;
    case 4: {
        float t = tanhf(GELU_C * (z + GELU_A * z * z * z));
        return 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_A * z * z);
    }
    case 5: return y * (1.0f - y);
    default: return 1.0f;
    }
}

#define GRID_LOOP(i, n) for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (u64)gridDim.x * blockDim.x)

// One f64 partial sum per block into partial[blockIdx.x] (blockDim.x == RED_THREADS).
__device__ void block_sum(double v, double* partial) {
    __shared__ double s[RED_THREADS];
    s[threadIdx.x] = v;
    __syncthreads();
    for (unsigned int w = RED_THREADS / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}

// Philox-4x32-10: the counter-based generator of the device's random stream.
__device__ void philox(u32 c[4], u32 k0, u32 k1) {
    for (int r = 0; r < 10; r++) {
        u32 hi0 = __umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
        u32 hi1 = __umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
        u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
}

// Four random words for draw `ctr` of stream `key`.
__device__ void draw(u64 key, u64 ctr, u32 out[4]) {
    out[0] = (u32)ctr; out[1] = (u32)(ctr >> 32); out[2] = 0x5EA11u; out[3] = 0u;
    philox(out, (u32)key, (u32)(key >> 32));
}

// Uniform in [0, 1) from a word (24 bits).
__device__ __forceinline__ float uniform(u32 w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }

// Standard normal from two words (Box-Muller).
__device__ __forceinline__ float normal(u32 w0, u32 w1) {
    float u1 = ((float)(w0 >> 8) + 1.0f) * (1.0f / 16777216.0f);
    float u2 = uniform(w1);
    return sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
}

extern "C" __global__ void bias_act(float* y, float* pre, const float* bias, u64 n, u64 width, int act, int has_pre) {
    GRID_LOOP(i, n) {
        float z = y[i] + bias[i % width];
        if (has_pre) pre[i] = z;
        y[i] = act_apply(act, z);
    }
}

extern "C" __global__ void act_backward(float* dy, const float* y, const float* pre, const float* mask, u64 n, int act, int has_pre, int has_mask) {
    GRID_LOOP(i, n) {
        float z = has_pre ? pre[i] : 0.0f;
        if (has_mask) {
            float m = mask[i];
            dy[i] = m == 0.0f ? 0.0f : dy[i] * m * act_deriv(act, y[i] / m, z);
        } else {
            dy[i] *= act_deriv(act, y[i], z);
        }
    }
}

// One thread per column, rows summed in order.
extern "C" __global__ void bias_grad(float* db, const float* dz, u64 rows, u64 width) {
    GRID_LOOP(o, width) {
        float s = 0.0f;
        for (u64 r = 0; r < rows; r++) s += dz[r * width + o];
        db[o] = s;
    }
}

// Patch geometry: rows grid (rh, rw), source (sh, sw, c), kernel (kh, kw), stride (sy, sx),
// padding (py, px). A 1-D map has kh = 1, sy = 1, py = 0.
struct Geo { long long rh, rw, sh, sw, c, kh, kw, sy, sx, py, px; };

extern "C" __global__ void im2col(const float* src, float* cols, u64 samples, Geo g) {
    u64 width = (u64)(g.kh * g.kw * g.c), per = (u64)(g.rh * g.rw), sl = (u64)(g.sh * g.sw * g.c);
    u64 cl = per * width;
    GRID_LOOP(i, samples * cl) {
        u64 s = i / cl, rem = i % cl, row = rem / width, j = rem % width;
        long long ry = row / g.rw, rx = row % g.rw;
        long long ky = j / (g.kw * g.c), kx = (j / g.c) % g.kw, ch = j % g.c;
        long long yy = ry * g.sy + ky - g.py, xx = rx * g.sx + kx - g.px;
        bool inside = yy >= 0 && xx >= 0 && yy < g.sh && xx < g.sw;
        cols[i] = inside ? src[s * sl + (yy * g.sw + xx) * g.c + ch] : 0.0f;
    }
}

// The adjoint: every source value sums the patch entries that read it.
extern "C" __global__ void col2im(const float* cols, float* dst, u64 samples, Geo g) {
    u64 width = (u64)(g.kh * g.kw * g.c), per = (u64)(g.rh * g.rw), sl = (u64)(g.sh * g.sw * g.c);
    u64 cl = per * width;
    GRID_LOOP(i, samples * sl) {
        u64 s = i / sl, rem = i % sl;
        long long yy = rem / (g.sw * g.c), xx = (rem / g.c) % g.sw, ch = rem % g.c;
        float acc = 0.0f;
        for (long long ky = 0; ky < g.kh; ky++) {
            long long ty = yy + g.py - ky;
            if (ty < 0 || ty % g.sy != 0 || ty / g.sy >= g.rh) continue;
            for (long long kx = 0; kx < g.kw; kx++) {
                long long tx = xx + g.px - kx;
                if (tx < 0 || tx % g.sx != 0 || tx / g.sx >= g.rw) continue;
                long long row = (ty / g.sy) * g.rw + tx / g.sx;
                acc += cols[s * cl + row * width + (ky * g.kw + kx) * g.c + ch];
            }
        }
        dst[i] = acc;
    }
}

extern "C" __global__ void dropout(float* y, float* mask, u64 n, float p, u64 key, u64 ctr) {
    float keep = 1.0f / (1.0f - p);
    GRID_LOOP(i, n) {
        u32 w[4];
        draw(key, ctr + i, w);
        float m = uniform(w[0]) < p ? 0.0f : keep;
        mask[i] = m;
        y[i] *= m;
    }
}

extern "C" __global__ void normal_fill(float* out, u64 n, u64 key, u64 ctr) {
    GRID_LOOP(i, n) {
        u32 w[4];
        draw(key, ctr + i, w);
        out[i] = normal(w[0], w[1]);
    }
}

// kind: 0 copy, 1 gaussian (a = sigma), 2 mask (a = p), 3 salt and pepper (a = p).
extern "C" __global__ void corrupt(float* out, const float* x, u64 n, int kind, float a, u64 key, u64 ctr) {
    GRID_LOOP(i, n) {
        u32 w[4];
        draw(key, ctr + i, w);
        float v = x[i], u = uniform(w[2]);
        if (kind == 1) v += a * normal(w[0], w[1]);
        else if (kind == 2) v = u < a ? 0.0f : v;
        else if (kind == 3) v = u < 0.5f * a ? 0.0f : (u < a ? 1.0f : v);
        out[i] = v;
    }
}

extern "C" __global__ void reparameterize(float* z, const float* h, const float* eps, u64 rows, u64 k) {
    GRID_LOOP(i, rows * k) {
        u64 r = i / k, j = i % k;
        z[i] = h[r * 2 * k + j] + expf(0.5f * h[r * 2 * k + k + j]) * eps[i];
    }
}

extern "C" __global__ void head_backward(float* out, const float* h, const float* eps, const float* dz, u64 rows, u64 k, float w) {
    float r = (float)rows;
    GRID_LOOP(i, rows * k) {
        u64 row = i / k, j = i % k;
        float mu = h[row * 2 * k + j], lv = h[row * 2 * k + k + j];
        float sd = expf(0.5f * lv);
        out[row * 2 * k + j] = dz[i] + w * mu / r;
        out[row * 2 * k + k + j] = dz[i] * eps[i] * 0.5f * sd + w * 0.5f * (expf(lv) - 1.0f) / r;
    }
}

extern "C" __global__ void gaussian_kl(double* partial, const float* h, u64 rows, u64 k) {
    double acc = 0.0;
    GRID_LOOP(i, rows * k) {
        u64 r = i / k, j = i % k;
        float m = h[r * 2 * k + j], l = h[r * 2 * k + k + j];
        acc += 0.5 * (double)(m * m + expf(l) - 1.0f - l);
    }
    block_sum(acc, partial);
}

// ls_width 0: fixed log sigma `fixed`; else ls[i % ls_width]. grad: dz = e/σ² / rows · f'(z).
extern "C" __global__ void gaussian_nll(double* partial, float* dz, const float* y, const float* t, const float* pre, const float* ls, u64 n, u64 ls_width, float fixed, int grad, int act, float rows) {
    double acc = 0.0;
    GRID_LOOP(i, n) {
        float l = ls_width ? ls[i % ls_width] : fixed;
        float inv_var = expf(-2.0f * l);
        float e = y[i] - t[i];
        acc += (double)(0.5f * e * e * inv_var + l + HALF_LN_2PI);
        if (grad) dz[i] = e * inv_var / rows * act_deriv(act, y[i], pre[i]);
    }
    block_sum(acc, partial);
}

// One thread per feature, rows in order.
extern "C" __global__ void log_sigma_grad(float* g, const float* y, const float* t, const float* ls, u64 n, u64 width, float rows) {
    GRID_LOOP(d, width) {
        float s = 0.0f, iv = expf(-2.0f * ls[d]);
        for (u64 i = d; i < n; i += width) {
            float e = y[i] - t[i];
            s += (1.0f - e * e * iv) / rows;
        }
        g[d] = s;
    }
}

__device__ __forceinline__ float bce(float z, float t) { return fmaxf(z, 0.0f) - t * z + log1pf(expf(-fabsf(z))); }

// Bernoulli NLL from logits z; grad: dz = (y − t) / d.
extern "C" __global__ void bernoulli_nll(double* partial, float* dz, const float* y, const float* z, const float* t, u64 n, int grad, float d) {
    double acc = 0.0;
    GRID_LOOP(i, n) {
        acc += (double)bce(z[i], t[i]);
        if (grad) dz[i] = (y[i] - t[i]) / d;
    }
    block_sum(acc, partial);
}

// kind 0 MSE, 1 MAE: the summed loss, and with grad dz = (2(y−t) | sign(y−t)) f'(z) / n.
extern "C" __global__ void recon_loss(double* partial, float* dz, const float* y, const float* z, const float* t, u64 n, int kind, int grad, int act) {
    double acc = 0.0;
    float nf = (float)n;
    GRID_LOOP(i, n) {
        float e = y[i] - t[i];
        if (kind == 0) {
            acc += (double)(e * e);
            if (grad) dz[i] = 2.0f / nf * e * act_deriv(act, y[i], z[i]);
        } else {
            acc += (double)fabsf(e);
            float sg = e > 0.0f ? 1.0f : (e < 0.0f ? -1.0f : 0.0f);
            if (grad) dz[i] = sg / nf * act_deriv(act, y[i], z[i]);
        }
    }
    block_sum(acc, partial);
}

extern "C" __global__ void adam(float* p, const float* g, float* m, float* v, const float* decay, u64 n, float lr, float b1, float b2, float eps, float step_size, float inv_sqrt_bc2, int decoupled) {
    GRID_LOOP(i, n) {
        float d = decay[i], gi = g[i], pi = p[i];
        if (decoupled) pi -= lr * d * pi;
        else gi += d * pi;
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

extern "C" __global__ void sum_squares(double* partial, const float* x, u64 n) {
    double acc = 0.0;
    GRID_LOOP(i, n) acc += (double)x[i] * (double)x[i];
    block_sum(acc, partial);
}

extern "C" __global__ void scale(float* x, u64 n, float f) {
    GRID_LOOP(i, n) x[i] *= f;
}
