//! A bounded load test over loopback: concurrent keep-alive clients, zero errors, memory flat.
//! (Throughput and latency figures come from `examples/load.rs`; see docs/serve-results.md.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{rows_body, Client, Server};
use latent_serve::Config;
use std::time::Duration;

/// Resident memory of this process, in KiB (Linux), else 0.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `clients` threads, each sending `per_client` requests on one connection (alternating
/// single-row and 64-row scores); returns the number of non-200 answers.
fn hammer(s: &Server, clients: usize, per_client: usize) -> usize {
    let one = rows_body(1);
    let many = rows_body(64);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (one, many) = (&one, &many);
                let addr = s.addr;
                scope.spawn(move || {
                    let mut client = Client::connect(addr);
                    let mut errors = 0;
                    for i in 0..per_client {
                        let body = if (i + c) % 4 == 0 { many } else { one };
                        let r = client.send("POST", "/v1/score", &[], body.as_bytes());
                        let want = if (i + c) % 4 == 0 { 64 } else { 1 };
                        if r.status != 200
                            || r.json()["scores"].as_array().map(Vec::len) != Some(want)
                        {
                            errors += 1;
                        }
                    }
                    errors
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

#[test]
fn concurrent_clients_zero_errors_memory_flat() {
    let s = Server::start(Config { timeout: Duration::from_secs(30), ..Config::default() });
    // Warm up: thread pools, allocator arenas, connection buffers.
    assert_eq!(hammer(&s, 8, 100), 0);
    let before = rss_kib();
    assert_eq!(hammer(&s, 8, 400), 0);
    let after = rss_kib();
    let grown = after.saturating_sub(before);
    assert!(grown < 32 * 1024, "memory grew by {grown} KiB ({before} -> {after})");
    let m = s.state.metrics();
    assert_eq!(m.requests("/v1/score", 200), 8 * 500);
    assert_eq!(m.rows_scored(), 8 * 500 / 4 * 64 + 8 * 500 * 3 / 4);
}
