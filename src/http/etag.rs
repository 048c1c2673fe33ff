//! Optimistic concurrency: every editable record has a version, shown as its ETag; a change must
//! send the version it read in If-Match, so two people never silently overwrite each other.

use actix_web::http::header;
use actix_web::HttpRequest;
use uuid::Uuid;

use crate::error::AppError;

pub fn etag(id: Uuid, version: i32) -> String {
    format!("\"{}-{version}\"", id.simple())
}

/// The version the client read, from `If-Match`; 428 when it is missing.
pub fn required_version(req: &HttpRequest, id: Uuid) -> Result<i32, AppError> {
    if_match(req)?.version_of(id)
}

/// The `If-Match` a client sent, for a record whose id is known only once it is read (one
/// reached by its child's path, such as the child's age-out plan).
#[derive(Debug, Clone)]
pub struct IfMatch(String);

/// The request's `If-Match`; 428 when it is missing.
pub fn if_match(req: &HttpRequest) -> Result<IfMatch, AppError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(AppError::PreconditionRequired)?
        .to_str()
        .map_err(|_| AppError::invalid_field("If-Match", "is not a valid ETag"))?;
    Ok(IfMatch(value.to_owned()))
}

impl IfMatch {
    /// The version of `id` it names; `stale-version` when it names another record or no version.
    pub fn version_of(&self, id: Uuid) -> Result<i32, AppError> {
        let stale = AppError::stale_version;
        let inner = self.0.trim().trim_start_matches("W/").trim_matches('"');
        let (id_part, version) = inner.split_once('-').ok_or_else(stale)?;
        if id_part != id.simple().to_string() {
            return Err(stale());
        }
        version.parse::<i32>().map_err(|_| stale())
    }
}

/// An answer carrying `body` with the ETag of version `version` of `id`.
pub fn tagged<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    id: Uuid,
    version: i32,
    body: &T,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .insert_header((header::ETAG, etag(id, version)))
        .json(body)
}

/// 201 Created for a new record at `location` (version 1).
pub fn created<T: serde::Serialize>(
    location: String,
    id: Uuid,
    body: &T,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(id, 1)))
        .json(body)
}

/// An answer carrying a secret must not be kept by any cache on the way.
pub fn not_stored(mut response: actix_web::HttpResponse) -> actix_web::HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
