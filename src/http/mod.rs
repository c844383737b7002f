//! actix-web: the app factory, the listener settings that protect against slow links, and the
//! middleware every request passes (metrics, the free-space floor for writes).

mod assets;
mod auth;
mod catalog;
mod catalog_edit;
mod dashboard_api;
mod editor_api;
mod error;
mod file_body;
mod health;
mod hours;
mod json;
mod me;
mod media;
mod media_cache;
mod metrics;
mod offline;
mod pages;
mod paging;
mod people;
mod play;
mod security_headers;
mod sync;
mod tokens;
mod uploads;
mod watch;

pub use error::ApiError;
pub use metrics::Metrics;

use crate::services::Services;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{KeepAlive, StatusCode};
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Starts serving plain HTTP on `listener`; the returned server runs once awaited or spawned.
pub fn start(
    services: Arc<Services>,
    metrics: Metrics,
    listener: TcpListener,
) -> std::io::Result<Server> {
    start_with_tls(services, metrics, Some(listener), None)
}

/// Starts serving on a plain listener, a TLS listener, or both.
pub fn start_with_tls(
    services: Arc<Services>,
    metrics: Metrics,
    plain: Option<TcpListener>,
    tls: Option<(TcpListener, rustls::ServerConfig)>,
) -> std::io::Result<Server> {
    let settings = services.settings.server.clone();
    let services = web::Data::from(services);
    let metrics_data = web::Data::new(metrics.clone());
    let send_timeout = Duration::from_secs(settings.send_timeout_secs);
    let hsts = security_headers::Hsts::new(services.settings.tls.hsts_max_age);
    let max_body = settings.max_body_bytes;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .app_data(metrics_data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(|e, _| {
                        error::framework_error(StatusCode::BAD_REQUEST, "bad-json", e)
                    }),
            )
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                error::framework_error(StatusCode::BAD_REQUEST, "bad-path", e)
            }))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                error::framework_error(StatusCode::BAD_REQUEST, "bad-query", e)
            }))
            .wrap(from_fn(guard_and_count))
            .wrap(from_fn(security_headers::add_security_headers))
            .service(resource("/").route(web::get().to(pages::get_root)))
            .service(
                resource("/ui/{path:.*}")
                    .wrap(Compress::default())
                    .route(web::get().to(pages::get_ui)),
            )
            .service(resource("/api/v1/me").route(web::get().to(me::get_me)))
            .service(resource("/healthz").route(web::get().to(health::get_healthz)))
            .service(resource("/metrics").route(web::get().to(health::get_metrics)))
            .service(
                resource("/media/{sha256}")
                    .route(web::get().to(media::get_media))
                    .route(web::head().to(media::get_media))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                resource("/media/{sha256}/{path:.+}")
                    .route(web::get().to(media::get_derived))
                    .route(web::head().to(media::get_derived))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(resource("/api/v1/assets/{sha256}").route(web::get().to(assets::get_asset)))
            .service(
                resource("/api/v1/orgs")
                    .route(web::post().to(people::post_org))
                    .route(web::get().to(people::get_orgs)),
            )
            .service(
                resource("/api/v1/orgs/{id}")
                    .route(web::get().to(people::get_org))
                    .route(web::patch().to(people::patch_org)),
            )
            .service(
                resource("/api/v1/members")
                    .route(web::post().to(people::post_member))
                    .route(web::get().to(people::get_members)),
            )
            .service(
                resource("/api/v1/members/{id}")
                    .route(web::get().to(people::get_member))
                    .route(web::patch().to(people::patch_member)),
            )
            .service(
                resource("/api/v1/terminals")
                    .route(web::post().to(people::post_terminal))
                    .route(web::get().to(people::get_terminals)),
            )
            .service(
                resource("/api/v1/tokens")
                    .route(web::post().to(people::post_token))
                    .route(web::get().to(tokens::get_tokens)),
            )
            .service(resource("/api/v1/tokens/revoke").route(web::post().to(people::post_revoke)))
            .service(
                resource("/api/v1/tokens/{id}").route(web::delete().to(tokens::delete_token)),
            )
            .service(
                resource("/api/v1/terminals/{id}")
                    .route(web::patch().to(tokens::patch_terminal)),
            )
            .service(
                resource("/api/v1/terminals/{id}/token")
                    .route(web::post().to(tokens::post_terminal_token)),
            )
            .service(
                resource("/api/v1/session")
                    .route(web::post().to(people::post_session))
                    .route(web::delete().to(people::delete_session)),
            )
            .service(resource("/api/v1/audit").route(web::get().to(people::get_audit)))
            .configure(catalog_routes)
            .configure(ledger_routes)
            .configure(dashboard_api::routes)
            .configure(upload_routes)
            .default_service(web::to(not_found))
    })
    .keep_alive(KeepAlive::Timeout(Duration::from_secs(
        settings.keep_alive_secs,
    )))
    .client_request_timeout(Duration::from_millis(settings.header_timeout_ms))
    .client_disconnect_timeout(Duration::from_secs(2))
    .max_connections(settings.max_connections_per_worker)
    // Pull the next body chunk only once the previous one is written: a stalled reader then
    // holds one chunk, not a growing buffer.
    .h1_write_buffer_size(file_body::CHUNK)
    .shutdown_timeout(5)
    .on_connect(move |conn, ext| {
        let tls = conn
            .downcast_ref::<actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>>();
        if let (Some(_), Some(hsts)) = (tls, &hsts) {
            ext.insert(hsts.clone());
        }
        let tcp = conn
            .downcast_ref::<actix_web::rt::net::TcpStream>()
            .or_else(|| tls.map(|tls| tls.get_ref().0));
        if let Some(tcp) = tcp {
            let sock = socket2::SockRef::from(tcp);
            // A peer that stops reading leaves data unacknowledged; the kernel then drops it.
            let _ = sock.set_tcp_user_timeout(Some(send_timeout));
            let _ = sock.set_nodelay(true);
        }
        ext.insert(Arc::new(metrics.connection_opened()));
        ext.insert(file_body::Pace::new());
    });
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    if let Some(listener) = plain {
        server = server.listen(listener)?;
    }
    if let Some((listener, config)) = tls {
        server = server.listen_rustls_0_23(listener, config)?;
    }
    Ok(server.run())
}

