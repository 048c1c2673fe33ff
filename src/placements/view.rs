//! How a placement is shown: its dates, its status, and when its next decisions are due.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::PlacementRow;
use super::EndReason;
use crate::domain::decisions::{continued_care, due_after, ContinuedCare, Due, Reviews};
use crate::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Planned,
    Active,
    Ended,
    Cancelled,
}

#[derive(Debug, Serialize)]
pub struct PlacementView {
    pub id: Uuid,
    pub child_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    pub status: Status,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub end_reason: Option<EndReason>,
    pub legal_basis: String,
    pub decision_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_reasons: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// Reconsideration of continued need (övervägande), while the placement runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconsideration: Option<Due>,
    /// Revision of the care plan (vårdplan), while the placement runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_plan_revision: Option<Due>,
    /// When the placement runs past the adult age (18): the decision to continue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continued_care_after_18: Option<ContinuedCare>,
}

pub fn status(row: &PlacementRow, today: NaiveDate) -> Status {
    if row.cancelled_at.is_some() {
        Status::Cancelled
    } else if row.start_date > today {
        Status::Planned
    } else if row.last_day() < today || row.end_date.is_some_and(|end| end < today) {
        Status::Ended
    } else {
        Status::Active
    }
}

/// `show_facility`: false when a protected identity's facility is withheld from the caller.
/// `show_reasons`: false for other systems, which get no free text about the child (special
/// reasons, deviation and cancellation reasons are written by people, about a person).
pub fn placement_view(
    row: PlacementRow,
    reviews: Reviews,
    rules: &RuleSet,
    date_of_birth: NaiveDate,
    today: NaiveDate,
    show_facility: bool,
    show_reasons: bool,
) -> PlacementView {
    let status = status(&row, today);
    let running = status == Status::Active;
    let continued_care_after_18 = matches!(status, Status::Active | Status::Planned)
        .then(|| {
            continued_care(
                (row.start_date, row.last_day()),
                date_of_birth,
                rules.adult_age,
                reviews.continued_care,
                today,
            )
        })
        .flatten();
    PlacementView {
        id: row.id,
        child_id: row.child_id,
        facility_id: show_facility.then_some(row.facility_id),
        status,
        start_date: row.start_date,
        planned_end: row.planned_end,
        end_date: row.end_date,
        end_reason: row.end_reason,
        legal_basis: row.legal_basis,
        decision_reference: row.decision_reference,
        special_reasons: row.special_reasons.filter(|_| show_reasons),
        deviation_reason: row.deviation_reason.filter(|_| show_reasons),
        cancelled_at: row.cancelled_at,
        cancellation_reason: row.cancellation_reason.filter(|_| show_reasons),
        reconsideration: running.then(|| {
            due_after(
                reviews.last_reconsideration.unwrap_or(row.start_date),
                rules.reconsideration_interval_months,
                today,
            )
        }),
        care_plan_revision: running.then(|| {
            due_after(
                reviews.last_care_plan.unwrap_or(row.start_date),
                rules.care_plan_revision_months,
                today,
            )
        }),
        continued_care_after_18,
    }
}
