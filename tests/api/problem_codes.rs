//! One cause, one code: each problem is told by its `type` alone, for the request that causes it,
//! and a refusal of the database carries the constraint the service maps it by.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::{json, Value};
use trygg::error::AppError;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

fn code(body: &Value) -> &str {
    body["type"]
        .as_str()
        .and_then(|t| t.strip_prefix("urn:trygg:problem:"))
        .unwrap_or_else(|| panic!("not a trygg problem: {body}"))
}

fn placement(facility: Uuid, start: &str) -> Value {
    json!({"facility_id": facility, "start_date": start, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-8"})
}

async fn place(app: &TestApp, session: &Session, child: Uuid, body: Value) -> reqwest::Response {
    app.as_user(session)
        .post(&format!("/api/v1/children/{child}/placements"), body)
        .await
}

/// Born 2010-05-20: 15 on the test clock's day (2026-03-10); 21 on 2031-05-20.
async fn ali(app: &TestApp, north: &Office) -> Uuid {
    register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await
}

#[actix_web::test]
async fn a_secretary_editing_a_child_someone_changed_meanwhile_is_told_her_copy_is_stale() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = ali(&app, &north).await;
    let path = format!("/api/v1/children/{child}");
    let read = app.as_user(&north.secretary_session).get(&path).await;
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();
    let first = app
        .patch_if_match(
            &north.secretary_session,
            &path,
            Some(&tag),
            json!({"interpreter_needed": false}),
        )
        .await;
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());

    let second = app
        .patch_if_match(
            &north.secretary_session,
            &path,
            Some(&tag),
            json!({"interpreter_needed": true}),
        )
        .await;
    let body = problem(second, 409).await;
    assert_eq!(code(&body), "stale-version");
    assert_eq!(
        body["detail"],
        "it was changed by someone else since it was read; read it again"
    );
}

#[actix_web::test]
async fn a_change_without_if_match_is_asked_for_the_version() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = ali(&app, &north).await;
    let response = app
        .patch_if_match(
            &north.secretary_session,
            &format!("/api/v1/children/{child}"),
            None,
            json!({"interpreter_needed": false}),
        )
        .await;
    assert_eq!(code(&problem(response, 428).await), "precondition-required");
}

#[actix_web::test]
async fn a_second_child_for_the_last_place_finds_the_home_full() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 1, &[]);
    let first = ali(&app, &north).await;
    let second = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let placed = place(
        &app,
        &north.secretary_session,
        first,
        placement(home, "2026-03-10"),
    )
    .await;
    assert_eq!(placed.status(), 201);
    let refused = place(
        &app,
        &north.secretary_session,
        second,
        placement(home, "2026-04-01"),
    )
    .await;
    assert_eq!(code(&problem(refused, 409).await), "facility-full");
}

#[actix_web::test]
async fn a_child_cannot_live_in_two_homes_on_one_day() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let other = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = ali(&app, &north).await;
    let placed = place(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-10"),
    )
    .await;
    assert_eq!(placed.status(), 201);
    let refused = place(
        &app,
        &north.secretary_session,
        child,
        placement(other, "2026-04-01"),
    )
    .await;
    assert_eq!(code(&problem(refused, 409).await), "placement-overlap");
}

#[actix_web::test]
async fn a_dossier_or_identity_number_already_registered_is_a_duplicate_identity() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let mut first = child_body(north.unit, "Ali", "2010-05-20");
    first["dossier_number"] = json!("1234567");
    first["personal_identity_number"] = json!("20100520-1239");
    register(&app, &north.secretary_session, first).await;

    let mut same_dossier = child_body(north.unit, "Omid", "2011-02-02");
    same_dossier["dossier_number"] = json!("1234567");
    let mut same_person = child_body(north.unit, "Ali", "2010-05-20");
    same_person["personal_identity_number"] = json!("20100520-1239");
    for (body, field) in [
        (same_dossier, "dossier_number"),
        (same_person, "personal_identity_number"),
    ] {
        let refused = app
            .as_user(&north.secretary_session)
            .post("/api/v1/children", body)
            .await;
        let body = problem(refused, 409).await;
        assert_eq!(code(&body), "duplicate-identity");
        assert_eq!(body["errors"][0]["field"], field);
    }
}

#[actix_web::test]
async fn supported_housing_at_15_and_a_planned_end_past_the_age_limit_break_the_age_rule() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let child = ali(&app, &north).await;

    // The unit manager records a deviation, so the only rule broken is the age.
    let mut too_young = placement(housing, "2026-03-10");
    too_young["deviation_reason"] = json!("His brother lives there; investigated elsewhere");
    let body = problem(
        place(&app, &north.manager_session, child, too_young).await,
        422,
    )
    .await;
    assert_eq!(code(&body), "age-rule");
    assert_eq!(body["errors"][0]["field"], "facility_id");

    let mut too_long = placement(home, "2026-03-10");
    too_long["planned_end"] = json!("2031-05-20");
    let body = problem(
        place(&app, &north.secretary_session, child, too_long).await,
        422,
    )
    .await;
    assert_eq!(code(&body), "age-rule");
    assert_eq!(body["errors"][0]["field"], "planned_end");

    // Extending a running placement past the limit is the same rule.
    let placed: Value = place(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-10"),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/api/v1/placements/{}", placed["id"].as_str().unwrap());
    let tag = app
        .as_user(&north.secretary_session)
        .get(&path)
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let extended = app
        .patch_if_match(
            &north.secretary_session,
            &path,
            Some(&tag),
            json!({"planned_end": "2031-05-20"}),
        )
        .await;
    assert_eq!(code(&problem(extended, 422).await), "age-rule");
}

