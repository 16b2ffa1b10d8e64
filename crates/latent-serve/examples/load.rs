//! Bounded load test of a running `latent serve` over loopback: `POST /v1/score` with a fixed
//! number of rows per request, from several keep-alive connections, either at a fixed total
//! rate (open loop, `--rate N`) or as fast as answers come back (`--rate 0`).
//!
//! ```text
//! target/release/latent serve --model /tmp/demo/model.safetensors --addr 127.0.0.1:8080 &
//! target/release/examples/load --addr 127.0.0.1:8080 --rows 1 --rate 5000 --seconds 10
//! ```
//!
//! Latency is reported two ways: from the moment a request was written (`service`), and from the
//! moment it was due by the schedule (`corrected`, as wrk2 does: a stalled server cannot hide
//! its stall by slowing the client down). Any answer other than 200 with the right number of
//! scores counts as an error. Runs at most 120 s and stops by itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

struct Options {
    addr: SocketAddr,
    rows: usize,
    rate: f64,
    seconds: f64,
    warmup: f64,
    connections: usize,
    token: Option<String>,
}

fn usage() -> String {
    "usage: load --addr IP:PORT [--rows N] [--rate REQ_PER_S|0] [--seconds S] [--warmup S] \
     [--connections N] [--token T]"
        .to_string()
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        addr: "127.0.0.1:8080".parse().map_err(|e| format!("{e}"))?,
        rows: 1,
        rate: 5000.0,
        seconds: 10.0,
        warmup: 1.0,
        connections: 8,
        token: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--addr" => o.addr = value.parse().map_err(|e| bad(&e))?,
            "--rows" => o.rows = value.parse().map_err(|e| bad(&e))?,
            "--rate" => o.rate = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => o.seconds = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => o.warmup = value.parse().map_err(|e| bad(&e))?,
            "--connections" => o.connections = value.parse().map_err(|e| bad(&e))?,
            "--token" => o.token = Some(value.clone()),
            _ => return Err(usage()),
        }
    }
    if !(0.0..=120.0).contains(&o.seconds) || !(0.0..=30.0).contains(&o.warmup) {
        return Err("--seconds is at most 120 and --warmup at most 30".into());
    }
    if o.connections == 0 || o.connections > 256 || o.rows == 0 || o.rate < 0.0 {
        return Err("need 1..=256 connections, at least 1 row and a rate >= 0".into());
    }
    Ok(o)
}

