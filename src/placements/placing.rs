//! Placing a child and moving her: every rule before a placement is written, in the order the
//! locks are taken (child, then placement, then facility), so what is checked is what is written.

use diesel::pg::PgConnection;
use uuid::Uuid;

use super::checks::{self, latest_end, NewPlacementFacts};
use super::input::{reason, reference, PlacementInput};
use super::store::{self, PlacementRow};
use super::EndReason;
use crate::access::work::ChildWork;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::db::Stop;
use crate::db::{contact_schedules, occupancy};
use crate::error::{AppError, ConflictKind};
use crate::policy::Profession;

/// The fields a new placement's event names.
pub const NEW_PLACEMENT_FIELDS: [&str; 5] = [
    "facility_id",
    "start_date",
    "planned_end",
    "legal_basis",
    "decision_reference",
];

/// Creates a placement for the opened (and locked) child after every rule: checked facts, no
/// overlap, a free place every day. Returns the row and the event that records it.
pub fn place(
    conn: &mut PgConnection,
    work: &ChildWork,
    input: PlacementInput,
) -> Result<(PlacementRow, AuditEvent), Stop> {
    let child = &work.child;
    let rules = work.settings.rules.on(input.start_date);
    let mut errors = Vec::new();
    let legal_basis = reference("legal_basis", &input.legal_basis, &mut errors);
    let decision_reference =
        reference("decision_reference", &input.decision_reference, &mut errors);
    let special_reasons = reason(
        "special_reasons",
        input.special_reasons.as_deref(),
        &mut errors,
    );
    let deviation_reason = reason(
        "deviation_reason",
        input.deviation_reason.as_deref(),
        &mut errors,
    );
    let Some(facility) = store::lock_facility(conn, input.facility_id)?.filter(|f| f.active) else {
        return Err(AppError::rule("facility_id", "no such active facility").into());
    };
    let history = store::of_child(conn, child.id)?;
    let planned_end = input
        .planned_end
        .unwrap_or_else(|| latest_end(child.date_of_birth, rules));
    errors.extend(checks::check(
        &NewPlacementFacts {
            date_of_birth: child.date_of_birth,
            kind: facility.kind,
            start_date: input.start_date,
            planned_end,
            legal_basis: &legal_basis,
            special_reasons: special_reasons.as_deref(),
            deviation_reason: deviation_reason.as_deref(),
            first_placement: history.iter().all(|p| p.cancelled_at.is_some()),
            by_unit_manager: work.actor.profession() == Some(Profession::UnitManager),
        },
        rules,
    ));
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors).into());
    }
    let overlaps = history.iter().any(|p| {
        p.cancelled_at.is_none() && p.start_date <= planned_end && input.start_date <= p.last_day()
    });
    if overlaps {
        return Err(AppError::conflict(
            ConflictKind::PlacementOverlap,
            "the child already has a placement on some of these days; end or move it first",
        )
        .into());
    }
    let busiest = occupancy::busiest_day(conn, facility.id, input.start_date, planned_end, None)?;
    if busiest >= i64::from(facility.capacity) {
        return Err(AppError::conflict(
            ConflictKind::FacilityFull,
            format!("{} has no free place on some of these days", facility.name),
        )
        .into());
    }
    let id = Uuid::now_v7();
    let event = work
        .event(AuditAction::Create, EntityType::Placement, Some(id))
        .changed(NEW_PLACEMENT_FIELDS);
    let row = PlacementRow {
        id,
        child_id: child.id,
        facility_id: facility.id,
        start_date: input.start_date,
        planned_end,
        end_date: None,
        end_reason: None,
        legal_basis,
        decision_reference,
        special_reasons,
        deviation_reason,
        cancelled_at: None,
        cancellation_reason: None,
        created_at: work.at.now,
        updated_at: work.at.now,
        version: 1,
        last_audit_event_id: event.id,
    };
    store::insert(conn, &row)?;
    Ok((row, event))
}

/// Starts the contact schedules the rules give the new placement `row`.
pub fn start_schedules(
    conn: &mut PgConnection,
    work: &ChildWork,
    row: &PlacementRow,
    event_id: Uuid,
) -> Result<(), Stop> {
    let kind = store::facility_kind(conn, row.facility_id)?;
    let placed = contact_schedules::Placed {
        child_id: row.child_id,
        placement_id: row.id,
        facility_kind: kind,
        start_date: row.start_date,
    };
    let rules = work.settings.rules.on(row.start_date);
    contact_schedules::start_for_placement(conn, &placed, rules, work.at.now, event_id)?;
    Ok(())
}

/// Ends the placement that runs into `next.start_date` the day before and places the child in
/// the next one: both or neither, since a refused new placement rolls the ending back too.
/// Returns the new placement and the events of both changes.
pub fn move_child(
    conn: &mut PgConnection,
    work: &ChildWork,
    next: PlacementInput,
) -> Result<(PlacementRow, [AuditEvent; 2]), Stop> {
    let Some(day_before) = next.start_date.pred_opt() else {
        return Err(AppError::rule("move_date", "is not a valid date").into());
    };
    let current = store::of_child(conn, work.child.id)?
        .into_iter()
        .find(|p| p.is_active_on(day_before) && p.last_day() >= next.start_date);
    let Some(current) = current else {
        return Err(AppError::rule(
            "move_date",
            "the child has no placement running into that day; create a placement instead",
        )
        .into());
    };
    if current.start_date >= next.start_date {
        return Err(AppError::rule(
            "move_date",
            "is not after the current placement's start; cancel it instead",
        )
        .into());
    }
    // Ending the current placement locks its facility (the capacity trigger) and the new one is
    // locked next; take both now, in id order, so that two crossing moves (A to B, B to A)
    // queue up instead of deadlocking.
    store::lock_facilities(conn, &[current.facility_id, next.facility_id])?;
    let end_event = work
        .event(AuditAction::Update, EntityType::Placement, Some(current.id))
        .changed(["end_date", "end_reason"]);
    store::end(
        conn,
        &current,
        day_before,
        EndReason::Moved,
        work.at.now,
        end_event.id,
    )?
    .ok_or_else(|| Stop::from(AppError::stale_version()))?;
    let (row, create_event) = place(conn, work, next)?;
    // The home staff's schedule follows her to the new home; the secretary's stays as it is.
    contact_schedules::follow_move(conn, current.id, row.id, work.at.now, create_event.id)?;
    start_schedules(conn, work, &row, create_event.id)?;
    Ok((row, [end_event, create_event]))
}

/// Refuses to extend `row` to `planned_end` unless its facility has a free place on every day
/// added. Holds the facility's row until commit, as a new placement does.
pub fn hold_added_days(
    conn: &mut PgConnection,
    row: &PlacementRow,
    planned_end: chrono::NaiveDate,
) -> Result<(), Stop> {
    let facility = store::lock_facility(conn, row.facility_id)?
        .ok_or_else(|| AppError::internal("a placement's facility is missing"))?;
    let added_from = row.planned_end.succ_opt().unwrap_or(planned_end);
    let busiest = occupancy::busiest_day(conn, facility.id, added_from, planned_end, Some(row.id))?;
    if busiest >= i64::from(facility.capacity) {
        return Err(AppError::conflict(
            ConflictKind::FacilityFull,
            format!(
                "{} has no free place on some of the added days",
                facility.name
            ),
        )
        .into());
    }
    Ok(())
}
