//! Rules that follow from law: ages, intervals, legal bases. They come from a file with a
//! valid-from date per set (config/rules.toml, built in; TRYGG_RULES_FILE overrides it), so a
//! change of law is a change of configuration. At start `db::rule_sets` writes them to the
//! database, whose triggers enforce the same ages; this folder itself does no I/O but reading
//! the rules file.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::contact::{ContactKind, Responsible};
use crate::domain::facility_kind::FacilityKind;
use crate::domain::recurrence::Recurrence;

pub mod reimbursement;
pub mod retention;

use reimbursement::Reimbursement;
use retention::Retention;

const BUILT_IN: &str = include_str!("../../config/rules.toml");

fn default_alert_months_before_21() -> u32 {
    6
}

fn default_alert_days_before_18() -> u32 {
    90
}

/// Migrationsverket asks for the notice at least three weeks before the 18th birthday.
fn default_notice_days() -> u32 {
    21
}

/// US practice asks that at least 95 % of children are visited each month.
fn default_on_time_target() -> u32 {
    95
}

/// The age-out plan is open at the latest at the 17th birthday (or at the first placement in
/// supported housing, if that comes first).
fn default_age_out_plan_opens_at_age() -> u32 {
    17
}

/// The age-out plan is reviewed every six months.
fn default_age_out_plan_review_months() -> u32 {
    6
}

/// School or SFI starts within three months of the application.
fn default_education_start_within_months() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct LegalBasis {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub valid_from: NaiveDate,
    pub supported_housing_min_age: u32,
    pub special_reasons_below_age: u32,
    pub placement_end_age: u32,
    pub guardian_ends_at_age: u32,
    /// Care that runs past this birthday needs a decision to continue.
    pub adult_age: u32,
    pub reconsideration_interval_months: u32,
    pub care_plan_revision_months: u32,
    pub emergency_access_minutes: u32,
    /// The municipality's target for the share of due contacts made on time, in percent (the
    /// compliance report shows whether it is met).
    #[serde(default = "default_on_time_target")]
    pub contact_on_time_target_percent: u32,
    /// The notice to Migrationsverket of continued responsibility is due this many days before
    /// the adult age's birthday.
    #[serde(default = "default_notice_days")]
    pub migration_agency_notice_days_before: u32,
    /// A youth in care this many months before 21 is alerted about without a plan, or with open
    /// goals for housing or economy.
    #[serde(default = "default_alert_months_before_21")]
    pub alert_months_before_21: u32,
    /// An 18th birthday this many days ahead without the decision on care after it is alerted.
    #[serde(default = "default_alert_days_before_18")]
    pub alert_days_before_18: u32,
    /// The age-out plan is open at the latest at this birthday, or at the first placement in
    /// supported housing if that comes first.
    #[serde(default = "default_age_out_plan_opens_at_age")]
    pub age_out_plan_opens_at_age: u32,
    /// Months between reviews of the age-out plan.
    #[serde(default = "default_age_out_plan_review_months")]
    pub age_out_plan_review_months: u32,
    /// School or SFI starts within this many months of the application.
    #[serde(default = "default_education_start_within_months")]
    pub education_start_within_months: u32,
    /// Retention (*gallring*) of a case's personal data; the defaults when the set has none.
    #[serde(default)]
    pub retention: Retention,
    /// State reimbursement (*återsökning*); a set without it claims nothing for its days.
    #[serde(default)]
    pub reimbursement: Option<Reimbursement>,
    #[serde(rename = "legal_basis")]
    pub legal_bases: Vec<LegalBasis>,
    /// The schedules a placement starts with (the law says only "regularly"; these are the
    /// municipality's practice).
    #[serde(rename = "contact_schedule", default)]
    pub contact_schedules: Vec<DefaultSchedule>,
}

/// A schedule every placement (of `facility_kind`, or of any kind) starts with.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DefaultSchedule {
    pub kind: ContactKind,
    pub responsible: Responsible,
    pub facility_kind: Option<FacilityKind>,
    pub recurrence: Recurrence,
    /// Days a contact may come after its due date and still be on time.
    pub tolerance_days: u32,
    /// The contact includes talking with the child alone.
    #[serde(default)]
    pub private_conversation: bool,
}

impl RuleSet {
    pub fn legal_basis(&self, code: &str) -> Option<&LegalBasis> {
        self.legal_bases.iter().find(|b| b.code == code)
    }
}

#[derive(Debug, Clone)]
pub struct Rules {
    /// Oldest first.
    sets: Vec<RuleSet>,
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read the rules file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the rules file is not valid: {0}")]
    Parse(String),
    #[error("the rules are inconsistent: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule_set: Vec<RuleSet>,
}

