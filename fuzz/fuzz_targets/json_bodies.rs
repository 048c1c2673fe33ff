//! Every JSON request body type through `trygg::http::json::parse_json` (the parse every JSON
//! handler's `ApiJson` extractor runs), then the type's own checks where it has any, and the
//! boundary NUL check `trygg::http::text::refuse_nul`.
//!
//! The first byte picks the body type; the rest is the body. Besides never panicking:
//! * whenever `parse_json` accepts a body (into the picked type or into a `serde_json::Value`),
//!   no string and no key anywhere in it holds a NUL character;
//! * `refuse_nul` is `Ok` exactly when the body is not JSON or no string or key holds NUL, and
//!   when it refuses, it names a field for each NUL-holding string;
//! * `parse_json` accepts no more than `parse_json_text` (the same parse without the NUL check).
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;
use trygg::children::age_assessment::AgeAssessment;
use trygg::children::emergency::EmergencyRequest;
use trygg::children::input::ChildInput;
use trygg::children::protection::{checked, ProtectionDecision};
use trygg::children::routes::AssignSecretaries;
use trygg::children::ProtectionLevel;
use trygg::contacts::input::{
    reason as contact_reason, tolerance, visit_texts, Correction, NewSchedule, NewVisit,
    ScheduleChange,
};
use trygg::error::{AppError, FieldError};
use trygg::facilities::input::{CreateFacility, StaffList, UpdateFacility};
use trygg::http::json::{parse_json, parse_json_text};
use trygg::http::text::{fields_with_nul, refuse_nul};
use trygg::domain::age_out::{GoalDomain, GoalResponsible, GoalStatus};
use trygg::placements::input::{
    cancellation_reason, reason, reference, CancelInput, EndInput, MoveInput, PlacementChange,
    PlacementInput, ReviewInput,
};
use trygg::plans::input::{
    bounded, participants, GoalChange, GoalFields, NewGoal, NewPlan, NewProgressNote, NewReview,
    PlanChange, NOTE, YOUTH_VIEW,
};
use trygg::rules::Rules;
use trygg::service_accounts::input::{CreateServiceAccount, UpdateServiceAccount};
use trygg::sign_in::input::TokenRequest;
use trygg::units::routes::{CreateUnit, UpdateUnit};
use trygg::users::input::{ChangePassword, ConfirmTotp, CreateUser, UpdateUser};

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// `parse_json` into `T`; when it accepts, the body is NUL-free and `parse_json_text` agrees.
fn parsed<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let value = parse_json::<T>(body).ok()?;
    let tree: Value = serde_json::from_slice(body).expect("accepted, so JSON");
    assert!(!holds_nul(&tree), "accepted a body holding NUL");
    assert!(parse_json_text::<T>(body).is_ok());
    Some(value)
}

