//! The one error type of the service, rendered as RFC 9457 problem details.
//!
//! Each variant has one status and one stable `type` URI, so clients can branch on the type and
//! never on the human-readable text. Internal detail is logged with the request id, never sent.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
const TYPE_PREFIX: &str = "urn:trygg:problem:";

/// One field at fault, named by its JSON path (`address.postal_code`, `languages[1]`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("malformed request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("not authenticated: {detail}")]
    Unauthorized { detail: String },
    #[error("forbidden: {detail}")]
    Forbidden { detail: String },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("precondition required")]
    PreconditionRequired,
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {detail}")]
    UnsupportedMediaType { detail: String },
    #[error("unprocessable: {detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("database unavailable")]
    DatabaseUnavailable,
    /// The audit event could not be written, so the work it records did not happen either.
    #[error("audit log unavailable")]
    AuditUnavailable,
    /// Anything the client did not cause. The message is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::BadRequest {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            detail: detail.into(),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden {
            detail: detail.into(),
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::Unprocessable {
            detail: error.message.clone(),
            errors: vec![error],
        }
    }

    pub fn unprocessable(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one.message.clone(),
            _ => "the request breaks one or more rules; see errors".to_owned(),
        };
        Self::Unprocessable { detail, errors }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The stable machine-readable code, also the tail of the problem `type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "malformed-request",
            Self::Unauthorized { .. } => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict { .. } => "conflict",
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::Unprocessable { .. } => "rule-violation",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::DatabaseUnavailable => "database-unavailable",
            Self::AuditUnavailable => "audit-unavailable",
            Self::Internal(_) => "internal-error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "The request is malformed",
            Self::Unauthorized { .. } => "Authentication is required",
            Self::Forbidden { .. } => "Not allowed",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict { .. } => "Conflict with the current state",
            Self::PreconditionRequired => "If-Match is required",
            Self::PayloadTooLarge { .. } => "The request body is too large",
            Self::UnsupportedMediaType { .. } => "Unsupported media type",
            Self::Unprocessable { .. } => "The request breaks a rule",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::DatabaseUnavailable => "The database is unavailable",
            Self::AuditUnavailable => "The audit log is unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::BadRequest { detail, .. }
            | Self::Unauthorized { detail }
            | Self::Forbidden { detail }
            | Self::Conflict { detail, .. }
            | Self::UnsupportedMediaType { detail }
            | Self::Unprocessable { detail, .. } => Some(detail.clone()),
            Self::NotFound => Some("no such resource, or it is not yours to see".into()),
            Self::PayloadTooLarge { limit } => Some(format!("the limit is {limit} bytes")),
            Self::PreconditionRequired => {
                Some("send the resource's current ETag in If-Match to change it".into())
            }
            Self::TooManyRequests { retry_after_secs } => {
                Some(format!("try again in {retry_after_secs} seconds"))
            }
            Self::DatabaseUnavailable | Self::AuditUnavailable => {
                Some("nothing was read or changed; try again shortly".into())
            }
            Self::MethodNotAllowed | Self::Internal(_) => None,
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::BadRequest { errors, .. }
            | Self::Conflict { errors, .. }
            | Self::Unprocessable { errors, .. } => errors,
            _ => &[],
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("{TYPE_PREFIX}{}", self.code()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: self.field_errors().to_vec(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DatabaseUnavailable | Self::AuditUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(message) => tracing::error!(error = %message, "internal error"),
            Self::DatabaseUnavailable => tracing::warn!("database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            Self::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::DatabaseUnavailable | Self::AuditUnavailable => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                Self::DatabaseUnavailable
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_connection_failure(info.message()) =>
            {
                Self::DatabaseUnavailable
            }
            // Two transactions got in each other's way (40001, or 40P01, which diesel reports
            // as "unknown"); PostgreSQL undid this one, so trying again is safe.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                tracing::info!(error = %info.message(), "concurrent change; answered 409");
                Self::conflict(CONCURRENT_CHANGE)
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_deadlock(info.message()) =>
            {
                tracing::warn!(error = %info.message(), "deadlock; answered 409");
                Self::conflict(CONCURRENT_CHANGE)
            }
            // An id the code did not check first, or that vanished meanwhile: the request's
            // fault, never the server's. The column comes from PostgreSQL's detail line.
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::warn!(
                    error = %info.message(),
                    constraint = info.constraint_name().unwrap_or_default(),
                    "foreign key violation; answered 422"
                );
                match info.details().and_then(foreign_key_column) {
                    Some(field) => Self::rule(field, MISSING_REFERENCE),
                    None => Self::Unprocessable {
                        detail: MISSING_REFERENCE.to_owned(),
                        errors: Vec::new(),
                    },
                }
            }
            _ => Self::Internal(error.to_string()),
        }
    }
}

const CONCURRENT_CHANGE: &str = "a concurrent change got in the way; try again";
const MISSING_REFERENCE: &str = "refers to something that does not exist";

fn is_deadlock(message: &str) -> bool {
    message.to_ascii_lowercase().contains("deadlock detected")
}

/// The column of a foreign key violation, from PostgreSQL's detail:
/// `Key (unit_id)=(…) is not present in table "units".` A composite key names no one field.
fn foreign_key_column(details: &str) -> Option<&str> {
    let rest = details.strip_prefix("Key (")?;
    let column = &rest[..rest.find(")=")?];
    let simple = !column.is_empty()
        && column
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    simple.then_some(column)
}

/// libpq reports a dropped server as an "unknown" error; recognise it so the client gets 503.
fn is_connection_failure(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "server closed the connection",
        "no connection to the server",
        "connection refused",
        "terminating connection",
        "could not receive data",
        "could not send data",
        "ssl syscall error",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(_: diesel::r2d2::PoolError) -> Self {
        Self::DatabaseUnavailable
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_key_violation_names_its_column() {
        let detail = r#"Key (responsible_unit_id)=(0190aa) is not present in table "units"."#;
        assert_eq!(foreign_key_column(detail), Some("responsible_unit_id"));
        assert_eq!(foreign_key_column("Key (a, b)=(1, 2) is not present"), None);
        assert_eq!(foreign_key_column("something else"), None);
    }

    #[test]
    fn a_deadlock_is_recognised_by_its_message() {
        assert!(is_deadlock("deadlock detected"));
        assert!(!is_deadlock("duplicate key value"));
    }
}
