//! The database holds the placement rules as the service states them, edge cases included.

use serde_json::{json, Value};

use crate::children::{child_body, office, register};
use crate::helpers::{problem, spawn_app};

#[actix_web::test]
async fn a_child_born_on_29_february_gets_the_default_planned_end() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Leap", "2008-02-29"),
    )
    .await;
    let response = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": home, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-29"}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    // 2029 is a common year: the 21st birthday is 1 March, so the last day is 28 February.
    assert_eq!(body["planned_end"], "2029-02-28");
}

#[actix_web::test]
async fn a_placement_still_ends_after_its_home_lost_places() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 2, &[]);
    let first = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let second = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let body = |end: &str| json!({"facility_id": home, "start_date": "2026-01-15", "planned_end": end, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-1"});
    let as_secretary = app.as_user(&north.secretary_session);
    let running: Value = as_secretary
        .post(
            &format!("/api/v1/children/{first}/placements"),
            body("2026-12-31"),
        )
        .await
        .json()
        .await
        .unwrap();
    let other = as_secretary
        .post(
            &format!("/api/v1/children/{second}/placements"),
            body("2026-03-01"),
        )
        .await;
    assert_eq!(other.status(), 201);

    // From today on only one child lives there, so the home may shrink to one place...
    let facility = app
        .as_user(&north.manager_session)
        .get(&format!("/api/v1/facilities/{home}"))
        .await;
    let tag = facility.headers()["etag"].to_str().unwrap().to_owned();
    let shrunk = app
        .client
        .patch(app.url(&format!("/api/v1/facilities/{home}")))
        .bearer_auth(&north.manager_session.access_token)
        .header("if-match", tag)
        .json(&json!({"capacity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(shrunk.status(), 200, "{}", shrunk.text().await.unwrap());
    // ...and the remaining placement can still end, though two lived there in January.
    let ended = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/placements/{}/end", running["id"].as_str().unwrap()),
            json!({"end_date": "2026-06-30", "end_reason": "returned_home"}),
        )
        .await;
    assert_eq!(ended.status(), 200, "{}", ended.text().await.unwrap());
}

#[actix_web::test]
async fn the_database_keeps_a_first_placement_in_an_hvb_home() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2008-01-15"),
    )
    .await;
    use diesel::connection::SimpleConnection;
    let sneaky = format!(
        "BEGIN; INSERT INTO placements (id, child_id, facility_id, start_date, planned_end, legal_basis, decision_reference, special_reasons, created_at, updated_at, last_audit_event_id) \
         SELECT gen_random_uuid(), '{child}', '{housing}', '2026-03-01', '2026-12-31', 'SoL2025-insats', 'X', NULL, now(), now(), id FROM audit_events LIMIT 1; COMMIT;"
    );
    let error = app
        .db
        .service_role()
        .batch_execute(&sneaky)
        .unwrap_err()
        .to_string();
    assert!(error.contains("first_placement_hvb"), "{error}");
    let refused = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": housing, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-2"}),
        )
        .await;
    assert_eq!(
        problem(refused, 422).await["errors"][0]["field"],
        "facility_id"
    );
}

#[actix_web::test]
async fn a_placement_before_the_oldest_rules_follows_the_oldest_rules() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Early", "2005-04-01"),
    )
    .await;
    let response = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": home, "start_date": "2015-09-01", "planned_end": "2016-08-31", "legal_basis": "SoL-4-1", "decision_reference": "SN-2015-3"}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

#[actix_web::test]
async fn an_assignment_without_its_audit_event_cannot_commit() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    use diesel::connection::SimpleConnection;
    let sneaky = format!(
        "INSERT INTO child_secretaries (child_id, user_id, assigned_at) VALUES ('{child}', '{}', now())",
        north.manager.id
    );
    let error = app
        .db
        .service_role()
        .batch_execute(&sneaky)
        .unwrap_err()
        .to_string();
    assert!(error.contains("without an audit event"), "{error}");
}
