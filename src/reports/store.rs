//! The facts of the compliance report, in three queries whatever the number of children: the
//! schedules running in the period, the contacts that count for them, and the period's visits.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::committee::EducationStart;
use super::compliance::{Period, ScheduleFacts, VisitFacts};
use crate::db::contact_schedules::ScheduleRow;
use crate::db::schema::{age_out_plans, children, contact_schedules, placements};
use crate::policy::report::ReportScope;

/// The one unit `scope` covers, or `None` for every unit.
pub fn unit_filter(scope: ReportScope) -> Option<Uuid> {
    match scope {
        ReportScope::Unit(id) => Some(id),
        ReportScope::AllUnits => None,
    }
}

/// The schedules of the children in scope running on some day of the period, each with the
/// contacts that count for it up to the period's end.
pub fn schedules(
    conn: &mut PgConnection,
    scope: ReportScope,
    period: Period,
) -> QueryResult<Vec<ScheduleFacts>> {
    let mut query = contact_schedules::table
        .inner_join(children::table.on(children::id.eq(contact_schedules::child_id)))
        .left_join(
            placements::table.on(placements::id
                .nullable()
                .eq(contact_schedules::placement_id)),
        )
        .filter(contact_schedules::start_date.le(period.to))
        .filter(
            contact_schedules::end_date
                .is_null()
                .or(contact_schedules::end_date.ge(period.from)),
        )
        .select((
            ScheduleRow::as_select(),
            children::responsible_unit_id,
            placements::facility_id.nullable(),
        ))
        .into_boxed();
    if let Some(unit) = unit_filter(scope) {
        query = query.filter(children::responsible_unit_id.eq(unit));
    }
    let rows: Vec<(ScheduleRow, Uuid, Option<Uuid>)> = query.load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|(row, _, _)| row.id).collect();
    let mut contacts = counting_contacts(conn, &ids, period.to)?;
    Ok(rows
        .into_iter()
        .map(|(row, unit_id, facility_id)| ScheduleFacts {
            id: row.id,
            child_id: row.child_id,
            unit_id,
            responsible: row.responsible,
            secretary_id: row.secretary_id,
            facility_id,
            schedule: row.as_schedule(),
            contacts: contacts.remove(&row.id).unwrap_or_default(),
        })
        .collect())
}

#[derive(QueryableByName)]
struct Contact {
    #[diesel(sql_type = SqlUuid)]
    schedule_id: Uuid,
    #[diesel(sql_type = Date)]
    on: NaiveDate,
}

/// The local dates of the contacts that count for each schedule up to `until`: completed, not
/// corrected by a later entry, with the private conversation the schedule asks for (the same
/// rule as `db::contact_schedules::last_contacts`).
fn counting_contacts(
    conn: &mut PgConnection,
    schedule_ids: &[Uuid],
    until: NaiveDate,
) -> QueryResult<HashMap<Uuid, Vec<NaiveDate>>> {
    let rows: Vec<Contact> = diesel::sql_query(
        "SELECT v.schedule_id, (v.occurred_at AT TIME ZONE 'Europe/Stockholm')::date AS on \
         FROM visits v JOIN contact_schedules s ON s.id = v.schedule_id \
         WHERE v.schedule_id = ANY($1) AND v.completed \
           AND (v.spoke_alone OR NOT s.private_conversation) \
           AND NOT EXISTS (SELECT 1 FROM visits c WHERE c.corrects_id = v.id) \
           AND (v.occurred_at AT TIME ZONE 'Europe/Stockholm')::date <= $2",
    )
    .bind::<Array<SqlUuid>, _>(schedule_ids)
    .bind::<Date, _>(until)
    .load(conn)?;
    let mut by_schedule: HashMap<Uuid, Vec<NaiveDate>> = HashMap::new();
    for row in rows {
        by_schedule.entry(row.schedule_id).or_default().push(row.on);
    }
    Ok(by_schedule)
}

#[derive(QueryableByName)]
struct Visit {
    #[diesel(sql_type = SqlUuid)]
    child_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    unit_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    schedule_id: Option<Uuid>,
    #[diesel(sql_type = SqlUuid)]
    performed_by: Uuid,
    #[diesel(sql_type = Bool)]
    by_secretary: bool,
    #[diesel(sql_type = Bool)]
    completed: bool,
    #[diesel(sql_type = Bool)]
    spoke_alone: bool,
    #[diesel(sql_type = Bool)]
    at_placement: bool,
}

/// The visits to children in scope on a local day of the period, each in its latest version.
pub fn visits(
    conn: &mut PgConnection,
    scope: ReportScope,
    period: Period,
) -> QueryResult<Vec<VisitFacts>> {
    let rows: Vec<Visit> = diesel::sql_query(
        "SELECT v.child_id, c.responsible_unit_id AS unit_id, v.schedule_id, v.performed_by, \
                u.profession = $4 AS by_secretary, v.completed, v.spoke_alone, v.at_placement \
         FROM visits v JOIN children c ON c.id = v.child_id JOIN users u ON u.id = v.performed_by \
         WHERE (v.occurred_at AT TIME ZONE 'Europe/Stockholm')::date BETWEEN $1 AND $2 \
           AND ($3::uuid IS NULL OR c.responsible_unit_id = $3) \
           AND NOT EXISTS (SELECT 1 FROM visits l WHERE l.corrects_id = v.id)",
    )
    .bind::<Date, _>(period.from)
    .bind::<Date, _>(period.to)
    .bind::<Nullable<SqlUuid>, _>(unit_filter(scope))
    .bind::<Text, _>(crate::policy::Profession::SocialSecretary.as_str())
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|v| VisitFacts {
            child_id: v.child_id,
            unit_id: v.unit_id,
            schedule_id: v.schedule_id,
            performed_by: v.performed_by,
            by_secretary: v.by_secretary,
            completed: v.completed,
            spoke_alone: v.spoke_alone,
            at_placement: v.at_placement,
        })
        .collect())
}

/// The education starts from `from` to `to` recorded in the age-out plans of `children`, as
/// each plan stands (the plan's row is its current version), in one query.
pub fn education_starts(
    conn: &mut PgConnection,
    children: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<EducationStart>> {
    let rows: Vec<(Uuid, NaiveDate, NaiveDate)> = age_out_plans::table
        .filter(age_out_plans::child_id.eq_any(children))
        .filter(age_out_plans::education_applied_on.is_not_null())
        .filter(age_out_plans::education_started_on.between(from, to))
        .select((
            age_out_plans::child_id,
            age_out_plans::education_applied_on.assume_not_null(),
            age_out_plans::education_started_on.assume_not_null(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(child, applied_on, started_on)| EducationStart {
            child,
            applied_on,
            started_on,
        })
        .collect())
}