impl Rules {
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("the built-in rules are valid (tested)")
    }

    /// The built-in rules, or those in TRYGG_RULES_FILE.
    pub fn load() -> Result<Self, RulesError> {
        match std::env::var("TRYGG_RULES_FILE") {
            Ok(path) if !path.is_empty() => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| RulesError::Read { path, source })?;
                Self::parse(&text)
            }
            _ => Ok(Self::built_in()),
        }
    }

    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| RulesError::Parse(e.to_string()))?;
        let mut sets = file.rule_set;
        sets.sort_by_key(|s| s.valid_from);
        if sets.is_empty() {
            return Err(RulesError::Invalid("no rule set".into()));
        }
        for pair in sets.windows(2) {
            if pair[0].valid_from == pair[1].valid_from {
                return Err(RulesError::Invalid(format!(
                    "two sets start on {}",
                    pair[0].valid_from
                )));
            }
        }
        for set in &sets {
            let sane = set.supported_housing_min_age <= set.special_reasons_below_age
                && set.special_reasons_below_age <= set.placement_end_age
                && set.placement_end_age <= 30
                && set.adult_age <= set.placement_end_age
                && set.reconsideration_interval_months > 0
                && set.care_plan_revision_months > 0
                && set.emergency_access_minutes > 0
                && set.age_out_plan_opens_at_age < set.placement_end_age
                && (1..=24).contains(&set.age_out_plan_review_months)
                && (1..=24).contains(&set.education_start_within_months)
                && set.retention.is_sane()
                && set
                    .reimbursement
                    .as_ref()
                    .is_none_or(Reimbursement::is_sane)
                && !set.legal_bases.is_empty();
            if !sane {
                return Err(RulesError::Invalid(format!(
                    "the set from {} has impossible values",
                    set.valid_from
                )));
            }
        }
        Ok(Self { sets })
    }

    /// The set in force on `day` (the oldest set also covers anything before it).
    pub fn on(&self, day: NaiveDate) -> &RuleSet {
        self.sets
            .iter()
            .rev()
            .find(|s| s.valid_from <= day)
            .unwrap_or(&self.sets[0])
    }

    /// Every set, oldest first.
    pub fn sets(&self) -> &[RuleSet] {
        &self.sets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_parse_and_the_newest_set_in_force_applies() {
        let rules = Rules::built_in();
        let before = rules.on(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
        let after = rules.on(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
        assert!(before.legal_basis("SoL-4-1").is_some());
        assert!(after.legal_basis("SoL-4-1").is_none());
        assert!(after.legal_basis("SoL2025-insats").is_some());
        assert_eq!(after.placement_end_age, 21);
    }

    #[test]
    fn retention_is_configured_per_set_and_defaults_when_a_set_has_none() {
        let rules = Rules::built_in();
        let set = rules.on(NaiveDate::from_ymd_opt(2026, 12, 4).unwrap());
        assert_eq!(set.retention.keep_years, 5);
        assert_eq!(set.retention.sample_birth_days, vec![5, 15, 25]);
        let mut skipping = false;
        let text = BUILT_IN
            .lines()
            .filter(|l| {
                if l.starts_with('[') {
                    skipping = *l == "[rule_set.retention]";
                }
                !skipping
            })
            .collect::<Vec<_>>()
            .join("\n");
        let rules = Rules::parse(&text).expect("a rules file without retention parses");
        assert_eq!(rules.sets()[0].retention, retention::Retention::default());
        let odd = BUILT_IN.replacen("keep_years = 5", "keep_years = 0", 1);
        assert!(Rules::parse(&odd).is_err());
    }

    #[test]
    fn a_rules_file_without_the_age_out_plan_rules_gets_their_defaults() {
        let text = BUILT_IN
            .lines()
            .filter(|l| !l.starts_with("age_out_plan_") && !l.starts_with("education_start_"))
            .collect::<Vec<_>>()
            .join("\n");
        let rules = Rules::parse(&text).expect("an older rules file still parses");
        let set = rules.on(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
        assert_eq!(
            (
                set.age_out_plan_opens_at_age,
                set.age_out_plan_review_months,
                set.education_start_within_months
            ),
            (17, 6, 3)
        );
    }

    #[test]
    fn impossible_rules_are_refused() {
        let text = BUILT_IN.replacen(
            "supported_housing_min_age = 16",
            "supported_housing_min_age = 19",
            1,
        );
        assert!(matches!(Rules::parse(&text), Err(RulesError::Invalid(_))));
        assert!(matches!(
            Rules::parse("rule_set = []"),
            Err(RulesError::Invalid(_))
        ));
    }
}
