//! Capacity: how many places each facility and unit has, how many are taken today and on each
//! day of a forecast, and how fast places turn over. Pure: facts in, figures out. The caller
//! loads every placement in scope that touches the window in one query; this sweeps them.
//!
//! A placement holds a place on each day from its start to its last day (the recorded end, or
//! else the planned end), and never past the day before the birthday at which placements end
//! (21 under the rules in force), even when its planned end says later.
//!
//! The statistics cover the 365 days before `as_of`. A placement *ended in the period* when its
//! last day falls in it; its length of stay counts every day it held a place, both ends included.
//! Turnover per place per year is those placements divided by the capacity.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::age::day_before_birthday;
use crate::domain::facility_kind::FacilityKind;

/// The statistics look back this many days: one year.
pub const STATISTICS_DAYS: u64 = 365;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facility {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub name: String,
    pub kind: FacilityKind,
    pub capacity: i32,
    pub agreed_places: i32,
}

/// One non-cancelled placement, reduced to what capacity needs: no one's identity.
pub use crate::db::occupancy::Stay;

/// What the report is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub today: NaiveDate,
    /// Forecast days, today included.
    pub days: u32,
    /// Placements end no later than the day before this birthday.
    pub placement_end_age: u32,
}

impl Window {
    /// The last day of the forecast.
    pub fn forecast_end(&self) -> NaiveDate {
        self.today + Days::new(u64::from(self.days.max(1)) - 1)
    }

    /// The first day of the statistics period.
    pub fn statistics_from(&self) -> NaiveDate {
        self.today - Days::new(STATISTICS_DAYS)
    }

    /// The last day of the statistics period: yesterday.
    pub fn statistics_to(&self) -> NaiveDate {
        self.today - Days::new(1)
    }

