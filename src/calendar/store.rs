//! What a feed shows: the due contacts in its owner's reach, with the children they are about,
//! in a fixed number of queries however many children.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::children::{self, ChildRow};
use crate::db::contact_schedules::{due_by, ScheduleRow};
use crate::db::reach::{self, Reach};
use crate::domain::contact_due::Due;

/// How far ahead a feed looks: a quarter, so every schedule's next contact shows (the longest
/// recurrence is one per quarter). Overdue contacts always show.
pub const HORIZON_DAYS: i64 = 92;

/// One contact in the feed.
pub struct Entry {
    pub schedule: ScheduleRow,
    pub due: Due,
    pub child: ChildRow,
}

/// The contacts in `reach` due within the horizon from `today`, or overdue, by due date.
pub fn entries(conn: &mut PgConnection, reach: Reach, today: NaiveDate) -> QueryResult<Vec<Entry>> {
    let rows = reach::schedules(conn, reach, today)?;
    let due = due_by(conn, rows, today, today + Duration::days(HORIZON_DAYS))?;
    let child_ids: Vec<Uuid> = due.iter().map(|(row, _)| row.child_id).collect();
    let kids: HashMap<Uuid, ChildRow> = children::find_many(conn, &child_ids)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut entries: Vec<Entry> = due
        .into_iter()
        .filter_map(|(schedule, due)| {
            let child = kids.get(&schedule.child_id)?.clone();
            Some(Entry {
                schedule,
                due,
                child,
            })
        })
        .collect();
    entries.sort_by_key(|e| (e.due.due_on, e.schedule.id));
    Ok(entries)
}
