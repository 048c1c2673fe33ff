//! What clients send about schedules and visits, checked once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::contact::{ContactKind, Responsible, VisitMode};
use crate::domain::recurrence::Recurrence;
use crate::error::FieldError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    pub kind: ContactKind,
    pub responsible: Responsible,
    /// The secretary who keeps it, when `responsible` is `secretary`.
    pub secretary_id: Option<Uuid>,
    pub recurrence: Recurrence,
    pub tolerance_days: i64,
    #[serde(default)]
    pub private_conversation: bool,
    #[serde(with = "crate::http::date")]
    pub start_date: NaiveDate,
    #[serde(default, with = "crate::http::date::option")]
    pub end_date: Option<NaiveDate>,
    /// Why this child's contact differs from the municipality's defaults.
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleChange {
    pub recurrence: Option<Recurrence>,
    pub tolerance_days: Option<i64>,
    pub private_conversation: Option<bool>,
    pub secretary_id: Option<Uuid>,
    /// Absent: unchanged; `null`: runs on.
    #[serde(default, with = "crate::http::date::double_option")]
    pub end_date: Option<Option<NaiveDate>>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVisit {
    pub schedule_id: Option<Uuid>,
    #[serde(with = "crate::http::date::instant")]
    pub occurred_at: DateTime<Utc>,
    pub mode: VisitMode,
    pub at_placement: bool,
    pub completed: bool,
    /// Why an attempt did not become a contact.
    pub not_completed_reason: Option<String>,
    pub spoke_alone: bool,
    pub planned: bool,
    #[serde(default)]
    pub interpreter_used: bool,
    pub notes: Option<String>,
    /// Who made the contact: a system (`visits:write`) names the person it records it for;
    /// a person may leave it out or name herself.
    pub performed_by: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[serde(flatten)]
    pub visit: NewVisit,
    pub reason: String,
}

/// A reason: 3 to 1000 characters once trimmed.
pub fn reason(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if !(3..=1000).contains(&value.chars().count()) {
        errors.push(FieldError::new(field, "say why, in 3 to 1000 characters"));
    }
    value.to_owned()
}

pub fn tolerance(value: i64, errors: &mut Vec<FieldError>) -> i32 {
    if !(0..=90).contains(&value) {
        errors.push(FieldError::new("tolerance_days", "0 to 90 days"));
    }
    value.clamp(0, 90) as i32
}

/// The visit's own texts, trimmed; field errors for any out of bounds.
pub fn visit_texts(
    visit: &NewVisit,
    errors: &mut Vec<FieldError>,
) -> (Option<String>, Option<String>) {
    let not_completed = visit
        .not_completed_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    match (&not_completed, visit.completed) {
        (None, false) => errors.push(FieldError::new(
            "not_completed_reason",
            "an attempt that did not become a contact says why",
        )),
        (Some(r), false) if !(3..=1000).contains(&r.chars().count()) => errors.push(
            FieldError::new("not_completed_reason", "3 to 1000 characters"),
        ),
        (Some(_), true) => errors.push(FieldError::new(
            "not_completed_reason",
            "only for an attempt that was not completed",
        )),
        _ => {}
    }
    let notes = visit
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if notes.as_ref().is_some_and(|n| n.chars().count() > 10_000) {
        errors.push(FieldError::new("notes", "at most 10,000 characters"));
    }
    (not_completed, notes)
}
