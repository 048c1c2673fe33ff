//! What clients send about placements, and the checks of its text fields.

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::{EndReason, ReviewKind};
use crate::error::FieldError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementInput {
    pub facility_id: Uuid,
    #[serde(with = "crate::http::date")]
    pub start_date: NaiveDate,
    #[serde(default, with = "crate::http::date::option")]
    pub planned_end: Option<NaiveDate>,
    pub legal_basis: String,
    pub decision_reference: String,
    pub special_reasons: Option<String>,
    pub deviation_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    pub facility_id: Uuid,
    /// The first day in the new place; the current placement ends the day before.
    #[serde(with = "crate::http::date")]
    pub move_date: NaiveDate,
    #[serde(default, with = "crate::http::date::option")]
    pub planned_end: Option<NaiveDate>,
    pub legal_basis: String,
    pub decision_reference: String,
    pub special_reasons: Option<String>,
}

impl MoveInput {
    /// The placement that starts on the move date.
    pub fn next_placement(self) -> PlacementInput {
        PlacementInput {
            facility_id: self.facility_id,
            start_date: self.move_date,
            planned_end: self.planned_end,
            legal_basis: self.legal_basis,
            decision_reference: self.decision_reference,
            special_reasons: self.special_reasons,
            deviation_reason: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    #[serde(with = "crate::http::date")]
    pub end_date: NaiveDate,
    pub end_reason: EndReason,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub kind: ReviewKind,
    #[serde(with = "crate::http::date")]
    pub decided_on: NaiveDate,
    pub decision_reference: String,
    pub continued_need: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementChange {
    #[serde(default, with = "crate::http::date::option")]
    pub planned_end: Option<NaiveDate>,
    pub decision_reference: Option<String>,
}

/// A legal basis or decision reference: 1 to 100 characters once trimmed.
pub fn reference(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if !(1..=100).contains(&value.chars().count()) {
        errors.push(FieldError::new(field, "1 to 100 characters"));
    }
    value.to_owned()
}

/// An optional reason: absent when empty, at most 2000 characters.
pub fn reason(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > 2000 {
        errors.push(FieldError::new(field, "at most 2000 characters"));
    }
    Some(value.to_owned())
}

/// A cancellation reason: 3 to 2000 characters once trimmed.
pub fn cancellation_reason(input: &CancelInput) -> Result<String, FieldError> {
    let reason = input.reason.trim();
    if (3..=2000).contains(&reason.chars().count()) {
        Ok(reason.to_owned())
    } else {
        Err(FieldError::new(
            "reason",
            "say why, in 3 to 2000 characters",
        ))
    }
}
