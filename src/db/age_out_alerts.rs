//! Who risks leaving care unprepared: the alerts of the age-out work for some children, in a
//! fixed number of queries. A youth within months of 21 without a plan, or with open goals for
//! housing or economy; a plan whose review is overdue; an 18th birthday coming without the
//! decision on care after it; a wait for school or SFI past its limit. Shown in the worklist
//! and in the unit manager's list; each disappears once what it asks for is done.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, Months, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::children::ChildRow;
use super::placement_reviews::reviews_of;
use super::running_placements;
use super::schema::{age_out_goals, age_out_plans, age_out_reviews};
use crate::domain::age::birthday;
use crate::domain::age_out::{education_wait, next_review};
use crate::domain::decisions::continued_care;
use crate::rules::Rules;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Within months of 21 (the end of placement) and no age-out plan.
    #[serde(rename = "near_21_without_plan")]
    Near21WithoutPlan,
    /// Within months of 21 with a housing or economy goal not yet achieved or dropped.
    #[serde(rename = "near_21_with_open_goals")]
    Near21WithOpenGoals,
    /// The plan's review is overdue for its interval.
    PlanReviewOverdue,
    /// The 18th birthday is near and care after it is not decided.
    #[serde(rename = "turns_18_without_decision")]
    Turns18WithoutDecision,
    /// Applied to school or SFI, and no start within the months the rule allows.
    EducationWaitTooLong,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub child_id: Uuid,
    pub kind: AlertKind,
    /// The date the alert is about: the 21st or 18th birthday, the review's or the start's due date.
    pub on: NaiveDate,
}

struct Plan {
    id: Uuid,
    opened_on: NaiveDate,
    applied_on: Option<NaiveDate>,
    started_on: Option<NaiveDate>,
}

/// The alerts of `children` on `today`, in child and kind order. Only children with a placement
/// that runs or is planned are in care, and only they are alerted about.
pub fn of_children(
    conn: &mut PgConnection,
    children: &HashMap<Uuid, ChildRow>,
    rules: &Rules,
    today: NaiveDate,
) -> QueryResult<Vec<Alert>> {
    let ids: Vec<Uuid> = children.keys().copied().collect();
    let stays = running_placements::of_children(conn, &ids, today)?;
    let in_care: HashSet<Uuid> = stays.iter().map(|s| s.child_id).collect();
    let plans: HashMap<Uuid, Plan> = age_out_plans::table
        .filter(age_out_plans::child_id.eq_any(&ids))
        .select((
            age_out_plans::child_id,
            age_out_plans::id,
            age_out_plans::opened_on,
            age_out_plans::education_applied_on,
            age_out_plans::education_started_on,
        ))
        .load::<(Uuid, Uuid, NaiveDate, Option<NaiveDate>, Option<NaiveDate>)>(conn)?
        .into_iter()
        .map(|(child, id, opened_on, applied_on, started_on)| {
            (
                child,
                Plan {
                    id,
                    opened_on,
                    applied_on,
                    started_on,
                },
            )
        })
        .collect();
    let plan_ids: Vec<Uuid> = plans.values().map(|p| p.id).collect();
    let open_goals: HashSet<Uuid> = age_out_goals::table
        .filter(age_out_goals::plan_id.eq_any(&plan_ids))
        .filter(age_out_goals::domain.eq_any(["housing", "economy"]))
        .filter(age_out_goals::status.eq_any(["not_started", "in_progress"]))
        .select(age_out_goals::child_id)
        .load::<Uuid>(conn)?
        .into_iter()
        .collect();
    let last_reviews: HashMap<Uuid, NaiveDate> = age_out_reviews::table
        .filter(age_out_reviews::plan_id.eq_any(&plan_ids))
        .group_by(age_out_reviews::plan_id)
        .select((
            age_out_reviews::plan_id,
            diesel::dsl::max(age_out_reviews::held_on),
        ))
        .load::<(Uuid, Option<NaiveDate>)>(conn)?
        .into_iter()
        .filter_map(|(plan, held)| Some((plan, held?)))
        .collect();
    let stay_ids: Vec<Uuid> = stays.iter().map(|s| s.id).collect();
    let decisions = reviews_of(conn, &stay_ids)?;

    let set = rules.on(today);
    let mut alerts = Vec::new();
    for (child_id, child) in children {
        if !in_care.contains(child_id) {
            continue;
        }
        let alert = |kind, on| Alert {
            child_id: *child_id,
            kind,
            on,
        };
        let plan = plans.get(child_id);
        let turns_21 = birthday(child.date_of_birth, set.placement_end_age);
        let warn_from = turns_21
            .checked_sub_months(Months::new(set.alert_months_before_21))
            .unwrap_or(turns_21);
        if (warn_from..turns_21).contains(&today) {
            match plan {
                None => alerts.push(alert(AlertKind::Near21WithoutPlan, turns_21)),
                Some(_) if open_goals.contains(child_id) => {
                    alerts.push(alert(AlertKind::Near21WithOpenGoals, turns_21))
                }
                Some(_) => {}
            }
        }
        if let Some(plan) = plan {
            let last = last_reviews.get(&plan.id).copied();
            let review = next_review(plan.opened_on, last, set.age_out_plan_review_months, today);
            if review.overdue {
                alerts.push(alert(AlertKind::PlanReviewOverdue, review.due_on));
            }
            if let Some(applied) = plan.applied_on {
                let wait = education_wait(
                    applied,
                    plan.started_on,
                    set.education_start_within_months,
                    today,
                );
                if wait.waiting && wait.breach {
                    alerts.push(alert(AlertKind::EducationWaitTooLong, wait.start_due_by));
                }
            }
        }
        let horizon = today + Duration::days(i64::from(set.alert_days_before_18));
        let undecided = stays
            .iter()
            .filter(|s| s.child_id == *child_id)
            .find_map(|s| {
                let decided = decisions.get(&s.id).and_then(|d| d.continued_care);
                continued_care(
                    (s.start_date, s.last_day()),
                    child.date_of_birth,
                    set.adult_age,
                    decided,
                    today,
                )
                .filter(|care| care.continues.is_none())
            });
        if let Some(care) = undecided {
            if (today..=horizon).contains(&care.decision_needed_by) {
                alerts.push(alert(
                    AlertKind::Turns18WithoutDecision,
                    care.decision_needed_by,
                ));
            }
        }
    }
    alerts.sort_by_key(|a| (a.on, a.child_id, a.kind as u8));
    Ok(alerts)
}
