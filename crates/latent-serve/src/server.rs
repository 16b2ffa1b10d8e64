//! The accept loop: HTTP/1.1 connections with TCP_NODELAY and a header-read timeout, served
//! until a shutdown future resolves, then drained gracefully.

use crate::{app, AppState};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// Longest wait for open connections to finish their requests after shutdown starts.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves [`app`] over `listener` until `shutdown` resolves; then stops accepting, lets every
/// open connection finish the request it is on (at most 10 s) and returns.
///
/// Connections that do not send complete request headers within the configured timeout are
/// closed (slow clients, idle keep-alive connections); bodies are bounded by the handlers.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let timeout = state.config().timeout;
    let router = app(state);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A connection error (client went away, header timeout) concerns that client only.
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    Ok(())
}

/// A future that resolves on SIGTERM or ctrl-c (SIGINT). The handlers are installed when this
/// is called (so a signal that arrives before the future is first polled is not lost); call it
/// inside a tokio runtime. Where they cannot be installed, the future never resolves.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {},
                () = wait(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Binds `addr`, calls `ready` with the bound address (useful with port 0), and serves until
/// SIGTERM or ctrl-c, on a runtime of its own. Blocks until the service has shut down.
pub fn run(
    addr: SocketAddr,
    state: AppState,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        // Install the signal handlers before announcing readiness, so that a SIGTERM sent
        // right after `ready` is not lost.
        let signal = shutdown_signal();
        let listener = TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        serve(listener, state, signal).await
    })
}
