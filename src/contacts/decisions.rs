//! The placement decisions due for the children in a worker's reach, for the worklist: the
//! reconsideration of continued need, the care plan's revision, and the decision whether care
//! continues past 18. The dates are the ones a placement shows (`domain::decisions`).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::access::child::AboutChild;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::children::ChildRow;
use crate::db::placement_days::covers;
use crate::db::placement_reviews::reviews_of;
use crate::db::schema::placements;
use crate::domain::age::birthday;
use crate::domain::decisions::{continued_care, due_after, Reviews};
use crate::rules::RuleSet;

/// What is due about a placement and the child in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Reconsideration,
    CarePlan,
    #[serde(rename = "continued_care_after_18")]
    ContinuedCareAfter18,
    /// Notify Migrationsverket of continued responsibility, weeks before the 18th birthday.
    MigrationAgencyNotice,
    /// Record on the child's guardian that the god man's appointment ended at 18, and whether a
    /// specially appointed guardian follows.
    GuardianAppointmentEnd,
}

#[derive(Debug, Serialize)]
pub struct DecisionItem {
    pub child_id: Uuid,
    pub placement_id: Uuid,
    pub kind: Task,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

type Running = (Uuid, Uuid, NaiveDate, NaiveDate, Option<NaiveDate>);

/// The decisions due by `until` (and every overdue one) on the placements running today of
/// `children`, with a read event of each placement shown.
pub fn due(
    conn: &mut PgConnection,
    actor: &Actor,
    children: &HashMap<Uuid, ChildRow>,
    rules: &RuleSet,
    until: NaiveDate,
    at: Moment,
) -> QueryResult<(Vec<DecisionItem>, Vec<AuditEvent>)> {
    let ids: Vec<Uuid> = children.keys().copied().collect();
    let running: Vec<Running> = placements::table
        .filter(placements::child_id.eq_any(&ids))
        .filter(covers(at.today))
        .select((
            placements::id,
            placements::child_id,
            placements::start_date,
            placements::planned_end,
            placements::end_date,
        ))
        .load(conn)?;
    let placement_ids: Vec<Uuid> = running.iter().map(|p| p.0).collect();
    let reviews = reviews_of(conn, &placement_ids)?;
    let (mut items, mut events) = (Vec::new(), Vec::new());
    for (id, child_id, start, planned_end, end_date) in running {
        let (Some(child), Some(decided)) = (children.get(&child_id), reviews.get(&id)) else {
            continue;
        };
        let last_day = end_date.unwrap_or(planned_end);
        let due = tasks(child, (start, last_day), decided, rules, at.today);
        let shown: Vec<_> = due
            .into_iter()
            .filter(|(_, due_on, overdue)| *overdue || *due_on <= until)
            .collect();
        if shown.is_empty() {
            continue;
        }
        events.push(
            actor
                .event(AuditAction::Read, EntityType::Placement, Some(id), at.now)
                .about(child),
        );
        items.extend(
            shown
                .into_iter()
                .map(|(kind, due_on, overdue)| DecisionItem {
                    child_id,
                    placement_id: id,
                    kind,
                    due_on,
                    overdue,
                }),
        );
    }
    items.sort_by_key(|i| (!i.overdue, i.due_on, i.placement_id));
    Ok((items, events))
}

/// The tasks of a placement running over `days` (first and last day), each with its due date
/// and whether it is overdue on `today`.
fn tasks(
    child: &ChildRow,
    (start, last_day): (NaiveDate, NaiveDate),
    decided: &Reviews,
    rules: &RuleSet,
    today: NaiveDate,
) -> Vec<(Task, NaiveDate, bool)> {
    let after = |last: Option<NaiveDate>, months| due_after(last.unwrap_or(start), months, today);
    let reconsideration = after(
        decided.last_reconsideration,
        rules.reconsideration_interval_months,
    );
    let care_plan = after(decided.last_care_plan, rules.care_plan_revision_months);
    let mut due = vec![
        (
            Task::Reconsideration,
            reconsideration.due_on,
            reconsideration.overdue,
        ),
        (Task::CarePlan, care_plan.due_on, care_plan.overdue),
    ];
    // The 18th birthday's tasks, for a placement that runs over it.
    if let Some(care) = continued_care(
        (start, last_day),
        child.date_of_birth,
        rules.adult_age,
        decided.continued_care,
        today,
    ) {
        if care.continues.is_none() {
            due.push((
                Task::ContinuedCareAfter18,
                care.decision_needed_by,
                care.overdue,
            ));
        }
        if decided.migration_agency_notice.is_none() {
            let notice_by = care.decision_needed_by
                - Duration::days(i64::from(rules.migration_agency_notice_days_before));
            due.push((Task::MigrationAgencyNotice, notice_by, today > notice_by));
        }
    }
    let guardian_ends = birthday(child.date_of_birth, rules.guardian_ends_at_age);
    let appointed = child.guardian_name.is_some() && child.guardian_ended_on.is_none();
    if appointed && guardian_ends <= last_day {
        due.push((
            Task::GuardianAppointmentEnd,
            guardian_ends,
            today > guardian_ends,
        ));
    }
    due
}

#[derive(Debug, Serialize)]
pub struct PlacementToReview {
    pub child_id: Uuid,
    pub placement_id: Uuid,
    pub problems: Vec<crate::domain::age_limits::AgeProblem>,
}

/// The running and planned placements of `children` that break the age rules for the child's
/// present date of birth (after an age re-assessment, say), with a read event of each.
pub fn to_review(
    conn: &mut PgConnection,
    actor: &Actor,
    children: &HashMap<Uuid, ChildRow>,
    rules: &crate::rules::Rules,
    at: Moment,
) -> QueryResult<(Vec<PlacementToReview>, Vec<AuditEvent>)> {
    let ids: Vec<Uuid> = children.keys().copied().collect();
    let (mut items, mut events) = (Vec::new(), Vec::new());
    for stay in crate::db::running_placements::of_children(conn, &ids, at.today)? {
        let Some(child) = children.get(&stay.child_id) else {
            continue;
        };
        let problems = stay.age_problems(child.date_of_birth, rules);
        if problems.is_empty() {
            continue;
        }
        events.push(
            actor
                .event(
                    AuditAction::Read,
                    EntityType::Placement,
                    Some(stay.id),
                    at.now,
                )
                .about(child),
        );
        items.push(PlacementToReview {
            child_id: stay.child_id,
            placement_id: stay.id,
            problems,
        });
    }
    Ok((items, events))
}

/// The age-out alerts of `children` (`db::age_out_alerts`), with a read event of each child
/// alerted about.
pub fn alerts(
    conn: &mut PgConnection,
    actor: &Actor,
    children: &HashMap<Uuid, ChildRow>,
    rules: &crate::rules::Rules,
    at: Moment,
) -> QueryResult<(Vec<crate::db::age_out_alerts::Alert>, Vec<AuditEvent>)> {
    let alerts = crate::db::age_out_alerts::of_children(conn, children, rules, at.today)?;
    let alerted: std::collections::BTreeSet<Uuid> = alerts.iter().map(|a| a.child_id).collect();
    let events = alerted
        .iter()
        .filter_map(|id| children.get(id))
        .map(|child| {
            actor
                .event(AuditAction::Read, EntityType::Child, Some(child.id), at.now)
                .about(child)
        })
        .collect();
    Ok((alerts, events))
}
