//! Prometheus metrics: requests by route and status, bytes served, open connections. Every
//! label takes a bounded set of values (route patterns, known methods, status codes), so no
//! client can add series at will.

use actix_web::http::Method;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub bytes_served: IntCounter,
    pub open_connections: IntGauge,
}

/// Counts a connection as open for as long as it lives (it lives in the connection's extensions).
pub struct ConnectionGuard(IntGauge);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "yj_http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let bytes_served = IntCounter::new(
            "yj_media_bytes_served_total",
            "Body bytes of /media responses handed to connections",
        )?;
        let open_connections =
            IntGauge::new("yj_http_open_connections", "Client connections open now")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(bytes_served.clone()))?;
        registry.register(Box::new(open_connections.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            bytes_served,
            open_connections,
        })
    }

    pub fn connection_opened(&self) -> ConnectionGuard {
        self.open_connections.inc();
        ConnectionGuard(self.open_connections.clone())
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec only fails on invalid metric names, which are fixed above.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The method as a label: the standard ones by name, anything else (`FOO`, ...) as `other`.
pub fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}
