//! What a quarter's claim holds, derived from placements, asylum status and dates of birth by
//! the rules in force on each day (`rules::reimbursement`). Pure: `store` loads the facts.
//!
//! Each placement day of the quarter (from the start to the end, or to the planned end while
//! none is recorded, never past the day before the birthday at which placements end) falls in
//! at most one daily category, by the rules in force that day:
//!
//! - `asylum_seeker_day`: before the adult-age birthday, with an asylum-seeking status;
//! - `continued_care_day`: from the adult-age birthday on, with a permit's status.
//!
//! A run of days of one placement in one category at one rate is one line, so every figure
//! traces to its days. Besides: `assignment`, once, for a child assigned to the municipality
//! (`assigned_on`) in the quarter; and `lvu_care` for each placement under a legal basis of the
//! Care of Young Persons Act, over the days that have a daily amount (LVU-level care is
//! claimed above the standard amount, so a child with no claimable day has no such line): its
//! actual cost (stated by the administrator) above the daily amounts claimed for the same
//! placement, never below nothing. Without a stated cost that line claims nothing and the
//! claim counts it as missing.
//!
//! The asylum status is the child's as recorded when the claim is derived: the record keeps no
//! history of it. A claim is derived again on every change of the draft and checked against the
//! records once more when it is submitted.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::age::{birthday, day_before_birthday};
use crate::domain::child::AsylumStatus;
use crate::domain::quarter::Quarter;
use crate::rules::Rules;

crate::text_enum! {
    /// What a line claims for.
    pub enum Category {
        AsylumSeekerDay = "asylum_seeker_day",
        ContinuedCareDay = "continued_care_day",
        Assignment = "assignment",
        LvuCare = "lvu_care",
    }
}

/// A child as the claim needs her.
#[derive(Debug, Clone)]
pub struct ChildFacts {
    pub id: Uuid,
    pub dossier_number: Option<String>,
    pub date_of_birth: NaiveDate,
    pub asylum_status: AsylumStatus,
    pub assigned_on: Option<NaiveDate>,
}

/// A placement, not cancelled, as the claim needs it.
#[derive(Debug, Clone)]
pub struct PlacementFacts {
    pub id: Uuid,
    pub child_id: Uuid,
    pub start: NaiveDate,
    /// The end, or the planned end while none is recorded.
    pub last: NaiveDate,
    pub legal_basis: String,
}

/// One line of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Line {
    pub child_id: Uuid,
    /// Her dossier number when the line was derived.
    pub dossier_number: Option<String>,
    pub placement_id: Option<Uuid>,
    pub category: Category,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Negative in a supplementary claim's line that withdraws days claimed before.
    pub days: i32,
    pub rate_ore: i64,
    pub actual_cost_ore: Option<i64>,
    pub amount_ore: i64,
    /// The `valid_from` of the rule set whose amounts apply.
    pub rules_from: NaiveDate,
}

impl Line {
    /// The same line withdrawn: its days and amount negated.
    fn withdrawn(&self) -> Self {
        Self {
            days: -self.days,
            amount_ore: -self.amount_ore,
            ..self.clone()
        }
    }

    /// What identifies a line between claims, whatever its sign and dossier number.
    fn key(&self) -> Self {
        Self {
            days: self.days.abs(),
            amount_ore: self.amount_ore.abs(),
            dossier_number: None,
            ..self.clone()
        }
    }

    /// +1 for a line that claims, -1 for one that withdraws.
    fn sign(&self) -> i64 {
        if self.days < 0 || self.amount_ore < 0 {
            -1
        } else {
            1
        }
    }

    /// An `lvu_care` line without the actual cost it needs.
    pub fn lacks_actual_cost(&self) -> bool {
        self.category == Category::LvuCare && self.actual_cost_ore.is_none()
    }
}

/// The day's daily category and rate for a child with `status` born on `born`.
fn daily(
    rules: &Rules,
    born: NaiveDate,
    status: AsylumStatus,
    day: NaiveDate,
) -> Option<(Category, i64, NaiveDate)> {
    let set = rules.on(day);
    let r = set.reimbursement.as_ref()?;
    if day > day_before_birthday(born, set.placement_end_age) {
        return None;
    }
    if day < birthday(born, set.adult_age) {
        r.asylum_seeker_statuses.contains(&status).then_some((
            Category::AsylumSeekerDay,
            r.asylum_seeker_daily_ore,
            set.valid_from,
        ))
    } else {
        r.continued_care_statuses.contains(&status).then_some((
            Category::ContinuedCareDay,
            r.continued_care_daily_ore,
            set.valid_from,
        ))
    }
}

