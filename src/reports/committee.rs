//! The committee report (*socialnämnden*): what happened in a period in the homes of a unit (or
//! of every unit), as plain counts and ratios with small counts suppressed
//! (`domain::suppression`). Pure: the stays and the compliance figures are loaded by `routes`.
//!
//! A stay holds a place from its start to its last day, never past the day before the birthday
//! at which placements end (`capacity::effective_last_day`). The figures:
//!
//! - children placed on the period's first and last day, and on any day of it;
//! - admissions (stays that start in the period) and discharges (stays whose last day falls in
//!   it), by facility kind: a move between homes is a discharge and an admission;
//! - place-days used (each day of the period a stay holds a place) and available (each home's
//!   capacity, as it is today, times the days), and their ratio;
//! - the average length of stay, in days, of the discharged stays (both ends counted);
//! - the places agreed with Migrationsverket against the places used on the last day;
//! - age-outs, by the rules in force on the period's last day (`adult_age`,
//!   `placement_end_age`): youths whose adult-age birthday fell in the period while in care the
//!   day before, split into those who left (not in care on the birthday) and those in continued
//!   care (in care on it); and youths who reached the end of care (in care on the day before the
//!   birthday at which placements end, that day in the period);
//! - the contact compliance figures of the unit's children (`compliance::overall`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::capacity::{effective_last_day, Facility, Stay};
use super::compliance;
use crate::domain::age::{birthday, day_before_birthday};
use crate::domain::facility_kind::FacilityKind;
use crate::domain::suppression::{self, Basis, Figure, Published, Total, Value};

/// The period and the rules that count in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Care past this birthday needs a decision to continue (18).
    pub adult_age: u32,
    /// Placements end no later than the day before this birthday (21).
    pub placement_end_age: u32,
}

impl Period {
    /// The days of the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Stays that hold a place on one of these days can count: the day before the period too,
    /// for who was in care the day before an 18th birthday on its first day.
    pub fn span(&self) -> (NaiveDate, NaiveDate) {
        (self.from.pred_opt().unwrap_or(self.from), self.to)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unit_id: Option<Uuid>,
    pub adult_age: u32,
    pub placement_end_age: u32,
    /// Counts of children below this are suppressed.
    pub smallest_shown: i64,
    #[serde(flatten)]
    pub published: Published,
}

/// The sums that share a figure's parts: hiding one part of them alone would be undone by
/// subtraction.
fn totals() -> Vec<Total> {
    let total = |total, parts: &[&'static str]| Total {
        total,
        parts: parts.to_vec(),
    };
    vec![
        total(
            "admissions",
            &["admissions_hvb", "admissions_supported_housing"],
        ),
        total(
            "discharges",
            &["discharges_hvb", "discharges_supported_housing"],
        ),
        total(
            "reached_adult_age_in_care",
            &["ended_at_adult_age", "continued_care_after_adult_age"],
        ),
        total(
            "compliance_children",
            &[
                "compliance_children_spoken_alone",
                "compliance_children_not_spoken_alone",
            ],
        ),
    ]
}

fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

fn ratio(part: i64, whole: i64, decimals: i32) -> Option<Value> {
    (whole > 0).then(|| Value::Ratio(round(part as f64 / whole as f64, decimals)))
}

/// A stay as the report reads it: its child, its home's kind, its first and last day.
struct Held {
    child: Uuid,
    kind: FacilityKind,
    start: NaiveDate,
    last: NaiveDate,
    date_of_birth: NaiveDate,
}

impl Held {
    fn covers(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.last
    }
}

#[derive(Default)]
struct ByKind {
    hvb: i64,
    supported_housing: i64,
}

impl ByKind {
    fn add(&mut self, kind: FacilityKind) {
        match kind {
            FacilityKind::Hvb => self.hvb += 1,
            FacilityKind::SupportedHousing => self.supported_housing += 1,
        }
    }

