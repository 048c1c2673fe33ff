//! The committee report (*socialnämnden*): what happened in a period in the homes of a unit (or
//! of every unit), as plain counts and ratios with small counts suppressed
//! (`domain::suppression`). Pure: its facts (the homes and their stays, the compliance facts,
//! the education starts) are loaded by `routes`, once for the whole period.
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
//! - turnover per place and year (`turnover_per_place_per_year`): the discharges divided by the
//!   places of the homes (their capacity, as it is today, summed), scaled from the period to a
//!   year: `discharges / places × 365 / days`. Two discharges from three places in 92 days are
//!   2 / 3 × 365 / 92 = 2.645: at that pace each place changes hands 2.6 times a year;
//! - education, from the age-out plans of the children placed in the period, as each plan
//!   stands (its current version): `education_started`, the children whose school or SFI
//!   started on a day of the period; the average days from the application to that start; and
//!   the share started by the rule's deadline, `education_start_within_months` (in force on the
//!   period's last day) after the application (`age_out::education_wait`, the three-month rule);
//! - the contact compliance figures of the unit's children (`compliance::overall`);
//! - a monthly series: for each calendar month the period overlaps, clipped to the period, the
//!   children placed on its last day, the place-days used and available and their ratio, and
//!   the contact compliance on-time share of the contacts due in that month.
//!
//! Suppression of the series: each month is suppressed on its own, as the period is: its
//! children placed at the end are a count of children; its place-days come from the children
//! who held a place in the month and its on-time share from the children with a schedule
//! running in it (two counts of children used for that, not shown). A month's counts of
//! children are not parts of the period's (a child counts in every month she is placed), but
//! its place-days are: the months' place-days add up to the period's. So when exactly one cell
//! of that sum is hidden, the smallest other month that is not zero loses its place-days too
//! (rule 2 of `domain::suppression`), and its utilisation with them.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use super::capacity::{effective_last_day, Facility, Stay};
use super::compliance::{self, ScheduleFacts, VisitFacts};
use crate::domain::age::{birthday, day_before_birthday};
use crate::domain::age_out::education_wait;
use crate::domain::facility_kind::FacilityKind;
use crate::domain::suppression::{
    self, against_subtraction, Basis, Cell, Figure, Published, Shown, Total, Value,
};

/// The period and the rules that count in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Care past this birthday needs a decision to continue (18).
    pub adult_age: u32,
    /// Placements end no later than the day before this birthday (21).
    pub placement_end_age: u32,
    /// School or SFI starts within this many months of the application (3).
    pub education_start_within_months: u32,
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

    /// The calendar months of the period ([`months`]).
    pub fn months(&self) -> Vec<(NaiveDate, NaiveDate)> {
        months(self.from, self.to)
    }
}

/// The calendar months that `from` to `to` overlaps, each clipped to those days: its first and
/// last day. A period of at most 366 days overlaps at most 13.
pub fn months(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut months = Vec::new();
    let mut first = from;
    while first <= to {
        let next = first
            .with_day(1)
            .and_then(|day| day.checked_add_months(Months::new(1)));
        let last = next.and_then(|n| n.pred_opt()).map_or(to, |l| l.min(to));
        months.push((first, last));
        match next {
            Some(next) => first = next,
            None => break,
        }
    }
    months
}

/// An education start in an age-out plan as it stands: the day of the application to school or
/// SFI and the day she started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EducationStart {
    pub child: Uuid,
    pub applied_on: NaiveDate,
    pub started_on: NaiveDate,
}

/// The contact compliance of the scope's children, over the period and month by month.
#[derive(Debug, Default, PartialEq)]
pub struct Compliance {
    pub period: compliance::Figures,
    /// One for each of [`Period::months`], in order: the contacts due in the month, and as
    /// `children` the children with a schedule running in it. Visits carry no day here, so a
    /// month's visit figures are not computed.
    pub months: Vec<compliance::Figures>,
}

