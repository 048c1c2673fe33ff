//! A revised date of birth (an assessed age re-assessed): its own decision, never an edit; the
//! dates that follow from it follow, and a placement the new age makes unlawful is reported,
//! never changed.

use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::db::schema::{age_assessments, audit_events};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

async fn place(app: &TestApp, session: &Session, child: Uuid, body: Value) -> Value {
    let response = app
        .as_user(session)
        .post(&format!("/api/v1/children/{child}/placements"), body)
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn reassess(app: &TestApp, session: &Session, child: Uuid, born: &str) -> reqwest::Response {
    app.as_user(session)
        .post(
            &format!("/api/v1/children/{child}/age-assessments"),
            json!({"date_of_birth": born, "reason": "The medical age assessment came back today", "decision_reference": "SN-2026-41"}),
        )
        .await
}

async fn placement(app: &TestApp, session: &Session, id: &str) -> Value {
    app.as_user(session)
        .get(&format!("/api/v1/placements/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// A child of North born 20 May 2010, placed today (10 March 2026) in an HVB home with the
/// default planned end (the day before the 21st birthday).
async fn placed(app: &TestApp) -> (Office, Uuid, String) {
    let north = office(app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let placed = place(
        app,
        &north.secretary_session,
        child,
        json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-1"}),
    )
    .await;
    assert_eq!(placed["planned_end"], "2031-05-19");
    (north, child, placed["id"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn an_older_assessed_age_moves_the_default_planned_end_and_the_decision_is_kept() {
    let app = spawn_app().await;
    let (north, child, placement_id) = placed(&app).await;

    // An edit may not change the date of birth.
    let tag = format!("\"{}-1\"", child.simple());
    let edit = app
        .client
        .patch(app.url(&format!("/api/v1/children/{child}")))
        .bearer_auth(&north.secretary_session.access_token)
        .header("if-match", tag)
        .json(&json!({"date_of_birth": "2008-09-15"}))
        .send()
        .await
        .unwrap();
    let body = problem(edit, 422).await;
    assert_eq!(body["type"], "urn:trygg:problem:age-reassessment-required");

    let answer = reassess(&app, &north.secretary_session, child, "2008-09-15").await;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["child"]["date_of_birth"], "2008-09-15");
    assert_eq!(
        body["consequences"]["planned_ends_moved"],
        json!([{"placement_id": placement_id, "from": "2031-05-19", "to": "2029-09-14"}])
    );
    assert_eq!(body["consequences"]["placements_to_review"], json!([]));
    let now = placement(&app, &north.secretary_session, &placement_id).await;
    assert_eq!(now["planned_end"], "2029-09-14");
    // Care after 18 follows the new birthday by itself.
    assert_eq!(
        now["continued_care_after_18"]["decision_needed_by"],
        "2026-09-15"
    );

    let mut conn = app.db.superuser();
    let kept: Vec<(chrono::NaiveDate, chrono::NaiveDate, String)> = age_assessments::table
        .filter(age_assessments::child_id.eq(child))
        .select((
            age_assessments::from_date_of_birth,
            age_assessments::to_date_of_birth,
            age_assessments::decision_reference,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        kept,
        [(
            "2010-05-20".parse().unwrap(),
            "2008-09-15".parse().unwrap(),
            "SN-2026-41".to_owned()
        )]
    );
    let actions: Vec<(String, String)> = audit_events::table
        .filter(audit_events::child_id.eq(child))
        .filter(audit_events::action.eq_any(["reassess_age", "update"]))
        .select((audit_events::action, audit_events::entity_type))
        .load(&mut conn)
        .unwrap();
    assert!(
        actions.contains(&("reassess_age".into(), "child".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("update".into(), "placement".into())),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn a_younger_assessed_age_reports_supported_housing_it_makes_unlawful_and_changes_nothing() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let hvb = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    // 16 on 1 June 2025: supported housing with special reasons, after an HVB placement.
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2009-06-01"),
    )
    .await;
    place(
        &app,
        &north.secretary_session,
        child,
        json!({"facility_id": hvb, "start_date": "2026-02-10", "planned_end": "2026-03-09", "legal_basis": "SoL2025-insats", "decision_reference": "SN-2"}),
    )
    .await;
    let housed = place(
        &app,
        &north.secretary_session,
        child,
        json!({"facility_id": housing, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-3", "special_reasons": "Mature and settled at school"}),
    )
    .await;
    let housed_id = housed["id"].as_str().unwrap().to_owned();
    let planned_end = housed["planned_end"].clone();

    // Re-assessed as born 1 September 2010: 15 when the supported housing began.
    let answer = reassess(&app, &north.secretary_session, child, "2010-09-01").await;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["consequences"]["placements_to_review"],
        json!([{"placement_id": housed_id, "problems": [{"problem": "supported_housing_too_young", "allowed_from": "2026-09-01"}]}])
    );
    assert_eq!(body["consequences"]["planned_ends_moved"], json!([]));
    let now = placement(&app, &north.secretary_session, &housed_id).await;
    assert_eq!(now["planned_end"], planned_end, "never changed silently");
    assert_eq!(now["status"], "active");

    // The worklist shows it until someone acts, to the secretary and her manager.
    for session in [&north.secretary_session, &north.manager_session] {
        let list: Value = app
            .as_user(session)
            .get("/api/v1/me/worklist")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            list["placements_to_review"][0]["placement_id"],
            json!(housed_id),
            "{list}"
        );
    }
}

#[actix_web::test]
async fn an_explicit_planned_end_past_the_new_limit_is_reported_not_moved() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2010-05-20"),
    )
    .await;
    let placed = place(
        &app,
        &north.secretary_session,
        child,
        json!({"facility_id": home, "start_date": "2026-03-10", "planned_end": "2028-12-31", "legal_basis": "SoL2025-insats", "decision_reference": "SN-4"}),
    )
    .await;
    let id = placed["id"].as_str().unwrap().to_owned();
    let body: Value = reassess(&app, &north.secretary_session, child, "2007-06-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["consequences"]["placements_to_review"],
        json!([{"placement_id": id, "problems": [{"problem": "ends_after_age_limit", "latest_end": "2028-05-31"}]}])
    );
    assert_eq!(
        placement(&app, &north.secretary_session, &id).await["planned_end"],
        "2028-12-31"
    );
}

#[actix_web::test]
async fn a_reassessment_needs_a_reason_a_reference_and_a_new_date_and_staff_may_not_make_it() {
    let app = spawn_app().await;
    let (north, child, _) = placed(&app).await;
    let path = format!("/api/v1/children/{child}/age-assessments");
    let same = app
        .as_user(&north.secretary_session)
        .post(&path, json!({"date_of_birth": "2010-05-20", "date_of_birth_assessed": true, "reason": "short", "decision_reference": ""}))
        .await;
    let body = problem(same, 422).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["date_of_birth", "reason", "decision_reference"],
        "{body}"
    );

    let erik = app.create_user(Profession::HvbStaff, Some(north.unit));
    let erik = app.login(&erik).await;
    problem(reassess(&app, &erik, child, "2009-01-01").await, 404).await;
}
