//! Stories about lowering a protected identity (issue 9, defect 1) and about emergency-access
//! refusals an auditor must find by child (defect 7).

use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::db::schema::audit_events::dsl as a;
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::{problem, spawn_app, TestApp};

/// (action, outcome, child_protected, purpose) of every event about `child`, oldest first.
fn events_about(app: &TestApp, child: Uuid) -> Vec<(String, String, bool, Option<String>)> {
    a::audit_events
        .filter(a::child_id.eq(child))
        .order(a::seq)
        .select((a::action, a::outcome, a::child_protected, a::purpose))
        .load(&mut app.db.superuser())
        .unwrap()
}

async fn protected_child(app: &TestApp, level: &str) -> (crate::children::Office, Uuid) {
    let north = office(app, "North").await;
    let mut body = child_body(north.unit, "Ali", "2010-05-20");
    body["protection_level"] = json!(level);
    let child = register(app, &north.secretary_session, body).await;
    (north, child)
}

async fn etag_of(app: &TestApp, session: &crate::helpers::users::Session, child: Uuid) -> String {
    let response = app
        .as_user(session)
        .get(&format!("/api/v1/children/{child}"))
        .await;
    response.headers()["etag"].to_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_unit_manager_cannot_lift_a_protected_identity_by_editing_the_child() {
    let app = spawn_app().await;
    let (north, child) = protected_child(&app, "protected_registration").await;
    let tag = etag_of(&app, &north.manager_session, child).await;

    let response = app
        .client
        .patch(app.url(&format!("/api/v1/children/{child}")))
        .bearer_auth(&north.manager_session.access_token)
        .header("if-match", tag)
        .json(&json!({"protection_level": "none"}))
        .send()
        .await
        .unwrap();
    let body = problem(response, 422).await;
    assert_eq!(
        body["type"],
        "urn:trygg:problem:protection-decision-required"
    );
    assert_eq!(body["errors"][0]["field"], "protection_level");

    let seen: Value = app
        .as_user(&north.manager_session)
        .get(&format!("/api/v1/children/{child}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["identity_withheld"], true);
    assert!(seen.get("given_name").is_none());
    assert!(!events_about(&app, child).iter().any(|e| e.0 == "update"));
}

#[actix_web::test]
async fn lowering_protection_is_a_decision_the_auditor_sees_among_protected_identities() {
    let app = spawn_app().await;
    let (north, child) = protected_child(&app, "protected_registration").await;
    let lowered = app
        .as_user(&north.manager_session)
        .post(
            &format!("/api/v1/children/{child}/protection"),
            json!({
                "protection_level": "none",
                "reason": "Skatteverket has lifted the protected registration",
                "decision_reference": "SN-2026-0412",
            }),
        )
        .await;
    assert_eq!(lowered.status(), 200);
    let view: Value = lowered.json().await.unwrap();
    assert_eq!(view["protection_level"], "none");
    assert_eq!(view["given_name"], "Ali");

    let events = events_about(&app, child);
    let (_, outcome, protected, purpose) = events
        .iter()
        .find(|e| e.0 == "change_protection")
        .expect("a change_protection event");
    assert_eq!(outcome, "success");
    assert!(*protected, "the event carries the protection the child had");
    let purpose = purpose.as_deref().unwrap();
    assert!(
        purpose.contains("lifted the protected registration") && purpose.contains("SN-2026-0412")
    );

    let kept: (String, String, String) = {
        use trygg::db::schema::protection_changes::dsl as p;
        p::protection_changes
            .filter(p::child_id.eq(child))
            .select((p::from_level, p::to_level, p::decision_reference))
            .first(&mut app.db.superuser())
            .unwrap()
    };
    assert_eq!(
        kept,
        (
            "protected_registration".into(),
            "none".into(),
            "SN-2026-0412".into()
        )
    );

    let auditor = app.create_user(Profession::Auditor, None);
    let auditor = app.login(&auditor).await;
    let review: Value = app
        .as_user(&auditor)
        .get(&format!(
            "/api/v1/audit-events/protected-identity-accesses?child_id={child}"
        ))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"change_protection"), "{actions:?}");
}

#[actix_web::test]
async fn the_assigned_secretary_may_not_lower_protection_and_her_attempt_is_on_record() {
    let app = spawn_app().await;
    let (north, child) = protected_child(&app, "confidentiality_marking").await;
    let body = json!({"protection_level": "none", "reason": "the family asked for it", "decision_reference": "X-1"});
    let path = format!("/api/v1/children/{child}/protection");
    problem(
        app.as_user(&north.secretary_session)
            .post(&path, body)
            .await,
        403,
    )
    .await;

    let refused: Vec<_> = events_about(&app, child)
        .into_iter()
        .filter(|e| e.0 == "change_protection")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!((refused[0].1.as_str(), refused[0].2), ("denied", true));
}

#[actix_web::test]
async fn a_protection_decision_changes_the_level_and_gives_a_reason_and_a_decision() {
    let app = spawn_app().await;
    let (north, child) = protected_child(&app, "confidentiality_marking").await;
    let path = format!("/api/v1/children/{child}/protection");
    let body = problem(
        app.as_user(&north.manager_session)
            .post(
                &path,
                json!({"protection_level": "confidentiality_marking", "reason": "short", "decision_reference": " "}),
            )
            .await,
        422,
    )
    .await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["decision_reference", "protection_level", "reason"]);
    assert!(!events_about(&app, child)
        .iter()
        .any(|e| e.0 == "change_protection"));
}

#[actix_web::test]
async fn an_edit_event_carries_the_protection_the_child_had_before_it() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Sami", "2010-05-20"),
    )
    .await;
    let tag = etag_of(&app, &north.secretary_session, child).await;
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/children/{child}")))
        .bearer_auth(&north.secretary_session.access_token)
        .header("if-match", tag)
        .json(&json!({"protection_level": "confidentiality_marking"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let update = events_about(&app, child)
        .into_iter()
        .find(|e| e.0 == "update")
        .expect("an update event");
    assert!(
        !update.2,
        "the event carries the protection as it was before the change"
    );
}

#[actix_web::test]
async fn a_refused_emergency_access_names_the_child_even_with_a_short_reason() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2010-05-20"),
    )
    .await;
    let staff = app.create_user(Profession::HvbStaff, Some(north.unit));
    let staff = app.login(&staff).await;
    let path = format!("/api/v1/children/{child}/emergency-access");
    problem(
        app.as_user(&staff)
            .post(&path, json!({"reason": "short"}))
            .await,
        403,
    )
    .await;

    let refused: Vec<_> = events_about(&app, child)
        .into_iter()
        .filter(|e| e.0 == "emergency_access")
        .collect();
    assert_eq!(refused.len(), 1, "the refusal is found by child");
    assert_eq!(refused[0].1, "denied");
}
