//! Age-out plans for the demo, in every state: a youth weeks from 21 whose housing goal is still
//! open, plans with goals in progress, achieved and dropped, one reviewed and one whose review
//! is overdue, and a wait for SFI past its limit. Written as the secretary would, each row with
//! its audit event.

use chrono::{Duration, Months, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::{AuditAction, AuditActor, AuditEvent, EntityType};
use crate::db::children::ChildRow;
use crate::db::schema::{child_secretaries, children, placements};
use crate::domain::age::birthday;
use crate::domain::age_out::{EducationKind, GoalDomain, GoalResponsible, GoalStatus};
use crate::error::AppResult;
use crate::plans::store::{self, GoalRow, NoteRow, PlanRow, ReviewRow};

fn event(child: &ChildRow, entity_type: EntityType, entity: Uuid) -> AuditEvent {
    AuditEvent::new(
        AuditActor::system(),
        AuditAction::Create,
        entity_type,
        Some(entity),
        Utc::now(),
    )
    .about_child(
        child.id,
        Some(child.responsible_unit_id),
        child.protection_level.is_protected(),
    )
}

/// Plans for the placed children of 17 and over, oldest first; returns how many.
pub fn plans(conn: &mut PgConnection, events: &mut Vec<AuditEvent>) -> AppResult<usize> {
    let today = Utc::now().date_naive();
    let placed: Vec<Uuid> = placements::table
        .filter(placements::end_date.is_null())
        .filter(placements::cancelled_at.is_null())
        .select(placements::child_id)
        .load(conn)?;
    let mut kids: Vec<ChildRow> = children::table
        .filter(children::id.eq_any(&placed))
        .select(ChildRow::as_select())
        .load(conn)?;
    kids.retain(|c| birthday(c.date_of_birth, 17) <= today);
    kids.sort_by_key(|c| c.date_of_birth);
    let mut made = 0;
    for (n, child) in kids.iter().enumerate() {
        let Some(secretary) = child_secretaries::table
            .filter(child_secretaries::child_id.eq(child.id))
            .select(child_secretaries::user_id)
            .first::<Uuid>(conn)
            .optional()?
        else {
            continue;
        };
        let opened_on = (today - Duration::days(120 + 40 * n as i64))
            .max(birthday(child.date_of_birth, 17))
            .min(today);
        let plan_id = Uuid::now_v7();
        let ev = event(child, EntityType::AgeOutPlan, plan_id);
        // Every third youth waits for SFI, one of them past the three months.
        let applied = (n % 3 == 1).then(|| today - Duration::days(if n == 1 { 100 } else { 30 }));
        let plan = PlanRow {
            id: plan_id,
            child_id: child.id,
            opened_on,
            opened_by: secretary,
            education_kind: applied.map(|_| EducationKind::Sfi),
            education_applied_on: applied,
            education_started_on: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
            last_audit_event_id: ev.id,
        };
        store::insert_plan(conn, &plan)?;
        events.push(ev);
        let goals = [
            // The oldest youth's housing goal is still open, weeks from 21.
            (
                GoalDomain::Housing,
                "A flat of her own, with a first-hand contract",
                GoalResponsible::Youth,
                if n == 0 {
                    GoalStatus::InProgress
                } else {
                    [
                        GoalStatus::Achieved,
                        GoalStatus::InProgress,
                        GoalStatus::NotStarted,
                    ][n % 3]
                },
            ),
            (
                GoalDomain::Economy,
                "Her own bank account and a budget she keeps",
                GoalResponsible::Secretary,
                [
                    GoalStatus::InProgress,
                    GoalStatus::Achieved,
                    GoalStatus::NotStarted,
                ][n % 3],
            ),
            (
                GoalDomain::EducationOccupation,
                "Finish the introductory programme",
                GoalResponsible::Youth,
                [
                    GoalStatus::InProgress,
                    GoalStatus::InProgress,
                    GoalStatus::Achieved,
                ][n % 3],
            ),
            (
                GoalDomain::Leisure,
                "Join the football club",
                GoalResponsible::HomeStaff,
                if n % 4 == 3 {
                    GoalStatus::Dropped
                } else {
                    GoalStatus::InProgress
                },
            ),
        ];
        let mut statuses = Vec::new();
        for (domain, description, responsible, status) in goals {
            let id = Uuid::now_v7();
            let ev = event(child, EntityType::AgeOutGoal, id);
            let goal = GoalRow {
                id,
                plan_id,
                child_id: child.id,
                domain,
                description: description.to_owned(),
                target_date: birthday(child.date_of_birth, 21) - Duration::days(60),
                responsible,
                responsible_other: None,
                status,
                dropped_reason: (status == GoalStatus::Dropped)
                    .then(|| "She found a choir she likes better".to_owned()),
                created_at: Utc::now(),
                updated_at: Utc::now(),
                version: 1,
                last_audit_event_id: ev.id,
            };
            store::insert_goal(conn, &goal, secretary)?;
            events.push(ev);
            statuses.push(serde_json::json!({"goal_id": id, "version": 1, "status": status}));
            if status == GoalStatus::InProgress && domain == GoalDomain::Housing {
                let note_id = Uuid::now_v7();
                let ev = event(child, EntityType::AgeOutProgressNote, note_id);
                store::insert_note(
                    conn,
                    &NoteRow {
                        id: note_id,
                        goal_id: id,
                        child_id: child.id,
                        noted_on: today - Duration::days(10),
                        note: "We looked at two flats together; she is on the housing queue."
                            .to_owned(),
                        written_by: secretary,
                        created_at: Utc::now(),
                        last_audit_event_id: ev.id,
                    },
                )?;
                events.push(ev);
            }
        }
        // Every other plan has had its review; the rest are due or overdue.
        let reviewed_on = opened_on
            .checked_add_months(Months::new(4))
            .unwrap_or(opened_on);
        if n % 2 == 0 && reviewed_on <= today {
            let review_id = Uuid::now_v7();
            let ev = event(child, EntityType::AgeOutReview, review_id);
            store::insert_review(
                conn,
                &ReviewRow {
                    id: review_id,
                    plan_id,
                    child_id: child.id,
                    held_on: reviewed_on,
                    participants: vec![
                        "The youth".into(),
                        "Her social secretary".into(),
                        "Staff of her home".into(),
                    ],
                    youth_view: "I want to live close to school. Money still worries me."
                        .to_owned(),
                    goal_statuses: serde_json::Value::Array(statuses),
                    recorded_by: secretary,
                    created_at: Utc::now(),
                    last_audit_event_id: ev.id,
                },
            )?;
            events.push(ev);
        }
        made += 1;
    }
    Ok(made)
}
