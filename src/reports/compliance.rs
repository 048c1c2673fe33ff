//! Contact compliance for a period, per unit, per secretary and per facility: the share of due
//! contacts made on time, of children spoken with alone at least once, of secretary visits
//! held where the child lives, and the attempts that did not come off. Pure: the facts are
//! loaded by `routes`, the figures computed here.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::contact::Responsible;
use crate::domain::contact_due::{kept, Kept, Schedule};

/// A schedule in scope, with what it belongs to.
pub struct ScheduleFacts {
    pub id: Uuid,
    pub child_id: Uuid,
    pub unit_id: Uuid,
    pub responsible: Responsible,
    pub secretary_id: Option<Uuid>,
    /// The home of its placement, for a staff schedule.
    pub facility_id: Option<Uuid>,
    /// `None` when its stored recurrence no longer parses: it is then not judged.
    pub schedule: Option<Schedule>,
    /// The local dates of the contacts that count for it, up to the period's end.
    pub contacts: Vec<NaiveDate>,
}

/// A visit in the period (its latest version; a corrected entry is left out).
pub struct VisitFacts {
    pub child_id: Uuid,
    pub unit_id: Uuid,
    pub schedule_id: Option<Uuid>,
    pub performed_by: Uuid,
    pub by_secretary: bool,
    pub completed: bool,
    pub spoke_alone: bool,
    pub at_placement: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Figures {
    /// Contacts due in the period that can be judged (made, or past their tolerance).
    pub due_contacts: u32,
    pub on_time: u32,
    /// Share of `due_contacts` made on time, 0 to 1; `null` when none fell due.
    pub on_time_share: Option<f64>,
    /// Due in the period and still within their tolerance: not judged yet.
    pub pending: u32,
    /// Children with a schedule here running in the period.
    pub children: u32,
    pub children_spoken_alone: u32,
    pub spoken_alone_share: Option<f64>,
    /// Completed visits made by social secretaries.
    pub secretary_visits: u32,
    pub secretary_visits_at_placement: u32,
    pub at_placement_share: Option<f64>,
    /// Visits tried that did not come off (recorded as not completed).
    pub attempted_not_completed: u32,
    /// Whether `on_time_share` reaches the municipality's target; `null` when none fell due.
    pub meets_target: Option<bool>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Row<K: Serialize> {
    #[serde(flatten)]
    pub key: K,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct UnitKey {
    pub unit_id: Uuid,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct SecretaryKey {
    pub secretary_id: Uuid,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct FacilityKey {
    pub facility_id: Uuid,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The municipality's target for the on-time share, in percent (`config/rules.toml`).
    pub on_time_target_percent: u32,
    pub units: Vec<Row<UnitKey>>,
    pub secretaries: Vec<Row<SecretaryKey>>,
    pub facilities: Vec<Row<FacilityKey>>,
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part) / f64::from(whole) * 1000.0).round() / 1000.0)
}

/// The figures of one group: its schedules and the visits that belong to it.
fn figures(
    schedules: &[&ScheduleFacts],
    visits: &[&VisitFacts],
    period: Period,
    target_percent: u32,
) -> Figures {
    let mut total = Kept::default();
    for facts in schedules {
        if let Some(schedule) = &facts.schedule {
            let k = kept(
                schedule,
                &facts.contacts,
                (period.from, period.to),
                period.today,
            );
            total.due += k.due;
            total.on_time += k.on_time;
            total.pending += k.pending;
        }
    }
    let children: HashSet<Uuid> = schedules.iter().map(|s| s.child_id).collect();
    let spoken_alone: HashSet<Uuid> = visits
        .iter()
        .filter(|v| v.completed && v.spoke_alone && children.contains(&v.child_id))
        .map(|v| v.child_id)
        .collect();
    let by_secretary = visits.iter().filter(|v| v.completed && v.by_secretary);
    let secretary_visits = by_secretary.clone().count() as u32;
    let at_placement = by_secretary.filter(|v| v.at_placement).count() as u32;
    let on_time_share = share(total.on_time, total.due);
    Figures {
        due_contacts: total.due,
        on_time: total.on_time,
        on_time_share,
        pending: total.pending,
        children: children.len() as u32,
        children_spoken_alone: spoken_alone.len() as u32,
        spoken_alone_share: share(spoken_alone.len() as u32, children.len() as u32),
        secretary_visits,
        secretary_visits_at_placement: at_placement,
        at_placement_share: share(at_placement, secretary_visits),
        attempted_not_completed: visits.iter().filter(|v| !v.completed).count() as u32,
        meets_target: on_time_share.map(|s| s * 100.0 >= f64::from(target_percent)),
    }
}

/// The figures of a whole scope in one row: every schedule and visit given, as a unit's row
/// counts its own (the committee report's visit compliance, over its period and month by month).
pub fn overall<'a>(
    period: Period,
    target_percent: u32,
    schedules: impl IntoIterator<Item = &'a ScheduleFacts>,
    visits: impl IntoIterator<Item = &'a VisitFacts>,
) -> Figures {
    let schedules: Vec<&ScheduleFacts> = schedules.into_iter().collect();
    let visits: Vec<&VisitFacts> = visits.into_iter().collect();
    figures(&schedules, &visits, period, target_percent)
}

impl ScheduleFacts {
    /// Whether the schedule runs on some day from `from` to `to`; never when its recurrence no
    /// longer parses (it is not judged).
    pub fn runs_in(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.schedule
            .as_ref()
            .is_some_and(|s| s.start_date <= to && s.end_date.is_none_or(|end| end >= from))
    }
}

/// Groups by `key` (a schedule or visit may belong to no group of a kind), in key order.
fn grouped<T>(items: &[T], key: impl Fn(&T) -> Option<Uuid>) -> BTreeMap<Uuid, Vec<&T>> {
    let mut groups: BTreeMap<Uuid, Vec<&T>> = BTreeMap::new();
    for item in items {
        if let Some(k) = key(item) {
            groups.entry(k).or_default().push(item);
        }
    }
    groups
}

/// The report over `schedules` and `visits` (all of the units in scope). A unit counts every
/// schedule and visit of its children; a secretary the schedules she keeps and the visits she
/// made; a facility its staff's schedules and the visits that count for them.
pub fn report(
    period: Period,
    target_percent: u32,
    units: &[Uuid],
    schedules: &[ScheduleFacts],
    visits: &[VisitFacts],
) -> Report {
    let figures_of =
        |s: &[&ScheduleFacts], v: &[&VisitFacts]| figures(s, v, period, target_percent);
    let schedules_by_unit = grouped(schedules, |s| Some(s.unit_id));
    let visits_by_unit = grouped(visits, |v| Some(v.unit_id));
    let unit_rows = units
        .iter()
        .map(|unit| Row {
            key: UnitKey { unit_id: *unit },
            figures: figures_of(
                schedules_by_unit.get(unit).map_or(&[][..], Vec::as_slice),
                visits_by_unit.get(unit).map_or(&[][..], Vec::as_slice),
            ),
        })
        .collect();

    let kept_by_secretary = grouped(schedules, |s| {
        (s.responsible == Responsible::Secretary)
            .then_some(s.secretary_id)
            .flatten()
    });
    let visits_by_performer = grouped(visits, |v| Some(v.performed_by));
    let secretaries = kept_by_secretary
        .iter()
        .map(|(secretary, kept)| Row {
            key: SecretaryKey {
                secretary_id: *secretary,
            },
            figures: figures_of(
                kept,
                visits_by_performer
                    .get(secretary)
                    .map_or(&[][..], Vec::as_slice),
            ),
        })
        .collect();

    let staff_schedules = grouped(schedules, |s| {
        (s.responsible == Responsible::FacilityStaff)
            .then_some(s.facility_id)
            .flatten()
    });
    let home_of_schedule: HashMap<Uuid, Uuid> = schedules
        .iter()
        .filter(|s| s.responsible == Responsible::FacilityStaff)
        .filter_map(|s| Some((s.id, s.facility_id?)))
        .collect();
    let visits_by_home = grouped(visits, |v| {
        v.schedule_id
            .and_then(|id| home_of_schedule.get(&id).copied())
    });
    let facilities = staff_schedules
        .iter()
        .map(|(home, kept)| Row {
            key: FacilityKey { facility_id: *home },
            figures: figures_of(
                kept,
                visits_by_home.get(home).map_or(&[][..], Vec::as_slice),
            ),
        })
        .collect();

    Report {
        from: period.from,
        to: period.to,
        on_time_target_percent: target_percent,
        units: unit_rows,
        secretaries,
        facilities,
    }
}
