//! How a child is shown, per audience. Never the row itself: what each profession needs and no
//! more, and a protected identity's name, identity numbers, guardian contact, address and
//! facility only to those directly involved. A facility's address only to those who go there.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::store::{ChildRow, CurrentPlacement};
use super::{AsylumStatus, ProtectionLevel, Sex};
use crate::domain::age::{age_on, birthday, day_before_birthday};
use crate::policy::child::Audience;
use crate::rules::RuleSet;

#[derive(Debug, Serialize)]
pub struct GuardianView {
    /// `None` (left out) when the identity is withheld: the guardian leads to the child.
    /// `Some(None)` (`null`) when none is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Option<String>>,
    pub appointed_on: Option<NaiveDate>,
    /// A guardian's appointment ends by law when the child comes of age.
    pub appointment_ends_on: NaiveDate,
    /// When it ended, once recorded, and whether a specially appointed guardian follows.
    pub ended_on: Option<NaiveDate>,
    pub special_guardian_follows: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct PlacementSummary {
    pub placement_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_name: Option<String>,
    pub facility_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_address: Option<String>,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
}

#[derive(Debug, Serialize)]
pub struct AgeLimits {
    pub age: u32,
    pub turns_18_on: NaiveDate,
    /// The last day any placement may last (the day before the age limit, usually 21).
    pub last_placement_day: NaiveDate,
}

#[derive(Debug, Serialize)]
pub struct ChildView {
    pub id: Uuid,
    /// True when name, identity numbers, guardian's name and phone, address and facility are
    /// withheld from this caller.
    pub identity_withheld: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub date_of_birth: NaiveDate,
    pub date_of_birth_assessed: bool,
    pub age_limits: AgeLimits,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_of_origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter_needed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dossier_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_identity_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asylum_status: Option<AsylumStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardian: Option<GuardianView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection_level: Option<ProtectionLevel>,
    pub responsible_unit_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secretaries: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_placement: Option<PlacementSummary>,
}

pub struct ViewContext<'a> {
    pub audience: Audience,
    pub rules: &'a RuleSet,
    pub today: NaiveDate,
    pub secretaries: Option<Vec<Uuid>>,
    pub placement: Option<CurrentPlacement>,
}

pub fn child_view(row: ChildRow, ctx: ViewContext<'_>) -> ChildView {
    let audience = ctx.audience;
    let withheld = row.protection_level.is_protected() && !audience.sees_protected_fields();
    let case = matches!(audience, Audience::Case | Audience::Management);
    let care = case || audience == Audience::Care;
    let system = audience == Audience::System;
    let names = care && !withheld;
    // Identity numbers and the guardian's name and phone lead to the child as surely as her name.
    let identifying = !withheld;
    let guardian = care.then(|| GuardianView {
        name: identifying.then(|| row.guardian_name.clone()),
        phone: identifying.then(|| row.guardian_phone.clone()),
        appointed_on: row.guardian_appointed_on,
        appointment_ends_on: birthday(row.date_of_birth, ctx.rules.guardian_ends_at_age),
        ended_on: row.guardian_ended_on,
        special_guardian_follows: row.guardian_special_follows,
    });
    let current_placement = ctx.placement.filter(|_| !system).map(|p| PlacementSummary {
        placement_id: p.placement_id,
        facility_id: (!withheld).then_some(p.facility_id),
        facility_name: (!withheld).then_some(p.facility_name),
        facility_kind: p.facility_kind,
        // The address is for those who go there: the assigned secretary and the home's staff.
        facility_address: p
            .facility_address
            .filter(|_| matches!(audience, Audience::Case | Audience::Care) && !withheld),
        start_date: p.start_date,
        planned_end: p.planned_end,
    });
    ChildView {
        id: row.id,
        identity_withheld: withheld || system,
        given_name: names.then_some(row.given_name),
        family_name: names.then_some(row.family_name),
        date_of_birth: row.date_of_birth,
        date_of_birth_assessed: row.date_of_birth_assessed,
        age_limits: AgeLimits {
            age: age_on(row.date_of_birth, ctx.today),
            turns_18_on: birthday(row.date_of_birth, 18),
            last_placement_day: day_before_birthday(row.date_of_birth, ctx.rules.placement_end_age),
        },
        sex: care.then_some(row.sex),
        country_of_origin: row.country_of_origin.filter(|_| care),
        languages: care.then_some(row.languages),
        interpreter_needed: care.then_some(row.interpreter_needed),
        dossier_number: row
            .dossier_number
            .filter(|_| (case || system) && identifying),
        personal_identity_number: row.personal_identity_number.filter(|_| case && identifying),
        asylum_status: (case || system).then_some(row.asylum_status),
        arrival_date: row.arrival_date.filter(|_| case || system),
        assigned_on: row.assigned_on.filter(|_| case || system),
        guardian,
        protection_level: case.then_some(row.protection_level),
        responsible_unit_id: row.responsible_unit_id,
        secretaries: ctx.secretaries.filter(|_| case),
        current_placement,
    }
}
