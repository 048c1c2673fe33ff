//! The rules file: `trygg::rules::Rules::parse` over arbitrary TOML text.
//!
//! Besides never panicking: accepted rules have at least one set, sets in strictly increasing
//! `valid_from` order, each with sane ages and at least one legal basis; `on(day)` answers for
//! any day; and the accepted sets written out as TOML parse again to the same sets.
#![no_main]

use chrono::{Duration, NaiveDate};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use trygg::rules::{RuleSet, Rules};

#[derive(Serialize)]
struct File<'a> {
    rule_set: &'a [RuleSet],
}

fn as_json(sets: &[RuleSet]) -> serde_json::Value {
    serde_json::to_value(sets).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = Rules::parse(text) else {
        return;
    };
    let sets = rules.sets();
    assert!(!sets.is_empty());
    for pair in sets.windows(2) {
        assert!(pair[0].valid_from < pair[1].valid_from);
    }
    for set in sets {
        assert!(set.supported_housing_min_age <= set.special_reasons_below_age);
        assert!(set.special_reasons_below_age <= set.placement_end_age);
        assert!(set.adult_age <= set.placement_end_age && set.placement_end_age <= 30);
        assert!(!set.legal_bases.is_empty());
        let day = set.valid_from;
        assert_eq!(rules.on(day).valid_from, day);
        if let Some(next) = day.checked_add_signed(Duration::days(1)) {
            assert!(rules.on(next).valid_from <= next);
        }
    }
    let _ = rules.on(NaiveDate::MIN);
    let _ = rules.on(NaiveDate::MAX);

    let written = toml::to_string(&File { rule_set: sets }).expect("sets serialise to TOML");
    let again =
        Rules::parse(&written).unwrap_or_else(|e| panic!("written rules refused: {e}\n{written}"));
    assert_eq!(as_json(again.sets()), as_json(sets));
});