/// One keep-alive connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn { reader: BufReader::new(s) })
    }

    /// Writes `request` and reads one answer: status and body.
    fn call(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.reader.get_mut().write_all(request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

fn request(method: &str, path: &str, token: Option<&str>, body: &str) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    format!(
        "{method} {path} HTTP/1.1\r\nhost: load\r\ncontent-type: application/json\r\n{auth}\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A score request of `rows` rows for the model behind `addr` (values in [0, 1), categorical
/// columns take their first category).
fn score_body(o: &Options) -> Result<String, String> {
    let mut c = Conn::open(o.addr).map_err(|e| format!("cannot connect to {}: {e}", o.addr))?;
    let (status, body) = c
        .call(&request("GET", "/v1/model", o.token.as_deref(), ""))
        .map_err(|e| format!("GET /v1/model: {e}"))?;
    if status != 200 {
        return Err(format!("GET /v1/model: {status} {}", String::from_utf8_lossy(&body)));
    }
    let info: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let columns = info["input_columns"].as_array().cloned().unwrap_or_default();
    let mut state = 0x9e37_79b9_u32;
    let mut rows = Vec::with_capacity(o.rows);
    for _ in 0..o.rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match c["categories"].get(0) {
                Some(cat) => cat.to_string(),
                None => {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    format!("{:.4}", state as f64 / f64::from(u32::MAX))
                }
            })
            .collect();
        rows.push(format!("[{}]", cells.join(",")));
    }
    Ok(format!("{{\"rows\": [{}]}}", rows.join(",")))
}

/// Latencies in microseconds and errors of one connection.
#[derive(Default)]
struct Tally {
    service: Vec<u32>,
    corrected: Vec<u32>,
    errors: usize,
    first_error: Option<String>,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let body = match score_body(&o) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let req = request("POST", "/v1/score", o.token.as_deref(), &body);
    let per_conn_interval =
        (o.rate > 0.0).then(|| Duration::from_secs_f64(o.connections as f64 / o.rate));
    let start = Instant::now() + Duration::from_millis(50);
    let measure_from = start + Duration::from_secs_f64(o.warmup);
    let end = measure_from + Duration::from_secs_f64(o.seconds);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..o.connections)
            .map(|c| {
                let req = &req;
                let o = &o;
                scope.spawn(move || {
                    let mut t = Tally::default();
                    let mut conn = match Conn::open(o.addr) {
                        Ok(c) => c,
                        Err(e) => {
                            t.errors += 1;
                            t.first_error = Some(e.to_string());
                            return t;
                        }
                    };
                    // Stagger the connections' schedules across one interval.
                    let offset = per_conn_interval
                        .map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / o.connections as f64));
                    let mut due = start + offset;
                    loop {
                        let now = Instant::now();
                        if now >= end {
                            break;
                        }
                        if per_conn_interval.is_some() && due > now {
                            std::thread::sleep(due - now);
                        }
                        let sent = Instant::now();
                        let scheduled = if per_conn_interval.is_some() { due } else { sent };
                        let result = conn.call(req);
                        let done = Instant::now();
                        let ok = match &result {
                            Ok((200, b)) => {
                                serde_json::from_slice::<serde_json::Value>(b)
                                    .ok()
                                    .and_then(|j| j["scores"].as_array().map(Vec::len))
                                    == Some(o.rows)
                            }
                            _ => false,
                        };
                        if sent >= measure_from {
                            t.service.push((done - sent).as_micros().min(u32::MAX as u128) as u32);
                            t.corrected
                                .push((done - scheduled).as_micros().min(u32::MAX as u128) as u32);
                            if !ok {
                                t.errors += 1;
                                if t.first_error.is_none() {
                                    t.first_error = Some(match &result {
                                        Ok((s, b)) => {
                                            format!("{s} {}", String::from_utf8_lossy(b))
                                        }
                                        Err(e) => e.to_string(),
                                    });
                                }
                            }
                        }
                        if result.is_err() {
                            match Conn::open(o.addr) {
                                Ok(c) => conn = c,
                                Err(_) => std::thread::sleep(Duration::from_millis(10)),
                            }
                        }
                        if let Some(i) = per_conn_interval {
                            due += i;
                        }
                    }
                    t
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut service: Vec<u32> = tallies.iter().flat_map(|t| t.service.iter().copied()).collect();
    let mut corrected: Vec<u32> =
        tallies.iter().flat_map(|t| t.corrected.iter().copied()).collect();
    service.sort_unstable();
    corrected.sort_unstable();
    let errors: usize = tallies.iter().map(|t| t.errors).sum();
    let n = service.len();
    let rate = n as f64 / o.seconds.max(1e-9);
    println!(
        "rows/request {}  connections {}  target {}  measured {:.1} s",
        o.rows,
        o.connections,
        if o.rate > 0.0 { format!("{} req/s", o.rate) } else { "max (closed loop)".into() },
        o.seconds
    );
    println!(
        "requests {n}  errors {errors}  throughput {rate:.0} req/s  {:.0} rows/s",
        rate * o.rows as f64
    );
    for (name, v) in [("service", &service), ("corrected", &corrected)] {
        println!(
            "latency ms ({name:9}) p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            percentile(v, 0.5),
            percentile(v, 0.9),
            percentile(v, 0.99),
            percentile(v, 0.999),
            percentile(v, 1.0)
        );
    }
    if let Some(e) = tallies.iter().find_map(|t| t.first_error.clone()) {
        println!("first error: {e}");
    }
    if errors > 0 {
        std::process::exit(1);
    }
}
