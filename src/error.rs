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
    /// The rule it breaks; a 422 whose errors all break one rule answers with that rule's code.
    #[serde(skip)]
    pub rule: Rule,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            rule: Rule::General,
        }
    }

    /// The same error, naming the rule it breaks.
    pub fn because(self, rule: Rule) -> Self {
        Self { rule, ..self }
    }
}

/// What a 409 is in conflict with. Each cause has its own stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// `If-Match` names an older version, or the row changed between read and write.
    StaleVersion,
    /// Two transactions got in each other's way; PostgreSQL undid this one, so a retry is safe.
    ConcurrentChange,
    /// The facility has no free place on some of the days.
    FacilityFull,
    /// A facility's capacity cannot go below the children already placed there.
    CapacityInUse,
    /// The child already has a placement on some of the days.
    PlacementOverlap,
    /// The placement has ended or been cancelled.
    PlacementClosed,
    /// Another child has the same dossier or personal identity number.
    DuplicateIdentity,
    /// A unique name (username, unit name, client id) is in use.
    NameTaken,
    /// A second factor is already enrolled.
    SecondFactorEnrolled,
    /// Confirming a second factor whose enrolment was never started.
    EnrolmentNotStarted,
    /// A request with the same `Idempotency-Key` is still being handled.
    IdempotencyInProgress,
    /// There is nothing in the audit log to sign.
    AuditLogEmpty,
    /// The audit log no longer extends the last signed checkpoint.
    CheckpointDiverged,
    /// The visit has been corrected already: correct the latest entry instead.
    VisitCorrected,
    /// The child has an age-out plan already: there is one per child.
    AgeOutPlanExists,
    /// A submitted reimbursement claim is frozen: a correction is a supplementary claim.
    ClaimFrozen,
    /// The records behind a draft claim changed since it was derived: derive it again (PATCH)
    /// and review it before submitting.
    ClaimOutOfDate,
    /// The quarter has its original claim already, or a draft being worked on.
    ClaimExists,
    /// A decision is recorded, or a supplementary claim made, only for a submitted claim.
    ClaimNotSubmitted,
}

impl ConflictKind {
    pub const ALL: [Self; 19] = [
        Self::ClaimFrozen,
        Self::ClaimOutOfDate,
        Self::ClaimExists,
        Self::ClaimNotSubmitted,
        Self::VisitCorrected,
        Self::AgeOutPlanExists,
        Self::StaleVersion,
        Self::ConcurrentChange,
        Self::FacilityFull,
        Self::CapacityInUse,
        Self::PlacementOverlap,
        Self::PlacementClosed,
        Self::DuplicateIdentity,
        Self::NameTaken,
        Self::SecondFactorEnrolled,
        Self::EnrolmentNotStarted,
        Self::IdempotencyInProgress,
        Self::AuditLogEmpty,
        Self::CheckpointDiverged,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::StaleVersion => "stale-version",
            Self::ConcurrentChange => "concurrent-change",
            Self::FacilityFull => "facility-full",
            Self::CapacityInUse => "capacity-in-use",
            Self::PlacementOverlap => "placement-overlap",
            Self::PlacementClosed => "placement-closed",
            Self::DuplicateIdentity => "duplicate-identity",
            Self::NameTaken => "name-taken",
            Self::SecondFactorEnrolled => "second-factor-enrolled",
            Self::EnrolmentNotStarted => "enrolment-not-started",
            Self::IdempotencyInProgress => "idempotency-in-progress",
            Self::AuditLogEmpty => "audit-log-empty",
            Self::CheckpointDiverged => "checkpoint-diverged",
            Self::VisitCorrected => "visit-corrected",
            Self::AgeOutPlanExists => "age-out-plan-exists",
            Self::ClaimFrozen => "claim-frozen",
            Self::ClaimOutOfDate => "claim-out-of-date",
            Self::ClaimExists => "claim-exists",
            Self::ClaimNotSubmitted => "claim-not-submitted",
        }
    }
}

