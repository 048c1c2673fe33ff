//! Contact schedule rows, and what a placement does to them: placing a child starts the
//! schedules the rules give (the secretary's visits, the home staff's contact), a move hands the
//! staff schedule on to the next home, and an ending or cancelled placement ends it. Shared by
//! the placements feature (which changes placements) and the contacts feature (which shows
//! and changes schedules). Every write names the audit event of the change that caused it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::{child_secretaries, contact_schedules};
use crate::domain::contact::{ContactKind, Responsible};
use crate::domain::contact_due::{next_due, Due, Schedule};
use crate::domain::facility_kind::FacilityKind;
use crate::domain::recurrence::Recurrence;
use crate::rules::RuleSet;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_schedules)]
pub struct ScheduleRow {
    pub id: Uuid,
    pub child_id: Uuid,
    pub kind: ContactKind,
    pub responsible: Responsible,
    pub secretary_id: Option<Uuid>,
    pub placement_id: Option<Uuid>,
    pub recurrence: String,
    pub tolerance_days: i32,
    pub private_conversation: bool,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub change_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub last_audit_event_id: Uuid,
}

/// The placement a schedule change comes from.
pub struct Placed {
    pub child_id: Uuid,
    pub placement_id: Uuid,
    pub facility_kind: FacilityKind,
    pub start_date: NaiveDate,
}