impl Compliance {
    /// The figures of `schedules` and `visits` (the scope's, loaded once for the period).
    pub fn of(
        period: compliance::Period,
        target_percent: u32,
        schedules: &[ScheduleFacts],
        visits: &[VisitFacts],
    ) -> Self {
        let months = months(period.from, period.to)
            .into_iter()
            .map(|(from, to)| {
                let month = compliance::Period { from, to, ..period };
                let running = schedules.iter().filter(|s| s.runs_in(from, to));
                compliance::overall(month, target_percent, running, [])
            })
            .collect();
        Compliance {
            period: compliance::overall(period, target_percent, schedules, visits),
            months,
        }
    }
}

/// What the report is computed from.
pub struct Facts<'a> {
    /// The open homes in scope.
    pub facilities: &'a [Facility],
    /// Every non-cancelled stay of a child in those homes that touches `period.span()`, with
    /// its child (stays in other homes are ignored).
    pub stays: &'a [(Uuid, Stay)],
    pub compliance: &'a Compliance,
    /// The education starts recorded in the plans of (at least) the children of `stays`.
    pub education: &'a [EducationStart],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unit_id: Option<Uuid>,
    pub adult_age: u32,
    pub placement_end_age: u32,
    pub education_start_within_months: u32,
    /// Counts of children below this are suppressed.
    pub smallest_shown: i64,
    #[serde(flatten)]
    pub published: Published,
    pub series: Vec<Month>,
}

/// One month of the series: its name (`2026-01`), its days in the period, and its figures as
/// they may be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    pub month: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: Vec<Shown>,
}

/// The figures a month shows, in this order; the counts of children that decide what is
/// suppressed are not shown.
pub const MONTH_SHOWS: [&str; 5] = [
    "children_placed_at_end",
    "place_days_used",
    "place_days_available",
    "utilisation",
    "compliance_on_time_share",
];

/// `{"month", "from", "to", "<figure>": {"value", "suppressed"}, …}`: one field per figure, for
/// a chart.
impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown {
            value: Option<Value>,
            suppressed: bool,
        }
        let mut map = serializer.serialize_map(Some(3 + self.figures.len()))?;
        map.serialize_entry("month", &self.month)?;
        map.serialize_entry("from", &self.from)?;
        map.serialize_entry("to", &self.to)?;
        for figure in &self.figures {
            let shown = Shown {
                value: figure.value,
                suppressed: figure.suppressed,
            };
            map.serialize_entry(figure.name, &shown)?;
        }
        map.end()
    }
}

