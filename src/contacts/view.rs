//! How schedules and visits are shown. Notes are social documentation: only for the child's
//! secretaries and, for her own visits, the person who made them; never in a system's view.
//! A protected child's home is shown only to those who see her protected fields.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::{ScheduleRow, VisitRow};
use crate::domain::contact::{ContactKind, Responsible, VisitMode};
use crate::domain::contact_due::Due;

#[derive(Debug, Serialize)]
pub struct ScheduleView {
    pub id: Uuid,
    pub child_id: Uuid,
    pub kind: ContactKind,
    pub responsible: Responsible,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secretary_id: Option<Uuid>,
    /// The home whose staff keep it (left out for a protected child when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    pub recurrence: String,
    pub tolerance_days: i32,
    pub private_conversation: bool,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_reason: Option<String>,
    /// The local date of the last contact that counts for it.
    pub last_contact_on: Option<NaiveDate>,
    /// The next contact due, while the schedule runs.
    pub next: Option<Due>,
    pub version: i32,
}

pub struct ScheduleContext {
    pub last_contact_on: Option<NaiveDate>,
    pub facility_id: Option<Uuid>,
    pub show_reason: bool,
    pub today: NaiveDate,
}

pub fn schedule_view(row: ScheduleRow, ctx: ScheduleContext) -> ScheduleView {
    let next = row.due(ctx.last_contact_on, ctx.today);
    ScheduleView {
        id: row.id,
        child_id: row.child_id,
        kind: row.kind,
        responsible: row.responsible,
        secretary_id: row.secretary_id,
        facility_id: ctx.facility_id,
        recurrence: row.recurrence,
        tolerance_days: row.tolerance_days,
        private_conversation: row.private_conversation,
        start_date: row.start_date,
        end_date: row.end_date,
        change_reason: row.change_reason.filter(|_| ctx.show_reason),
        last_contact_on: ctx.last_contact_on,
        next,
        version: row.version,
    }
}

#[derive(Debug, Serialize)]
pub struct VisitView {
    pub id: Uuid,
    pub child_id: Uuid,
    pub schedule_id: Option<Uuid>,
    pub performed_by: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub mode: VisitMode,
    pub at_placement: bool,
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_completed_reason: Option<String>,
    pub spoke_alone: bool,
    pub planned: bool,
    pub interpreter_used: bool,
    /// Left out unless the caller may read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The entry this one corrects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
    /// A later entry corrects this one: it no longer counts.
    pub corrected: bool,
    pub recorded_at: DateTime<Utc>,
}

/// `free_text`: the not-completed and correction reasons (people's words about a person).
pub fn visit_view(row: VisitRow, show_notes: bool, free_text: bool, corrected: bool) -> VisitView {
    VisitView {
        id: row.id,
        child_id: row.child_id,
        schedule_id: row.schedule_id,
        performed_by: row.performed_by,
        occurred_at: row.occurred_at,
        mode: row.mode,
        at_placement: row.at_placement,
        completed: row.completed,
        not_completed_reason: row.not_completed_reason.filter(|_| free_text),
        spoke_alone: row.spoke_alone,
        planned: row.planned,
        interpreter_used: row.interpreter_used,
        notes: row.notes.filter(|_| show_notes),
        corrects_id: row.corrects_id,
        correction_reason: row.correction_reason.filter(|_| free_text),
        corrected,
        recorded_at: row.created_at,
    }
}