/// What `contacts::routes::new_visit` checks of a visit without the database: its texts, and
/// the Stockholm day it happened on.
fn visit_checks(visit: &NewVisit, errors: &mut Vec<FieldError>) {
    let _ = visit_texts(visit, errors);
    let _ = visit
        .occurred_at
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .date_naive();
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };

    // The NUL check, whatever the type.
    let tree = serde_json::from_slice::<Value>(body).ok();
    match (refuse_nul(body), &tree) {
        (Ok(()), Some(tree)) => assert!(!holds_nul(tree)),
        (Ok(()), None) => {}
        (Err(AppError::Unprocessable { errors, .. }), Some(tree)) => {
            assert!(holds_nul(tree));
            assert!(!errors.is_empty());
            assert_eq!(errors.len(), fields_with_nul(tree).len());
        }
        (Err(other), _) => panic!("refuse_nul answered {other:?}"),
    }
    if let Some(tree) = parsed::<Value>(body) {
        assert!(!holds_nul(&tree));
    }

    let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    match kind % 32 {
        0 => {
            if let Some(child) = parsed::<ChildInput>(body) {
                let rules = Rules::built_in();
                let _ = child.validate(today, rules.on(today));
            }
        }
        1 => {
            if let Some(placement) = parsed::<PlacementInput>(body) {
                let mut errors = Vec::new();
                reference(
                    "decision_reference",
                    &placement.decision_reference,
                    &mut errors,
                );
                reason(
                    "special_reasons",
                    placement.special_reasons.as_deref(),
                    &mut errors,
                );
                reason(
                    "deviation_reason",
                    placement.deviation_reason.as_deref(),
                    &mut errors,
                );
            }
        }
        2 => {
            if let Some(moved) = parsed::<MoveInput>(body) {
                let _ = moved.next_placement();
            }
        }
        3 => drop(parsed::<EndInput>(body)),
        4 => {
            if let Some(cancel) = parsed::<CancelInput>(body) {
                let _ = cancellation_reason(&cancel);
            }
        }
        5 => drop(parsed::<ReviewInput>(body)),
        6 => drop(parsed::<PlacementChange>(body)),
        7 => {
            if let Some(facility) = parsed::<CreateFacility>(body) {
                let _ = facility.parse();
            }
        }
        8 => {
            if let Some(facility) = parsed::<UpdateFacility>(body) {
                let _ = facility.parse();
            }
        }
        9 => {
            if let Some(staff) = parsed::<StaffList>(body) {
                let _ = staff.parse();
            }
        }
        10 => {
            if let Some(user) = parsed::<CreateUser>(body) {
                let _ = user.validate();
            }
        }
        11 => {
            if let Some(user) = parsed::<UpdateUser>(body) {
                let _ = user.validate();
            }
        }
        12 => {
            if let Some(change) = parsed::<ChangePassword>(body) {
                let _ = change.validate();
            }
        }
        13 => drop(parsed::<ConfirmTotp>(body)),
        14 => {
            if let Some(account) = parsed::<CreateServiceAccount>(body) {
                let _ = account.validate();
            }
        }
        15 => {
            if let Some(account) = parsed::<UpdateServiceAccount>(body) {
                let _ = account.validate();
            }
        }
        16 => drop(parsed::<CreateUnit>(body)),
        17 => drop(parsed::<UpdateUnit>(body)),
        18 => {
            if let Some(decision) = parsed::<ProtectionDecision>(body) {
                for &current in ProtectionLevel::ALL {
                    let _ = checked(&decision, current);
                }
            }
        }
        19 => {
            drop(parsed::<AssignSecretaries>(body));
            drop(parsed::<EmergencyRequest>(body));
        }
        20 => {
            // The token endpoint takes JSON without the NUL check (login names are bounded there).
            if let Ok(request) = parse_json_text::<TokenRequest>(body) {
                let _ = request.grant();
            }
        }
        21 => {
            if let Some(schedule) = parsed::<NewSchedule>(body) {
                let mut errors = Vec::new();
                contact_reason("reason", &schedule.reason, &mut errors);
                tolerance(schedule.tolerance_days, &mut errors);
                let _ = schedule.recurrence.to_string();
            }
        }
        22 => {
            if let Some(change) = parsed::<ScheduleChange>(body) {
                let mut errors = Vec::new();
                contact_reason("reason", &change.reason, &mut errors);
                if let Some(days) = change.tolerance_days {
                    tolerance(days, &mut errors);
                }
                if let Some(recurrence) = change.recurrence {
                    let _ = recurrence.to_string();
                }
            }
        }
        23 => {
            if let Some(visit) = parsed::<NewVisit>(body) {
                visit_checks(&visit, &mut Vec::new());
            }
        }
        24 => {
            if let Some(correction) = parsed::<Correction>(body) {
                let mut errors = Vec::new();
                contact_reason("reason", &correction.reason, &mut errors);
                visit_checks(&correction.visit, &mut errors);
            }
        }
        25 => drop(parsed::<AgeAssessment>(body)),
        26 => drop(parsed::<NewPlan>(body)),
        27 => drop(parsed::<PlanChange>(body)),
        28 => {
            if let Some(goal) = parsed::<NewGoal>(body) {
                let mut errors = Vec::new();
                let fields = goal.fields(&mut errors);
                if errors.is_empty() {
                    // What is stored is trimmed and within the schema's bounds.
                    let length = fields.description.chars().count();
                    assert_eq!(fields.description.trim(), fields.description);
                    assert!((3..=2000).contains(&length), "{fields:?}");
                    assert_eq!(
                        fields.responsible_other.is_some(),
                        fields.responsible == GoalResponsible::Other
                    );
                    assert_eq!(
                        fields.dropped_reason.is_some(),
                        fields.status == GoalStatus::Dropped
                    );
                }
            }
        }
        29 => {
            if let Some(change) = parsed::<GoalChange>(body) {
                let current = GoalFields {
                    domain: GoalDomain::Housing,
                    description: "Find a flat of her own".into(),
                    target_date: today,
                    responsible: GoalResponsible::Other,
                    responsible_other: Some("Gunnel Gode, god man".into()),
                    status: GoalStatus::Dropped,
                    dropped_reason: Some("She chose to stay".into()),
                };
                let mut errors = Vec::new();
                let next = change.applied(&current, &mut errors);
                if errors.is_empty() {
                    // A change leaves no stale party or reason behind.
                    assert_eq!(
                        next.responsible_other.is_some(),
                        next.responsible == GoalResponsible::Other
                    );
                    assert_eq!(
                        next.dropped_reason.is_some(),
                        next.status == GoalStatus::Dropped
                    );
                }
            }
        }
        30 => {
            if let Some(note) = parsed::<NewProgressNote>(body) {
                let _ = bounded("note", &note.note, NOTE, &mut Vec::new());
            }
        }
        _ => {
            if let Some(review) = parsed::<NewReview>(body) {
                let mut errors = Vec::new();
                let _ = participants(&review.participants, &mut errors);
                let _ = bounded("youth_view", &review.youth_view, YOUTH_VIEW, &mut errors);
            }
        }
    }
});
