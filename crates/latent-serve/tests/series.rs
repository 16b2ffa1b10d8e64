//! `POST /v1/series/score` over a real socket: the causal scores of a window of recent points
//! equal the library's, the first `window − 1` points have none, and bad requests get 4xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Server;
use latent::series::detect::{self, DetectorConfig};
use latent::series::Series;
use latent_serve::Config;
use std::sync::Arc;

fn values(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * 0.3).sin() + if i == 70 { 4.0 } else { 0.0 }).collect()
}

#[test]
fn series_scores_match_the_library() {
    let mut cfg = DetectorConfig { window: 8, ..DetectorConfig::default() };
    cfg.fit.train.epochs = 5;
    let train = Series { time_text: vec![], times: vec![], values: values(60), channels: 1 };
    let (mut model, spec) = detect::fit(&train, 60, &cfg).unwrap();
    let frame = spec.window_frame(&train, 1).unwrap();
    let rule = latent::score::ThresholdRule::Auto;
    model.calibrate(&frame, &rule, latent::score::ScoreKind::Mse).unwrap();
    let model = Arc::new(model);
    let s = Server::start_with(model.clone(), Config::default());

    let recent = values(80);
    let body = serde_json::json!({ "points": recent, "explain": 1 }).to_string();
    let r = s.post("/v1/series/score", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["window"], 8);
    let scores = j["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 80);
    assert!(scores[6].is_null() && j["is_anomaly"][6].is_null());
    let series = Series { time_text: vec![], times: vec![], values: recent, channels: 1 };
    let want = detect::raw_scores(&model, &spec, &series).unwrap();
    for t in 7..80 {
        assert_eq!(scores[t].as_f64().unwrap() as f32, want[t] as f32, "point {t}");
    }
    assert!(j["is_anomaly"][70].as_bool().unwrap());
    assert_eq!(j["explanations"][70][0]["column"], "value0");

    // Too few points, wrong width, not JSON; a row model refuses the endpoint.
    let r = s.post("/v1/series/score", "{\"points\": [1, 2, 3]}");
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("fewer than one window"), "{}", r.text());
    let r = s.post(
        "/v1/series/score",
        "{\"points\": [[1, 2], [3, 4], [5, 6], [7, 8], [1, 2], [3, 4], [5, 6], [7, 8]]}",
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let r = s.post("/v1/series/score", "points");
    assert_eq!(r.status, 400, "{}", r.text());
    let rows = Server::start(Config::default());
    let r = rows.post("/v1/series/score", &body);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("not a time-series model"), "{}", r.text());
}
