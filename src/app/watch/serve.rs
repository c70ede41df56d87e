//! `watch --listen`: a small HTTP server for people, Prometheus and the
//! orchestrator. `GET /` (the status page: the last complete check's report as
//! `drift --format html` writes it, and the last checks; before the first check
//! is complete, 200 with a page that says it is running), `GET /metrics` (the
//! metrics as OpenMetrics text), `GET /healthz` (200 while the process runs) and
//! `GET /readyz` (200 once the first check is complete, else 503). Anything else
//! is 404 (405 for another method). Every connection has a deadline, so a client
//! that never finishes its request cannot hold it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::metrics::{self, Metrics};
use crate::plan::drift::DriftReport;
use crate::plan::drift::html::{self, CYCLES_SHOWN, Cycle};

/// Longest a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one connection may stay open.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// What the endpoints read.
pub struct Shared {
    pub metrics: Metrics,
    /// Set once the first check is complete.
    pub ready: AtomicBool,
    /// What the status page shows.
    pub status: Mutex<Status>,
    /// How often the status page asks the browser to reload it, in seconds.
    pub refresh_seconds: u64,
}

/// The last complete check's report and the last checks, for `GET /`.
#[derive(Default)]
pub struct Status {
    /// The last complete check's report, and when that check started (RFC 3339).
    pub last: Option<(Arc<DriftReport>, String)>,
    /// The last checks, newest first, at most [`CYCLES_SHOWN`].
    pub cycles: VecDeque<Cycle>,
}

impl Shared {
    pub fn new(refresh_seconds: u64) -> Shared {
        Shared {
            metrics: Metrics::new(),
            ready: AtomicBool::new(false),
            status: Mutex::new(Status::default()),
            refresh_seconds,
        }
    }

    /// Records one check, with its report when it completed.
    pub fn record_cycle(&self, cycle: Cycle, report: Option<DriftReport>) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(report) = report {
            status.last = Some((Arc::new(report), cycle.started.clone()));
        }
        status.cycles.push_front(cycle);
        status.cycles.truncate(CYCLES_SHOWN);
    }

    /// The status page, rendered outside the lock.
    fn page(&self) -> String {
        let (last, cycles) = {
            let status = self.status.lock().unwrap_or_else(|e| e.into_inner());
            let cycles: Vec<Cycle> = status.cycles.iter().cloned().collect();
            (status.last.clone(), cycles)
        };
        let checked_at = last.as_ref().map_or("", |(_, at)| at.as_str());
        html::html(
            last.as_ref().map(|(report, _)| report.as_ref()),
            &html::Page {
                checked_at,
                verbose: false,
                cycles: Some(&cycles),
                refresh_seconds: Some(self.refresh_seconds),
            },
        )
    }
}

/// Serves `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "accepting a metrics connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(answer(&req, &shared)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(CONNECTION_TIMEOUT, conn).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "metrics connection failed"),
                Err(_) => tracing::debug!(%peer, "metrics connection closed after its deadline"),
            }
        });
    }
}

fn answer(req: &Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if !matches!(path, "/" | "/metrics" | "/healthz" | "/readyz") {
        return text(
            StatusCode::NOT_FOUND,
            "not found: try /, /metrics, /healthz or /readyz\n",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    match path {
        "/" => {
            let mut res = Response::new(Full::new(Bytes::from(shared.page())));
            let headers = res.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            // The page has no script and loads nothing: say so to the browser.
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                header::HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            res
        }
        "/metrics" => {
            let mut res = Response::new(Full::new(Bytes::from(shared.metrics.encode())));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            res
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        _ if shared.ready.load(Ordering::Acquire) => text(StatusCode::OK, "ready\n"),
        _ => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the first drift check is not complete\n",
        ),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}