/// Starts the schedules `rules` give a new placement: the secretary's (for her first assigned
/// secretary, unless the child has a running one already) and the home staff's (unless one
/// followed the child here from her last home). Returns how many were started.
pub fn start_for_placement(
    conn: &mut PgConnection,
    placed: &Placed,
    rules: &RuleSet,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<usize> {
    let secretary: Option<Uuid> = child_secretaries::table
        .filter(child_secretaries::child_id.eq(placed.child_id))
        .select(child_secretaries::user_id)
        .order(child_secretaries::assigned_at)
        .first(conn)
        .optional()?;
    let has_secretary_schedule: bool = diesel::select(diesel::dsl::exists(
        contact_schedules::table
            .filter(contact_schedules::child_id.eq(placed.child_id))
            .filter(contact_schedules::responsible.eq(Responsible::Secretary))
            .filter(
                contact_schedules::end_date
                    .is_null()
                    .or(contact_schedules::end_date.ge(placed.start_date)),
            ),
    ))
    .get_result(conn)?;
    let has_staff_schedule: bool = diesel::select(diesel::dsl::exists(
        contact_schedules::table
            .filter(contact_schedules::placement_id.eq(placed.placement_id))
            .filter(contact_schedules::end_date.is_null()),
    ))
    .get_result(conn)?;
    let mut rows = Vec::new();
    for default in &rules.contact_schedules {
        if default
            .facility_kind
            .is_some_and(|k| k != placed.facility_kind)
        {
            continue;
        }
        let (secretary_id, placement_id) = match default.responsible {
            Responsible::Secretary if has_secretary_schedule => continue,
            Responsible::Secretary => match secretary {
                Some(id) => (Some(id), None),
                None => continue,
            },
            Responsible::FacilityStaff if has_staff_schedule => continue,
            Responsible::FacilityStaff => (None, Some(placed.placement_id)),
        };
        rows.push(ScheduleRow {
            id: Uuid::now_v7(),
            child_id: placed.child_id,
            kind: default.kind,
            responsible: default.responsible,
            secretary_id,
            placement_id,
            recurrence: default.recurrence.to_string(),
            tolerance_days: i32::try_from(default.tolerance_days).unwrap_or(90).min(90),
            private_conversation: default.private_conversation,
            start_date: placed.start_date,
            end_date: None,
            change_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
            last_audit_event_id: event_id,
        });
    }
    diesel::insert_into(contact_schedules::table)
        .values(&rows)
        .execute(conn)
}

/// Hands the staff schedules of `from` (a placement a move ended) to the home of `to`.
pub fn follow_move(
    conn: &mut PgConnection,
    from: Uuid,
    to: Uuid,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<usize> {
    diesel::update(
        contact_schedules::table
            .filter(contact_schedules::placement_id.eq(from))
            .filter(contact_schedules::end_date.is_null()),
    )
    .set((
        contact_schedules::placement_id.eq(to),
        contact_schedules::updated_at.eq(now),
        contact_schedules::version.eq(contact_schedules::version + 1),
        contact_schedules::last_audit_event_id.eq(event_id),
    ))
    .execute(conn)
}

/// Ends the running staff schedules of a placement that ended on `last_day` (or was cancelled:
/// then they end on the day they started).
pub fn end_with_placement(
    conn: &mut PgConnection,
    placement_id: Uuid,
    last_day: Option<NaiveDate>,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<usize> {
    let running = contact_schedules::table
        .filter(contact_schedules::placement_id.eq(placement_id))
        .filter(contact_schedules::end_date.is_null());
    let bookkeeping = (
        contact_schedules::updated_at.eq(now),
        contact_schedules::version.eq(contact_schedules::version + 1),
        contact_schedules::last_audit_event_id.eq(event_id),
    );
    match last_day {
        Some(day) => diesel::update(running)
            .set((
                contact_schedules::end_date.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Date>,
                >("GREATEST(start_date, ")
                .bind::<diesel::sql_types::Date, _>(day)
                .sql(")")),
                bookkeeping,
            ))
            .execute(conn),
        None => diesel::update(running)
            .set((
                contact_schedules::end_date.eq(contact_schedules::start_date.nullable()),
                bookkeeping,
            ))
            .execute(conn),
    }
}

#[derive(QueryableByName)]
struct LastContact {
    #[diesel(sql_type = SqlUuid)]
    schedule_id: Uuid,
    #[diesel(sql_type = Date)]
    on: NaiveDate,
}

/// The local date of the last contact that counts for each of `schedule_ids`: completed, not
/// corrected by a later entry, and with the private conversation the schedule asks for.
pub fn last_contacts(
    conn: &mut PgConnection,
    schedule_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, NaiveDate>> {
    if schedule_ids.is_empty() {
        return Ok(HashMap::new());
    }
    // `s.id = ANY($1)` repeats the join's key so PostgreSQL reads the few schedules by index
    // instead of hashing every schedule (bench/RESULTS.md: 38 ms to 1.8 ms at national scale).
    let rows: Vec<LastContact> = diesel::sql_query(
        "SELECT v.schedule_id, max((v.occurred_at AT TIME ZONE 'Europe/Stockholm')::date) AS on \
         FROM visits v JOIN contact_schedules s ON s.id = v.schedule_id \
         WHERE v.schedule_id = ANY($1) AND s.id = ANY($1) AND v.completed \
           AND (v.spoke_alone OR NOT s.private_conversation) \
           AND NOT EXISTS (SELECT 1 FROM visits c WHERE c.corrects_id = v.id) \
         GROUP BY v.schedule_id",
    )
    .bind::<Array<SqlUuid>, _>(schedule_ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.schedule_id, r.on)).collect())
}

/// Of `rows`, those whose next contact is due by `until` or overdue as of `today`, with it:
/// what a worklist and a calendar feed show. One query for the last contacts of all.
pub fn due_by(
    conn: &mut PgConnection,
    rows: Vec<ScheduleRow>,
    today: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<(ScheduleRow, Due)>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let last = last_contacts(conn, &ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let due = row.due(last.get(&row.id).copied(), today)?;
            (due.overdue || due.due_on <= until).then_some((row, due))
        })
        .collect())
}

impl ScheduleRow {
    /// The schedule's next contact after `last` (the last that counts for it), as of `today`.
    pub fn due(&self, last: Option<NaiveDate>, today: NaiveDate) -> Option<Due> {
        next_due(&self.as_schedule()?, last, today)
    }

    /// The schedule as the due-date rules see it; `None` for a stored recurrence that no
    /// longer parses (the database checks its shape, so only after a rule change).
    pub fn as_schedule(&self) -> Option<Schedule> {
        Some(Schedule {
            recurrence: Recurrence::parse(&self.recurrence).ok()?,
            tolerance_days: self.tolerance_days,
            start_date: self.start_date,
            end_date: self.end_date,
        })
    }
}
