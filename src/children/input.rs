//! A child as the API receives it: parsed once into trusted values, with every field at fault
//! named in one answer.

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::{AsylumStatus, ProtectionLevel, Sex};
use crate::domain::dossier_number::DossierNumber;
use crate::domain::personal_identity_number::PersonalIdentityNumber;
use crate::error::FieldError;
use crate::rules::RuleSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildInput {
    pub given_name: String,
    pub family_name: String,
    #[serde(with = "crate::http::date")]
    pub date_of_birth: NaiveDate,
    #[serde(default)]
    pub date_of_birth_assessed: bool,
    pub sex: Sex,
    pub country_of_origin: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub interpreter_needed: bool,
    pub dossier_number: Option<String>,
    pub personal_identity_number: Option<String>,
    pub asylum_status: AsylumStatus,
    #[serde(default, with = "crate::http::date::option")]
    pub arrival_date: Option<NaiveDate>,
    #[serde(default, with = "crate::http::date::option")]
    pub assigned_on: Option<NaiveDate>,
    pub guardian: Option<GuardianInput>,
    #[serde(default = "no_protection")]
    pub protection_level: ProtectionLevel,
    pub responsible_unit_id: Uuid,
}

fn no_protection() -> ProtectionLevel {
    ProtectionLevel::None
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianInput {
    pub name: String,
    pub phone: Option<String>,
    #[serde(default, with = "crate::http::date::option")]
    pub appointed_on: Option<NaiveDate>,
    /// The day the appointment ended (a god man's ends by law when the child comes of age).
    #[serde(default, with = "crate::http::date::option")]
    pub ended_on: Option<NaiveDate>,
    /// Whether a specially appointed guardian follows the one whose appointment ended.
    pub special_guardian_follows: Option<bool>,
}

/// A child that passed every check.
#[derive(Debug, Clone)]
pub struct ValidChild {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub date_of_birth_assessed: bool,
    pub sex: Sex,
    pub country_of_origin: Option<String>,
    pub languages: Vec<String>,
    pub interpreter_needed: bool,
    pub dossier_number: Option<DossierNumber>,
    pub personal_identity_number: Option<PersonalIdentityNumber>,
    pub asylum_status: AsylumStatus,
    pub arrival_date: Option<NaiveDate>,
    pub assigned_on: Option<NaiveDate>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_appointed_on: Option<NaiveDate>,
    pub guardian_ended_on: Option<NaiveDate>,
    pub guardian_special_follows: Option<bool>,
    pub protection_level: ProtectionLevel,
    pub responsible_unit_id: Uuid,
}

fn name(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        errors.push(FieldError::new(field, "1 to 200 characters"));
    }
    value.to_owned()
}

fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.push(FieldError::new(field, format!("at most {max} characters")));
    }
    Some(value.to_owned())
}

impl ChildInput {
    /// Checks everything against the rules in force `today`; all faults at once.
    pub fn validate(
        self,
        today: NaiveDate,
        rules: &RuleSet,
    ) -> Result<ValidChild, Vec<FieldError>> {
        let mut errors = Vec::new();
        let given_name = name("given_name", &self.given_name, &mut errors);
        let family_name = name("family_name", &self.family_name, &mut errors);
        if self.date_of_birth > today {
            errors.push(FieldError::new("date_of_birth", "is in the future"));
        } else if crate::domain::age::age_on(self.date_of_birth, today) >= rules.placement_end_age {
            errors.push(FieldError::new(
                "date_of_birth",
                format!(
                    "Trygg keeps cases of children and young people under {}",
                    rules.placement_end_age
                ),
            ));
        }
        // Every other date must fall between the birth and today, so none can be out of the
        // range PostgreSQL stores (the date of birth itself is at most the age limit ago).
        for (field, date) in [
            ("arrival_date", self.arrival_date),
            ("assigned_on", self.assigned_on),
        ] {
            match date {
                Some(d) if d < self.date_of_birth => {
                    errors.push(FieldError::new(field, "is before the date of birth"))
                }
                Some(d) if d > today => errors.push(FieldError::new(field, "is in the future")),
                _ => {}
            }
        }
        let dossier_number = self
            .dossier_number
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .and_then(|d| {
                DossierNumber::parse(d)
                    .map_err(|e| errors.push(FieldError::new("dossier_number", e.to_string())))
                    .ok()
            });
        let personal_identity_number = self
            .personal_identity_number
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| {
                PersonalIdentityNumber::parse(p, today)
                    .map_err(|e| {
                        errors.push(FieldError::new("personal_identity_number", e.to_string()))
                    })
                    .ok()
            });
        let languages: Vec<String> = self
            .languages
            .iter()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        if languages.len() > 20 || languages.iter().any(|l| l.chars().count() > 50) {
            errors.push(FieldError::new(
                "languages",
                "at most 20 languages of at most 50 characters",
            ));
        }
        let country_of_origin = optional_text(
            "country_of_origin",
            self.country_of_origin.as_deref(),
            100,
            &mut errors,
        );
        let (guardian_name, guardian_phone, guardian_appointed_on) = match &self.guardian {
            None => (None, None, None),
            Some(g) => {
                let name = name("guardian.name", &g.name, &mut errors);
                let phone = optional_text("guardian.phone", g.phone.as_deref(), 50, &mut errors);
                if phone
                    .as_deref()
                    .is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)))
                {
                    errors.push(FieldError::new(
                        "guardian.phone",
                        "digits, spaces, +, - and parentheses only",
                    ));
                }
                match g.appointed_on {
                    // Also keeps dates PostgreSQL cannot store (before 4713 BC) from reaching it.
                    Some(d) if d < self.date_of_birth => errors.push(FieldError::new(
                        "guardian.appointed_on",
                        "is before the date of birth",
                    )),
                    Some(d) if d > today => {
                        errors.push(FieldError::new("guardian.appointed_on", "is in the future"))
                    }
                    _ => {}
                }
                match g.ended_on {
                    Some(d) if g.appointed_on.is_some_and(|a| d < a) || d < self.date_of_birth => {
                        errors.push(FieldError::new(
                            "guardian.ended_on",
                            "is before the appointment",
                        ))
                    }
                    Some(d) if d > today => {
                        errors.push(FieldError::new("guardian.ended_on", "is in the future"))
                    }
                    None if g.special_guardian_follows.is_some() => errors.push(FieldError::new(
                        "guardian.special_guardian_follows",
                        "is said when the appointment has ended",
                    )),
                    _ => {}
                }
                (Some(name), phone, g.appointed_on)
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidChild {
            given_name,
            family_name,
            date_of_birth: self.date_of_birth,
            date_of_birth_assessed: self.date_of_birth_assessed,
            sex: self.sex,
            country_of_origin,
            languages,
            interpreter_needed: self.interpreter_needed,
            dossier_number,
            personal_identity_number,
            asylum_status: self.asylum_status,
            arrival_date: self.arrival_date,
            assigned_on: self.assigned_on,
            guardian_name,
            guardian_phone,
            guardian_appointed_on,
            guardian_ended_on: self.guardian.as_ref().and_then(|g| g.ended_on),
            guardian_special_follows: self
                .guardian
                .as_ref()
                .and_then(|g| g.special_guardian_follows),
            protection_level: self.protection_level,
            responsible_unit_id: self.responsible_unit_id,
        })
    }
}