#[actix_web::test]
async fn a_placement_breaking_two_rules_is_a_general_rule_violation() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = ali(&app, &north).await;
    let mut body = placement(home, "2026-03-10");
    body["planned_end"] = json!("2031-05-20");
    body["legal_basis"] = json!("no-such-law");
    let body = problem(
        place(&app, &north.secretary_session, child, body).await,
        422,
    )
    .await;
    assert_eq!(code(&body), "rule-violation");
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
}

#[actix_web::test]
async fn supported_housing_at_17_needs_special_reasons_and_a_first_placement_an_hvb_home() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2009-01-15"),
    )
    .await;
    let first = problem(
        place(
            &app,
            &north.secretary_session,
            child,
            placement(housing, "2026-03-10"),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(code(&first), "rule-violation", "two rules at once: {first}");

    let mut deviating = placement(housing, "2026-03-10");
    deviating["deviation_reason"] = json!("His brother lives there; investigated elsewhere");
    let body = problem(
        place(&app, &north.manager_session, child, deviating.clone()).await,
        422,
    )
    .await;
    assert_eq!(code(&body), "special-reasons-required");

    deviating["special_reasons"] = json!("Mature, stable, wants to study in town");
    let by_secretary = problem(
        place(&app, &north.secretary_session, child, deviating).await,
        422,
    )
    .await;
    assert_eq!(code(&by_secretary), "first-placement-hvb");
}

#[actix_web::test]
async fn an_ended_placement_cannot_be_ended_again() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = ali(&app, &north).await;
    let placed: Value = place(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-10"),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/api/v1/placements/{}/end", placed["id"].as_str().unwrap());
    let end = json!({"end_date": "2026-06-30", "end_reason": "returned_home"});
    let as_secretary = app.as_user(&north.secretary_session);
    assert_eq!(as_secretary.post(&path, end.clone()).await.status(), 200);
    let again = as_secretary.post(&path, end).await;
    assert_eq!(code(&problem(again, 409).await), "placement-closed");
}

#[actix_web::test]
async fn a_unit_name_in_use_is_taken() {
    let app = spawn_app().await;
    app.create_unit("North");
    let admin = app.system_admin_session().await;
    let refused = app
        .as_user(&admin)
        .post("/api/v1/units", json!({"name": "North"}))
        .await;
    let body = problem(refused, 409).await;
    assert_eq!(code(&body), "name-taken");
    assert_eq!(body["errors"][0]["field"], "name");
}

/// What the database answers a placement written straight past the service's checks.
fn sneak_in(
    app: &TestApp,
    child: Uuid,
    facility: Uuid,
    start: &str,
    end: &str,
    deviation: bool,
) -> DieselError {
    let deviation = if deviation { "'a reason'" } else { "NULL" };
    let insert = format!(
        "INSERT INTO placements (id, child_id, facility_id, start_date, planned_end, legal_basis, decision_reference, deviation_reason, created_at, updated_at, last_audit_event_id) \
         SELECT gen_random_uuid(), '{child}', '{facility}', '{start}', '{end}', 'SoL2025-insats', 'X', {deviation}, now(), now(), id FROM audit_events LIMIT 1"
    );
    let mut conn = app.db.service_role();
    conn.transaction(|conn| diesel::sql_query(insert).execute(conn))
        .expect_err("the database refuses it")
}

#[actix_web::test]
async fn the_database_names_the_rule_it_refuses_by_and_the_service_maps_that_name() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 1, &[]);
    let other = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let ali = ali(&app, &north).await;
    let omid = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2009-01-15"),
    )
    .await;
    let sami = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Sami", "2010-09-01"),
    )
    .await;
    let placed = place(
        &app,
        &north.secretary_session,
        ali,
        placement(home, "2026-03-10"),
    )
    .await;
    assert_eq!(placed.status(), 201);

    let cases = [
        // Omid turns 21 on 2030-01-15: a placement holding that day is too long.
        (
            sneak_in(&app, omid, other, "2026-03-10", "2030-01-15", false),
            "placements_age_limit",
            "age-rule",
        ),
        (
            sneak_in(&app, sami, housing, "2026-03-10", "2026-12-31", true),
            "placements_supported_housing_age",
            "age-rule",
        ),
        (
            sneak_in(&app, omid, housing, "2026-03-10", "2026-12-31", true),
            "placements_special_reasons_required",
            "special-reasons-required",
        ),
        (
            sneak_in(&app, omid, housing, "2027-02-01", "2027-12-31", false),
            "placements_first_hvb",
            "first-placement-hvb",
        ),
        (
            sneak_in(&app, omid, home, "2026-04-01", "2026-12-31", false),
            "placements_facility_capacity",
            "facility-full",
        ),
        (
            sneak_in(&app, ali, other, "2026-04-01", "2026-12-31", false),
            "placements_one_per_child_per_day",
            "placement-overlap",
        ),
    ];
    for (error, constraint, problem_code) in cases {
        let DieselError::DatabaseError(_, info) = &error else {
            panic!("not a refusal of the database: {error}");
        };
        assert_eq!(info.constraint_name(), Some(constraint), "{error}");
        assert_eq!(AppError::from(error).code(), problem_code, "{constraint}");
    }
}
