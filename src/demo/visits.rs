//! A year of contacts for the demo: the secretaries' quarterly visits (some late, some only
//! attempted, some away from the home) and the home staff's weekly or twice-weekly contact
//! where a home has staff. Two of anna's children are overdue today, so her first worklist
//! shows something real.

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::cases::Dice;
use crate::audit::{AuditAction, AuditActor, AuditEvent, EntityType};
use crate::contacts::store::VisitRow;
use crate::db::children::ChildRow;
use crate::db::contact_schedules::ScheduleRow;
use crate::db::schema::{children, contact_schedules, facility_staff, placements, visits};
use crate::domain::contact::{Responsible, VisitMode};
use crate::error::AppResult;

/// How many of `overdue_for`'s children have their secretary's visit overdue today.
const OVERDUE: usize = 2;

struct Plan {
    schedule: ScheduleRow,
    child: ChildRow,
    by: Uuid,
}

fn plans(conn: &mut PgConnection) -> AppResult<Vec<Plan>> {
    let rows: Vec<(ScheduleRow, ChildRow, Option<Uuid>)> = contact_schedules::table
        .inner_join(children::table.on(children::id.eq(contact_schedules::child_id)))
        .left_join(
            placements::table.on(placements::id
                .nullable()
                .eq(contact_schedules::placement_id)),
        )
        .filter(contact_schedules::end_date.is_null())
        .order(contact_schedules::id)
        .select((
            ScheduleRow::as_select(),
            ChildRow::as_select(),
            placements::facility_id.nullable(),
        ))
        .load(conn)?;
    let staff: Vec<(Uuid, Uuid)> = facility_staff::table
        .select((facility_staff::facility_id, facility_staff::user_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(schedule, child, home)| {
            let by = match schedule.responsible {
                Responsible::Secretary => schedule.secretary_id?,
                Responsible::FacilityStaff => {
                    staff.iter().find(|(f, _)| Some(*f) == home).map(|s| s.1)?
                }
            };
            Some(Plan {
                schedule,
                child,
                by,
            })
        })
        .collect())
}

/// The days of the contacts made, newest first: back from `last` by `gap` until `earliest`.
fn days_back(last: NaiveDate, earliest: NaiveDate, mut gap: impl FnMut() -> i64) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut day = last;
    while day >= earliest {
        days.push(day);
        day -= Duration::days(gap());
    }
    days
}

fn visit(plan: &Plan, on: NaiveDate, completed: bool, alone: bool, home: bool) -> VisitRow {
    let at = on.and_time(NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default());
    VisitRow {
        id: Uuid::now_v7(),
        child_id: plan.child.id,
        schedule_id: Some(plan.schedule.id),
        performed_by: plan.by,
        occurred_at: at.and_utc(),
        mode: if home {
            VisitMode::HomeVisit
        } else {
            VisitMode::MeetingElsewhere
        },
        at_placement: home,
        completed,
        not_completed_reason: (!completed).then(|| "The youth was not at home".to_owned()),
        spoke_alone: alone,
        planned: true,
        interpreter_used: plan.child.interpreter_needed,
        notes: None,
        corrects_id: None,
        correction_reason: None,
        created_at: Utc::now(),
        last_audit_event_id: Uuid::nil(),
    }
}

/// Records the year of contacts; `overdue_for` is the secretary two of whose children are
/// left overdue. Returns how many visits were written.
pub fn year_of_visits(
    conn: &mut PgConnection,
    overdue_for: Uuid,
    events: &mut Vec<AuditEvent>,
) -> AppResult<usize> {
    let today = Utc::now().date_naive();
    let yesterday = today - Duration::days(1);
    let mut dice = Dice(20_260_701);
    let mut overdue_left = OVERDUE;
    let mut rows = Vec::new();
    for plan in plans(conn)? {
        let arrival = plan.child.arrival_date.unwrap_or(plan.schedule.start_date);
        let earliest = plan
            .schedule
            .start_date
            .max(arrival)
            .max(today - Duration::days(365));
        match plan.schedule.responsible {
            Responsible::Secretary => {
                let overdue = plan.by == overdue_for
                    && overdue_left > 0
                    && plan.schedule.start_date <= today - Duration::days(130);
                overdue_left -= usize::from(overdue);
                let last = if overdue {
                    today - Duration::days(118)
                } else {
                    yesterday - Duration::days(20 + dice.roll(60) as i64)
                };
                let days = days_back(last, earliest, || {
                    if dice.roll(3) == 0 {
                        111
                    } else {
                        88 + dice.roll(6) as i64
                    }
                });
                for (n, day) in days.into_iter().enumerate() {
                    // The newest visit always counts: a private conversation at the home.
                    let alone = n == 0 || dice.roll(6) != 0;
                    let home = n == 0 || dice.roll(5) != 0;
                    rows.push(visit(&plan, day, true, alone, home));
                    if n % 4 == 1 && day - Duration::days(3) >= earliest {
                        rows.push(visit(&plan, day - Duration::days(3), false, false, true));
                    }
                }
            }
            Responsible::FacilityStaff => {
                let twice_a_week = plan.schedule.recurrence.contains("per week");
                let last = yesterday - Duration::days(dice.roll(2) as i64);
                let days = days_back(last, earliest, || match (twice_a_week, dice.roll(8)) {
                    (true, 0) => 5,
                    (true, n) => 3 + (n % 2) as i64,
                    (false, 0) => 9,
                    (false, _) => 7,
                });
                rows.extend(
                    days.into_iter()
                        .map(|day| visit(&plan, day, true, dice.roll(4) == 0, true)),
                );
            }
        }
    }
    let children: std::collections::HashMap<Uuid, ChildRow> = plans(conn)?
        .into_iter()
        .map(|p| (p.child.id, p.child))
        .collect();
    for row in &mut rows {
        let event = AuditEvent::new(
            AuditActor::system(),
            AuditAction::Create,
            EntityType::Visit,
            Some(row.id),
            Utc::now(),
        );
        let event = match children.get(&row.child_id) {
            Some(c) => event.about_child(
                c.id,
                Some(c.responsible_unit_id),
                c.protection_level.is_protected(),
            ),
            None => event,
        };
        row.last_audit_event_id = event.id;
        events.push(event);
    }
    for chunk in rows.chunks(500) {
        diesel::insert_into(visits::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(rows.len())
}