    fn total(&self) -> i64 {
        self.hvb + self.supported_housing
    }
}

/// The placement figures (before suppression).
#[derive(Default)]
struct Placed {
    at_start: i64,
    at_end: i64,
    in_period: i64,
    admissions: ByKind,
    discharges: ByKind,
    discharged_days: i64,
    place_days_used: i64,
    reached_adult_age: i64,
    continued_care: i64,
    ended_at_end_age: i64,
}

fn distinct(held: &[Held], keep: impl Fn(&Held) -> bool) -> i64 {
    let children: HashSet<Uuid> = held.iter().filter(|h| keep(h)).map(|h| h.child).collect();
    children.len() as i64
}

fn placed(period: Period, held: &[Held]) -> Placed {
    let (from, to) = (period.from, period.to);
    let mut out = Placed {
        at_start: distinct(held, |h| h.covers(from)),
        at_end: distinct(held, |h| h.covers(to)),
        in_period: distinct(held, |h| h.start <= to && h.last >= from),
        ..Placed::default()
    };
    for h in held {
        if (from..=to).contains(&h.start) {
            out.admissions.add(h.kind);
        }
        if (from..=to).contains(&h.last) {
            out.discharges.add(h.kind);
            out.discharged_days += (h.last - h.start).num_days() + 1;
        }
        let (first, last) = (h.start.max(from), h.last.min(to));
        if first <= last {
            out.place_days_used += (last - first).num_days() + 1;
        }
    }
    let mut by_child: HashMap<Uuid, Vec<&Held>> = HashMap::new();
    for h in held {
        by_child.entry(h.child).or_default().push(h);
    }
    for stays in by_child.values() {
        let in_care = |day: NaiveDate| stays.iter().any(|h| h.covers(day));
        let date_of_birth = stays[0].date_of_birth;
        let adult = birthday(date_of_birth, period.adult_age);
        if let Some(eve) = adult.pred_opt() {
            if (from..=to).contains(&adult) && in_care(eve) {
                out.reached_adult_age += 1;
                if in_care(adult) {
                    out.continued_care += 1;
                }
            }
        }
        let last_allowed = day_before_birthday(date_of_birth, period.placement_end_age);
        if (from..=to).contains(&last_allowed) && in_care(last_allowed) {
            out.ended_at_end_age += 1;
        }
    }
    out
}

fn count(name: &'static str, n: i64, basis: Basis) -> Figure {
    Figure {
        name,
        value: Some(Value::Count(n)),
        basis,
    }
}

fn children(name: &'static str, n: i64) -> Figure {
    count(name, n, Basis::Children)
}

fn derived(name: &'static str, value: Option<Value>, from: &[&'static str]) -> Figure {
    Figure {
        name,
        value,
        basis: Basis::DerivedFrom(from.to_vec()),
    }
}

fn placement_figures(period: Period, facilities: &[Facility], p: &Placed) -> Vec<Figure> {
    let capacity: i64 = facilities.iter().map(|f| i64::from(f.capacity)).sum();
    let agreed: i64 = facilities.iter().map(|f| i64::from(f.agreed_places)).sum();
    let available = capacity * period.days();
    let discharges = p.discharges.total();
    vec![
        children("children_placed_at_start", p.at_start),
        children("children_placed_at_end", p.at_end),
        children("children_placed_in_period", p.in_period),
        children("admissions", p.admissions.total()),
        children("admissions_hvb", p.admissions.hvb),
        children(
            "admissions_supported_housing",
            p.admissions.supported_housing,
        ),
        children("discharges", discharges),
        children("discharges_hvb", p.discharges.hvb),
        children(
            "discharges_supported_housing",
            p.discharges.supported_housing,
        ),
        derived(
            "place_days_used",
            Some(Value::Count(p.place_days_used)),
            &["children_placed_in_period"],
        ),
        count("place_days_available", available, Basis::Open),
        derived(
            "utilisation",
            ratio(p.place_days_used, available, 3),
            &["place_days_used"],
        ),
        derived(
            "average_stay_days",
            ratio(p.discharged_days, discharges, 1),
            &["discharges"],
        ),
        count("agreed_places", agreed, Basis::Open),
        derived(
            "places_used_on_last_day",
            Some(Value::Count(p.at_end)),
            &["children_placed_at_end"],
        ),
        children("reached_adult_age_in_care", p.reached_adult_age),
        children("ended_at_adult_age", p.reached_adult_age - p.continued_care),
        children("continued_care_after_adult_age", p.continued_care),
        children("ended_at_placement_end_age", p.ended_at_end_age),
    ]
}

