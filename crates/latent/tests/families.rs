//! Every family's mechanism: gradients of conv, variational and sparse networks against
//! finite differences, shapes, the KL term, corruption only in training, sparsity's pull.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::needless_range_loop)]

use latent::config::{
    Architecture, ConvNorm, Corruption, Distortion, LatentKind, Likelihood, Loss, ModelConfig,
    Objective, Sparsity,
};
use latent::engine::backend::Cpu;
use latent::engine::{Activation, Params};
use latent::model::layer::Layer;
use latent::model::net::Net;
use latent::objective::gaussian_kl;
use latent::train::Silent;
use latent::{FitConfig, Frame, ImageShape, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn build(
    cfg: &ModelConfig,
    obj: &Objective,
    width: usize,
    image: Option<ImageShape>,
) -> (Net, Params) {
    let mut params = Params::new();
    let output = cfg.output.unwrap_or(Activation::Sigmoid);
    let net = Net::new(&mut params, width, image, cfg, output, obj).expect("net");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    net.init(&mut params, &mut rng);
    (net, params)
}

/// Central differences of the training loss (same noise each evaluation) on every parameter.
fn check_gradients(name: &str, net: &Net, params: &mut Params, x: &[f32], rows: usize, kl: f32) {
    let mut ws = net.workspace(rows);
    let loss_at = |p: &mut Params, ws: &mut _| {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        net.train_step(&Cpu, p, ws, x, rows, kl, &mut rng).unwrap()
    };
    let at = loss_at(params, &mut ws);
    let analytic = params.grads().to_vec();
    let h = 2e-3f32;
    let (mut checked, mut kinks) = (0, 0);
    for i in 0..params.len() {
        let orig = params.values()[i];
        params.values_mut()[i] = orig + h;
        let up = loss_at(params, &mut ws);
        params.values_mut()[i] = orig - h;
        let down = loss_at(params, &mut ws);
        params.values_mut()[i] = orig;
        let fd = ((up - down) / (2.0 * f64::from(h))) as f32;
        let tol = 2e-2 * (analytic[i].abs().max(fd.abs()) + 0.02);
        let (fwd, bwd) = ((up - at) / f64::from(h), (at - down) / f64::from(h));
        if (fwd - bwd).abs() as f32 > tol {
            kinks += 1; // a ReLU kink inside [p - h, p + h]
            continue;
        }
        checked += 1;
        assert!((fd - analytic[i]).abs() <= tol, "{name} param {i}: fd {fd} vs {}", analytic[i]);
    }
    assert!(kinks * 10 < checked, "{name}: {kinks} kinks, {checked} checked");
}

const DROPOUT: f32 = 0.2;

fn inputs(rows: usize, width: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows * width).map(|_| rng.random_range(0.05..0.95)).collect()
}

#[test]
fn conv_gradients_match_finite_differences() {
    // Height 1: the 1-D convolutions of time-series windows (a 1 x k kernel).
    for (c, h, w, dense_code) in [
        (1, 8, 8, true),
        (2, 4, 8, true),
        (2, 4, 8, false),
        (1, 1, 16, true),
        (3, 1, 8, true),
        (2, 1, 8, false),
    ] {
        let img = ImageShape { channels: c, height: h, width: w };
        let cfg = ModelConfig {
            architecture: Architecture::Conv {
                channels: vec![3, 2],
                kernel: 3,
                stride: 2,
                dense_code,
            },
            hidden: Some(vec![]),
            latent: Some(3),
            activation: Activation::Tanh,
            output: Some(Activation::Sigmoid),
            ..ModelConfig::default()
        };
        let (net, mut params) = build(&cfg, &Objective::default(), img.len(), Some(img));
        let x = inputs(3, img.len(), 1);
        check_gradients(&format!("conv {c}x{h}x{w} {dense_code}"), &net, &mut params, &x, 3, 1.0);
    }
}

