//! How many children a facility holds, day by day: the one occupancy query that placements
//! (a free place on every day), facilities (can the capacity shrink) and the capacity and
//! committee reports use. The database's placement trigger checks the same again.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date};
use uuid::Uuid;

use super::schema::{children, facilities, placements};

/// Which facilities' stays to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Homes {
    One(Uuid),
    /// The open facilities of a unit.
    OpenInUnit(Uuid),
    /// Every open facility.
    AllOpen,
}

/// A placement that holds a place: from its start to its last day (its end, or while it runs
/// its planned end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
pub struct Stay {
    pub facility_id: Uuid,
    pub start_date: NaiveDate,
    pub last_day: NaiveDate,
    /// The child's, so a report can free the place at the age limit.
    pub date_of_birth: NaiveDate,
}

/// Every placement of `homes`, not cancelled and not `except`, that holds a place on some day
/// from `from` to `to` (open-ended when `None`): one query over the indexed `period`.
pub fn stays(
    conn: &mut PgConnection,
    homes: Homes,
    from: NaiveDate,
    to: Option<NaiveDate>,
    except: Option<Uuid>,
) -> QueryResult<Vec<Stay>> {
    Ok(placed(conn, homes, from, to, except)?
        .into_iter()
        .map(|(_, stay)| stay)
        .collect())
}

/// [`stays`] with the id of each stay's child, for figures that count children (a report's
/// children placed on a day, who turned 18 in care): the same query, one more column.
pub fn placed(
    conn: &mut PgConnection,
    homes: Homes,
    from: NaiveDate,
    to: Option<NaiveDate>,
    except: Option<Uuid>,
) -> QueryResult<Vec<(Uuid, Stay)>> {
    let mut query = placements::table
        .inner_join(facilities::table)
        .inner_join(children::table)
        .filter(placements::cancelled_at.is_null())
        .filter(
            sql::<Bool>("placements.period && daterange(")
                .bind::<Date, _>(from)
                .sql(", ")
                .bind::<diesel::sql_types::Nullable<Date>, _>(to)
                .sql(", '[]')"),
        )
        .select((
            placements::child_id,
            (
                placements::facility_id,
                placements::start_date,
                sql::<Date>("COALESCE(placements.end_date, placements.planned_end)"),
                children::date_of_birth,
            ),
        ))
        .into_boxed();
    query = match homes {
        Homes::One(id) => query.filter(placements::facility_id.eq(id)),
        Homes::OpenInUnit(unit) => query
            .filter(facilities::active.eq(true))
            .filter(facilities::unit_id.eq(unit)),
        Homes::AllOpen => query.filter(facilities::active.eq(true)),
    };
    if let Some(except) = except {
        query = query.filter(placements::id.ne(except));
    }
    query.load(conn)
}

/// The most of `stays` that hold a place on any one day from `from` to `to` (open-ended when
/// `None`): a sweep over the days places are taken and freed.
pub fn busiest(stays: &[Stay], from: NaiveDate, to: Option<NaiveDate>) -> i64 {
    let to = to.unwrap_or(NaiveDate::MAX);
    let mut changes: Vec<(NaiveDate, i64)> = Vec::with_capacity(stays.len() * 2);
    for stay in stays {
        if stay.last_day < from || stay.start_date > to {
            continue;
        }
        changes.push((stay.start_date.max(from), 1));
        if let Some(after) = stay.last_day.succ_opt() {
            changes.push((after, -1));
        }
    }
    // A place freed on a day is free for one taken that day: frees (-1) sort first.
    changes.sort();
    let (mut running, mut most) = (0i64, 0i64);
    for (day, change) in changes {
        running += change;
        if day <= to {
            most = most.max(running);
        }
    }
    most
}

/// The most children `facility_id` holds on any one day from `from` to `to`, not counting
/// `except` (the placement being changed).
pub fn busiest_day(
    conn: &mut PgConnection,
    facility_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    except: Option<Uuid>,
) -> QueryResult<i64> {
    let stays = stays(conn, Homes::One(facility_id), from, Some(to), except)?;
    Ok(busiest(&stays, from, Some(to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn stay(start: &str, last: &str) -> Stay {
        Stay {
            facility_id: Uuid::nil(),
            start_date: day(start),
            last_day: day(last),
            date_of_birth: day("2010-01-01"),
        }
    }

    #[test]
    fn the_busiest_day_counts_stays_that_overlap_on_one_day() {
        let stays = [
            stay("2026-01-01", "2026-01-10"),
            stay("2026-01-05", "2026-01-20"),
            stay("2026-01-11", "2026-01-30"),
        ];
        assert_eq!(busiest(&stays, day("2026-01-01"), None), 2);
        assert_eq!(busiest(&stays, day("2026-01-21"), None), 1);
        assert_eq!(
            busiest(&stays, day("2026-01-01"), Some(day("2026-01-04"))),
            1
        );
        assert_eq!(busiest(&stays, day("2026-02-01"), None), 0);
    }

    #[test]
    fn a_place_freed_one_day_is_free_for_a_stay_starting_the_next() {
        let stays = [
            stay("2026-01-01", "2026-01-10"),
            stay("2026-01-11", "2026-01-20"),
        ];
        assert_eq!(busiest(&stays, day("2026-01-01"), None), 1);
    }
}