fn compliance_figures(c: &compliance::Figures) -> Vec<Figure> {
    const CHILDREN: &[&str] = &["compliance_children"];
    let n = |v: u32| Some(Value::Count(i64::from(v)));
    let share = |v: Option<f64>| v.map(Value::Ratio);
    vec![
        children("compliance_children", i64::from(c.children)),
        children(
            "compliance_children_spoken_alone",
            i64::from(c.children_spoken_alone),
        ),
        children(
            "compliance_children_not_spoken_alone",
            i64::from(c.children.saturating_sub(c.children_spoken_alone)),
        ),
        derived(
            "compliance_spoken_alone_share",
            share(c.spoken_alone_share),
            &["compliance_children", "compliance_children_spoken_alone"],
        ),
        derived("compliance_due_contacts", n(c.due_contacts), CHILDREN),
        derived("compliance_on_time", n(c.on_time), CHILDREN),
        derived("compliance_on_time_share", share(c.on_time_share), CHILDREN),
        derived("compliance_pending", n(c.pending), CHILDREN),
        derived(
            "compliance_secretary_visits",
            n(c.secretary_visits),
            CHILDREN,
        ),
        derived(
            "compliance_secretary_visits_at_placement",
            n(c.secretary_visits_at_placement),
            CHILDREN,
        ),
        derived(
            "compliance_at_placement_share",
            share(c.at_placement_share),
            CHILDREN,
        ),
        derived(
            "compliance_attempted_not_completed",
            n(c.attempted_not_completed),
            CHILDREN,
        ),
        derived(
            "compliance_meets_target",
            c.meets_target.map(Value::Flag),
            &["compliance_on_time_share"],
        ),
    ]
}