/// The rule a 422 is about. `General` is every rule without a code of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rule {
    #[default]
    General,
    /// An age rule: supported housing too young, a placement past the age limit.
    AgeRule,
    /// Supported housing below the age for it without special reasons needs them recorded.
    SpecialReasonsRequired,
    /// A child's first placement is in an HVB home unless a unit manager records a deviation.
    FirstPlacementHvb,
    /// The `Idempotency-Key` was already used for a different request.
    IdempotencyKeyReused,
    /// A visit recorded as having happened later than now.
    VisitInFuture,
    /// A string holds a character no text may hold (NUL, which PostgreSQL cannot store).
    InvalidCharacter,
    /// A protected identity is made less protective only as a decision of its own, with a
    /// reason and a decision reference (`POST /api/v1/children/{id}/protection`), not in an edit.
    ProtectionDecisionRequired,
    /// A date of birth (an assessed age) is revised only as a re-assessment of its own, with a
    /// reason and a decision reference (`POST /api/v1/children/{id}/age-assessments`).
    AgeReassessmentRequired,
    /// A goal of the age-out plan is dropped only with a reason.
    DropReasonRequired,
    /// A webhook target that is not `https` to a public address (see `webhooks::target`).
    WebhookTargetRefused,
    /// A visit's `performed_by` names someone other than the person recording it, or a system
    /// names no one, or someone who may not record a contact with the child.
    VisitPerformerRefused,
    /// A reimbursement claim for a quarter that has not ended.
    ClaimQuarterOpen,
    /// A reimbursement claim submitted after its quarter's deadline.
    ClaimDeadlinePassed,
}

impl Rule {
    pub const ALL: [Self; 14] = [
        Self::ClaimQuarterOpen,
        Self::ClaimDeadlinePassed,
        Self::VisitPerformerRefused,
        Self::WebhookTargetRefused,
        Self::VisitInFuture,
        Self::DropReasonRequired,
        Self::InvalidCharacter,
        Self::General,
        Self::AgeRule,
        Self::SpecialReasonsRequired,
        Self::FirstPlacementHvb,
        Self::IdempotencyKeyReused,
        Self::ProtectionDecisionRequired,
        Self::AgeReassessmentRequired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::General => "rule-violation",
            Self::AgeRule => "age-rule",
            Self::SpecialReasonsRequired => "special-reasons-required",
            Self::FirstPlacementHvb => "first-placement-hvb",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::ProtectionDecisionRequired => "protection-decision-required",
            Self::AgeReassessmentRequired => "age-reassessment-required",
            Self::InvalidCharacter => "invalid-character",
            Self::VisitInFuture => "visit-in-future",
            Self::DropReasonRequired => "drop-reason-required",
            Self::WebhookTargetRefused => "webhook-target-refused",
            Self::VisitPerformerRefused => "visit-performer-refused",
            Self::ClaimQuarterOpen => "claim-quarter-open",
            Self::ClaimDeadlinePassed => "claim-deadline-passed",
        }
    }
}