/// The catalogue and sync. Their JSON is compressed when the client asks; `/media` never is,
/// since a compressed 200 beside uncompressed 206s would corrupt resumed downloads.
fn catalog_routes(cfg: &mut web::ServiceConfig) {
    let compressed = |pattern| resource(pattern).wrap(Compress::default());
    cfg.service(
        compressed("/api/v1/courses")
            .route(web::get().to(catalog::get_courses))
            .route(web::post().to(catalog_edit::post_course)),
    )
    .service(
        compressed("/api/v1/courses/{id}")
            .route(web::get().to(catalog::get_course))
            .route(web::patch().to(catalog_edit::patch_course)),
    )
    .service(resource("/api/v1/courses/{id}/draft").route(web::get().to(catalog_edit::get_draft)))
    .service(
        resource("/api/v1/courses/{id}/lessons").route(web::post().to(catalog_edit::post_lesson)),
    )
    .service(
        resource("/api/v1/courses/{id}/publish").route(web::post().to(catalog_edit::post_publish)),
    )
    .service(
        resource("/api/v1/courses/{id}/retire").route(web::post().to(catalog_edit::post_retire)),
    )
    .service(
        compressed("/api/v1/lessons/{id}")
            .route(web::get().to(catalog::get_lesson))
            .route(web::patch().to(catalog_edit::patch_lesson))
            .route(web::delete().to(catalog_edit::delete_lesson)),
    )
    .service(compressed("/api/v1/lessons/{id}/play").route(web::get().to(play::get_play)))
    .service(
        compressed("/api/v1/lessons/{id}/offline").route(web::post().to(offline::post_offline)),
    )
    .service(
        resource("/api/v1/lessons/{id}/variants/{lang}")
            .route(web::put().to(catalog_edit::put_variant))
            .route(web::delete().to(catalog_edit::delete_variant)),
    )
    .service(compressed("/api/v1/taxonomy").route(web::get().to(catalog::get_taxonomy)))
    .service(compressed("/api/v1/editor/courses").route(web::get().to(editor_api::get_courses)))
    .service(compressed("/api/v1/sync/changes").route(web::get().to(sync::get_changes)));
}