#[test]
fn fully_convolutional_code_is_the_last_feature_map() {
    let img = ImageShape { channels: 1, height: 28, width: 28 };
    let cfg = ModelConfig {
        architecture: Architecture::Conv {
            channels: vec![32, 64],
            kernel: 3,
            stride: 2,
            dense_code: false,
        },
        output: Some(Activation::Sigmoid),
        ..ModelConfig::default()
    };
    let (net, params) = build(&cfg, &Objective::default(), img.len(), Some(img));
    // DESIGN.md W3: two convs and two transposed convs, no dense layer.
    assert_eq!(net.layers().len(), 4);
    assert_eq!(net.code_width(), 7 * 7 * 64);
    let mut ws = net.workspace(2);
    net.forward(&Cpu, &params, &mut ws, &inputs(2, img.len(), 4), 2, None).unwrap();
    assert_eq!(net.reconstructions(&ws, 2).len(), 2 * img.len());
    let vae = ModelConfig { latent_kind: LatentKind::Gaussian, ..cfg };
    assert!(vae.validate().is_err(), "a variational code must be dense");
}

#[test]
fn variational_gradients_match_finite_differences() {
    let likelihoods = [
        (Likelihood::Bernoulli, Activation::Sigmoid),
        (Likelihood::Gaussian { sigma: None }, Activation::Identity),
        (Likelihood::Gaussian { sigma: Some(0.5) }, Activation::Sigmoid),
    ];
    for (likelihood, output) in likelihoods {
        let cfg = ModelConfig {
            latent_kind: LatentKind::Gaussian,
            hidden: Some(vec![6]),
            latent: Some(2),
            activation: Activation::Tanh,
            output: Some(output),
            ..ModelConfig::default()
        };
        let obj = Objective { likelihood: Some(likelihood), beta: 2.0, ..Objective::default() };
        let (net, mut params) = build(&cfg, &obj, 5, None);
        let x = inputs(4, 5, 2);
        check_gradients(&format!("vae {likelihood:?}"), &net, &mut params, &x, 4, 0.7);
    }
}

#[test]
fn sparse_and_denoising_gradients_match_finite_differences() {
    let cases = [
        (Activation::Sigmoid, Sparsity::Kl { rho: 0.1, beta: 2.0 }, Corruption::None),
        (Activation::Relu, Sparsity::L1 { weight: 0.3 }, Corruption::Gaussian { sigma: 0.2 }),
        (Activation::Identity, Sparsity::None, Corruption::Mask { p: 0.3 }),
    ];
    for (code_activation, sparsity, corruption) in cases {
        let cfg = ModelConfig {
            code_activation,
            hidden: Some(vec![7]),
            latent: Some(4),
            activation: Activation::Tanh,
            output: Some(Activation::Sigmoid),
            dropout: DROPOUT,
            ..ModelConfig::default()
        };
        let obj = Objective { sparsity, corruption, ..Objective::default() };
        let (net, mut params) = build(&cfg, &obj, 6, None);
        let x = inputs(5, 6, 3);
        check_gradients(&format!("{sparsity:?} {corruption:?}"), &net, &mut params, &x, 5, 1.0);
    }
}

#[test]
fn code_dropout_gradients_match_finite_differences() {
    // PyOD's AutoEncoder bottleneck: a ReLU code with dropout, wider than the input.
    let cfg = ModelConfig {
        code_activation: Activation::Relu,
        hidden: Some(vec![7]),
        latent: Some(8),
        output: Some(Activation::Identity),
        dropout: DROPOUT,
        code_dropout: true,
        ..ModelConfig::default()
    };
    let (net, mut params) = build(&cfg, &Objective::default(), 6, None);
    let x = inputs(5, 6, 5);
    check_gradients("code dropout", &net, &mut params, &x, 5, 1.0);
    // It needs a dropout probability, and a deterministic code.
    let err = ModelConfig { dropout: 0.0, ..cfg.clone() }.validate().unwrap_err();
    assert!(err.to_string().contains("code dropout needs a dropout probability"), "{err}");
    let vae = ModelConfig { latent_kind: LatentKind::Gaussian, ..cfg };
    assert!(vae.validate().unwrap_err().to_string().contains("deterministic code"));
}