/// The daily lines of one placement in `quarter`, and its LVU line if it has one.
fn placement_lines(
    rules: &Rules,
    quarter: Quarter,
    child: &ChildFacts,
    placement: &PlacementFacts,
    actual_cost: Option<i64>,
) -> Vec<Line> {
    let first = placement.start.max(quarter.first_day());
    let last = placement.last.min(quarter.last_day());
    let mut lines: Vec<Line> = Vec::new();
    let mut lvu: Option<(NaiveDate, NaiveDate, i32, NaiveDate)> = None;
    let mut day = first;
    while day <= last {
        let set = rules.on(day);
        let lvu_level = set
            .reimbursement
            .as_ref()
            .is_some_and(|r| r.lvu_legal_bases.contains(&placement.legal_basis));
        let claimable = daily(rules, child.date_of_birth, child.asylum_status, day);
        // LVU-level care is claimed above the daily amount, so only on days that have one
        // (none past the end of care).
        if lvu_level && claimable.is_some() {
            let run = lvu.get_or_insert((day, day, 0, set.valid_from));
            run.1 = day;
            run.2 += 1;
        }
        if let Some((category, rate, rules_from)) = claimable {
            match lines.last_mut() {
                Some(line)
                    if line.category == category
                        && line.rate_ore == rate
                        && line.rules_from == rules_from
                        && line.last_day.succ_opt() == Some(day) =>
                {
                    line.last_day = day;
                    line.days += 1;
                    line.amount_ore += rate;
                }
                _ => lines.push(Line {
                    child_id: child.id,
                    dossier_number: child.dossier_number.clone(),
                    placement_id: Some(placement.id),
                    category,
                    first_day: day,
                    last_day: day,
                    days: 1,
                    rate_ore: rate,
                    actual_cost_ore: None,
                    amount_ore: rate,
                    rules_from,
                }),
            }
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    if let Some((first_day, last_day, days, rules_from)) = lvu {
        let standard: i64 = lines.iter().map(|l| l.amount_ore).sum();
        lines.push(Line {
            child_id: child.id,
            dossier_number: child.dossier_number.clone(),
            placement_id: Some(placement.id),
            category: Category::LvuCare,
            first_day,
            last_day,
            days,
            rate_ore: 0,
            actual_cost_ore: actual_cost,
            amount_ore: actual_cost.map_or(0, |cost| (cost - standard).max(0)),
            rules_from,
        });
    }
    lines
}

/// Every line of `quarter`, children in id order and each child's lines by day and category.
/// `actual_costs` are the stated costs of LVU-level placements, by placement id.
pub fn lines(
    rules: &Rules,
    quarter: Quarter,
    children: &[ChildFacts],
    placements: &[PlacementFacts],
    actual_costs: &HashMap<Uuid, i64>,
) -> Vec<Line> {
    let by_id: HashMap<Uuid, &ChildFacts> = children.iter().map(|c| (c.id, c)).collect();
    let mut out = Vec::new();
    for child in children {
        if let Some(day) = child.assigned_on.filter(|d| quarter.contains(*d)) {
            let set = rules.on(day);
            if let Some(r) = &set.reimbursement {
                out.push(Line {
                    child_id: child.id,
                    dossier_number: child.dossier_number.clone(),
                    placement_id: None,
                    category: Category::Assignment,
                    first_day: day,
                    last_day: day,
                    days: 0,
                    rate_ore: r.assignment_once_ore,
                    actual_cost_ore: None,
                    amount_ore: r.assignment_once_ore,
                    rules_from: set.valid_from,
                });
            }
        }
    }
    for placement in placements {
        if let Some(child) = by_id.get(&placement.child_id) {
            let cost = actual_costs.get(&placement.id).copied();
            out.extend(placement_lines(rules, quarter, child, placement, cost));
        }
    }
    in_order(&mut out);
    out
}

/// A supplementary claim's lines: what `now` holds that the `earlier` claims (submitted, of the
/// same quarter, their lines signed) do not, and the withdrawal of what they claimed that `now`
/// no longer holds. A line is the same between claims whatever its sign and dossier number (a
/// corrected number changes no amount); a new line carries today's number, a withdrawal the
/// one it was claimed under.
pub fn supplement(now: &[Line], earlier: &[Line]) -> Vec<Line> {
    #[derive(Default)]
    struct Net {
        count: i64,
        now: Option<Line>,
        earlier: Option<Line>,
    }
    let mut net: HashMap<Line, Net> = HashMap::new();
    for line in now {
        let entry = net.entry(line.key()).or_default();
        entry.count += 1;
        entry.now = Some(line.clone());
    }
    for line in earlier {
        let entry = net.entry(line.key()).or_default();
        entry.count -= line.sign();
        if line.sign() > 0 {
            entry.earlier = Some(line.clone());
        }
    }
    let mut out = Vec::new();
    for (key, entry) in net {
        let claimed = entry.now.unwrap_or_else(|| key.clone());
        let withdrawn = entry.earlier.unwrap_or(key).withdrawn();
        for _ in 0..entry.count.abs() {
            out.push(if entry.count > 0 {
                claimed.clone()
            } else {
                withdrawn.clone()
            });
        }
    }
    in_order(&mut out);
    out
}

/// The one order of a claim's lines: by child, first day, category and placement (a
/// withdrawal before its new claim), whichever way they were derived or stored.
pub fn in_order(lines: &mut [Line]) {
    lines.sort_by_key(|l| {
        (
            l.child_id,
            l.first_day,
            l.category,
            l.placement_id,
            l.days,
            l.amount_ore,
            l.rules_from,
        )
    });
}

/// The sum of the lines' amounts.
pub fn total(lines: &[Line]) -> i64 {
    lines.iter().map(|l| l.amount_ore).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn child(born: &str, status: AsylumStatus) -> ChildFacts {
        ChildFacts {
            id: Uuid::from_u128(1),
            dossier_number: None,
            date_of_birth: day(born),
            asylum_status: status,
            assigned_on: None,
        }
    }

    fn placed(start: &str, last: &str, legal_basis: &str) -> PlacementFacts {
        PlacementFacts {
            id: Uuid::from_u128(2),
            child_id: Uuid::from_u128(1),
            start: day(start),
            last: day(last),
            legal_basis: legal_basis.into(),
        }
    }

    fn q(text: &str) -> Quarter {
        Quarter::parse(text).unwrap()
    }

    #[test]
    fn a_rule_set_that_starts_in_the_quarter_splits_the_days_into_two_lines() {
        let rules = Rules::built_in();
        let lines = lines(
            &rules,
            q("2025-Q3"),
            &[child("2012-01-01", AsylumStatus::AsylumSeeker)],
            &[placed("2025-06-20", "2025-07-10", "LVU-2")],
            &HashMap::new(),
        );
        // 1–10 July under the set of 1 July 2025; the LVU line without a cost claims nothing.
        let days: Vec<_> = lines
            .iter()
            .map(|l| (l.category, l.days, l.rules_from))
            .collect();
        assert_eq!(
            days,
            vec![
                (Category::AsylumSeekerDay, 10, day("2025-07-01")),
                (Category::LvuCare, 10, day("2025-07-01")),
            ]
        );
        let june = super::lines(
            &rules,
            q("2025-Q2"),
            &[child("2012-01-01", AsylumStatus::AsylumSeeker)],
            &[placed("2025-06-20", "2025-07-10", "LVU-2")],
            &HashMap::from([(Uuid::from_u128(2), 1_000_000)]),
        );
        assert_eq!(june[0].rules_from, day("2016-01-01"));
        assert_eq!(june[0].days, 11);
        // 1 000 000 öre above 11 × 135 000 = 1 485 000: nothing above the standard amount.
        assert_eq!(june[1].amount_ore, 0);
    }

    #[test]
    fn a_child_with_no_claimable_day_has_no_line_not_even_for_lvu_care() {
        let rules = Rules::built_in();
        for status in [AsylumStatus::Citizen, AsylumStatus::Rejected] {
            let lines = lines(
                &rules,
                q("2025-Q4"),
                &[child("2010-01-01", status)],
                &[placed("2025-10-01", "2025-12-31", "LVU-3")],
                &HashMap::from([(Uuid::from_u128(2), 9_000_000)]),
            );
            assert_eq!(lines, vec![], "{status}");
        }
    }

    #[test]
    fn care_ends_the_day_before_the_21st_birthday() {
        let rules = Rules::built_in();
        let lines = lines(
            &rules,
            q("2025-Q4"),
            &[child("2004-11-11", AsylumStatus::PermanentPermit)],
            &[placed("2025-01-01", "2026-06-30", "SoL2025-insats")],
            &HashMap::new(),
        );
        // 1 October – 10 November: 31 + 10 = 41 days in continued care.
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].category, lines[0].days),
            (Category::ContinuedCareDay, 41)
        );
        assert_eq!(lines[0].last_day, day("2025-11-10"));
    }

    #[test]
    fn a_supplement_withdraws_what_changed_and_claims_it_anew_and_nothing_twice() {
        let line = |first: &str, last: &str, days: i32| Line {
            child_id: Uuid::from_u128(1),
            dossier_number: None,
            placement_id: Some(Uuid::from_u128(2)),
            category: Category::AsylumSeekerDay,
            first_day: day(first),
            last_day: day(last),
            days,
            rate_ore: 100,
            actual_cost_ore: None,
            amount_ore: i64::from(days) * 100,
            rules_from: day("2025-07-01"),
        };
        let first = vec![line("2025-10-01", "2025-10-31", 31)];
        let now = vec![line("2025-10-01", "2025-10-20", 20)];
        let second = supplement(&now, &first);
        // Withdrawals sort first (by their negative days).
        assert_eq!(
            second,
            vec![
                line("2025-10-01", "2025-10-31", -31),
                line("2025-10-01", "2025-10-20", 20)
            ]
        );
        let earlier: Vec<Line> = first.into_iter().chain(second).collect();
        assert_eq!(
            supplement(&now, &earlier),
            vec![],
            "nothing left to correct"
        );
        // A corrected dossier number changes no amount: nothing to claim again.
        let renumbered: Vec<Line> = now
            .iter()
            .map(|l| Line {
                dossier_number: Some("7654321".into()),
                ..l.clone()
            })
            .collect();
        assert_eq!(supplement(&renumbered, &earlier), vec![]);
        assert_eq!(total(&earlier), 2000);
    }
}
