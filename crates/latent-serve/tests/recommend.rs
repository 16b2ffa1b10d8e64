//! `POST /v1/recommend` over a real socket: one history, a batch, unknown items, the other
//! kind of model, bad requests and the token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Server;
use latent::recommend::{fit, InteractionColumns, Interactions, RecConfig, RecKind};
use latent_serve::{AppState, Config};
use std::collections::HashMap;

/// An EASE model over 60 users in 3 groups of 5 items each (`g{group}i{k}`).
fn recommender() -> latent::recommend::file::RecModel {
    let mut data = Interactions::default();
    let (mut u, mut i) = (HashMap::new(), HashMap::new());
    for user in 0..60 {
        let g = user % 3;
        for k in 0..5 {
            if (user + k) % 5 != 0 {
                data.push(&format!("u{user}"), &format!("g{g}i{k}"), &mut u, &mut i);
            }
        }
    }
    let columns =
        InteractionColumns { user: "u".into(), item: "i".into(), rating: None, min_rating: None };
    let config = RecConfig { kind: RecKind::Ease, lambdas: vec![1.0], ..RecConfig::default() };
    fit(&data, columns, &config, &mut latent::train::Silent).unwrap()
}

fn server(config: Config) -> Server {
    Server::start_state(AppState::recommender(recommender(), config))
}

#[test]
fn one_history_and_a_batch() {
    let s = server(Config::default());
    let r = s.post("/v1/recommend", r#"{"items": ["g1i0", "g1i1", "nope"], "k": 3}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    // Same group first, never the history itself.
    assert!(items[0].as_str().unwrap().starts_with("g1"), "{j}");
    assert!(items.iter().all(|i| i != "g1i0" && i != "g1i1"));
    assert_eq!(j["scores"].as_array().unwrap().len(), 3);
    assert_eq!(j["unknown_items"], serde_json::json!(["nope"]));

    let r = s.post("/v1/recommend", r#"{"users": [{"items": ["g0i1"]}, {"items": []}], "k": 2}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let users = r.json()["users"].as_array().unwrap().clone();
    assert_eq!(users.len(), 2);
    assert!(users[0]["items"][0].as_str().unwrap().starts_with("g0"));
    assert_eq!(users[1]["items"].as_array().unwrap().len(), 2);

    let r = s.get("/v1/model");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["recommender"], "ease");
    assert_eq!(r.json()["items"], 15);
    assert!(s.get("/metrics").text().contains("latent_users_recommended_total 3"));
}

#[test]
fn bad_requests_and_the_wrong_endpoint() {
    let s = server(Config { token: Some("t0k".into()), ..Config::default() });
    let auth = [("authorization", "Bearer t0k"), ("content-type", "application/json")];
    assert_eq!(s.post("/v1/recommend", r#"{"items": []}"#).status, 401);
    let post = |body: &str| s.request("POST", "/v1/recommend", &auth, body);
    assert_eq!(post(r#"{"items": ["g0i1"]}"#).status, 200);
    assert_eq!(post("{not json").status, 400);
    assert_eq!(post(r#"{"items": ["a"], "k": 0}"#).status, 422);
    assert_eq!(post(r#"{"items": ["a"], "users": []}"#).status, 422);
    assert_eq!(post(r#"{"rows": [[1]]}"#).status, 400);
    let r = s.request("POST", "/v1/score", &auth, r#"{"rows": [[1]]}"#);
    assert_eq!(r.status, 422);
    assert!(r.text().contains("recommend"), "{}", r.text());
    // An autoencoder service refuses /v1/recommend.
    let ae = Server::start(Config::default());
    assert_eq!(ae.post("/v1/recommend", r#"{"items": ["a"]}"#).status, 422);
}
