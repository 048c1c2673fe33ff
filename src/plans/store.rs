//! Age-out plan rows. Every write names the audit event of its change; a goal's change writes
//! its version in the same transaction; versions, notes and reviews are only ever inserted (the
//! database refuses anything else).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::input::GoalFields;
use crate::db::schema::{
    age_out_goal_versions, age_out_goals, age_out_plan_versions, age_out_plans,
    age_out_progress_notes, age_out_reviews, facilities, placements,
};
use crate::domain::age_out::{EducationKind, GoalDomain, GoalResponsible, GoalStatus};
use crate::domain::facility_kind::FacilityKind;
use crate::http::pagination::Page;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = age_out_plans)]
pub struct PlanRow {
    pub id: Uuid,
    pub child_id: Uuid,
    pub opened_on: NaiveDate,
    pub opened_by: Uuid,
    pub education_kind: Option<EducationKind>,
    pub education_applied_on: Option<NaiveDate>,
    pub education_started_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub last_audit_event_id: Uuid,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = age_out_plan_versions)]
pub struct PlanVersionRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub child_id: Uuid,
    pub version: i32,
    pub opened_on: NaiveDate,
    pub education_kind: Option<EducationKind>,
    pub education_applied_on: Option<NaiveDate>,
    pub education_started_on: Option<NaiveDate>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
    pub last_audit_event_id: Uuid,
}

impl PlanVersionRow {
    /// The version `plan` is now, written by `changed_by`.
    pub fn of(plan: &PlanRow, changed_by: Uuid) -> Self {
        PlanVersionRow {
            id: Uuid::now_v7(),
            plan_id: plan.id,
            child_id: plan.child_id,
            version: plan.version,
            opened_on: plan.opened_on,
            education_kind: plan.education_kind,
            education_applied_on: plan.education_applied_on,
            education_started_on: plan.education_started_on,
            changed_by,
            changed_at: plan.updated_at,
            last_audit_event_id: plan.last_audit_event_id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = age_out_goals)]
pub struct GoalRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub child_id: Uuid,
    pub domain: GoalDomain,
    pub description: String,
    pub target_date: NaiveDate,
    pub responsible: GoalResponsible,
    pub responsible_other: Option<String>,
    pub status: GoalStatus,
    pub dropped_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub last_audit_event_id: Uuid,
}

impl GoalRow {
    pub fn fields(&self) -> GoalFields {
        GoalFields {
            domain: self.domain,
            description: self.description.clone(),
            target_date: self.target_date,
            responsible: self.responsible,
            responsible_other: self.responsible_other.clone(),
            status: self.status,
            dropped_reason: self.dropped_reason.clone(),
        }
    }

    pub fn set(&mut self, fields: GoalFields) {
        self.domain = fields.domain;
        self.description = fields.description;
        self.target_date = fields.target_date;
        self.responsible = fields.responsible;
        self.responsible_other = fields.responsible_other;
        self.status = fields.status;
        self.dropped_reason = fields.dropped_reason;
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = age_out_goal_versions)]
pub struct GoalVersionRow {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub child_id: Uuid,
    pub version: i32,
    pub domain: GoalDomain,
    pub description: String,
    pub target_date: NaiveDate,
    pub responsible: GoalResponsible,
    pub responsible_other: Option<String>,
    pub status: GoalStatus,
    pub dropped_reason: Option<String>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
    pub last_audit_event_id: Uuid,
}

impl GoalVersionRow {
    /// The version `goal` is now, written by `changed_by`.
    pub fn of(goal: &GoalRow, changed_by: Uuid) -> Self {
        GoalVersionRow {
            id: Uuid::now_v7(),
            goal_id: goal.id,
            child_id: goal.child_id,
            version: goal.version,
            domain: goal.domain,
            description: goal.description.clone(),
            target_date: goal.target_date,
            responsible: goal.responsible,
            responsible_other: goal.responsible_other.clone(),
            status: goal.status,
            dropped_reason: goal.dropped_reason.clone(),
            changed_by,
            changed_at: goal.updated_at,
            last_audit_event_id: goal.last_audit_event_id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = age_out_progress_notes)]
pub struct NoteRow {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub child_id: Uuid,
    pub noted_on: NaiveDate,
    pub note: String,
    pub written_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_audit_event_id: Uuid,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = age_out_reviews)]
pub struct ReviewRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub child_id: Uuid,
    pub held_on: NaiveDate,
    pub participants: Vec<String>,
    pub youth_view: String,
    /// `[{"goal_id", "version", "status"}]`, each goal as it stood when the review was held.
    pub goal_statuses: serde_json::Value,
    pub recorded_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_audit_event_id: Uuid,
}

