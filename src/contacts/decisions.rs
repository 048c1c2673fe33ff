//! The placement decisions due for the children in a worker's reach, for the worklist: the
//! reconsideration of continued need, the care plan's revision, and the decision whether care
//! continues past 18. The dates are the ones a placement shows (`domain::decisions`).

use std::collections::HashMap;

use chrono::NaiveDate;
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
use crate::domain::decisions::{continued_care, due_after, ReviewKind};
use crate::rules::RuleSet;

#[derive(Debug, Serialize)]
pub struct DecisionItem {
    pub child_id: Uuid,
    pub placement_id: Uuid,
    pub kind: ReviewKind,
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
        let mut due = vec![
            (
                ReviewKind::Reconsideration,
                due_after(
                    decided.last_reconsideration.unwrap_or(start),
                    rules.reconsideration_interval_months,
                    at.today,
                ),
            ),
            (
                ReviewKind::CarePlan,
                due_after(
                    decided.last_care_plan.unwrap_or(start),
                    rules.care_plan_revision_months,
                    at.today,
                ),
            ),
        ]
        .into_iter()
        .map(|(kind, due)| (kind, due.due_on, due.overdue))
        .collect::<Vec<_>>();
        let adult = continued_care(
            (start, last_day),
            child.date_of_birth,
            rules.adult_age,
            decided.continued_care,
            at.today,
        );
        if let Some(care) = adult.filter(|care| care.continues.is_none()) {
            due.push((
                ReviewKind::ContinuedCareAfter18,
                care.decision_needed_by,
                care.overdue,
            ));
        }
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