/// The report for `unit_id` (or every unit) over `period`: `facilities` are the open homes in
/// scope, `stays` every non-cancelled stay of a child there that touches `period.span()`
/// (stays in other homes are ignored), `compliance` the scope's compliance figures.
pub fn report(
    period: Period,
    unit_id: Option<Uuid>,
    facilities: &[Facility],
    stays: &[(Uuid, Stay)],
    compliance: &compliance::Figures,
) -> Report {
    let kinds: HashMap<Uuid, FacilityKind> = facilities.iter().map(|f| (f.id, f.kind)).collect();
    let held: Vec<Held> = stays
        .iter()
        .filter_map(|(child, stay)| {
            let kind = *kinds.get(&stay.facility_id)?;
            let last = effective_last_day(stay, period.placement_end_age);
            (last >= stay.start_date).then_some(Held {
                child: *child,
                kind,
                start: stay.start_date,
                last,
                date_of_birth: stay.date_of_birth,
            })
        })
        .collect();
    let mut figures = placement_figures(period, facilities, &placed(period, &held));
    figures.extend(compliance_figures(compliance));
    Report {
        from: period.from,
        to: period.to,
        unit_id,
        adult_age: period.adult_age,
        placement_end_age: period.placement_end_age,
        smallest_shown: suppression::SMALLEST_SHOWN,
        published: suppression::publish(figures, &totals()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The first quarter of 2026.
    fn quarter() -> Period {
        Period {
            from: date("2026-01-01"),
            to: date("2026-03-31"),
            adult_age: 18,
            placement_end_age: 21,
        }
    }

    fn home(kind: FacilityKind, capacity: i32, agreed_places: i32) -> Facility {
        Facility {
            id: Uuid::now_v7(),
            unit_id: Uuid::nil(),
            name: "Home".into(),
            kind,
            capacity,
            agreed_places,
        }
    }

    fn stay(home: &Facility, start: &str, last: &str, born: &str) -> (Uuid, Stay) {
        (
            Uuid::now_v7(),
            Stay {
                facility_id: home.id,
                start_date: date(start),
                last_day: date(last),
                date_of_birth: date(born),
            },
        )
    }

    fn value(report: &Report, name: &str) -> Option<Value> {
        let figure = report
            .published
            .figures
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name} is a figure"));
        figure.value
    }

    fn counts(report: &Report, names: &[&str]) -> Vec<Option<i64>> {
        names
            .iter()
            .map(|n| match value(report, n) {
                Some(Value::Count(c)) => Some(c),
                Some(other) => panic!("{n} is {other:?}"),
                None => None,
            })
            .collect()
    }

    #[test]
    fn a_quarter_in_two_homes_counted_by_hand() {
        let hvb = home(FacilityKind::Hvb, 4, 3);
        let housing = home(FacilityKind::SupportedHousing, 2, 2);
        let young = "2010-06-01";
        let mut stays = vec![
            // Three in the HVB all quarter: 90 days each.
            stay(&hvb, "2025-06-01", "2026-12-31", young),
            stay(&hvb, "2025-06-01", "2026-12-31", young),
            stay(&hvb, "2025-06-01", "2026-12-31", young),
            // Admitted 1 Feb, discharged 10 Feb: 10 days.
            stay(&hvb, "2026-02-01", "2026-02-10", young),
            // In supported housing from before, leaves the day before the 18th birthday
            // (1 March): 59 days in the quarter, 90 + 59 = 149 days' stay.
            stay(&housing, "2025-10-03", "2026-02-28", "2008-03-01"),
        ];
        // Moves from the HVB to supported housing on his 18th birthday (15 March), continued.
        let (mover, first) = stay(&hvb, "2025-09-01", "2026-03-14", "2008-03-15");
        let (_, second) = stay(&housing, "2026-03-15", "2029-03-14", "2008-03-15");
        stays.push((mover, first));
        stays.push((mover, second));
        let r = report(
            quarter(),
            None,
            &[hvb.clone(), housing.clone()],
            &stays,
            &compliance::Figures::default(),
        );
        assert_eq!(
            counts(
                &r,
                &[
                    "children_placed_at_start",
                    "children_placed_at_end",
                    "children_placed_in_period",
                    "admissions",
                    "discharges",
                ]
            ),
            // 3 + housing + mover; 3 + mover; all 6; 1 Feb and the move (2: suppressed);
            // 10 Feb, 28 Feb, the move.
            [Some(5), Some(4), Some(6), None, Some(3)]
        );
        // 3 × 90 + 10 + 59 + 73 (mover in HVB) + 17 (in housing) = 429 of 6 × 90 = 540.
        assert_eq!(
            counts(&r, &["place_days_used", "place_days_available"]),
            [Some(429), Some(540)]
        );
        assert_eq!(value(&r, "utilisation"), Some(Value::Ratio(0.794)));
        // Stays ended: 10, 149 and 195 (1 Sep to 14 Mar) days: 354 / 3 = 118.
        assert_eq!(value(&r, "average_stay_days"), Some(Value::Ratio(118.0)));
        assert_eq!(
            counts(&r, &["agreed_places", "places_used_on_last_day"]),
            [Some(5), Some(4)]
        );
        // Two 18th birthdays in care; one left, one continued: each small, so suppressed
        // (with the total shown, both parts go).
        assert_eq!(
            counts(
                &r,
                &[
                    "reached_adult_age_in_care",
                    "ended_at_adult_age",
                    "continued_care_after_adult_age"
                ]
            ),
            [None, None, None]
        );
        // Admissions 1 + 1 and discharges 2 + 1: every part small.
        assert!(r.published.suppressed.contains(&"admissions_hvb"));
        assert!(r.published.suppressed.contains(&"admissions"));
        assert_eq!(counts(&r, &["discharges"]), [Some(3)]);
        assert_eq!(
            counts(&r, &["discharges_hvb", "discharges_supported_housing"]),
            [None, None]
        );
        // No schedule in the figures: zero children, nothing suppressed, no share.
        assert_eq!(counts(&r, &["compliance_children"]), [Some(0)]);
        assert_eq!(value(&r, "compliance_on_time_share"), None);
        assert!(!r.published.suppressed.contains(&"compliance_on_time_share"));
    }

    #[test]
    fn care_ends_the_day_before_the_21st_birthday_whatever_the_planned_end() {
        let hvb = home(FacilityKind::Hvb, 3, 3);
        let stays = [
            // Turns 21 on 10 February; planned to stay longer.
            stay(&hvb, "2024-01-01", "2027-12-31", "2005-02-10"),
            stay(&hvb, "2024-01-01", "2027-12-31", "2005-03-10"),
            stay(&hvb, "2024-01-01", "2027-12-31", "2005-03-20"),
            // Turns 21 after the quarter.
            stay(&hvb, "2024-01-01", "2027-12-31", "2005-05-01"),
        ];
        let r = report(
            quarter(),
            None,
            std::slice::from_ref(&hvb),
            &stays,
            &Default::default(),
        );
        assert_eq!(
            counts(
                &r,
                &[
                    "ended_at_placement_end_age",
                    "discharges",
                    "children_placed_at_end"
                ]
            ),
            [Some(3), Some(3), None]
        );
        assert_eq!(
            r.published.suppressed.first(),
            Some(&"children_placed_at_end")
        );
        // Under rules that ended care at 20, all four would have left before the quarter.
        let at_20 = Period {
            placement_end_age: 20,
            ..quarter()
        };
        let r = report(at_20, None, &[hvb], &stays, &Default::default());
        assert_eq!(
            counts(
                &r,
                &["children_placed_in_period", "ended_at_placement_end_age"]
            ),
            [Some(0), Some(0)]
        );
    }

    #[test]
    fn compliance_figures_follow_the_children_they_come_from() {
        let figures = compliance::Figures {
            due_contacts: 12,
            on_time: 10,
            on_time_share: Some(0.833),
            children: 6,
            children_spoken_alone: 5,
            spoken_alone_share: Some(0.833),
            meets_target: Some(false),
            ..Default::default()
        };
        let r = report(quarter(), None, &[], &[], &figures);
        // One child not spoken with alone: that and, against 6 − 5, the 5 go; the share too.
        assert_eq!(
            counts(
                &r,
                &[
                    "compliance_children",
                    "compliance_children_spoken_alone",
                    "compliance_children_not_spoken_alone",
                    "compliance_due_contacts",
                ]
            ),
            [Some(6), None, None, Some(12)]
        );
        assert_eq!(value(&r, "compliance_spoken_alone_share"), None);
        assert_eq!(
            value(&r, "compliance_meets_target"),
            Some(Value::Flag(false))
        );
        let two = compliance::Figures {
            children: 2,
            children_spoken_alone: 2,
            ..figures
        };
        let r = report(quarter(), None, &[], &[], &two);
        assert_eq!(value(&r, "compliance_due_contacts"), None);
        assert_eq!(value(&r, "compliance_meets_target"), None);
        // No home in scope: no place-days available, no utilisation, nothing suppressed there.
        assert_eq!(value(&r, "utilisation"), None);
        assert!(!r.published.suppressed.contains(&"utilisation"));
    }
}
