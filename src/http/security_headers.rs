//! Headers on every answer, errors and 404s included: `X-Content-Type-Options: nosniff`, so no
//! browser guesses a type the server did not state, and on the TLS listener only,
//! `Strict-Transport-Security` (`tls.hsts_max_age`), so a browser that has reached the server
//! once over HTTPS does not go back to plain HTTP, where the tokens could be read on the way.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// Put in a connection's data when it came through the TLS listener and HSTS is on.
#[derive(Clone)]
pub(super) struct Hsts(HeaderValue);

impl Hsts {
    /// The header for `max_age` seconds; None when 0 turns it off.
    pub(super) fn new(max_age: u64) -> Option<Hsts> {
        if max_age == 0 {
            return None;
        }
        HeaderValue::try_from(format!("max-age={max_age}"))
            .ok()
            .map(Hsts)
    }
}

pub(super) async fn add_security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let hsts = req.conn_data::<Hsts>().cloned();
    // Handlers' and extractors' errors arrive here as answers (actix turns them into
    // responses at the route), so they get the headers too.
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    if !headers.contains_key(header::X_CONTENT_TYPE_OPTIONS) {
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    if let Some(Hsts(value)) = hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
    Ok(response)
}
