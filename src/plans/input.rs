//! What clients send about an age-out plan, checked once. Texts are trimmed and bounded (the
//! schema repeats the bounds); NUL never gets this far (`http::text`, for every JSON body).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::age_out::{EducationKind, GoalDomain, GoalResponsible, GoalStatus};
use crate::error::{FieldError, Rule};

/// `POST /children/{id}/age-out-plan`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// When the plan was opened (default today); never in the future.
    #[serde(default, with = "crate::http::date::option")]
    pub opened_on: Option<NaiveDate>,
}

/// `PATCH /children/{id}/age-out-plan`: a JSON merge patch of the education block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanChange {
    #[serde(default, with = "crate::http::double_option")]
    pub education_kind: Option<Option<EducationKind>>,
    #[serde(default, with = "crate::http::date::double_option")]
    pub education_applied_on: Option<Option<NaiveDate>>,
    #[serde(default, with = "crate::http::date::double_option")]
    pub education_started_on: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGoal {
    pub domain: GoalDomain,
    pub description: String,
    #[serde(with = "crate::http::date")]
    pub target_date: NaiveDate,
    pub responsible: GoalResponsible,
    /// Who, when `responsible` is `other`.
    pub responsible_other: Option<String>,
    #[serde(default = "not_started")]
    pub status: GoalStatus,
    pub dropped_reason: Option<String>,
}

fn not_started() -> GoalStatus {
    GoalStatus::NotStarted
}

/// `PATCH /age-out-goals/{id}`: a JSON merge patch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalChange {
    pub domain: Option<GoalDomain>,
    pub description: Option<String>,
    #[serde(default, with = "crate::http::date::option")]
    pub target_date: Option<NaiveDate>,
    pub responsible: Option<GoalResponsible>,
    #[serde(default, with = "crate::http::double_option")]
    pub responsible_other: Option<Option<String>>,
    pub status: Option<GoalStatus>,
    #[serde(default, with = "crate::http::double_option")]
    pub dropped_reason: Option<Option<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProgressNote {
    /// The day it is about (default today); never in the future.
    #[serde(default, with = "crate::http::date::option")]
    pub noted_on: Option<NaiveDate>,
    pub note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    #[serde(with = "crate::http::date")]
    pub held_on: NaiveDate,
    /// Who took part ("the youth", "Gunnel Gode, god man", ...).
    pub participants: Vec<String>,
    /// The youth's own view, in her own words.
    pub youth_view: String,
}

/// `value` trimmed, with a field error unless it has `min..=max` characters.
pub fn bounded(
    field: &str,
    value: &str,
    (min, max): (usize, usize),
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim();
    if !(min..=max).contains(&value.chars().count()) {
        errors.push(FieldError::new(field, format!("{min} to {max} characters")));
    }
    value.to_owned()
}

/// An optional text: absent or blank is `None`.
pub fn optional(
    field: &str,
    value: Option<&str>,
    bounds: (usize, usize),
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| bounded(field, v, bounds, errors))
}

pub const DESCRIPTION: (usize, usize) = (3, 2000);
pub const OTHER_PARTY: (usize, usize) = (2, 200);
pub const REASON: (usize, usize) = (3, 1000);
pub const NOTE: (usize, usize) = (1, 4000);
pub const PARTICIPANT: (usize, usize) = (2, 200);
pub const YOUTH_VIEW: (usize, usize) = (1, 10_000);

/// A goal's fields, checked together: who is responsible and the drop's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalFields {
    pub domain: GoalDomain,
    pub description: String,
    pub target_date: NaiveDate,
    pub responsible: GoalResponsible,
    pub responsible_other: Option<String>,
    pub status: GoalStatus,
    pub dropped_reason: Option<String>,
}

impl GoalFields {
    /// The fields that differ between `self` and `next`.
    pub fn differing(&self, next: &GoalFields) -> Vec<&'static str> {
        [
            (self.domain != next.domain, "domain"),
            (self.description != next.description, "description"),
            (self.target_date != next.target_date, "target_date"),
            (self.responsible != next.responsible, "responsible"),
            (
                self.responsible_other != next.responsible_other,
                "responsible_other",
            ),
            (self.status != next.status, "status"),
            (self.dropped_reason != next.dropped_reason, "dropped_reason"),
        ]
        .into_iter()
        .filter(|(d, _)| *d)
        .map(|(_, f)| f)
        .collect()
    }

    /// The errors of a goal as a whole: `other` names who; a dropped goal says why (its own
    /// code), and only a dropped goal has a reason for it.
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        match (self.responsible, &self.responsible_other) {
            (GoalResponsible::Other, None) => errors.push(FieldError::new(
                "responsible_other",
                "name the other party who is responsible",
            )),
            (GoalResponsible::Other, Some(_)) | (_, None) => {}
            (_, Some(_)) => errors.push(FieldError::new(
                "responsible_other",
                "only when `responsible` is `other`",
            )),
        }
        match (self.status, &self.dropped_reason) {
            (GoalStatus::Dropped, None) => errors.push(
                FieldError::new("dropped_reason", "a dropped goal says why it was dropped")
                    .because(Rule::DropReasonRequired),
            ),
            (GoalStatus::Dropped, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                errors.push(FieldError::new("dropped_reason", "only for a dropped goal"))
            }
        }
    }
}

impl NewGoal {
    pub fn fields(&self, errors: &mut Vec<FieldError>) -> GoalFields {
        let fields = GoalFields {
            domain: self.domain,
            description: bounded("description", &self.description, DESCRIPTION, errors),
            target_date: self.target_date,
            responsible: self.responsible,
            responsible_other: optional(
                "responsible_other",
                self.responsible_other.as_deref(),
                OTHER_PARTY,
                errors,
            ),
            status: self.status,
            dropped_reason: optional(
                "dropped_reason",
                self.dropped_reason.as_deref(),
                REASON,
                errors,
            ),
        };
        fields.check(errors);
        fields
    }
}

impl GoalChange {
    /// `current` with this change applied. Leaving `dropped` clears its reason; a change of
    /// `responsible` away from `other` clears who the other party was.
    pub fn applied(self, current: &GoalFields, errors: &mut Vec<FieldError>) -> GoalFields {
        let mut next = current.clone();
        if let Some(domain) = self.domain {
            next.domain = domain;
        }
        if let Some(text) = self.description {
            next.description = bounded("description", &text, DESCRIPTION, errors);
        }
        if let Some(date) = self.target_date {
            next.target_date = date;
        }
        if let Some(responsible) = self.responsible {
            next.responsible = responsible;
            if responsible != GoalResponsible::Other {
                next.responsible_other = None;
            }
        }
        if let Some(other) = self.responsible_other {
            next.responsible_other =
                optional("responsible_other", other.as_deref(), OTHER_PARTY, errors);
        }
        if let Some(status) = self.status {
            next.status = status;
            if status != GoalStatus::Dropped {
                next.dropped_reason = None;
            }
        }
        if let Some(reason) = self.dropped_reason {
            next.dropped_reason = optional("dropped_reason", reason.as_deref(), REASON, errors);
        }
        next.check(errors);
        next
    }
}

/// The review's participants, trimmed, 1 to 20 of 2 to 200 characters.
pub fn participants(list: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if !(1..=20).contains(&list.len()) {
        errors.push(FieldError::new("participants", "1 to 20 people"));
    }
    list.iter()
        .enumerate()
        .map(|(i, p)| bounded(&format!("participants[{i}]"), p, PARTICIPANT, errors))
        .collect()
}