#[test]
fn conv_output_shape_equals_input_shape() {
    for (c, h, w, channels) in
        [(1, 28, 28, vec![8, 16]), (3, 16, 16, vec![4, 4, 4]), (1, 12, 20, vec![4, 6])]
    {
        let img = ImageShape { channels: c, height: h, width: w };
        let cfg = ModelConfig {
            architecture: Architecture::Conv { channels, kernel: 3, stride: 2, dense_code: true },
            latent: Some(5),
            output: Some(Activation::Sigmoid),
            ..ModelConfig::default()
        };
        let (net, params) = build(&cfg, &Objective::default(), img.len(), Some(img));
        let mut ws = net.workspace(2);
        net.forward(&Cpu, &params, &mut ws, &inputs(2, img.len(), 4), 2, None).unwrap();
        assert_eq!(net.reconstructions(&ws, 2).len(), 2 * img.len(), "{c}x{h}x{w}");
        assert_eq!(net.layers().last().map(|l| l.outputs()), Some(img.len()));
    }
    // A stride that does not divide the image is a clear configuration error.
    let img = ImageShape { channels: 1, height: 10, width: 10 };
    let cfg = ModelConfig {
        architecture: Architecture::Conv {
            channels: vec![4, 4],
            kernel: 3,
            stride: 2,
            dense_code: true,
        },
        ..ModelConfig::default()
    };
    let err = Net::new(
        &mut Params::new(),
        100,
        Some(img),
        &cfg,
        Activation::Sigmoid,
        &Objective::default(),
    )
    .expect_err("5x5 map with stride 2");
    assert!(err.to_string().contains("does not divide"), "{err}");
}

#[test]
fn kl_is_zero_at_the_prior_and_matches_closed_form() {
    assert_eq!(gaussian_kl(&[0.0, 0.0, 0.0, 0.0], 2), 0.0);
    // KL(N(1, 4) || N(0, 1)) = ½ (1 + 4 − 1 − ln 4)
    let kl = gaussian_kl(&[1.0, 4.0f32.ln()], 1);
    let want = 0.5 * (1.0 + 4.0 - 1.0 - 4.0f64.ln());
    assert!((kl - want).abs() < 1e-6, "{kl} vs {want}");
}

#[test]
fn corruption_applies_in_training_only() {
    let cfg = ModelConfig {
        hidden: Some(vec![8]),
        latent: Some(3),
        output: Some(Activation::Sigmoid),
        ..ModelConfig::default()
    };
    let obj = Objective { corruption: Corruption::Mask { p: 0.9 }, ..Objective::default() };
    let (net, mut params) = build(&cfg, &obj, 6, None);
    let x = inputs(8, 6, 6);
    let mut ws = net.workspace(8);
    // Inference is deterministic: no noise.
    net.forward(&Cpu, &params, &mut ws, &x, 8, None).unwrap();
    let a = net.reconstructions(&ws, 8).to_vec();
    net.forward(&Cpu, &params, &mut ws, &x, 8, None).unwrap();
    assert_eq!(a, net.reconstructions(&ws, 8));
    // Training sees masked inputs: its reconstructions differ from the clean pass.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    net.forward(&Cpu, &params, &mut ws, &x, 8, Some(&mut rng)).unwrap();
    assert_ne!(a, net.reconstructions(&ws, 8));
    let clean = net.eval_loss(&Cpu, &mut params, &mut ws, &x, 8).unwrap();
    assert!(clean.is_finite());
}

fn blobs(rows: usize) -> Frame {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut v = Vec::new();
    for r in 0..rows {
        let k = r % 4;
        for j in 0..16 {
            let on = if j / 4 == k { 0.9 } else { 0.1 };
            v.push((on + rng.random_range(-0.08f32..0.08)).clamp(0.0, 1.0));
        }
    }
    Frame::from_rows(Frame::default_names("f", 16), &v).expect("frame")
}

