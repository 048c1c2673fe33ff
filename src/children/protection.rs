//! A decision on a child's protected identity (skyddad identitet), above all lowering it: never
//! an edit. It names the level before and after, why, and the decision behind it, and its
//! audit event is marked with the protection the child had until then, so the auditor's view of
//! protected identities shows every lowering.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::ProtectionLevel;
use crate::access::work::ChildWork;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::db::children::ChildRow;
use crate::db::schema::{children, protection_changes};
use crate::db::Stop;
use crate::error::{AppError, FieldError, Rule};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectionDecision {
    pub protection_level: ProtectionLevel,
    pub reason: String,
    pub decision_reference: String,
}

/// The refusal of an edit that would lower the protection: that is this decision's to make.
pub fn decision_required() -> AppError {
    AppError::unprocessable(vec![FieldError::new(
        "protection_level",
        "a protected identity is lowered only as a decision of its own: POST /api/v1/children/{id}/protection with a reason and a decision reference",
    )
    .because(Rule::ProtectionDecisionRequired)])
}

/// The decision's own checks against the child's present level: the trimmed reason and
/// decision reference, or a 422 naming every field out of bounds.
pub fn checked(
    input: &ProtectionDecision,
    current: ProtectionLevel,
) -> Result<(String, String), AppError> {
    let mut errors = Vec::new();
    if input.protection_level == current {
        let message = format!("is the child's present level ({current})");
        errors.push(FieldError::new("protection_level", message));
    }
    decision_texts(&input.reason, &input.decision_reference, errors)
}

/// The reason (10 to 1000 characters) and decision reference (1 to 100) of a decision about a
/// child, trimmed; a 422 naming every field at fault, `errors` found before included.
pub fn decision_texts(
    reason: &str,
    reference: &str,
    mut errors: Vec<FieldError>,
) -> Result<(String, String), AppError> {
    let reason = reason.trim();
    if !(10..=1000).contains(&reason.chars().count()) {
        errors.push(FieldError::new(
            "reason",
            "say why, in 10 to 1000 characters",
        ));
    }
    let reference = reference.trim();
    if !(1..=100).contains(&reference.chars().count()) {
        errors.push(FieldError::new("decision_reference", "1 to 100 characters"));
    }
    if errors.is_empty() {
        Ok((reason.to_owned(), reference.to_owned()))
    } else {
        Err(AppError::unprocessable(errors))
    }
}

/// Sets the opened child's protection and records the decision. Returns the changed row and
/// the event, marked with the protection she had: the auditor sees every lowering among the
/// accesses to protected identities.
pub fn decide(
    conn: &mut PgConnection,
    work: &ChildWork,
    input: &ProtectionDecision,
) -> Result<(ChildRow, AuditEvent), Stop> {
    let child = &work.child;
    let (reason, decision_reference) = checked(input, child.protection_level)?;
    let decided_by = work
        .actor
        .user_id()
        .ok_or_else(|| AppError::forbidden("people only"))?;
    let (from, to) = (child.protection_level, input.protection_level);
    let protected = from.is_protected();
    let event = work
        .event(
            AuditAction::ChangeProtection,
            EntityType::Child,
            Some(child.id),
        )
        .about_child(child.id, Some(child.responsible_unit_id), protected)
        .changed(["protection_level"])
        .purpose(format!(
            "{from} to {to}: {reason} (decision {decision_reference})"
        ));
    let decision = Decision {
        to,
        reason: &reason,
        decision_reference: &decision_reference,
        decided_by,
    };
    record(conn, child, decision, work.at.now, event.id)?;
    let row = diesel::update(
        children::table
            .find(child.id)
            .filter(children::version.eq(child.version)),
    )
    .set((
        children::protection_level.eq(to),
        children::updated_at.eq(work.at.now),
        children::version.eq(children::version + 1),
        children::last_audit_event_id.eq(event.id),
    ))
    .returning(ChildRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or_else(|| Stop::from(AppError::stale_version()))?;
    Ok((row, event))
}

struct Decision<'a> {
    to: ProtectionLevel,
    reason: &'a str,
    decision_reference: &'a str,
    decided_by: Uuid,
}

fn record(
    conn: &mut PgConnection,
    child: &ChildRow,
    decision: Decision<'_>,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(protection_changes::table)
        .values((
            protection_changes::id.eq(Uuid::now_v7()),
            protection_changes::child_id.eq(child.id),
            protection_changes::from_level.eq(child.protection_level),
            protection_changes::to_level.eq(decision.to),
            protection_changes::reason.eq(decision.reason),
            protection_changes::decision_reference.eq(decision.decision_reference),
            protection_changes::decided_by.eq(decision.decided_by),
            protection_changes::created_at.eq(now),
            protection_changes::last_audit_event_id.eq(event_id),
        ))
        .execute(conn)?;
    Ok(())
}
