//! What an administrator sends to draft, change, submit and record the decision on a claim,
//! and its checks.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::store::{Decided, Status};
use crate::domain::quarter::Quarter;
use crate::error::{AppError, FieldError};

const MAX_NOTE_CHARS: usize = 2000;
const MAX_REFERENCE_CHARS: usize = 100;
/// More stated costs than a municipality has placements in LVU-level care in a quarter is a
/// mistake; 500 stated costs fit in the body limit (64 KiB).
const MAX_ACTUAL_COSTS: usize = 500;
/// A cost above 100 million kronor for one placement in one quarter is a typing error.
const MAX_AMOUNT_ORE: i64 = 10_000_000_000;

/// The actual cost of one placement's LVU-level care in the quarter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActualCost {
    placement_id: Uuid,
    amount_ore: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClaim {
    quarter: Quarter,
    /// A supplementary claim names the submitted claim of the same quarter it corrects.
    supplements: Option<Uuid>,
    note: Option<String>,
    #[serde(default)]
    actual_costs: Vec<ActualCost>,
}

/// A checked new claim.
pub struct NewClaim {
    pub quarter: Quarter,
    pub supplements: Option<Uuid>,
    pub note: Option<String>,
    pub actual_costs: HashMap<Uuid, i64>,
}

fn validate_note(note: Option<String>) -> Result<Option<String>, FieldError> {
    match note.map(|n| n.trim().to_owned()) {
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => Err(FieldError::new(
            "note",
            format!("at most {MAX_NOTE_CHARS} characters"),
        )),
        Some(n) if n.is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn validate_costs(costs: Vec<ActualCost>) -> Result<HashMap<Uuid, i64>, FieldError> {
    if costs.len() > MAX_ACTUAL_COSTS {
        return Err(FieldError::new(
            "actual_costs",
            format!("at most {MAX_ACTUAL_COSTS} placements"),
        ));
    }
    let mut out = HashMap::new();
    for (i, cost) in costs.into_iter().enumerate() {
        if !(0..=MAX_AMOUNT_ORE).contains(&cost.amount_ore) {
            return Err(FieldError::new(
                format!("actual_costs[{i}].amount_ore"),
                format!("from 0 to {MAX_AMOUNT_ORE} öre"),
            ));
        }
        if out.insert(cost.placement_id, cost.amount_ore).is_some() {
            return Err(FieldError::new(
                format!("actual_costs[{i}].placement_id"),
                "names a placement stated before",
            ));
        }
    }
    Ok(out)
}

fn checked<T>(
    results: (Result<Option<String>, FieldError>, Result<T, FieldError>),
) -> Result<(Option<String>, T), AppError> {
    match results {
        (Ok(note), Ok(costs)) => Ok((note, costs)),
        (note, costs) => Err(AppError::unprocessable(
            [note.err(), costs.err()].into_iter().flatten().collect(),
        )),
    }
}

impl CreateClaim {
    pub fn validate(self) -> Result<NewClaim, AppError> {
        let (note, actual_costs) =
            checked((validate_note(self.note), validate_costs(self.actual_costs)))?;
        Ok(NewClaim {
            quarter: self.quarter,
            supplements: self.supplements,
            note,
            actual_costs,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateClaim {
    #[serde(default, with = "crate::http::double_option")]
    note: Option<Option<String>>,
    /// Replaces every stated cost of the draft.
    actual_costs: Option<Vec<ActualCost>>,
}

/// A checked change of a draft: `None` leaves a field as it is.
pub struct ClaimChange {
    pub note: Option<Option<String>>,
    pub actual_costs: Option<HashMap<Uuid, i64>>,
}

impl UpdateClaim {
    pub fn validate(self) -> Result<ClaimChange, AppError> {
        let note = match self.note {
            None => Ok(None),
            Some(note) => validate_note(note).map(Some),
        };
        let costs = self.actual_costs.map(validate_costs).transpose();
        match (note, costs) {
            (Ok(note), Ok(actual_costs)) => Ok(ClaimChange { note, actual_costs }),
            (note, costs) => Err(AppError::unprocessable(
                [note.err(), costs.err()].into_iter().flatten().collect(),
            )),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SubmitClaim {
    /// The day it was sent to Migrationsverket (default: today); not in the future.
    #[serde(default, with = "crate::http::date::option")]
    submitted_on: Option<NaiveDate>,
}

impl SubmitClaim {
    pub fn day(&self, today: NaiveDate) -> Result<NaiveDate, AppError> {
        let day = self.submitted_on.unwrap_or(today);
        if day > today {
            return Err(AppError::rule("submitted_on", "is in the future"));
        }
        Ok(day)
    }
}

crate::text_enum! {
    /// What Migrationsverket decided.
    pub enum Outcome {
        Paid = "paid",
        Rejected = "rejected",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideClaim {
    outcome: Outcome,
    #[serde(with = "crate::http::date")]
    decided_on: NaiveDate,
    decision_reference: String,
    /// What was paid, when paid (it may be less than claimed).
    paid_ore: Option<i64>,
}

impl DecideClaim {
    /// The decision, of a day from the submission to today, paying at most what was claimed.
    pub fn validate(
        self,
        (submitted_on, claimed): (NaiveDate, i64),
        today: NaiveDate,
    ) -> Result<Decided, AppError> {
        let mut errors = Vec::new();
        if self.decided_on > today {
            errors.push(FieldError::new("decided_on", "is in the future"));
        } else if self.decided_on < submitted_on {
            errors.push(FieldError::new(
                "decided_on",
                "is before the claim was submitted",
            ));
        }
        let reference = self.decision_reference.trim().to_owned();
        if reference.is_empty() || reference.chars().count() > MAX_REFERENCE_CHARS {
            errors.push(FieldError::new(
                "decision_reference",
                format!("1 to {MAX_REFERENCE_CHARS} characters"),
            ));
        }
        match (self.outcome, self.paid_ore) {
            (Outcome::Paid, None) => {
                errors.push(FieldError::new("paid_ore", "a payment says what was paid"))
            }
            (Outcome::Paid, Some(p)) if !(0..=i64::MAX / 2).contains(&p) => {
                errors.push(FieldError::new("paid_ore", "is not a possible amount"))
            }
            (Outcome::Paid, Some(p)) if p > claimed.max(0) => errors.push(FieldError::new(
                "paid_ore",
                format!("is more than the {claimed} öre claimed"),
            )),
            (Outcome::Rejected, Some(_)) => {
                errors.push(FieldError::new("paid_ore", "a rejection pays nothing"))
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(AppError::unprocessable(errors));
        }
        Ok(Decided {
            status: match self.outcome {
                Outcome::Paid => Status::Paid,
                Outcome::Rejected => Status::Rejected,
            },
            decided_on: self.decided_on,
            decision_reference: reference,
            paid_ore: self.paid_ore,
        })
    }
}