pub fn plan_of(conn: &mut PgConnection, child_id: Uuid) -> QueryResult<Option<PlanRow>> {
    age_out_plans::table
        .filter(age_out_plans::child_id.eq(child_id))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts a new plan and its first version.
pub fn insert_plan(conn: &mut PgConnection, row: &PlanRow) -> QueryResult<()> {
    diesel::insert_into(age_out_plans::table)
        .values(row)
        .execute(conn)?;
    insert_plan_version(conn, &PlanVersionRow::of(row, row.opened_by))
}

fn insert_plan_version(conn: &mut PgConnection, row: &PlanVersionRow) -> QueryResult<()> {
    diesel::insert_into(age_out_plan_versions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// One page of the plan's versions, oldest first; `page.limit + 1` rows.
pub fn plan_versions_of(
    conn: &mut PgConnection,
    plan_id: Uuid,
    page: Page,
) -> QueryResult<Vec<PlanVersionRow>> {
    let mut query = age_out_plan_versions::table
        .filter(age_out_plan_versions::plan_id.eq(plan_id))
        .order(age_out_plan_versions::id)
        .select(PlanVersionRow::as_select())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(age_out_plan_versions::id.gt(after));
    }
    query.load(conn)
}

/// Writes the changed plan, if it is still the version before `row.version`, and that version
/// as `by` wrote it.
pub fn change_plan(conn: &mut PgConnection, row: &PlanRow, by: Uuid) -> QueryResult<bool> {
    let changed = diesel::update(
        age_out_plans::table
            .find(row.id)
            .filter(age_out_plans::version.eq(row.version - 1)),
    )
    .set((
        age_out_plans::education_kind.eq(row.education_kind),
        age_out_plans::education_applied_on.eq(row.education_applied_on),
        age_out_plans::education_started_on.eq(row.education_started_on),
        age_out_plans::updated_at.eq(row.updated_at),
        age_out_plans::version.eq(row.version),
        age_out_plans::last_audit_event_id.eq(row.last_audit_event_id),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Ok(false);
    }
    insert_plan_version(conn, &PlanVersionRow::of(row, by))?;
    Ok(true)
}

/// The plan's goals, oldest first.
pub fn goals_of(conn: &mut PgConnection, plan_id: Uuid) -> QueryResult<Vec<GoalRow>> {
    age_out_goals::table
        .filter(age_out_goals::plan_id.eq(plan_id))
        .order(age_out_goals::id)
        .select(GoalRow::as_select())
        .load(conn)
}

pub fn find_goal(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<GoalRow>> {
    age_out_goals::table
        .find(id)
        .select(GoalRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_goal_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<GoalRow>> {
    age_out_goals::table
        .find(id)
        .select(GoalRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()
}

/// Inserts a new goal and its first version.
pub fn insert_goal(conn: &mut PgConnection, row: &GoalRow, by: Uuid) -> QueryResult<()> {
    diesel::insert_into(age_out_goals::table)
        .values(row)
        .execute(conn)?;
    insert_version(conn, &GoalVersionRow::of(row, by))
}

/// Writes the changed goal, if it is still the version before `row.version`, and that version.
pub fn change_goal(conn: &mut PgConnection, row: &GoalRow, by: Uuid) -> QueryResult<bool> {
    let changed = diesel::update(
        age_out_goals::table
            .find(row.id)
            .filter(age_out_goals::version.eq(row.version - 1)),
    )
    .set((
        age_out_goals::domain.eq(row.domain),
        age_out_goals::description.eq(&row.description),
        age_out_goals::target_date.eq(row.target_date),
        age_out_goals::responsible.eq(row.responsible),
        age_out_goals::responsible_other.eq(&row.responsible_other),
        age_out_goals::status.eq(row.status),
        age_out_goals::dropped_reason.eq(&row.dropped_reason),
        age_out_goals::updated_at.eq(row.updated_at),
        age_out_goals::version.eq(row.version),
        age_out_goals::last_audit_event_id.eq(row.last_audit_event_id),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Ok(false);
    }
    insert_version(conn, &GoalVersionRow::of(row, by))?;
    Ok(true)
}

fn insert_version(conn: &mut PgConnection, row: &GoalVersionRow) -> QueryResult<()> {
    diesel::insert_into(age_out_goal_versions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// One page of the goal's versions, oldest first; `page.limit + 1` rows.
pub fn versions_of(
    conn: &mut PgConnection,
    goal_id: Uuid,
    page: Page,
) -> QueryResult<Vec<GoalVersionRow>> {
    let mut query = age_out_goal_versions::table
        .filter(age_out_goal_versions::goal_id.eq(goal_id))
        .order(age_out_goal_versions::id)
        .select(GoalVersionRow::as_select())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(age_out_goal_versions::id.gt(after));
    }
    query.load(conn)
}

/// The notes on `goal_ids`, oldest first.
pub fn notes_of(conn: &mut PgConnection, goal_ids: &[Uuid]) -> QueryResult<Vec<NoteRow>> {
    age_out_progress_notes::table
        .filter(age_out_progress_notes::goal_id.eq_any(goal_ids))
        .order((age_out_progress_notes::noted_on, age_out_progress_notes::id))
        .select(NoteRow::as_select())
        .load(conn)
}

pub fn insert_note(conn: &mut PgConnection, row: &NoteRow) -> QueryResult<()> {
    diesel::insert_into(age_out_progress_notes::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The plan's reviews, in the order they were held.
pub fn reviews_of(conn: &mut PgConnection, plan_id: Uuid) -> QueryResult<Vec<ReviewRow>> {
    age_out_reviews::table
        .filter(age_out_reviews::plan_id.eq(plan_id))
        .order((age_out_reviews::held_on, age_out_reviews::id))
        .select(ReviewRow::as_select())
        .load(conn)
}

pub fn insert_review(conn: &mut PgConnection, row: &ReviewRow) -> QueryResult<()> {
    diesel::insert_into(age_out_reviews::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The first day the child lived in supported housing, if she ever has or is set to (cancelled
/// placements never held a place).
pub fn supported_housing_from(
    conn: &mut PgConnection,
    child_id: Uuid,
) -> QueryResult<Option<NaiveDate>> {
    placements::table
        .inner_join(facilities::table.on(facilities::id.eq(placements::facility_id)))
        .filter(placements::child_id.eq(child_id))
        .filter(placements::cancelled_at.is_null())
        .filter(facilities::kind.eq(FacilityKind::SupportedHousing.as_str()))
        .select(diesel::dsl::min(placements::start_date))
        .first(conn)
}
