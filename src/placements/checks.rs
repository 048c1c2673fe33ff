//! The rules for a new placement, checked in Rust for clear answers (the database checks the
//! same again). Pure: facts in, field errors out.

use chrono::NaiveDate;

use super::FacilityKind;
use crate::domain::age::{birthday, day_before_birthday};
use crate::error::{FieldError, Rule};
use crate::rules::RuleSet;

pub struct NewPlacementFacts<'a> {
    pub date_of_birth: NaiveDate,
    pub kind: FacilityKind,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
    pub legal_basis: &'a str,
    pub special_reasons: Option<&'a str>,
    pub deviation_reason: Option<&'a str>,
    /// The child has had no placement before (cancelled ones do not count).
    pub first_placement: bool,
    pub by_unit_manager: bool,
}

/// The default planned end: the last day the law allows.
pub fn latest_end(date_of_birth: NaiveDate, rules: &RuleSet) -> NaiveDate {
    day_before_birthday(date_of_birth, rules.placement_end_age)
}

pub fn check(facts: &NewPlacementFacts<'_>, rules: &RuleSet) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if rules.legal_basis(facts.legal_basis).is_none() {
        let codes: Vec<&str> = rules.legal_bases.iter().map(|b| b.code.as_str()).collect();
        errors.push(FieldError::new(
            "legal_basis",
            format!(
                "must be one of the legal bases in force: {}",
                codes.join(", ")
            ),
        ));
    }
    if facts.start_date < facts.date_of_birth {
        errors.push(FieldError::new("start_date", "is before the date of birth"));
    }
    let latest = latest_end(facts.date_of_birth, rules);
    if facts.start_date > latest {
        errors.push(
            FieldError::new(
                "start_date",
                format!(
                    "the placement age limit ({}) has passed",
                    rules.placement_end_age
                ),
            )
            .because(Rule::AgeRule),
        );
    }
    if facts.planned_end < facts.start_date {
        errors.push(FieldError::new("planned_end", "is before the start date"));
    } else if facts.planned_end > latest {
        errors.push(
            FieldError::new(
                "planned_end",
                format!(
                    "a placement ends no later than {latest}, the day before the {}th birthday",
                    rules.placement_end_age
                ),
            )
            .because(Rule::AgeRule),
        );
    }
    if facts.kind == FacilityKind::SupportedHousing {
        if facts.start_date < birthday(facts.date_of_birth, rules.supported_housing_min_age) {
            errors.push(
                FieldError::new(
                    "facility_id",
                    format!(
                        "supported housing is only from the {}th birthday",
                        rules.supported_housing_min_age
                    ),
                )
                .because(Rule::AgeRule),
            );
        } else if facts.start_date < birthday(facts.date_of_birth, rules.special_reasons_below_age)
            && facts.special_reasons.is_none()
        {
            errors.push(
                FieldError::new(
                    "special_reasons",
                    format!(
                        "supported housing before the {}th birthday needs recorded special reasons",
                        rules.special_reasons_below_age
                    ),
                )
                .because(Rule::SpecialReasonsRequired),
            );
        }
    }
    if facts.first_placement && facts.kind != FacilityKind::Hvb {
        match (facts.deviation_reason, facts.by_unit_manager) {
            (Some(_), true) => {}
            (Some(_), false) => errors.push(FieldError::new("deviation_reason", "only a unit manager may deviate from a first placement in an HVB home").because(Rule::FirstPlacementHvb)),
            (None, _) => errors.push(FieldError::new("facility_id", "a child's first placement is in an HVB home, for the investigation, unless a unit manager records a reason to deviate").because(Rule::FirstPlacementHvb)),
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(kind: FacilityKind, start: &str) -> NewPlacementFacts<'static> {
        NewPlacementFacts {
            date_of_birth: date("2010-05-20"),
            kind,
            start_date: date(start),
            planned_end: date("2031-05-19"),
            legal_basis: "SoL2025-insats",
            special_reasons: None,
            deviation_reason: None,
            first_placement: false,
            by_unit_manager: false,
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn supported_housing_from_16_and_before_18_only_with_special_reasons() {
        let rules = Rules::built_in();
        let r = rules.on(date("2026-06-01"));
        assert_eq!(
            fields(check(
                &facts(FacilityKind::SupportedHousing, "2026-05-19"),
                r
            )),
            ["facility_id"]
        );
        assert_eq!(
            fields(check(
                &facts(FacilityKind::SupportedHousing, "2026-05-20"),
                r
            )),
            ["special_reasons"]
        );
        let mut with_reasons = facts(FacilityKind::SupportedHousing, "2026-05-20");
        with_reasons.special_reasons = Some("mature, stable, wants to study in town");
        assert!(check(&with_reasons, r).is_empty());
        assert!(check(&facts(FacilityKind::SupportedHousing, "2028-05-20"), r).is_empty());
    }

    #[test]
    fn a_placement_ends_by_the_day_before_the_21st_birthday() {
        let rules = Rules::built_in();
        let r = rules.on(date("2026-06-01"));
        let mut late = facts(FacilityKind::Hvb, "2026-06-01");
        late.planned_end = date("2031-05-20");
        assert_eq!(fields(check(&late, r)), ["planned_end"]);
        assert_eq!(latest_end(date("2010-05-20"), r), date("2031-05-19"));
    }

    #[test]
    fn a_first_placement_is_in_an_hvb_home_unless_a_manager_deviates() {
        let rules = Rules::built_in();
        let r = rules.on(date("2028-06-01"));
        let mut first = facts(FacilityKind::SupportedHousing, "2028-06-01");
        first.first_placement = true;
        assert_eq!(fields(check(&first, r)), ["facility_id"]);
        first.deviation_reason = Some("came with an older sibling already in supported housing");
        assert_eq!(fields(check(&first, r)), ["deviation_reason"]);
        first.by_unit_manager = true;
        assert!(check(&first, r).is_empty());
    }

    #[test]
    fn the_legal_basis_must_be_one_in_force() {
        let rules = Rules::built_in();
        let mut old = facts(FacilityKind::Hvb, "2026-06-01");
        old.legal_basis = "SoL-4-1";
        assert_eq!(
            fields(check(&old, rules.on(date("2026-06-01")))),
            ["legal_basis"]
        );
        assert!(check(&old, rules.on(date("2025-06-01"))).is_empty());
    }
}
