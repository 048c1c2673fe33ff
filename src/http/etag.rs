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
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(AppError::PreconditionRequired)?
        .to_str()
        .map_err(|_| AppError::invalid_field("If-Match", "is not a valid ETag"))?;
    let stale = AppError::stale_version;
    let inner = value.trim().trim_start_matches("W/").trim_matches('"');
    let (id_part, version) = inner.split_once('-').ok_or_else(stale)?;
    if id_part != id.simple().to_string() {
        return Err(stale());
    }
    version.parse::<i32>().map_err(|_| stale())
}
