//! Every backward pass checked two ways: against PyTorch reference values (fixtures written
//! by `scripts/make_fixtures.py`) and against central finite differences.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::needless_range_loop)]

use latent::config::Objective;
use latent::config::{Loss, ModelConfig};
use latent::engine::backend::Cpu;
use latent::engine::{Activation, Adam, AdamConfig, Params};
use latent::model::net::Net;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn fixtures() -> Vec<Value> {
    let text = include_str!("fixtures/dense_reference.json");
    let v: Value = serde_json::from_str(text).expect("fixture JSON");
    v["cases"].as_array().expect("cases").clone()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number") as f32).collect()
}

fn setup(case: &Value) -> (Net, Params, Vec<f32>, usize) {
    let cfg: ModelConfig = serde_json::from_value(case["model"].clone()).expect("model config");
    let width = case["width"].as_u64().expect("width") as usize;
    let output = cfg.output.unwrap_or(Activation::Identity);
    let mut params = Params::new();
    let net = Net::new(&mut params, width, None, &cfg, output, &Objective::default()).expect("net");
    for spec in params.specs().to_vec() {
        let id = params.find(&spec.name).expect("param");
        let want = &case["params"][&spec.name];
        let shape: Vec<usize> = serde_json::from_value(want["shape"].clone()).expect("shape");
        assert_eq!(shape, spec.shape, "{}", spec.name);
        params.value_mut(id).copy_from_slice(&floats(&want["data"]));
    }
    let batch = case["batch"].as_u64().expect("batch") as usize;
    (net, params, floats(&case["input"]), batch)
}

fn close(got: f32, want: f32, tol: f32) -> bool {
    (got - want).abs() <= tol * (1.0 + want.abs())
}

#[test]
fn gradients_match_pytorch() {
    let cases = fixtures();
    assert!(cases.len() >= 16);
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let (net, mut params, x, batch) = setup(case);
        let mut ws = net.workspace(batch);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let loss = net.train_step(&Cpu, &mut params, &mut ws, &x, batch, 1.0, &mut rng).unwrap();
        let want = case["loss"].as_f64().expect("loss");
        assert!((loss - want).abs() < 1e-5 * (1.0 + want.abs()), "{name}: loss {loss} vs {want}");
        for spec in params.specs() {
            let want = floats(&case["grads"][&spec.name]);
            let got = &params.grads()[spec.offset..spec.offset + spec.len];
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(close(*g, *w, 1e-4), "{name} {}[{i}]: {g} vs {w}", spec.name);
            }
        }
    }
}

#[test]
fn adam_steps_match_pytorch() {
    for case in fixtures().iter().filter(|c| c.get("adam").is_some()) {
        let a = &case["adam"];
        let (net, mut params, x, batch) = setup(case);
        let mut ws = net.workspace(batch);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let config = AdamConfig {
            lr: a["lr"].as_f64().expect("lr") as f32,
            weight_decay: a["weight_decay"].as_f64().expect("wd") as f32,
            decoupled: a["decoupled"].as_bool().expect("decoupled"),
            ..AdamConfig::default()
        };
        let mut adam = Adam::new(&params, config);
        for _ in 0..a["steps"].as_u64().expect("steps") {
            net.train_step(&Cpu, &mut params, &mut ws, &x, batch, 1.0, &mut rng).unwrap();
            adam.step(&mut params);
        }
        for spec in params.specs() {
            let want = floats(&a["params_after"][&spec.name]);
            let got = &params.values()[spec.offset..spec.offset + spec.len];
            for (g, w) in got.iter().zip(&want) {
                assert!(close(*g, *w, 1e-4), "{}: {g} vs {w}", spec.name);
            }
        }
    }
}

/// Central differences in f64 over the f32 forward pass, on every parameter.
#[test]
fn gradients_match_finite_differences() {
    let acts = [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Gelu];
    let combos = [
        (Activation::Sigmoid, Loss::Mse),
        (Activation::Identity, Loss::Mse),
        (Activation::Sigmoid, Loss::Bce),
        (Activation::Identity, Loss::Mae),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for act in acts {
        for (output, loss) in combos {
            let cfg = ModelConfig {
                hidden: Some(vec![7]),
                latent: Some(3),
                activation: act,
                output: Some(output),
                loss,
                ..ModelConfig::default()
            };
            let mut params = Params::new();
            let net =
                Net::new(&mut params, 5, None, &cfg, output, &Objective::default()).expect("net");
            net.init(&mut params, &mut rng);
            let batch = 3;
            let x: Vec<f32> = (0..batch * 5).map(|i| ((i * 37 % 17) as f32) / 17.0).collect();
            // MAE has a kink where output = target: move the outputs well away from the inputs.
            if loss == Loss::Mae {
                let id = params.find("decoder.1.bias").expect("output bias");
                params.value_mut(id).iter_mut().for_each(|b| *b += 3.0);
            }
            let mut ws = net.workspace(batch);
            net.train_step(&Cpu, &mut params, &mut ws, &x, batch, 1.0, &mut rng).unwrap();
            let analytic = params.grads().to_vec();
            let h = 2e-3f32;
            let at = net.eval_loss(&Cpu, &mut params, &mut ws, &x, batch).unwrap();
            let mut kinks = 0;
            for i in 0..params.len() {
                let orig = params.values()[i];
                params.values_mut()[i] = orig + h;
                let up = net.eval_loss(&Cpu, &mut params, &mut ws, &x, batch).unwrap();
                params.values_mut()[i] = orig - h;
                let down = net.eval_loss(&Cpu, &mut params, &mut ws, &x, batch).unwrap();
                params.values_mut()[i] = orig;
                let fd = ((up - down) / (2.0 * f64::from(h))) as f32;
                let tol = 2e-2;
                // A ReLU-family kink inside [p-h, p+h] makes one-sided slopes disagree:
                // differences are meaningless there (PyTorch checks those values above).
                let (fwd, bwd) = ((up - at) / f64::from(h), (at - down) / f64::from(h));
                if (fwd - bwd).abs() as f32 > tol * (fd.abs() + 0.05) {
                    kinks += 1;
                    continue;
                }
                assert!(
                    (fd - analytic[i]).abs() <= tol * (analytic[i].abs() + 0.05),
                    "{act:?}/{output:?}/{loss:?} param {i}: fd {fd} vs {}",
                    analytic[i]
                );
            }
            assert!(kinks * 10 < params.len(), "{act:?}/{output:?}/{loss:?}: {kinks} kinks");
        }
    }
}