fn mean_code(model: &Model, frame: &Frame) -> f32 {
    let codes = model.encode(frame).expect("encode");
    codes.data.iter().sum::<f32>() / codes.data.len() as f32
}

#[test]
fn kl_sparsity_pulls_mean_activation_to_rho() {
    let frame = blobs(800);
    let mut cfg = FitConfig::default();
    cfg.model.hidden = Some(vec![16]);
    cfg.model.latent = Some(12);
    cfg.model.code_activation = Activation::Sigmoid;
    cfg.train.epochs = 60;
    cfg.train.batch_size = 32;
    cfg.train.optimizer.lr = 3e-3;
    let dense = Model::fit(&frame, &cfg, &mut Silent).expect("fit");
    cfg.objective.sparsity = Sparsity::Kl { rho: 0.05, beta: 1.0 };
    let sparse = Model::fit(&frame, &cfg, &mut Silent).expect("fit");
    let (d, s) = (mean_code(&dense, &frame), mean_code(&sparse, &frame));
    assert!((s - 0.05).abs() < 0.03, "sparse mean activation {s} (dense {d})");
    assert!((d - 0.05).abs() > 0.1, "dense mean activation {d}");
}

#[test]
fn variational_model_trains_saves_and_loads() {
    let frame = blobs(400);
    let mut cfg = FitConfig::default();
    cfg.model.latent_kind = LatentKind::Gaussian;
    cfg.model.hidden = Some(vec![16]);
    cfg.model.latent = Some(2);
    cfg.objective.kl_warmup = 5;
    cfg.train.epochs = 15;
    cfg.train.batch_size = 32;
    let model = Model::fit(&frame, &cfg, &mut Silent).expect("fit");
    let h = &model.summary().expect("summary").history;
    assert!(h[h.len() - 1].train_loss < h[0].train_loss, "loss did not fall");
    // Warm-up epochs (KL weight below beta) are not comparable and never the best epoch.
    assert!(model.summary().expect("summary").best_epoch > 5);
    assert_eq!(model.layer_widths(), vec![16, 16, 2, 16, 16]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vae.safetensors");
    model.save(&path).expect("save");
    let loaded = Model::load(&path).expect("load");
    assert_eq!(model.encode(&frame).expect("a"), loaded.encode(&frame).expect("b"));
    assert_eq!(
        model.reconstruct_scaled(&frame).expect("a"),
        loaded.reconstruct_scaled(&frame).expect("b")
    );
    let _ = Loss::Mse;
}

/// The variational scores of a multi-channel conv VAE compare each reconstruction with its own
/// input, channel for channel: the reconstruction NLL equals the Bernoulli log-loss computed by
/// hand from `reconstruct_inputs`, and the negative ELBO adds a non-negative KL term.
#[test]
fn variational_scores_of_an_rgb_conv_vae_match_a_hand_computation() {
    use latent::score::ScoreKind;
    let img = ImageShape { channels: 3, height: 4, width: 4 };
    let rows = 64;
    // Channel c of image r is a constant, different per channel, so mixing channels up shows.
    let values: Vec<f32> = (0..rows * img.len())
        .map(|i| {
            let (r, f) = (i / img.len(), i % img.len());
            let c = f / 16;
            (0.1 + 0.3 * c as f32 + 0.05 * (r % 3) as f32).min(0.95)
        })
        .collect();
    let frame = Frame::from_rows(Frame::default_names("p", img.len()), &values)
        .expect("frame")
        .with_image_shape(img)
        .expect("image");
    let mut cfg = FitConfig::default();
    cfg.model.architecture =
        Architecture::Conv { channels: vec![4], kernel: 3, stride: 2, dense_code: true };
    cfg.model.latent_kind = LatentKind::Gaussian;
    cfg.model.latent = Some(2);
    cfg.train.epochs = 5;
    let model = Model::fit(&frame, &cfg, &mut Silent).expect("fit");
    let x = model.inputs(&frame).expect("inputs");
    let nll = model.score_inputs(&x, ScoreKind::ReconNll).expect("nll");
    let elbo = model.score_inputs(&x, ScoreKind::NegElbo).expect("elbo");
    let y = model.reconstruct_inputs(&x).unwrap();
    for r in 0..rows {
        let span = r * img.len()..(r + 1) * img.len();
        let by_hand: f64 = x[span.clone()]
            .iter()
            .zip(&y.data[span])
            .map(|(&t, &p)| {
                let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
                -(f64::from(t) * p.ln() + (1.0 - f64::from(t)) * (1.0 - p).ln())
            })
            .sum();
        let got = f64::from(nll[r]);
        assert!((got - by_hand).abs() < 1e-3 * by_hand.max(1.0), "row {r}: {got} vs {by_hand}");
        assert!(elbo[r] >= nll[r] - 1e-4, "row {r}: KL negative");
    }
    let dense = Model::fit(&frame, &FitConfig::default(), &mut Silent).expect("fit");
    assert!(dense.score_inputs(&x[..img.len()], ScoreKind::NegElbo).is_err());
}

/// Two 3x3 stride-2 convolutions (3 then 2 channels), tanh, sigmoid output: the small conv
/// network of the compression checks.
fn small_conv(dense_code: bool, conv_norm: ConvNorm) -> ModelConfig {
    ModelConfig {
        architecture: Architecture::Conv { channels: vec![3, 2], kernel: 3, stride: 2, dense_code },
        activation: Activation::Tanh,
        output: Some(Activation::Sigmoid),
        conv_norm,
        ..ModelConfig::default()
    }
}

/// A compression network (`objective.lambda`): the rate under the learned density plus
/// `λ · 255² · MSE`, with uniform noise on the code, against finite differences on every
/// parameter (the convolutions and the density's logits, means and log scales).
#[test]
fn compression_gradients_match_finite_differences() {
    let img = ImageShape { channels: 1, height: 8, width: 8 };
    let cfg = small_conv(false, ConvNorm::None);
    // λ · 255² = 1: the distortion on the scale of the other checks (f32 noise stays small).
    let obj = Objective { lambda: Some(1.0 / 65025.0), ..Objective::default() };
    let (net, mut params) = build(&cfg, &obj, img.len(), Some(img));
    assert_eq!(net.density().map(|d| d.channels), Some(2));
    assert_eq!(net.code_width(), 2 * 2 * 2);
    let x = inputs(3, img.len(), 2);
    check_gradients("compress", &net, &mut params, &x, 3, 1.0);
}

/// GDN / IGDN between the convolutions (`conv_norm: gdn`): a compression network and a conv
/// network with a dense code, against finite differences on every parameter (β and γ of each
/// GDN layer included).
#[test]
fn gdn_gradients_match_finite_differences() {
    let img = ImageShape { channels: 2, height: 8, width: 8 };
    for dense_code in [false, true] {
        let cfg = ModelConfig { latent: Some(3), ..small_conv(dense_code, ConvNorm::Gdn) };
        let obj = if dense_code {
            Objective::default()
        } else {
            Objective { lambda: Some(1.0 / 65025.0), ..Objective::default() }
        };
        let (net, mut params) = build(&cfg, &obj, img.len(), Some(img));
        // Encoder: conv, GDN, conv (the code) [+ dense]; decoder: [dense +] deconv, IGDN, deconv.
        let gdn = net.layers().iter().filter(|l| matches!(l, Layer::Gdn(_))).count();
        assert_eq!(gdn, if dense_code { 3 } else { 2 }, "dense code {dense_code}");
        let x = inputs(3, img.len(), 4);
        check_gradients(&format!("gdn, dense code {dense_code}"), &net, &mut params, &x, 3, 1.0);
    }
}

/// A compression network trained on MS-SSIM (`objective.distortion`): the rate plus
/// `λ · (1 − MS-SSIM)` against finite differences on every parameter, with one scale
/// (12x12) and with two (24x24, two channels: the conv layout is channels last).
#[test]
fn ms_ssim_compression_gradients_match_finite_differences() {
    for img in [
        ImageShape { channels: 1, height: 12, width: 12 },
        ImageShape { channels: 2, height: 24, width: 24 },
    ] {
        let cfg = small_conv(false, ConvNorm::None);
        let obj =
            Objective { lambda: Some(4.0), distortion: Distortion::MsSsim, ..Objective::default() };
        let (net, mut params) = build(&cfg, &obj, img.len(), Some(img));
        let x = inputs(2, img.len(), 4);
        check_gradients(&format!("ms-ssim {img:?}"), &net, &mut params, &x, 2, 1.0);
    }
}

/// The MS-SSIM distortion needs learned compression and image data: typed errors otherwise.
#[test]
fn ms_ssim_distortion_is_refused_without_lambda_or_images() {
    let obj = Objective { distortion: Distortion::MsSsim, ..Objective::default() };
    let e = obj.validate(&ModelConfig::default()).unwrap_err();
    assert!(matches!(e, latent::Error::Config(ref m) if m.contains("learned compression")), "{e}");
    let obj = Objective { lambda: Some(4.0), ..obj };
    let mut params = Params::new();
    let e = Net::new(&mut params, 10, None, &ModelConfig::default(), Activation::Sigmoid, &obj)
        .unwrap_err();
    assert!(matches!(e, latent::Error::Config(ref m) if m.contains("image data")), "{e}");
    // Older model files (no `distortion`) read as MSE, and MSE is not written.
    let mse = Objective { lambda: Some(0.01), ..Objective::default() };
    let text = serde_json::to_string(&mse).unwrap();
    assert!(!text.contains("distortion"), "{text}");
    let back: Objective = serde_json::from_str(&text).unwrap();
    assert_eq!(back.distortion, Distortion::Mse);
    let text = serde_json::to_string(&obj).unwrap();
    assert!(text.contains("\"distortion\":\"ms_ssim\""), "{text}");
}

/// `--preset compress`: GDN / IGDN between the convolutions; the same seed gives the same
/// model and the same integer tables, stored per channel with step 1.
#[test]
fn compress_preset_is_deterministic_and_stores_its_tables() {
    let img = ImageShape { channels: 1, height: 8, width: 8 };
    let frame = Frame::from_rows(Frame::default_names("p", img.len()), &inputs(64, img.len(), 9))
        .unwrap()
        .with_image_shape(img)
        .unwrap();
    let mut c = FitConfig::default();
    latent::Preset::Compress.apply(&mut c);
    if let Architecture::Conv { channels, .. } = &mut c.model.architecture {
        *channels = vec![4, 3];
    }
    c.train.epochs = 2;
    c.train.min_steps = 0;
    let a = Model::fit(&frame, &c, &mut Silent).unwrap();
    let b = Model::fit(&frame, &c, &mut Silent).unwrap();
    assert_eq!(a.params().values(), b.params().values());
    // GDN after the first convolution, IGDN after the first transposed one (the measured
    // better choice, BENCHMARKS.md).
    let gdn: Vec<bool> = a
        .net()
        .layers()
        .iter()
        .filter_map(|l| if let Layer::Gdn(g) = l { Some(g.inverse) } else { None })
        .collect();
    assert_eq!(gdn, [false, true]);
    let tables = a.manifest().codec.clone().unwrap();
    assert_eq!(Some(&tables), b.manifest().codec.as_ref());
    assert!(tables.per_channel && tables.step == 1.0 && tables.dims.len() == 3);
    tables.check(a.code_width()).unwrap();
    latent::codec::Codec::new(&a).unwrap();
}
