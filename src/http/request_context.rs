//! Gives every request an id (in the logs and the `X-Request-Id` header), logs one line per
//! request without personal data, and turns any error answer that is not yet problem+json
//! (an unknown route, a wrong method) into one.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use tracing::Instrument;

use crate::error::{AppError, Problem, PROBLEM_CONTENT_TYPE};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub use crate::state::RequestId;

/// Accepts a caller's id only if it is short and plain, so it cannot smuggle data into logs.
fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let plain = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then(|| value.to_owned())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %request_id, %method);
    let started = Instant::now();

    let response = match query_parameter_with_nul(req.query_string()) {
        // Refused before any handler can pass it to PostgreSQL, which cannot store it.
        Some(field) => req.error_response(AppError::invalid_field(
            field,
            "holds a NUL character, which no text may hold",
        )),
        None => next
            .call(req)
            .instrument(span.clone())
            .await?
            .map_into_boxed_body(),
    };
    let mut response = problem_for_bare_errors(response);

    // The route pattern (`/api/v1/children/{id}`), never the concrete path: paths and queries
    // may carry identifiers that are personal data.
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            %route,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        )
    });
    // Answers carry personal data: no cache may keep them, and no browser may guess their type.
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // An API answers data, never a page: nothing may frame it, run from it, or be told where
    // the caller came from. No CORS header is ever sent, so browsers keep other sites out.
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// The first query parameter whose name or decoded value holds a NUL character.
pub fn query_parameter_with_nul(query: &str) -> Option<String> {
    if !query.contains("%00") {
        return None;
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| name.replace('\0', "\\u0000"))
}

fn is_problem(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE))
}

fn problem_for_bare_errors(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let problem = match status {
        StatusCode::NOT_FOUND => AppError::NotFound.problem(),
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed.problem(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType {
            detail: "send application/json".into(),
        }
        .problem(),
        StatusCode::BAD_REQUEST => AppError::bad_request("the request could not be read").problem(),
        other => Problem {
            problem_type: format!("urn:trygg:problem:http-{}", other.as_u16()),
            title: other.canonical_reason().unwrap_or("Error").to_owned(),
            status: other.as_u16(),
            detail: None,
            errors: Vec::new(),
        },
    };
    let mut replacement = HttpResponse::build(status);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement.append_header((name.clone(), value.clone()));
        }
    }
    let replacement = replacement
        .content_type(PROBLEM_CONTENT_TYPE)
        .body(serde_json::to_string(&problem).unwrap_or_default());
    response.into_response(replacement)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    use super::request_context;

    /// Collects what the log writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// A calendar feed's token travels in its URL: the request log names the route pattern,
    /// never the path or the query, at any level.
    #[actix_web::test]
    async fn the_request_log_holds_no_query_and_so_no_feed_token() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(App::new().wrap(from_fn(request_context)).route(
            "/api/v1/me/calendar.ics",
            web::get().to(|| async { HttpResponse::Ok().finish() }),
        ))
        .await;
        for uri in [
            "/api/v1/me/calendar.ics?token=cal_secret-feed-token",
            "/api/v1/me/elsewhere?token=cal_secret-feed-token",
        ] {
            let request = test::TestRequest::get().uri(uri).to_request();
            test::call_service(&app, request).await;
        }
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("request finished"), "{log}");
        assert!(log.contains("/api/v1/me/calendar.ics"), "{log}");
        assert!(!log.contains("secret-feed-token"), "{log}");
        assert!(!log.contains("token="), "{log}");
        assert!(!log.contains("elsewhere"), "{log}");
    }
}