/// Watch reports, group study, hours, registrations and reports.
fn ledger_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        // The body is read by the handler, with a limit by the caller's role.
        resource("/api/v1/watch").route(web::post().to(watch::post_watch)),
    )
    .service(resource("/api/v1/group-sessions").route(web::post().to(watch::post_group_session)))
    .service(
        resource("/api/v1/group-sessions/{id}/attendance")
            .route(web::post().to(watch::post_attendance)),
    )
    .service(resource("/api/v1/group-sessions/{id}/end").route(web::post().to(watch::post_end)))
    .service(resource("/api/v1/members/{id}/hours").route(web::get().to(hours::get_hours)))
    .service(resource("/api/v1/members/{id}/resume").route(web::get().to(hours::get_resume)))
    .service(
        resource("/api/v1/members/{id}/registrations")
            .route(web::post().to(hours::post_registration)),
    )
    .service(
        resource("/api/v1/reports/orgs/{id}")
            .wrap(Compress::default())
            .route(web::get().to(hours::get_org_report)),
    );
}

/// tus 1.0 for editors, every answer carrying `Tus-Resumable`.
fn upload_routes(cfg: &mut web::ServiceConfig) {
    // Tus-Version belongs on a 412 (and on OPTIONS); on every answer it does no harm.
    let tus = || {
        DefaultHeaders::new()
            .add(("Tus-Resumable", crate::domain::upload::TUS_VERSION))
            .add(("Tus-Version", crate::domain::upload::TUS_VERSION))
    };
    cfg.service(
        resource("/uploads")
            .wrap(tus())
            .route(web::method(actix_web::http::Method::OPTIONS).to(uploads::options_uploads))
            .route(web::post().to(uploads::post_upload)),
    )
    .service(
        resource("/uploads/{id}")
            .wrap(tus())
            .route(web::head().to(uploads::head_upload))
            .route(web::patch().to(uploads::patch_upload))
            .route(web::post().to(uploads::post_override))
            .route(web::delete().to(uploads::delete_upload)),
    )
    .service(resource("/api/v1/uploads/{id}").route(web::get().to(uploads::get_upload_status)));
}

/// The route pattern a resource answers to, kept as data so metrics need not re-match the path.
#[derive(Clone, Copy)]
struct RouteLabel(&'static str);

fn resource(pattern: &'static str) -> actix_web::Resource {
    web::resource(pattern).app_data(RouteLabel(pattern))
}

async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("no such route"))
}

async fn method_not_allowed() -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "use GET or HEAD",
    )
    .respond(
        HttpResponse::build(StatusCode::METHOD_NOT_ALLOWED)
            .insert_header(("allow", "GET, HEAD"))
            .take(),
    )
}

/// Every request passes here once: below the free-space floor anything that is not a read is
/// refused before it can write, and every answer is counted by route, method and status.
async fn guard_and_count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let services = req.app_data::<web::Data<Services>>().cloned();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let refusal = match &services {
        Some(services) if !method.is_safe() => services.floor.check().err(),
        _ => None,
    };
    let response = match refusal {
        Some(e) => {
            let error = ApiError::from(e);
            req.into_response(error.respond(HttpResponse::build(error.status)))
        }
        None => next.call(req).await?.map_into_boxed_body(),
    };
    let route = response
        .request()
        .app_data::<RouteLabel>()
        .map_or("unmatched", |label| label.0);
    let status = response.status();
    if let Some(metrics) = metrics {
        metrics
            .requests
            .with_label_values(&[route, metrics::method_label(&method), status.as_str()])
            .inc();
    }
    if status.is_server_error() {
        tracing::warn!(%route, %method, %status, "request failed");
    } else {
        tracing::debug!(%route, %method, %status, "request");
    }
    Ok(response)
}
