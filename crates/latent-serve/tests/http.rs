//! The service over a real socket on 127.0.0.1: every endpoint, and every kind of bad request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{rows_body, Client, Server, NUMERIC};
use latent_serve::Config;
use std::io::Write;
use std::time::{Duration, Instant};

fn server() -> Server {
    Server::start(Config::default())
}

#[test]
fn healthz_and_model() {
    let s = server();
    let r = s.get("/healthz");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");

    let r = s.get("/v1/model");
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let model = common::model();
    assert_eq!(j["parameters"], model.parameter_count());
    assert_eq!(j["latent_size"], model.code_width());
    assert_eq!(j["model_inputs"], NUMERIC + 3);
    let cols = j["input_columns"].as_array().unwrap();
    assert_eq!(cols.len(), NUMERIC + 1);
    assert_eq!(cols[0]["name"], "x0");
    assert_eq!(cols[0]["kind"], "numeric");
    assert_eq!(cols[NUMERIC]["kind"], "categorical");
    assert_eq!(cols[NUMERIC]["categories"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(j["threshold"]["score"], "mse");
    assert!(j["threshold"]["value"].as_f64().unwrap() > 0.0);
    assert!(j["architecture"].as_str().unwrap().starts_with("9-"));
}

#[test]
fn score_rows_by_position_and_by_name_agree() {
    let s = server();
    let r = s.post("/v1/score", &rows_body(5));
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let scores = j["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 5);
    let threshold = j["threshold"].as_f64().unwrap();
    for (s, flag) in scores.iter().zip(j["is_anomaly"].as_array().unwrap()) {
        assert_eq!(flag.as_bool().unwrap(), s.as_f64().unwrap() > threshold);
    }
    assert!(j.get("explanations").is_none());

    // The same first row by name, columns in another order; the library agrees.
    let frame = common::training_frame(1);
    let mut fields: Vec<String> = frame
        .columns()
        .iter()
        .map(|c| {
            format!(
                "\"{}\": {}",
                c.name,
                match &c.values {
                    latent::ColumnValues::Numeric(v) => v[0].to_string(),
                    latent::ColumnValues::Text(v) => format!("\"{}\"", v[0]),
                }
            )
        })
        .collect();
    fields.reverse();
    let r = s.post("/v1/score", &format!("{{\"rows\": [{{{}}}]}}", fields.join(", ")));
    assert_eq!(r.status, 200, "{}", r.text());
    let by_name = r.json()["scores"][0].as_f64().unwrap();
    let expected = common::model().scores(&frame, latent::score::ScoreKind::Mse).unwrap()[0];
    assert!((by_name - scores[0].as_f64().unwrap()).abs() < 1e-6);
    assert!((by_name - f64::from(expected)).abs() < 1e-6);
}

#[test]
fn score_explains_top_columns() {
    let s = server();
    let body = rows_body(3).replacen('{', "{\"explain\": 2, ", 1);
    let r = s.post("/v1/score", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let ex = j["explanations"].as_array().unwrap();
    assert_eq!(ex.len(), 3);
    let names: Vec<String> = (0..NUMERIC).map(|i| format!("x{i}")).chain(["kind".into()]).collect();
    for row in ex {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), 2);
        let shares: Vec<f64> = row.iter().map(|e| e["share"].as_f64().unwrap()).collect();
        assert!(shares[0] >= shares[1]);
        assert!(shares.iter().sum::<f64>() <= 1.0 + 1e-5);
        for e in row {
            assert!(names.contains(&e["column"].as_str().unwrap().to_string()));
        }
    }
}

#[test]
fn empty_rows_give_empty_answers() {
    let s = server();
    let j = s.post("/v1/score", r#"{"rows": []}"#).json();
    assert_eq!(j["scores"], serde_json::json!([]));
    assert_eq!(j["is_anomaly"], serde_json::json!([]));
    assert_eq!(s.post("/v1/encode", r#"{"rows": []}"#).json()["codes"], serde_json::json!([]));
}

#[test]
fn encode_and_reconstruct() {
    let s = server();
    let model = common::model();
    let r = s.post("/v1/encode", &rows_body(4));
    assert_eq!(r.status, 200, "{}", r.text());
    let codes = r.json()["codes"].as_array().unwrap().clone();
    assert_eq!(codes.len(), 4);
    let expected = model.encode(&common::training_frame(4)).unwrap();
    for (i, row) in codes.iter().enumerate() {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), model.code_width());
        for (j, v) in row.iter().enumerate() {
            assert!(
                (v.as_f64().unwrap() - f64::from(expected.data[i * expected.cols + j])).abs()
                    < 1e-5
            );
        }
    }

    let r = s.post("/v1/reconstruct", &rows_body(4));
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = r.json()["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), NUMERIC + 1);
        assert!(row[..NUMERIC].iter().all(|v| v.as_f64().is_some()));
        assert!(["a", "b", "c"].contains(&row[NUMERIC].as_str().unwrap()));
    }
}

#[test]
fn malformed_json_is_400() {
    let s = server();
    for body in ["{\"rows\": [[1, 2", "not json", "", "{\"rows\": [[1,]]}"] {
        let r = s.post("/v1/score", body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.error().contains("not valid JSON"), "{}", r.error());
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[test]
fn rows_the_model_cannot_take_are_422() {
    let s = server();
    let ok_row = common::row_array(0);
    let nums = "1, 2, 3, 4, 5, 6";
    let cases = [
        // Wrong width.
        (r#"{"rows": [[1, 2, 3]]}"#.to_string(), "has 3 values, the model expects 7"),
        (format!(r#"{{"rows": [{ok_row}, [1]]}}"#), "row 2 has 1 values"),
        // Unknown column.
        (r#"{"rows": [{"x0": 1, "nope": 2}]}"#.to_string(), "unknown column \"nope\""),
        // NaN and infinities: JSON has neither, so they come as strings or overflow f32.
        (
            format!(r#"{{"rows": [[{nums}, "a"], ["NaN", 2, 3, 4, 5, 6, "a"]]}}"#),
            "NaN and infinities",
        ),
        (r#"{"rows": [["-Infinity", 2, 3, 4, 5, 6, "a"]]}"#.to_string(), "NaN and infinities"),
        (r#"{"rows": [[1e300, 2, 3, 4, 5, 6, "a"]]}"#.to_string(), "out of range"),
        // Non-numeric value in a numeric column.
        (r#"{"rows": [["abc", 2, 3, 4, 5, 6, "a"]]}"#.to_string(), "expects a number"),
        (r#"{"rows": [[true, 2, 3, 4, 5, 6, "a"]]}"#.to_string(), "expects a number"),
        // Missing value with the model's default policy (error).
        (r#"{"rows": [[null, 2, 3, 4, 5, 6, "a"]]}"#.to_string(), "x0"),
        (r#"{"rows": [{"x1": 1}]}"#.to_string(), "x0"),
        // Valid JSON of the wrong shape.
        (r#"{"rows": 5}"#.to_string(), "does not fit"),
        (r#"{"data": []}"#.to_string(), "does not fit"),
        (r#"{"rows": [[[1]]]}"#.to_string(), "does not fit"),
        (r#"{"rows": [], "explain": -1}"#.to_string(), "does not fit"),
        (format!(r#"{{"rows": [{ok_row}], "explain": 0}}"#), "explain"),
        (r#"{"rows": [{"x0": 1, "x0": 2}]}"#.to_string(), "twice"),
        // Unknown fields are refused, naming the ones accepted.
        (format!(r#"{{"rows": [{ok_row}], "probability": true}}"#), "unknown field"),
        (format!(r#"{{"rows": [{ok_row}], "proba": 1}}"#), "does not fit"),
    ];
    for (body, message) in &cases {
        for path in ["/v1/score", "/v1/encode", "/v1/reconstruct"] {
            if (body.contains("explain") || body.contains("proba")) && path != "/v1/score" {
                continue;
            }
            let r = s.post(path, body);
            assert_eq!(r.status, 422, "{path} {body}: {}", r.text());
            assert!(r.error().contains(message), "{path} {body}: {}", r.error());
        }
    }
    // A missing value is the client's to fix, in API terms (no command-line flags).
    let r = s.post("/v1/score", r#"{"rows": [[null, 2, 3, 4, 5, 6, "a"]]}"#);
    assert!(r.error().contains("missing value") && !r.error().contains("--"), "{}", r.error());
    // Nothing was counted as a server error.
    assert!(!s.get("/metrics").text().contains("status=\"5"));
}

#[test]
fn score_gives_probabilities_on_request() {
    let s = server();
    let body = rows_body(4).replacen('{', "{\"proba\": true, ", 1);
    let r = s.post("/v1/score", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let flags = j["is_anomaly"].as_array().unwrap();
    let proba = j["proba"].as_array().unwrap();
    assert_eq!(proba.len(), 4);
    for (p, flag) in proba.iter().zip(flags) {
        let p = p.as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(p > 0.5, flag.as_bool().unwrap(), "proba {p} against the flag");
    }
    // The same body without it has no `proba`.
    assert!(s.post("/v1/score", &rows_body(4)).json().get("proba").is_none());
}

#[test]
fn oversized_body_is_413() {
    let s = Server::start(Config { max_body_bytes: 4096, ..Config::default() });
    // Declared too large: refused before the body is read.
    let mut c = Client::connect(s.addr);
    c.stream()
        .write_all(
            b"POST /v1/score HTTP/1.1\r\nhost: t\r\ncontent-length: 100000000\r\n\r\n{\"rows\": [",
        )
        .unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 413);
    assert!(r.error().contains("4096"), "{}", r.error());

    // Chunked, no length declared: refused once the limit is passed.
    let mut c = Client::connect(s.addr);
    let mut msg =
        b"POST /v1/score HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b' '; 3000];
    for _ in 0..2 {
        msg.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        msg.extend_from_slice(&chunk);
        msg.extend_from_slice(b"\r\n");
    }
    c.stream().write_all(&msg).unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 413);

    // A body within the limit is fine.
    assert_eq!(s.post("/v1/score", &rows_body(2)).status, 200);
}

#[test]
fn token_is_required_on_v1() {
    let s = Server::start(Config { token: Some("s3cret-token".into()), ..Config::default() });
    let body = rows_body(1);
    let r = s.post("/v1/score", &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(r.error().contains("Authorization"));
    for auth in ["Bearer wrong", "Bearer s3cret-toke", "Basic s3cret-token", "s3cret-token"] {
        let r = s.request("POST", "/v1/score", &[("authorization", auth)], &body);
        assert_eq!(r.status, 401, "{auth}");
    }
    assert_eq!(s.get("/v1/model").status, 401);
    let ok = [("authorization", "Bearer s3cret-token")];
    assert_eq!(s.request("POST", "/v1/score", &ok, &body).status, 200);
    assert_eq!(s.request("GET", "/v1/model", &ok, "").status, 200);
    // Probes and metrics stay open.
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.get("/metrics").status, 200);
}

#[test]
fn unknown_routes_and_methods_answer_json() {
    let s = server();
    let r = s.get("/nope");
    assert_eq!(r.status, 404);
    assert!(r.error().contains("/nope"));
    let r = s.get("/v1/score");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn slow_body_times_out_with_408() {
    let s = Server::start(Config { timeout: Duration::from_millis(300), ..Config::default() });
    let mut c = Client::connect(s.addr);
    let start = Instant::now();
    c.stream()
        .write_all(b"POST /v1/score HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n{\"rows\"")
        .unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(r.error().contains("300 ms"));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn slow_headers_are_cut_off() {
    let s = Server::start(Config { timeout: Duration::from_millis(300), ..Config::default() });
    let mut c = Client::connect(s.addr);
    let start = Instant::now();
    c.stream().write_all(b"POST /v1/score HTTP/1.1\r\nhost: t\r\n").unwrap();
    // The server closes the connection (hyper may first answer 408).
    match c.read_response() {
        None => {}
        Some(r) => assert_eq!(r.status, 408),
    }
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(5), "{waited:?}");
    // An idle connection is closed too.
    let mut idle = Client::connect(s.addr);
    assert!(idle.read_response().is_none_or(|r| r.status == 408));
    // The server still serves others.
    assert_eq!(s.get("/healthz").status, 200);
}

#[test]
fn metrics_count_requests_and_rows() {
    let s = server();
    assert_eq!(s.post("/v1/score", &rows_body(3)).status, 200);
    assert_eq!(s.post("/v1/score", &rows_body(2)).status, 200);
    assert_eq!(s.post("/v1/score", "nope").status, 400);
    assert_eq!(s.post("/v1/encode", &rows_body(1)).status, 200);
    let r = s.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.text();
    for line in [
        "latent_http_requests_total{route=\"/v1/score\",status=\"200\"} 2",
        "latent_http_requests_total{route=\"/v1/score\",status=\"400\"} 1",
        "latent_http_requests_total{route=\"/v1/encode\",status=\"200\"} 1",
        "latent_http_request_duration_seconds_count{route=\"/v1/score\"} 3",
        "latent_http_request_duration_seconds_bucket{route=\"/v1/score\",le=\"+Inf\"} 3",
        "latent_rows_scored_total 5",
        "latent_rows_encoded_total 1",
        "# TYPE latent_http_request_duration_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert_eq!(s.state.metrics().rows_scored(), 5);
    assert_eq!(s.state.metrics().requests("/v1/score", 400), 1);
}

#[test]
fn shutdown_finishes_requests_in_flight() {
    let s = server();
    let body = rows_body(2);
    let mut c = Client::connect(s.addr);
    let head =
        format!("POST /v1/score HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\n\r\n", body.len());
    c.stream().write_all(head.as_bytes()).unwrap();
    c.stream().write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let addr = s.addr;
    let stopper = std::thread::spawn(move || s.shutdown());
    std::thread::sleep(Duration::from_millis(200));
    // No new connections once shutdown has begun.
    assert!(std::net::TcpStream::connect(addr).map_or(true, |mut t| {
        let _ = t.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n");
        let mut buf = [0u8; 16];
        matches!(std::io::Read::read(&mut t, &mut buf), Ok(0) | Err(_))
    }));
    // The request in flight completes.
    c.stream().write_all(&body.as_bytes()[10..]).unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["scores"].as_array().unwrap().len(), 2);
    stopper.join().unwrap().unwrap();
}

/// A model with the forest detector is served with its own score: forest scores in (0, 1],
/// the same as the library's, flags against its threshold, and `/v1/model` says which detector.
#[test]
fn serves_the_forest_detector() {
    let frame = common::training_frame(600);
    let mut cfg = latent::FitConfig::default();
    cfg.train.epochs = 5;
    cfg.train.min_steps = 0;
    cfg.detector = latent::Detector::forest();
    let mut model = latent::Model::fit(&frame, &cfg, &mut latent::train::Silent).unwrap();
    let rule = latent::score::ThresholdRule::Contamination { share: 0.05 };
    model.calibrate(&frame, &rule, latent::score::ScoreKind::Forest).unwrap();
    let expected = model.scores(&frame, latent::score::ScoreKind::Forest).unwrap();
    let s = Server::start_with(std::sync::Arc::new(model), Config::default());
    let r = s.post("/v1/score", &rows_body(4));
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let scores = j["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 4);
    for (got, want) in scores.iter().zip(&expected) {
        let got = got.as_f64().unwrap();
        assert!(got > 0.0 && got <= 1.0);
        assert!((got - f64::from(*want)).abs() < 1e-6, "{got} vs {want}");
    }
    let m = s.get("/v1/model").json();
    assert_eq!(m["detector"], "forest");
    assert_eq!(m["threshold"]["score"], "forest", "{m}");
}
