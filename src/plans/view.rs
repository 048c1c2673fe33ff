//! How an age-out plan is shown. The milestones are computed from the child's date of birth at
//! every read, so they follow a revised date of birth. The youth's own view in a review is for
//! her secretaries and the unit manager, not the home's staff; no system sees a plan.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::{GoalRow, GoalVersionRow, NoteRow, PlanRow, PlanVersionRow, ReviewRow};
use crate::domain::age_out::{
    education_wait, milestones, next_review, planned_reviews, Ages, EducationKind, EducationWait,
    GoalDomain, GoalResponsible, GoalStatus, Milestones, ReviewDue,
};
use crate::policy::child::Audience;
use crate::rules::RuleSet;

/// What a plan's view is computed from besides its rows.
#[derive(Debug, Clone, Copy)]
pub struct PlanFacts {
    pub date_of_birth: NaiveDate,
    pub supported_housing_from: Option<NaiveDate>,
    pub today: NaiveDate,
    pub audience: Audience,
}

#[derive(Debug, Serialize)]
pub struct MilestonesView {
    #[serde(flatten)]
    pub dates: Milestones,
    /// The reviews still to come at the rules' interval, up to the last placement day.
    pub planned_reviews: Vec<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct EducationView {
    pub kind: Option<EducationKind>,
    pub applied_on: Option<NaiveDate>,
    pub started_on: Option<NaiveDate>,
    /// The start is due within this many months of the application.
    pub start_within_months: u32,
    /// Once an application is recorded: the deadline, the waiting time and whether it is broken.
    pub wait: Option<EducationWait>,
}

#[derive(Debug, Serialize)]
pub struct NoteView {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub noted_on: NaiveDate,
    pub note: String,
    pub written_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct GoalView {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub child_id: Uuid,
    pub domain: GoalDomain,
    pub description: String,
    pub target_date: NaiveDate,
    pub responsible: GoalResponsible,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible_other: Option<String>,
    pub status: GoalStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_reason: Option<String>,
    /// Past its target date and neither achieved nor dropped.
    pub overdue: bool,
    pub progress_notes: Vec<NoteView>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct ReviewView {
    pub id: Uuid,
    pub held_on: NaiveDate,
    pub participants: Vec<String>,
    /// Left out for the home's staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub youth_view: Option<String>,
    /// Each goal as it stood at the review: `goal_id`, `version`, `status`.
    pub goal_statuses: serde_json::Value,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct PlanView {
    pub id: Uuid,
    pub child_id: Uuid,
    pub opened_on: NaiveDate,
    pub opened_by: Uuid,
    /// Opened after the day it was due by.
    pub opened_late: bool,
    pub milestones: MilestonesView,
    pub next_review: ReviewDue,
    pub education: EducationView,
    pub goals: Vec<GoalView>,
    pub reviews: Vec<ReviewView>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub fn ages(rules: &RuleSet) -> Ages {
    Ages {
        opens_at: rules.age_out_plan_opens_at_age,
        adult: rules.adult_age,
        placement_end: rules.placement_end_age,
    }
}

pub fn note_view(row: NoteRow) -> NoteView {
    NoteView {
        id: row.id,
        goal_id: row.goal_id,
        noted_on: row.noted_on,
        note: row.note,
        written_by: row.written_by,
        recorded_at: row.created_at,
    }
}

/// `notes`: this goal's, oldest first.
pub fn goal_view(row: GoalRow, notes: Vec<NoteRow>, today: NaiveDate) -> GoalView {
    let open = matches!(row.status, GoalStatus::NotStarted | GoalStatus::InProgress);
    GoalView {
        id: row.id,
        plan_id: row.plan_id,
        child_id: row.child_id,
        domain: row.domain,
        description: row.description,
        target_date: row.target_date,
        responsible: row.responsible,
        responsible_other: row.responsible_other,
        status: row.status,
        dropped_reason: row.dropped_reason,
        overdue: open && row.target_date < today,
        progress_notes: notes.into_iter().map(note_view).collect(),
        version: row.version,
        updated_at: row.updated_at,
    }
}

pub fn review_view(row: ReviewRow, audience: Audience) -> ReviewView {
    ReviewView {
        id: row.id,
        held_on: row.held_on,
        participants: row.participants,
        youth_view: Some(row.youth_view)
            .filter(|_| matches!(audience, Audience::Case | Audience::Management)),
        goal_statuses: row.goal_statuses,
        recorded_by: row.recorded_by,
        recorded_at: row.created_at,
    }
}

/// The dates of the plan: its milestones and its next review.
pub fn dates(
    plan: &PlanRow,
    reviews: &[ReviewRow],
    facts: PlanFacts,
    rules: &RuleSet,
) -> (MilestonesView, ReviewDue) {
    let dates = milestones(
        facts.date_of_birth,
        facts.supported_housing_from,
        ages(rules),
    );
    let last = reviews.iter().map(|r| r.held_on).max();
    let months = rules.age_out_plan_review_months;
    let next = next_review(plan.opened_on, last, months, facts.today);
    let planned = planned_reviews(next.due_on, months, dates.last_placement_day);
    (
        MilestonesView {
            dates,
            planned_reviews: planned,
        },
        next,
    )
}

pub fn education_view(plan: &PlanRow, rules: &RuleSet, today: NaiveDate) -> EducationView {
    let months = rules.education_start_within_months;
    EducationView {
        kind: plan.education_kind,
        applied_on: plan.education_applied_on,
        started_on: plan.education_started_on,
        start_within_months: months,
        wait: plan
            .education_applied_on
            .map(|applied| education_wait(applied, plan.education_started_on, months, today)),
    }
}

/// The whole plan. `goals` come with their notes.
pub fn plan_view(
    plan: PlanRow,
    goals: Vec<(GoalRow, Vec<NoteRow>)>,
    reviews: Vec<ReviewRow>,
    facts: PlanFacts,
    rules: &RuleSet,
) -> PlanView {
    let (milestones, next_review) = dates(&plan, &reviews, facts, rules);
    PlanView {
        id: plan.id,
        child_id: plan.child_id,
        opened_on: plan.opened_on,
        opened_by: plan.opened_by,
        opened_late: plan.opened_on > milestones.dates.opens_by,
        education: education_view(&plan, rules, facts.today),
        milestones,
        next_review,
        goals: goals
            .into_iter()
            .map(|(goal, notes)| goal_view(goal, notes, facts.today))
            .collect(),
        reviews: reviews
            .into_iter()
            .map(|r| review_view(r, facts.audience))
            .collect(),
        version: plan.version,
        updated_at: plan.updated_at,
    }
}

/// One version of the plan's own fields, as they were after a change.
#[derive(Debug, Serialize)]
pub struct PlanVersionView {
    pub plan_id: Uuid,
    pub version: i32,
    pub opened_on: NaiveDate,
    pub education_kind: Option<EducationKind>,
    pub education_applied_on: Option<NaiveDate>,
    pub education_started_on: Option<NaiveDate>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

pub fn plan_version_view(row: PlanVersionRow) -> PlanVersionView {
    PlanVersionView {
        plan_id: row.plan_id,
        version: row.version,
        opened_on: row.opened_on,
        education_kind: row.education_kind,
        education_applied_on: row.education_applied_on,
        education_started_on: row.education_started_on,
        changed_by: row.changed_by,
        changed_at: row.changed_at,
    }
}

/// One version of a goal, as it was after a change.
#[derive(Debug, Serialize)]
pub struct GoalVersionView {
    pub goal_id: Uuid,
    pub version: i32,
    pub domain: GoalDomain,
    pub description: String,
    pub target_date: NaiveDate,
    pub responsible: GoalResponsible,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible_other: Option<String>,
    pub status: GoalStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_reason: Option<String>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

pub fn version_view(row: GoalVersionRow) -> GoalVersionView {
    GoalVersionView {
        goal_id: row.goal_id,
        version: row.version,
        domain: row.domain,
        description: row.description,
        target_date: row.target_date,
        responsible: row.responsible,
        responsible_other: row.responsible_other,
        status: row.status,
        dropped_reason: row.dropped_reason,
        changed_by: row.changed_by,
        changed_at: row.changed_at,
    }
}
