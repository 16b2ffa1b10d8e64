//! `latent serve` as a process: it announces its address, answers over loopback with the
//! token, and stops cleanly (exit 0) on SIGTERM. Bad settings exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::latent_command;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small model saved in `dir`.
fn model(dir: &Path) -> String {
    let values: Vec<f32> = (0..400).map(|i| ((i * 7) % 13) as f32 / 13.0).collect();
    let frame = latent::Frame::from_rows(latent::Frame::default_names("f", 4), &values).unwrap();
    let mut cfg = latent::FitConfig::default();
    cfg.train.epochs = 2;
    let m = latent::Model::fit(&frame, &cfg, &mut latent::train::Silent).unwrap();
    let path = dir.join("m.safetensors");
    m.save(&path).unwrap();
    path.display().to_string()
}

/// Sends one request on a fresh connection; returns the status and the body.
fn request(addr: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let msg = format!(
        "{head}\r\nhost: t\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(msg.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let token = dir.path().join("token");
    std::fs::write(&token, "tok-123\n").unwrap();
    let mut child = latent_command()
        .args(["serve", "--model", &model, "--addr", "127.0.0.1:0", "--token-file"])
        .arg(&token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("latent serve:") && line.contains("http://"), "{line}");
    // The address alone on stdout, for scripts.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let addr: SocketAddr = url
        .trim()
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("no address on stdout: {url:?}"))
        .parse()
        .unwrap();

    let body = r#"{"rows": [[0.1, 0.2, 0.3, 0.4], {"f0": 1, "f1": 0, "f2": 0.5, "f3": 0.25}]}"#;
    let (status, _) = request(addr, "POST /v1/score HTTP/1.1", body);
    assert_eq!(status, 401);
    let auth = "POST /v1/score HTTP/1.1\r\nauthorization: Bearer tok-123";
    let (status, out) = request(addr, auth, body);
    assert_eq!(status, 200, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["scores"].as_array().unwrap().len(), 2);
    assert_eq!(request(addr, "GET /healthz HTTP/1.1", "").0, 200);

    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "latent serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");
}

#[test]
fn serve_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let empty = dir.path().join("empty");
    std::fs::write(&empty, " \n").unwrap();
    let run = |args: &[&str]| latent_command().arg("serve").args(args).output().unwrap();
    let o = run(&["--model", &model, "--token-file", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("token file is empty"));
    let o = run(&["--model", &model, "--token-file", "/nonexistent/token"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["--model", "/nonexistent/model.safetensors", "--addr", "127.0.0.1:0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["--model", &model, "--addr", "not-an-address"]);
    assert_eq!(o.status.code(), Some(2));
}
