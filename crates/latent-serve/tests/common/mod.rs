//! Shared test helpers: a small trained model, a server on 127.0.0.1 (port 0) on a runtime of
//! its own, and a minimal blocking HTTP/1.1 client over a real socket.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::score::{ScoreKind, ThresholdRule};
use latent::{Column, FitConfig, Frame, Model};
use latent_serve::{AppState, Config};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Numeric input columns of the test model.
pub const NUMERIC: usize = 6;

/// Training data: `NUMERIC` numeric columns `x0..` (two latent factors plus noise) and one
/// categorical column `kind` with categories a, b, c.
pub fn training_frame(rows: usize) -> Frame {
    let mut cols: Vec<Vec<f32>> = (0..NUMERIC).map(|_| Vec::with_capacity(rows)).collect();
    let mut kinds = Vec::with_capacity(rows);
    let mut state = 0x2545_f491_u32;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state as f32 / u32::MAX as f32 - 0.5) * 0.1
    };
    for r in 0..rows {
        let a = (r as f32 * 0.37).sin();
        let b = (r as f32 * 0.11).cos();
        for (j, c) in cols.iter_mut().enumerate() {
            let v = if j % 2 == 0 { a * (j as f32 + 1.0) } else { b - 0.5 * a } + noise();
            c.push(v);
        }
        kinds.push(["a", "b", "c"][r % 3].to_string());
    }
    let mut columns: Vec<Column> =
        cols.into_iter().enumerate().map(|(j, v)| Column::numeric(format!("x{j}"), v)).collect();
    columns.push(Column::text("kind", kinds));
    Frame::new(columns).unwrap()
}

/// A small model trained on [`training_frame`], with a threshold calibrated at the 0.95
/// quantile of its training scores.
pub fn model() -> Arc<Model> {
    static MODEL: std::sync::OnceLock<Arc<Model>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            let frame = training_frame(600);
            let mut cfg = FitConfig::default();
            cfg.train.epochs = 15;
            cfg.train.seed = 7;
            let mut model = Model::fit(&frame, &cfg, &mut latent::train::Silent).unwrap();
            model.calibrate(&frame, &ThresholdRule::Quantile { q: 0.95 }, ScoreKind::Mse).unwrap();
            Arc::new(model)
        })
        .clone()
}

/// A running server; shut down (gracefully) when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Starts the service over the test model with `config`.
    pub fn start(config: Config) -> Server {
        Server::start_with(model(), config)
    }

    /// Starts the service over `model` with `config`.
    pub fn start_with(model: Arc<Model>, config: Config) -> Server {
        Server::start_state(AppState::from_arc(model, config))
    }

    /// Starts the service over `state`.
    pub fn start_state(state: AppState) -> Server {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                addr_tx.send(listener.local_addr()?).ok();
                latent_serve::serve(listener, st, async {
                    let _ = rx.await;
                })
                .await
            })
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).expect("server did not start");
        Server { addr, state, stop: Some(tx), thread: Some(thread) }
    }

    /// Starts the graceful shutdown and waits for `serve` to return.
    pub fn shutdown(mut self) -> std::io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().expect("server thread panicked"),
            None => Ok(()),
        }
    }

    /// One request on a fresh connection.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response {
        Client::connect(self.addr).send(method, path, headers, body.as_bytes())
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &str) -> Response {
        self.request("POST", path, &[("content-type", "application/json")], body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], "")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `error` message of a JSON error body.
    pub fn error(&self) -> String {
        let j = self.json();
        j["error"].as_str().unwrap_or_else(|| panic!("no error message: {j}")).to_string()
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client { reader: BufReader::new(stream) }
    }

    /// The socket, to write partial requests.
    pub fn stream(&mut self) -> &mut TcpStream {
        self.reader.get_mut()
    }

    /// Sends one request with a `Content-Length` body and reads the response.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: test\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if method != "GET" || !body.is_empty() {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut msg = head.into_bytes();
        msg.extend_from_slice(body);
        self.stream().write_all(&msg).unwrap();
        self.read_response().unwrap()
    }

    /// Reads one response (`Content-Length` or chunked body); `None` when the connection was
    /// closed before a status line.
    pub fn read_response(&mut self) -> Option<Response> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).ok()?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':')?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let get = |name: &str| {
            headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(n) = get("content-length") {
            body.resize(n.parse().ok()?, 0);
            self.reader.read_exact(&mut body).ok()?;
        } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).ok()?;
                let n = usize::from_str_radix(size.trim(), 16).ok()?;
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        Some(Response { status, headers, body })
    }
}

/// One row of the test model's inputs as a JSON array, `x0..x5` then `kind`.
pub fn row_array(i: usize) -> String {
    let frame = training_frame(i + 1);
    let mut cells: Vec<String> = (0..NUMERIC)
        .map(|j| match &frame.columns()[j].values {
            latent::ColumnValues::Numeric(v) => v[i].to_string(),
            latent::ColumnValues::Text(_) => unreachable!(),
        })
        .collect();
    cells.push(format!("\"{}\"", ["a", "b", "c"][i % 3]));
    format!("[{}]", cells.join(","))
}

/// `{"rows": [...]}` of `n` rows.
pub fn rows_body(n: usize) -> String {
    let rows: Vec<String> = (0..n).map(row_array).collect();
    format!("{{\"rows\": [{}]}}", rows.join(","))
}
