//! A revised date of birth (an assessed age re-assessed, or the true date learned): never an
//! edit, a decision with a reason and a decision reference, kept in `age_assessments`. Every
//! date derived from the date of birth follows by itself (milestones, care after 18, the
//! capacity forecast are computed when read), and so does a planned end that was the old
//! default. A placement the new age makes unlawful is reported in the answer (and in the
//! worklist while it lasts), never changed here.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::input::ChildInput;
use super::record::as_input;
use crate::access::work::ChildWork;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::db::children::ChildRow;
use crate::db::running_placements::{self, Running};
use crate::db::schema::{age_assessments, children, placements};
use crate::db::Stop;
use crate::domain::age::day_before_birthday;
use crate::domain::age_limits::AgeProblem;
use crate::error::{AppError, FieldError, Rule};
use crate::rules::RuleSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeAssessment {
    #[serde(with = "crate::http::date")]
    pub date_of_birth: NaiveDate,
    /// Whether the new date is itself an assessment (default: yes).
    #[serde(default = "assessed")]
    pub date_of_birth_assessed: bool,
    pub reason: String,
    pub decision_reference: String,
}

fn assessed() -> bool {
    true
}

/// The refusal of an edit that would change the date of birth: that is this decision's.
pub fn reassessment_required() -> AppError {
    AppError::unprocessable(vec![FieldError::new(
        "date_of_birth",
        "a date of birth is revised only as a re-assessment of its own: POST /api/v1/children/{id}/age-assessments with a reason and a decision reference",
    )
    .because(Rule::AgeReassessmentRequired)])
}

/// What the re-assessment did to the child's placements.
#[derive(Debug, Default, Serialize)]
pub struct Consequences {
    /// Planned ends that were the old default and now are the new one.
    pub planned_ends_moved: Vec<MovedEnd>,
    /// Placements the new age makes unlawful: for the case's people to decide, not changed.
    pub placements_to_review: Vec<ToReview>,
}

#[derive(Debug, Serialize)]
pub struct MovedEnd {
    pub placement_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Serialize)]
pub struct ToReview {
    pub placement_id: Uuid,
    pub problems: Vec<AgeProblem>,
}

fn checked(
    input: &AgeAssessment,
    child: &ChildRow,
    today: NaiveDate,
    rules: &RuleSet,
) -> Result<(String, String), AppError> {
    let mut errors = Vec::new();
    if input.date_of_birth == child.date_of_birth
        && input.date_of_birth_assessed == child.date_of_birth_assessed
    {
        errors.push(FieldError::new(
            "date_of_birth",
            "is the child's present date of birth",
        ));
    }
    // The child's record must still hold together with the new date: the checks of an edit.
    let mut revised = as_input(child);
    revised["date_of_birth"] = serde_json::json!(input.date_of_birth);
    revised["date_of_birth_assessed"] = serde_json::json!(input.date_of_birth_assessed);
    let parsed: ChildInput = crate::http::json::parse_json(revised.to_string().as_bytes())?;
    if let Err(found) = parsed.validate(today, rules) {
        errors.extend(found);
    }
    super::protection::decision_texts(&input.reason, &input.decision_reference, errors)
}

/// Revises the opened child's date of birth and records the decision; moves default planned
/// ends (each an audited change of its placement) and reports what the new age breaks.
pub fn decide(
    conn: &mut PgConnection,
    work: &ChildWork,
    input: &AgeAssessment,
) -> Result<(ChildRow, Vec<AuditEvent>, Consequences), Stop> {
    let child = &work.child;
    let (reason, decision_reference) = checked(input, child, work.at.today, work.rules())?;
    let decided_by = work
        .actor
        .user_id()
        .ok_or_else(|| AppError::forbidden("people only"))?;
    let (from, to) = (child.date_of_birth, input.date_of_birth);
    let event = work
        .event(AuditAction::ReassessAge, EntityType::Child, Some(child.id))
        .changed(["date_of_birth", "date_of_birth_assessed"])
        .purpose(format!("{reason} (decision {decision_reference})"));
    diesel::insert_into(age_assessments::table)
        .values((
            age_assessments::id.eq(Uuid::now_v7()),
            age_assessments::child_id.eq(child.id),
            age_assessments::from_date_of_birth.eq(from),
            age_assessments::to_date_of_birth.eq(to),
            age_assessments::from_assessed.eq(child.date_of_birth_assessed),
            age_assessments::to_assessed.eq(input.date_of_birth_assessed),
            age_assessments::reason.eq(&reason),
            age_assessments::decision_reference.eq(&decision_reference),
            age_assessments::decided_by.eq(decided_by),
            age_assessments::created_at.eq(work.at.now),
            age_assessments::last_audit_event_id.eq(event.id),
        ))
        .execute(conn)?;
    let row = diesel::update(
        children::table
            .find(child.id)
            .filter(children::version.eq(child.version)),
    )
    .set((
        children::date_of_birth.eq(to),
        children::date_of_birth_assessed.eq(input.date_of_birth_assessed),
        children::updated_at.eq(work.at.now),
        children::version.eq(children::version + 1),
        children::last_audit_event_id.eq(event.id),
    ))
    .returning(ChildRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or_else(|| Stop::from(AppError::stale_version()))?;
    let mut events = vec![event];
    let consequences = follow(conn, work, &row, from, &mut events)?;
    Ok((row, events, consequences))
}

/// Moves each planned end that was the old default to the new one (when nothing else is wrong
/// with the placement), and lists what the new age breaks.
fn follow(
    conn: &mut PgConnection,
    work: &ChildWork,
    child: &ChildRow,
    old_date_of_birth: NaiveDate,
    events: &mut Vec<AuditEvent>,
) -> Result<Consequences, Stop> {
    let rules = &work.settings.rules;
    let mut consequences = Consequences::default();
    for stay in running_placements::of_children(conn, &[child.id], work.at.today)? {
        let end_age = rules.on(stay.start_date).placement_end_age;
        let (old_default, new_default) = (
            day_before_birthday(old_date_of_birth, end_age),
            day_before_birthday(child.date_of_birth, end_age),
        );
        let follows = stay.end_date.is_none()
            && stay.planned_end == old_default
            && new_default >= stay.start_date
            && new_default >= work.at.today
            && new_default != old_default;
        let moved = Running {
            planned_end: if follows {
                new_default
            } else {
                stay.planned_end
            },
            ..stay.clone()
        };
        if follows && moved.age_problems(child.date_of_birth, rules).is_empty() {
            let event = work
                .event(AuditAction::Update, EntityType::Placement, Some(stay.id))
                .changed(["planned_end"])
                .about_child(
                    child.id,
                    Some(child.responsible_unit_id),
                    child.protection_level.is_protected(),
                );
            diesel::update(placements::table.find(stay.id))
                .set((
                    placements::planned_end.eq(new_default),
                    placements::updated_at.eq(work.at.now),
                    placements::version.eq(placements::version + 1),
                    placements::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            events.push(event);
            consequences.planned_ends_moved.push(MovedEnd {
                placement_id: stay.id,
                from: old_default,
                to: new_default,
            });
        } else {
            let problems = stay.age_problems(child.date_of_birth, rules);
            if !problems.is_empty() {
                consequences.placements_to_review.push(ToReview {
                    placement_id: stay.id,
                    problems,
                });
            }
        }
    }
    Ok(consequences)
}