/// Every problem code the service answers with, and its status. The spec's `ProblemCode` lists
/// the same (a test compares them).
pub fn problem_codes() -> Vec<(&'static str, u16)> {
    let fixed = [
        ("malformed-request", 400),
        ("unauthenticated", 401),
        ("forbidden", 403),
        ("not-found", 404),
        ("method-not-allowed", 405),
        ("payload-too-large", 413),
        ("unsupported-media-type", 415),
        ("precondition-required", 428),
        ("too-many-requests", 429),
        ("internal-error", 500),
        ("database-unavailable", 503),
        ("audit-unavailable", 503),
    ];
    fixed
        .into_iter()
        .chain(ConflictKind::ALL.map(|kind| (kind.code(), 409)))
        .chain(Rule::ALL.map(|rule| (rule.code(), 422)))
        .collect()
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
    #[error("conflict ({}): {detail}", kind.code())]
    Conflict {
        kind: ConflictKind,
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

    pub fn conflict(kind: ConflictKind, detail: impl Into<String>) -> Self {
        Self::Conflict {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// The record is no longer the version the caller read: one wording for every resource.
    pub fn stale_version() -> Self {
        Self::conflict(ConflictKind::StaleVersion, STALE_VERSION)
    }

    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::rule_of(Rule::General, field, message)
    }

    /// A 422 about one field breaking a rule with a code of its own.
    pub fn rule_of(rule: Rule, field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message).because(rule);
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
            Self::Conflict { kind, .. } => kind.code(),
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::Unprocessable { errors, .. } => match errors.split_first() {
                Some((first, rest)) if rest.iter().all(|e| e.rule == first.rule) => {
                    first.rule.code()
                }
                _ => Rule::General.code(),
            },
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
        if let Error::DatabaseError(_, info) = &error {
            if let Some(refusal) = info.constraint_name().and_then(refused_by) {
                return refusal;
            }
        }
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
                Self::conflict(ConflictKind::ConcurrentChange, CONCURRENT_CHANGE)
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_deadlock(info.message()) =>
            {
                tracing::warn!(error = %info.message(), "deadlock; answered 409");
                Self::conflict(ConflictKind::ConcurrentChange, CONCURRENT_CHANGE)
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
const STALE_VERSION: &str = "it was changed by someone else since it was read; read it again";

/// A refusal of the database, by the constraint that refused (named in the schema, or by
/// `RAISE ... USING CONSTRAINT` in a trigger), as the same problem the Rust check answers. Never
/// by message text.
fn refused_by(constraint: &str) -> Option<AppError> {
    let conflict = |kind, field: &str, detail: &str, message: &str| AppError::Conflict {
        kind,
        detail: detail.to_owned(),
        errors: vec![FieldError::new(field, message)],
    };
    Some(match constraint {
        "placements_one_per_child_per_day" => AppError::conflict(
            ConflictKind::PlacementOverlap,
            "the child already has a placement on some of these days",
        ),
        "placements_facility_capacity" => AppError::conflict(
            ConflictKind::FacilityFull,
            "the facility has no free place on some of these days",
        ),
        "placements_age_limit" => {
            AppError::rule_of(Rule::AgeRule, "planned_end", "past the placement age limit")
        }
        "placements_supported_housing_age" => AppError::rule_of(
            Rule::AgeRule,
            "facility_id",
            "too young for supported housing",
        ),
        "placements_special_reasons_required" => AppError::rule_of(
            Rule::SpecialReasonsRequired,
            "special_reasons",
            "supported housing at this age needs special reasons",
        ),
        "placements_first_hvb" => AppError::rule_of(
            Rule::FirstPlacementHvb,
            "facility_id",
            "a first placement is in an HVB home unless a reason to deviate is recorded",
        ),
        "age_out_plans_one_per_child" => age_out_plan_exists(),
        "age_out_goals_dropped_reason" => AppError::rule_of(
            Rule::DropReasonRequired,
            "dropped_reason",
            "a dropped goal says why it was dropped",
        ),
        "children_dossier_number_key" => duplicate_identity("dossier_number"),
        "children_personal_identity_number_key" => duplicate_identity("personal_identity_number"),
        "users_username_key" => conflict(
            ConflictKind::NameTaken,
            "username",
            "that username is taken",
            "is taken",
        ),
        "units_name_key" => conflict(
            ConflictKind::NameTaken,
            "name",
            "a unit with that name exists",
            "is taken",
        ),
        "service_accounts_client_id_key" => conflict(
            ConflictKind::NameTaken,
            "client_id",
            "that client id is taken",
            "is taken",
        ),
        "reimbursement_claims_frozen" => claim_frozen(),
        "reimbursement_claims_one_original" => AppError::conflict(
            ConflictKind::ClaimExists,
            "the quarter has its claim already; a correction is a supplementary claim",
        ),
        "reimbursement_claims_one_draft" => AppError::conflict(
            ConflictKind::ClaimExists,
            "the quarter has a draft claim being worked on; change that one",
        ),
        "reimbursement_claims_supplements_submitted" => conflict(
            ConflictKind::ClaimNotSubmitted,
            "supplements",
            "a supplementary claim adds to a submitted claim of the same quarter",
            "is not a submitted claim of this quarter",
        ),
        _ => return None,
    })
}

/// A submitted reimbursement claim does not change.
pub fn claim_frozen() -> AppError {
    AppError::conflict(
        ConflictKind::ClaimFrozen,
        "a submitted claim is frozen; make a supplementary claim for a correction",
    )
}

/// The child has an age-out plan already.
pub fn age_out_plan_exists() -> AppError {
    AppError::conflict(
        ConflictKind::AgeOutPlanExists,
        "the child has an age-out plan already; change that one",
    )
}

/// Another child has this dossier or personal identity number.
pub fn duplicate_identity(field: &str) -> AppError {
    AppError::Conflict {
        kind: ConflictKind::DuplicateIdentity,
        detail: format!(
            "a child with this {} is already registered",
            field.replace('_', " ")
        ),
        errors: vec![FieldError::new(field, "is already registered")],
    }
}
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

    #[test]
    fn every_code_is_listed_once_with_its_status() {
        let codes = problem_codes();
        let unique: std::collections::BTreeSet<_> = codes.iter().map(|(code, _)| code).collect();
        assert_eq!(unique.len(), codes.len(), "a code is listed twice");
        let samples = [
            AppError::bad_request("x"),
            AppError::unauthorized("x"),
            AppError::forbidden("x"),
            AppError::NotFound,
            AppError::MethodNotAllowed,
            AppError::PreconditionRequired,
            AppError::PayloadTooLarge { limit: 1 },
            AppError::UnsupportedMediaType { detail: "x".into() },
            AppError::TooManyRequests {
                retry_after_secs: 1,
            },
            AppError::DatabaseUnavailable,
            AppError::AuditUnavailable,
            AppError::internal("x"),
        ]
        .into_iter()
        .chain(ConflictKind::ALL.map(|kind| AppError::conflict(kind, "x")))
        .chain(Rule::ALL.map(|rule| AppError::rule_of(rule, "f", "x")));
        for error in samples {
            let listed = (error.code(), error.status_code().as_u16());
            assert!(codes.contains(&listed), "{listed:?} is not listed");
            assert_eq!(
                error.problem().problem_type,
                format!("urn:trygg:problem:{}", error.code())
            );
        }
    }

    #[test]
    fn a_422_has_the_code_of_its_one_rule_or_the_general_one() {
        let age = FieldError::new("planned_end", "too late").because(Rule::AgeRule);
        let other = FieldError::new("legal_basis", "unknown");
        assert_eq!(
            AppError::unprocessable(vec![age.clone(), age.clone()]).code(),
            "age-rule"
        );
        assert_eq!(
            AppError::unprocessable(vec![age, other]).code(),
            "rule-violation"
        );
        assert_eq!(AppError::unprocessable(Vec::new()).code(), "rule-violation");
    }

    /// A database error as diesel hands it over, for mapping without a database.
    struct Refusal {
        constraint: Option<&'static str>,
        message: &'static str,
    }

    impl diesel::result::DatabaseErrorInformation for Refusal {
        fn message(&self) -> &str {
            self.message
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn refused(
        kind: diesel::result::DatabaseErrorKind,
        constraint: Option<&'static str>,
        message: &'static str,
    ) -> AppError {
        diesel::result::Error::DatabaseError(
            kind,
            Box::new(Refusal {
                constraint,
                message,
            }),
        )
        .into()
    }

    #[test]
    fn a_database_refusal_maps_by_its_constraint_never_by_its_words() {
        use diesel::result::DatabaseErrorKind::{CheckViolation, UniqueViolation, Unknown};
        let cases = [
            (
                Unknown,
                "placements_one_per_child_per_day",
                "placement-overlap",
            ),
            (
                CheckViolation,
                "placements_facility_capacity",
                "facility-full",
            ),
            (CheckViolation, "placements_age_limit", "age-rule"),
            (
                CheckViolation,
                "placements_supported_housing_age",
                "age-rule",
            ),
            (
                CheckViolation,
                "placements_special_reasons_required",
                "special-reasons-required",
            ),
            (
                CheckViolation,
                "placements_first_hvb",
                "first-placement-hvb",
            ),
            (
                UniqueViolation,
                "children_dossier_number_key",
                "duplicate-identity",
            ),
            (
                UniqueViolation,
                "children_personal_identity_number_key",
                "duplicate-identity",
            ),
            (UniqueViolation, "users_username_key", "name-taken"),
            (UniqueViolation, "units_name_key", "name-taken"),
            (
                UniqueViolation,
                "service_accounts_client_id_key",
                "name-taken",
            ),
            (
                UniqueViolation,
                "age_out_plans_one_per_child",
                "age-out-plan-exists",
            ),
            (
                CheckViolation,
                "age_out_goals_dropped_reason",
                "drop-reason-required",
            ),
        ];
        for (kind, constraint, code) in cases {
            assert_eq!(
                refused(kind, Some(constraint), "").code(),
                code,
                "{constraint}"
            );
        }
        // The words of a refusal mean nothing: without its constraint it is not a client's fault.
        let unnamed = refused(CheckViolation, None, "capacity_exceeded: facility full");
        assert_eq!(unnamed.code(), "internal-error");
    }
}