    /// Every placement that can count anywhere in the report overlaps these days.
    pub fn span(&self) -> (NaiveDate, NaiveDate) {
        (self.statistics_from(), self.forecast_end())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityReport {
    pub as_of: NaiveDate,
    pub forecast_days: u32,
    pub statistics_period: Period,
    pub units: Vec<UnitCapacity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitCapacity {
    pub unit_id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
    pub facilities: Vec<FacilityCapacity>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityCapacity {
    pub facility_id: Uuid,
    pub name: String,
    pub kind: FacilityKind,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub capacity: i64,
    /// Places agreed with Migrationsverket.
    pub agreed_places: i64,
    pub occupied: i64,
    /// Capacity minus occupied; negative if a home holds more children than its capacity now
    /// says (its capacity was lowered).
    pub free: i64,
    pub forecast: Vec<Day>,
    /// Placements whose last day falls in the statistics period.
    pub ended_placements: i64,
    /// Ended placements per place over the year; `None` without capacity.
    pub turnover_per_place: Option<f64>,
    /// Mean length, in days, of the placements that ended; `None` when none did.
    pub average_stay_days: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub occupied: i64,
    pub free: i64,
}

/// Sums that facility figures are built from, and that add up to a unit's.
#[derive(Debug, Clone, Default)]
struct Tally {
    capacity: i64,
    agreed_places: i64,
    /// Occupied places on each forecast day, today first.
    occupied: Vec<i64>,
    ended: i64,
    stay_days: i64,
}

impl Tally {
    fn new(days: usize) -> Self {
        Self {
            occupied: vec![0; days],
            ..Self::default()
        }
    }

    fn add(&mut self, other: &Tally) {
        self.capacity += other.capacity;
        self.agreed_places += other.agreed_places;
        for (mine, theirs) in self.occupied.iter_mut().zip(&other.occupied) {
            *mine += theirs;
        }
        self.ended += other.ended;
        self.stay_days += other.stay_days;
    }

    fn figures(&self, today: NaiveDate) -> Figures {
        let forecast: Vec<Day> = self
            .occupied
            .iter()
            .zip(today.iter_days())
            .map(|(&occupied, date)| Day {
                date,
                occupied,
                free: self.capacity - occupied,
            })
            .collect();
        let occupied = forecast.first().map_or(0, |d| d.occupied);
        Figures {
            capacity: self.capacity,
            agreed_places: self.agreed_places,
            occupied,
            free: self.capacity - occupied,
            forecast,
            ended_placements: self.ended,
            turnover_per_place: (self.capacity > 0)
                .then(|| round(self.ended as f64 / self.capacity as f64, 2)),
            average_stay_days: (self.ended > 0)
                .then(|| round(self.stay_days as f64 / self.ended as f64, 1)),
        }
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// The last day `stay` holds a place: its own last day, or the day before the age limit.
pub fn effective_last_day(stay: &Stay, placement_end_age: u32) -> NaiveDate {
    stay.last_day
        .min(day_before_birthday(stay.date_of_birth, placement_end_age))
}

/// Days from `from` to `to`; negative when `to` is earlier.
fn offset(from: NaiveDate, to: NaiveDate) -> i64 {
    to.signed_duration_since(from).num_days()
}

/// The report for `units` and their `facilities` (active ones), from every non-cancelled
/// placement in `stays` that overlaps `window.span()` (others are ignored, as are stays in
/// facilities not listed). Units and facilities come out ordered by name.
pub fn report(
    window: Window,
    units: &[Unit],
    facilities: &[Facility],
    stays: &[Stay],
) -> CapacityReport {
    let days = window.days.max(1) as usize;
    let (today, forecast_end) = (window.today, window.forecast_end());
    let (stats_from, stats_to) = (window.statistics_from(), window.statistics_to());

    let mut tallies: HashMap<Uuid, Tally> = facilities
        .iter()
        .map(|f| {
            let mut tally = Tally::new(days);
            tally.capacity = i64::from(f.capacity);
            tally.agreed_places = i64::from(f.agreed_places);
            (f.id, tally)
        })
        .collect();
    // Per facility, +1 on the first forecast day a stay holds a place and -1 on the day after
    // its last; a running sum then gives each day's occupancy.
    let mut changes: HashMap<Uuid, Vec<i64>> = facilities
        .iter()
        .map(|f| (f.id, vec![0; days + 1]))
        .collect();

    for stay in stays {
        let (Some(tally), Some(change)) = (
            tallies.get_mut(&stay.facility_id),
            changes.get_mut(&stay.facility_id),
        ) else {
            continue;
        };
        let last = effective_last_day(stay, window.placement_end_age);
        if last < stay.start_date {
            continue;
        }
        if (stats_from..=stats_to).contains(&last) {
            tally.ended += 1;
            tally.stay_days += offset(stay.start_date, last) + 1;
        }
        let first = stay.start_date.max(today);
        let last = last.min(forecast_end);
        if first <= last {
            change[offset(today, first) as usize] += 1;
            change[offset(today, last) as usize + 1] -= 1;
        }
    }
    for (id, change) in changes {
        let tally = tallies.get_mut(&id).expect("a tally for every facility");
        let mut running = 0;
        for (day, delta) in change.into_iter().take(days).enumerate() {
            running += delta;
            tally.occupied[day] = running;
        }
    }

    let mut out: Vec<UnitCapacity> = units
        .iter()
        .map(|unit| {
            let mut total = Tally::new(days);
            let mut rows: Vec<FacilityCapacity> = facilities
                .iter()
                .filter(|f| f.unit_id == unit.id)
                .map(|f| {
                    let tally = &tallies[&f.id];
                    total.add(tally);
                    FacilityCapacity {
                        facility_id: f.id,
                        name: f.name.clone(),
                        kind: f.kind,
                        figures: tally.figures(today),
                    }
                })
                .collect();
            rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.facility_id.cmp(&b.facility_id)));
            UnitCapacity {
                unit_id: unit.id,
                name: unit.name.clone(),
                figures: total.figures(today),
                facilities: rows,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.unit_id.cmp(&b.unit_id)));

    CapacityReport {
        as_of: today,
        forecast_days: days as u32,
        statistics_period: Period {
            from: stats_from,
            to: stats_to,
        },
        units: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn window(days: u32) -> Window {
        Window {
            today: date("2026-03-10"),
            days,
            placement_end_age: 21,
        }
    }

    fn unit() -> Unit {
        Unit {
            id: Uuid::now_v7(),
            name: "North".into(),
        }
    }

    fn home(unit: &Unit, name: &str, capacity: i32) -> Facility {
        Facility {
            id: Uuid::now_v7(),
            unit_id: unit.id,
            name: name.into(),
            kind: FacilityKind::Hvb,
            capacity,
            agreed_places: capacity - 1,
        }
    }

    /// A 15-year-old's stay.
    fn stay(facility: &Facility, start: &str, last: &str) -> Stay {
        Stay {
            facility_id: facility.id,
            start_date: date(start),
            last_day: date(last),
            date_of_birth: date("2010-05-20"),
        }
    }

    fn day<'a>(figures: &'a Figures, on: &str) -> &'a Day {
        figures
            .forecast
            .iter()
            .find(|d| d.date == date(on))
            .expect("the day is in the forecast")
    }

    #[test]
    fn occupancy_today_and_free_places_per_home_and_unit() {
        let north = unit();
        let (a, b) = (home(&north, "Almen", 4), home(&north, "Björken", 2));
        let stays = [
            stay(&a, "2026-01-01", "2031-05-19"),
            stay(&a, "2026-03-10", "2026-03-10"),
            // Not yet begun, and already over: neither holds a place today.
            stay(&a, "2026-03-11", "2031-05-19"),
            stay(&b, "2025-06-01", "2026-03-09"),
        ];
        let r = report(
            window(90),
            std::slice::from_ref(&north),
            &[b.clone(), a.clone()],
            &stays,
        );
        assert_eq!(r.as_of, date("2026-03-10"));
        let unit = &r.units[0];
        assert_eq!((unit.figures.capacity, unit.figures.agreed_places), (6, 4));
        assert_eq!((unit.figures.occupied, unit.figures.free), (2, 4));
        assert_eq!(unit.facilities[0].name, "Almen", "ordered by name");
        assert_eq!(
            (
                unit.facilities[0].figures.occupied,
                unit.facilities[0].figures.free
            ),
            (2, 2)
        );
        assert_eq!(
            (
                unit.facilities[1].figures.occupied,
                unit.facilities[1].figures.free
            ),
            (0, 2)
        );
        assert_eq!(unit.facilities[0].figures.forecast.len(), 90);
        assert_eq!(
            unit.facilities[0].figures.forecast[0].date,
            date("2026-03-10")
        );
        assert_eq!(
            unit.facilities[0].figures.forecast[89].date,
            date("2026-06-07")
        );
    }

    #[test]
    fn a_place_frees_the_day_after_the_last_day() {
        let north = unit();
        let a = home(&north, "Almen", 3);
        let stays = [
            stay(&a, "2026-01-01", "2026-04-15"),
            stay(&a, "2026-04-16", "2026-05-01"),
        ];
        let r = report(window(90), &[north], &[a], &stays);
        let figures = &r.units[0].facilities[0].figures;
        assert_eq!(day(figures, "2026-04-15").occupied, 1);
        // One leaves, another arrives the next day.
        assert_eq!(day(figures, "2026-04-16").occupied, 1);
        assert_eq!(day(figures, "2026-05-01").free, 2);
        assert_eq!(day(figures, "2026-05-02").free, 3);
        assert_eq!(
            r.units[0].figures.forecast, figures.forecast,
            "one home: the unit is the home"
        );
    }

    #[test]
    fn a_place_frees_at_the_21st_birthday_even_if_the_planned_end_is_later() {
        let north = unit();
        let a = home(&north, "Almen", 2);
        let mut older = stay(&a, "2025-01-01", "2027-12-31");
        older.date_of_birth = date("2005-04-02");
        assert_eq!(effective_last_day(&older, 21), date("2026-04-01"));
        let r = report(
            window(90),
            std::slice::from_ref(&north),
            std::slice::from_ref(&a),
            &[older],
        );
        let figures = &r.units[0].facilities[0].figures;
        assert_eq!(day(figures, "2026-04-01").occupied, 1);
        assert_eq!(day(figures, "2026-04-02").occupied, 0);
        // Under rules that end placements at 20, the stay would be over already.
        let younger_limit = Window {
            placement_end_age: 20,
            ..window(90)
        };
        let r = report(younger_limit, &[north], &[a], &[older]);
        assert_eq!(r.units[0].figures.occupied, 0);
    }

    #[test]
    fn turnover_and_average_stay_count_placements_that_ended_in_the_past_year() {
        let north = unit();
        let (a, b) = (home(&north, "Almen", 4), home(&north, "Björken", 2));
        let stays = [
            // 10 days and 31 days, both ended in the period.
            stay(&a, "2026-01-01", "2026-01-10"),
            stay(&a, "2026-02-01", "2026-03-03"),
            // Ended on the first day of the period: counts. The day before it: does not.
            stay(&a, "2025-03-01", "2025-03-10"),
            stay(&a, "2025-03-01", "2025-03-09"),
            // Ends today or later: still running, not counted.
            stay(&a, "2026-03-01", "2026-03-10"),
            stay(&b, "2026-02-01", "2026-04-30"),
        ];
        let r = report(window(30), &[north], &[a, b], &stays);
        assert_eq!(
            r.statistics_period,
            Period {
                from: date("2025-03-10"),
                to: date("2026-03-09")
            }
        );
        let unit = &r.units[0];
        let almen = &unit.facilities[0].figures;
        assert_eq!(almen.ended_placements, 3);
        assert_eq!(almen.turnover_per_place, Some(0.75));
        assert_eq!(
            almen.average_stay_days,
            Some(round((10.0 + 31.0 + 10.0) / 3.0, 1))
        );
        let bjorken = &unit.facilities[1].figures;
        assert_eq!(
            (
                bjorken.ended_placements,
                bjorken.turnover_per_place,
                bjorken.average_stay_days
            ),
            (0, Some(0.0), None)
        );
        assert_eq!(
            (
                unit.figures.ended_placements,
                unit.figures.turnover_per_place
            ),
            (3, Some(0.5))
        );
        assert_eq!(unit.figures.average_stay_days, almen.average_stay_days);
    }

    #[test]
    fn a_home_without_places_has_no_turnover_and_unknown_homes_are_ignored() {
        let north = unit();
        let closed = home(&north, "Stängd", 0);
        let elsewhere = home(&unit(), "Elsewhere", 3);
        let stays = [stay(&elsewhere, "2026-01-01", "2026-12-31")];
        let r = report(window(1), &[north], &[closed], &stays);
        let figures = &r.units[0].figures;
        assert_eq!(
            (figures.capacity, figures.occupied, figures.free),
            (0, 0, 0)
        );
        assert_eq!(figures.turnover_per_place, None);
        assert_eq!(figures.forecast.len(), 1);
    }

    #[test]
    fn units_sum_their_homes_day_by_day_and_a_unit_without_homes_shows_zeros() {
        let (north, south) = (
            unit(),
            Unit {
                id: Uuid::now_v7(),
                name: "South".into(),
            },
        );
        let (a, b) = (home(&north, "Almen", 2), home(&north, "Björken", 2));
        let stays = [
            stay(&a, "2026-03-01", "2026-03-11"),
            stay(&b, "2026-03-12", "2026-03-20"),
        ];
        let r = report(window(5), &[south, north], &[a, b], &stays);
        assert_eq!(r.units[0].name, "North");
        let occupied: Vec<i64> = r.units[0]
            .figures
            .forecast
            .iter()
            .map(|d| d.occupied)
            .collect();
        assert_eq!(occupied, [1, 1, 1, 1, 1]);
        let free: Vec<i64> = r.units[0].figures.forecast.iter().map(|d| d.free).collect();
        assert_eq!(free, [3, 3, 3, 3, 3]);
        assert!(r.units[1].facilities.is_empty());
        assert_eq!(r.units[1].figures.forecast.len(), 5);
    }

    #[test]
    fn the_window_spans_the_statistics_year_and_the_forecast() {
        assert_eq!(window(90).span(), (date("2025-03-10"), date("2026-06-07")));
        assert_eq!(window(1).forecast_end(), date("2026-03-10"));
    }
}