/// The sums that share a figure's parts: hiding one part of them alone would be undone by
/// subtraction.
fn totals() -> Vec<Total> {
    let total = |total, parts: &[&'static str]| Total {
        total,
        parts: parts.to_vec(),
    };
    vec![
        // Those placed on some day of the period were there on its first day or came later,
        // and were there on its last day or left before: both are exact sums of children.
        total(
            "children_placed_in_period",
            &["children_placed_at_start", "children_arrived_in_period"],
        ),
        total(
            "children_placed_in_period",
            &["children_placed_at_end", "children_left_in_period"],
        ),
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

fn children_of(held: &[Held], keep: impl Fn(&Held) -> bool) -> HashSet<Uuid> {
    held.iter().filter(|h| keep(h)).map(|h| h.child).collect()
}

fn distinct(held: &[Held], keep: impl Fn(&Held) -> bool) -> i64 {
    children_of(held, keep).len() as i64
}

/// Days from `first` to `last`, both counted; 0 when `last` is earlier.
fn days(first: NaiveDate, last: NaiveDate) -> i64 {
    ((last - first).num_days() + 1).max(0)
}

/// The days from `from` to `to` the stays hold a place.
fn place_days(held: &[Held], from: NaiveDate, to: NaiveDate) -> i64 {
    held.iter()
        .map(|h| days(h.start.max(from), h.last.min(to)))
        .sum()
}

fn placed(period: Period, held: &[Held]) -> Placed {
    let (from, to) = (period.from, period.to);
    let mut out = Placed {
        at_start: distinct(held, |h| h.covers(from)),
        at_end: distinct(held, |h| h.covers(to)),
        in_period: distinct(held, |h| h.start <= to && h.last >= from),
        ..Placed::default()
    };
    out.place_days_used = place_days(held, from, to);
    for h in held {
        if (from..=to).contains(&h.start) {
            out.admissions.add(h.kind);
        }
        if (from..=to).contains(&h.last) {
            out.discharges.add(h.kind);
            out.discharged_days += days(h.start, h.last);
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

fn capacity_of(facilities: &[Facility]) -> i64 {
    facilities.iter().map(|f| i64::from(f.capacity)).sum()
}

/// Discharges per place and year: `discharges / places × 365 / days`, three decimals; `None`
/// without places.
fn turnover(discharges: i64, places: i64, days: i64) -> Option<Value> {
    (places > 0 && days > 0).then(|| {
        let per_year = discharges as f64 / places as f64 * 365.0 / days as f64;
        Value::Ratio(round(per_year, 3))
    })
}

fn placement_figures(period: Period, facilities: &[Facility], p: &Placed) -> Vec<Figure> {
    let capacity = capacity_of(facilities);
    let agreed: i64 = facilities.iter().map(|f| i64::from(f.agreed_places)).sum();
    let available = capacity * period.days();
    let discharges = p.discharges.total();
    vec![
        children("children_placed_at_start", p.at_start),
        children("children_placed_at_end", p.at_end),
        children("children_placed_in_period", p.in_period),
        children("children_arrived_in_period", p.in_period - p.at_start),
        children("children_left_in_period", p.in_period - p.at_end),
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
        derived(
            "turnover_per_place_per_year",
            turnover(discharges, capacity, period.days()),
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

/// The education figures of `placed` (the children placed in the period): the starts recorded
/// in their plans that fall in the period, at most one a child (a child has one plan).
fn education_figures(
    period: Period,
    placed: &HashSet<Uuid>,
    starts: &[EducationStart],
) -> Vec<Figure> {
    let mut counted: HashSet<Uuid> = HashSet::new();
    let (mut waited, mut in_time) = (0, 0);
    for start in starts {
        let in_period = (period.from..=period.to).contains(&start.started_on);
        if !in_period || !placed.contains(&start.child) || !counted.insert(start.child) {
            continue;
        }
        let wait = education_wait(
            start.applied_on,
            Some(start.started_on),
            period.education_start_within_months,
            period.to,
        );
        waited += wait.waiting_days;
        in_time += i64::from(!wait.breach);
    }
    let started = counted.len() as i64;
    const STARTED: &[&str] = &["education_started"];
    vec![
        children("education_started", started),
        derived(
            "education_average_wait_days",
            ratio(waited, started, 1),
            STARTED,
        ),
        derived(
            "education_started_in_time_share",
            ratio(in_time, started, 3),
            STARTED,
        ),
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

/// A month's figures (before suppression), with the two counts of children they come from.
fn month_figures(
    (from, to): (NaiveDate, NaiveDate),
    capacity: i64,
    held: &[Held],
    compliance: Option<&compliance::Figures>,
) -> Vec<Figure> {
    let used = place_days(held, from, to);
    let available = capacity * days(from, to);
    let schedule_children = compliance.map(|c| Value::Count(i64::from(c.children)));
    let on_time_share = compliance.and_then(|c| c.on_time_share).map(Value::Ratio);
    vec![
        children("children_placed_at_end", distinct(held, |h| h.covers(to))),
        children(
            "children_placed_in_month",
            distinct(held, |h| h.start <= to && h.last >= from),
        ),
        derived(
            "place_days_used",
            Some(Value::Count(used)),
            &["children_placed_in_month"],
        ),
        count("place_days_available", available, Basis::Open),
        derived(
            "utilisation",
            ratio(used, available, 3),
            &["place_days_used"],
        ),
        Figure {
            name: "compliance_children",
            value: schedule_children,
            basis: Basis::Children,
        },
        derived(
            "compliance_on_time_share",
            on_time_share,
            &["compliance_children"],
        ),
    ]
}

fn value_of(figures: &[Figure], name: &str) -> Option<i64> {
    match figures.iter().find(|f| f.name == name)?.value? {
        Value::Count(n) => Some(n),
        Value::Ratio(_) | Value::Flag(_) => None,
    }
}

/// The months whose place-days are hidden against subtraction from the period's
/// (`period_hidden`): rule 2 over the sum of the months' place-days, each month's already
/// suppressed on its own or not. When only the period's total could go, every month's goes
/// instead (the period's figures are final); with the counts derived as they are, that cannot
/// happen, since a hidden month with every other month at zero makes the period's count of
/// children small too.
fn hidden_against_subtraction(period_hidden: bool, months: &[Vec<Figure>]) -> Vec<bool> {
    let mut cells: Vec<(bool, Option<i64>)> = months
        .iter()
        .map(|figures| {
            let hidden = suppression::suppressed(figures, &[]).contains(&"place_days_used");
            (hidden, value_of(figures, "place_days_used"))
        })
        .collect();
    let alone: Vec<bool> = cells.iter().map(|(hidden, _)| *hidden).collect();
    match against_subtraction(period_hidden, &cells) {
        Some(Cell::Part(i)) => cells[i].0 = true,
        Some(Cell::Total) => cells.iter_mut().for_each(|cell| cell.0 = true),
        None => {}
    }
    cells
        .iter()
        .zip(alone)
        .map(|((hidden, _), alone)| *hidden && !alone)
        .collect()
}

/// The monthly series: each month published on its own, the place-days also against
/// subtraction from the period's.
fn series(
    period: Period,
    capacity: i64,
    held: &[Held],
    compliance: &Compliance,
    published: &Published,
) -> Vec<Month> {
    let months = period.months();
    let figures: Vec<Vec<Figure>> = months
        .iter()
        .enumerate()
        .map(|(i, month)| month_figures(*month, capacity, held, compliance.months.get(i)))
        .collect();
    let period_hidden = published.suppressed.contains(&"place_days_used");
    let also = hidden_against_subtraction(period_hidden, &figures);
    // The last month ends on the period's last day: its children then are the period's, and
    // hidden when those are (also when only against subtraction).
    let end_hidden = published.suppressed.contains(&"children_placed_at_end");
    let last = months.len().saturating_sub(1);
    months
        .into_iter()
        .zip(figures)
        .zip(also)
        .enumerate()
        .map(|(i, (((from, to), figures), also))| {
            let mut hidden: Vec<&'static str> = Vec::new();
            if also {
                hidden.push("place_days_used");
            }
            if end_hidden && i == last {
                hidden.push("children_placed_at_end");
            }
            let shown = suppression::publish_with(figures, &[], &hidden)
                .figures
                .into_iter()
                .filter(|f| MONTH_SHOWS.contains(&f.name))
                .collect();
            Month {
                month: from.format("%Y-%m").to_string(),
                from,
                to,
                figures: shown,
            }
        })
        .collect()
}

/// The report for `unit_id` (or every unit) over `period`, from `facts`.
pub fn report(period: Period, unit_id: Option<Uuid>, facts: &Facts) -> Report {
    let kinds: HashMap<Uuid, FacilityKind> =
        facts.facilities.iter().map(|f| (f.id, f.kind)).collect();
    let held: Vec<Held> = facts
        .stays
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
    let placed_in_period = children_of(&held, |h| h.start <= period.to && h.last >= period.from);
    let mut figures = placement_figures(period, facts.facilities, &placed(period, &held));
    figures.extend(education_figures(
        period,
        &placed_in_period,
        facts.education,
    ));
    figures.extend(compliance_figures(&facts.compliance.period));
    let published = suppression::publish(figures, &totals());
    let capacity = capacity_of(facts.facilities);
    Report {
        from: period.from,
        to: period.to,
        unit_id,
        adult_age: period.adult_age,
        placement_end_age: period.placement_end_age,
        education_start_within_months: period.education_start_within_months,
        smallest_shown: suppression::SMALLEST_SHOWN,
        series: series(period, capacity, &held, facts.compliance, &published),
        published,
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
            education_start_within_months: 3,
        }
    }

    /// The report of `facilities` and `stays` with the period's compliance `figures`, no month's
    /// and no education start.
    fn report_of(
        period: Period,
        facilities: &[Facility],
        stays: &[(Uuid, Stay)],
        figures: compliance::Figures,
    ) -> Report {
        let compliance = Compliance {
            period: figures,
            months: Vec::new(),
        };
        let facts = Facts {
            facilities,
            stays,
            compliance: &compliance,
            education: &[],
        };
        report(period, None, &facts)
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

    /// A month's figures, in the order shown (a suppressed one as `None`).
    fn month_values(month: &Month) -> Vec<Option<Value>> {
        let names: Vec<&str> = month.figures.iter().map(|f| f.name).collect();
        assert_eq!(names, MONTH_SHOWS);
        month.figures.iter().map(|f| f.value).collect()
    }

    /// A month's figure: its value and whether it is suppressed.
    fn in_month(month: &Month, name: &str) -> (Option<Value>, bool) {
        let figure = month
            .figures
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name} is a figure of {month:?}"));
        (figure.value, figure.suppressed)
    }

    #[test]
    fn months_are_calendar_months_clipped_to_the_period() {
        let months = |from: &str, to: &str| months(date(from), date(to));
        assert_eq!(
            months("2025-12-15", "2026-02-10"),
            [
                (date("2025-12-15"), date("2025-12-31")),
                (date("2026-01-01"), date("2026-01-31")),
                (date("2026-02-01"), date("2026-02-10")),
            ]
        );
        assert_eq!(
            months("2028-02-03", "2028-02-29"),
            [(date("2028-02-03"), date("2028-02-29"))]
        );
        // The longest period, 366 days, overlaps 13 months.
        let longest = months("2025-01-31", "2026-01-31");
        assert_eq!(longest.len(), 13);
        assert_eq!(longest[1], (date("2025-02-01"), date("2025-02-28")));
        assert_eq!(longest[12], (date("2026-01-01"), date("2026-01-31")));
    }

    #[test]
    fn a_month_of_one_child_is_suppressed_and_another_month_against_subtraction() {
        let hvb = home(FacilityKind::Hvb, 3, 3);
        let young = "2010-06-01";
        let stays = [
            // D alone in January, 10 to 20: 11 days.
            stay(&hvb, "2026-01-10", "2026-01-20", young),
            // Three from 1 February: 28 and 31 days each.
            stay(&hvb, "2026-02-01", "2026-06-30", young),
            stay(&hvb, "2026-02-01", "2026-06-30", young),
            stay(&hvb, "2026-02-01", "2026-06-30", young),
        ];
        let compliance = Compliance {
            period: compliance::Figures::default(),
            months: vec![
                compliance::Figures {
                    children: 2,
                    on_time_share: Some(1.0),
                    ..Default::default()
                },
                compliance::Figures {
                    children: 4,
                    on_time_share: Some(0.75),
                    ..Default::default()
                },
                compliance::Figures::default(),
            ],
        };
        let facts = Facts {
            facilities: std::slice::from_ref(&hvb),
            stays: &stays,
            compliance: &compliance,
            education: &[],
        };
        let r = report(quarter(), None, &facts);
        // The quarter: 4 children, 11 + 3 × 28 + 3 × 31 = 188 place-days, all shown.
        assert_eq!(
            counts(&r, &["children_placed_in_period", "place_days_used"]),
            [Some(4), Some(188)]
        );
        let [jan, feb, mar] = &r.series[..] else {
            panic!("three months: {:?}", r.series)
        };
        // January: nobody on the 31st (0 shown); D's 11 days and their ratio suppressed, and so
        // is the share of two children's contacts.
        assert_eq!(
            in_month(jan, "children_placed_at_end"),
            (Some(Value::Count(0)), false)
        );
        assert_eq!(in_month(jan, "place_days_used"), (None, true));
        assert_eq!(in_month(jan, "utilisation"), (None, true));
        assert_eq!(
            in_month(jan, "place_days_available"),
            (Some(Value::Count(93)), false)
        );
        assert_eq!(in_month(jan, "compliance_on_time_share"), (None, true));
        // 188 − 84 − 93 would give January's 11 back: February's 84, the smaller, goes too.
        assert_eq!(
            in_month(feb, "children_placed_at_end"),
            (Some(Value::Count(3)), false)
        );
        assert_eq!(in_month(feb, "place_days_used"), (None, true));
        assert_eq!(in_month(feb, "utilisation"), (None, true));
        assert_eq!(
            in_month(feb, "compliance_on_time_share"),
            (Some(Value::Ratio(0.75)), false)
        );
        // March: 93 of 93.
        assert_eq!(
            in_month(mar, "place_days_used"),
            (Some(Value::Count(93)), false)
        );
        assert_eq!(
            in_month(mar, "utilisation"),
            (Some(Value::Ratio(1.0)), false)
        );
        assert_eq!(in_month(mar, "compliance_on_time_share"), (None, false));
        // Chart-ready JSON: one field per figure.
        assert_eq!(
            serde_json::to_value(jan).unwrap(),
            serde_json::json!({
                "month": "2026-01", "from": "2026-01-01", "to": "2026-01-31",
                "children_placed_at_end": {"value": 0, "suppressed": false},
                "place_days_used": {"value": null, "suppressed": true},
                "place_days_available": {"value": 93, "suppressed": false},
                "utilisation": {"value": null, "suppressed": true},
                "compliance_on_time_share": {"value": null, "suppressed": true},
            })
        );
    }

    #[test]
    fn education_starts_in_the_period_of_the_children_placed_in_it() {
        let hvb = home(FacilityKind::Hvb, 6, 6);
        let elsewhere = home(FacilityKind::Hvb, 6, 6);
        let young = "2008-06-01";
        let placed: Vec<(Uuid, Stay)> = (0..4)
            .map(|_| stay(&hvb, "2025-06-01", "2026-12-31", young))
            .collect();
        let not_here = stay(&elsewhere, "2025-06-01", "2026-12-31", young);
        let mut stays = placed.clone();
        stays.push(not_here);
        let start = |i: usize, applied: &str, started: &str| EducationStart {
            child: stays[i].0,
            applied_on: date(applied),
            started_on: date(started),
        };
        let starts = [
            // 1 Dec to 15 Feb: 31 + 31 + 14 = 76 days, by the deadline of 1 March.
            start(0, "2025-12-01", "2026-02-15"),
            // 1 Oct to 10 Jan: 31 + 30 + 31 + 9 = 101 days, after the deadline of 1 January.
            start(1, "2025-10-01", "2026-01-10"),
            // 5 Jan to 5 Mar: 31 + 28 = 59 days.
            start(2, "2026-01-05", "2026-03-05"),
            // Started before the quarter.
            start(3, "2025-09-01", "2025-12-20"),
            // In a home outside the scope.
            start(4, "2026-01-02", "2026-02-02"),
        ];
        let compliance = Compliance::default();
        let facts = |education| Facts {
            facilities: std::slice::from_ref(&hvb),
            stays: &stays,
            compliance: &compliance,
            education,
        };
        let r = report(quarter(), None, &facts(&starts));
        assert_eq!(r.education_start_within_months, 3);
        assert_eq!(counts(&r, &["education_started"]), [Some(3)]);
        // (76 + 101 + 59) / 3 = 78.67; two of three in time.
        assert_eq!(
            value(&r, "education_average_wait_days"),
            Some(Value::Ratio(78.7))
        );
        assert_eq!(
            value(&r, "education_started_in_time_share"),
            Some(Value::Ratio(0.667))
        );
        // Under a rule of four months, the 101 days keep it too (deadline 1 February).
        let four = Period {
            education_start_within_months: 4,
            ..quarter()
        };
        let facts4 = facts(&starts);
        let r = report(four, None, &facts4);
        assert_eq!(
            value(&r, "education_started_in_time_share"),
            Some(Value::Ratio(1.0))
        );
        // Two starts: the count and what comes from it are suppressed.
        let r = report(quarter(), None, &facts(&starts[..2]));
        assert_eq!(counts(&r, &["education_started"]), [None]);
        assert_eq!(
            &r.published.suppressed[..],
            [
                "education_started",
                "education_average_wait_days",
                "education_started_in_time_share"
            ]
        );
        // None at all: zero, and nothing to divide.
        let r = report(quarter(), None, &facts(&[]));
        assert_eq!(counts(&r, &["education_started"]), [Some(0)]);
        assert_eq!(value(&r, "education_average_wait_days"), None);
    }

    #[test]
    fn turnover_goes_with_the_discharges_it_comes_from() {
        let hvb = home(FacilityKind::Hvb, 3, 3);
        let young = "2010-06-01";
        // Two discharges from 3 places in a period of 92 days.
        let stays = [
            stay(&hvb, "2025-06-01", "2026-01-31", young),
            stay(&hvb, "2025-06-01", "2026-02-28", young),
            stay(&hvb, "2025-06-01", "2026-12-31", young),
        ];
        let ninety_two = Period {
            to: date("2026-04-02"),
            ..quarter()
        };
        assert_eq!(ninety_two.days(), 92);
        assert_eq!(turnover(2, 3, 92), Some(Value::Ratio(2.645)));
        assert_eq!(turnover(2, 0, 92), None);
        let r = report_of(
            ninety_two,
            std::slice::from_ref(&hvb),
            &stays,
            Default::default(),
        );
        assert_eq!(counts(&r, &["discharges"]), [None]);
        assert_eq!(value(&r, "turnover_per_place_per_year"), None);
        assert!(r
            .published
            .suppressed
            .contains(&"turnover_per_place_per_year"));
    }

    #[test]
    fn compliance_month_by_month_counts_the_contacts_due_in_each_month() {
        let schedule = |child: Uuid, start: &str, contacts: &[&str]| ScheduleFacts {
            id: Uuid::now_v7(),
            child_id: child,
            unit_id: Uuid::nil(),
            responsible: crate::domain::contact::Responsible::Secretary,
            secretary_id: None,
            facility_id: None,
            schedule: Some(crate::domain::contact_due::Schedule {
                recurrence: crate::domain::recurrence::Recurrence::parse("every 10 days").unwrap(),
                tolerance_days: 0,
                start_date: date(start),
                end_date: None,
            }),
            contacts: contacts.iter().map(|d| date(d)).collect(),
        };
        let schedules = [
            // Due 11, 21, 31 January (made), 10 February (made), 20 February (missed).
            schedule(
                Uuid::now_v7(),
                "2026-01-01",
                &["2026-01-11", "2026-01-21", "2026-01-31", "2026-02-10"],
            ),
            // From 15 February: due 25 February, missed.
            schedule(Uuid::now_v7(), "2026-02-15", &[]),
        ];
        let period = compliance::Period {
            from: date("2026-01-01"),
            to: date("2026-02-28"),
            today: date("2026-03-10"),
        };
        let c = Compliance::of(period, 80, &schedules, &[]);
        // January: 3 of 3, one child; February: 1 of 3, two; the period 4 of 6.
        let month =
            |f: &compliance::Figures| (f.children, f.due_contacts, f.on_time, f.on_time_share);
        assert_eq!(
            c.months.iter().map(month).collect::<Vec<_>>(),
            [(1, 3, 3, Some(1.0)), (2, 3, 1, Some(0.333))]
        );
        assert_eq!(month(&c.period), (2, 6, 4, Some(0.667)));
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
        let r = report_of(
            quarter(),
            &[hvb.clone(), housing.clone()],
            &stays,
            compliance::Figures::default(),
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
            // 3 + housing + mover = 5 and 3 + mover = 4 would be shown, but 6 − 5 = 1 came in
            // the period and 6 − 4 = 2 left: both suppressed, so 5 and 4, the other parts of
            // the 6, go too (against subtraction). All 6; 1 Feb and the move (2: suppressed);
            // 10 Feb, 28 Feb, the move.
            [None, None, Some(6), None, Some(3)]
        );
        assert_eq!(
            counts(
                &r,
                &["children_arrived_in_period", "children_left_in_period"]
            ),
            [None, None]
        );
        // 3 × 90 + 10 + 59 + 73 (mover in HVB) + 17 (in housing) = 429 of 6 × 90 = 540.
        assert_eq!(
            counts(&r, &["place_days_used", "place_days_available"]),
            [Some(429), Some(540)]
        );
        assert_eq!(value(&r, "utilisation"), Some(Value::Ratio(0.794)));
        // Stays ended: 10, 149 and 195 (1 Sep to 14 Mar) days: 354 / 3 = 118.
        assert_eq!(value(&r, "average_stay_days"), Some(Value::Ratio(118.0)));
        // 3 discharges from 4 + 2 places in 90 days: 3 / 6 × 365 / 90 = 2.0277….
        assert_eq!(
            value(&r, "turnover_per_place_per_year"),
            Some(Value::Ratio(2.028))
        );
        // Month by month (31, 28, 31 days of 6 places). On 31 January the three, the one in
        // supported housing and the mover; on 28 February the same (her last day); on 31 March
        // the three and the mover. Place-days: 3 × 31 + 31 + 31; 3 × 28 + 10 + 28 + 28;
        // 3 × 31 + 31 (together 429, the quarter's).
        let months: Vec<(&str, Vec<Option<Value>>)> = r
            .series
            .iter()
            .map(|m| (m.month.as_str(), month_values(m)))
            .collect();
        let month = |name, at_end: Option<i64>, used, available, utilisation| {
            let c = |n| Some(Value::Count(n));
            let share = Some(Value::Ratio(utilisation));
            (
                name,
                vec![at_end.map(Value::Count), c(used), c(available), share, None],
            )
        };
        assert_eq!(
            months,
            [
                month("2026-01", Some(5), 155, 186, 0.833),
                month("2026-02", Some(5), 150, 168, 0.893),
                // 4 on 31 March, the period's own count, hidden above against subtraction.
                month("2026-03", None, 124, 186, 0.667),
            ]
        );
        assert!(r.series[2].figures[0].suppressed);
        // The places used on the last day are the children placed then, suppressed above.
        assert_eq!(
            counts(&r, &["agreed_places", "places_used_on_last_day"]),
            [Some(5), None]
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
        let r = report_of(
            quarter(),
            std::slice::from_ref(&hvb),
            &stays,
            Default::default(),
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
        let r = report_of(at_20, &[hvb], &stays, Default::default());
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
        let two = compliance::Figures {
            children: 2,
            children_spoken_alone: 2,
            ..figures
        };
        let r = report_of(quarter(), &[], &[], figures);
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
        let r = report_of(quarter(), &[], &[], two);
        assert_eq!(value(&r, "compliance_due_contacts"), None);
        assert_eq!(value(&r, "compliance_meets_target"), None);
        // No home in scope: no place-days available, no utilisation, nothing suppressed there.
        assert_eq!(value(&r, "utilisation"), None);
        assert!(!r.published.suppressed.contains(&"utilisation"));
    }
}
