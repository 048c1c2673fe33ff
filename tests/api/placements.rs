//! Stories about placing children, moving them, and never overbooking a home.

use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, spawn_app_with, AppOptions, TestApp};

fn placement(facility: Uuid, start: &str) -> Value {
    json!({"facility_id": facility, "start_date": start, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-17"})
}

async fn place(app: &TestApp, session: &Session, child: Uuid, body: Value) -> reqwest::Response {
    app.as_user(session)
        .post(&format!("/api/v1/children/{child}/placements"), body)
        .await
}

async fn placed(app: &TestApp, session: &Session, child: Uuid, body: Value) -> Value {
    let response = place(app, session, child, body).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "placement failed: {body}");
    body
}

/// A 15-year-old (born 2010-05-20; the test clock says 2026-03-10) on the secretary's caseload.
async fn fifteen_year_old(app: &TestApp, north: &Office) -> Uuid {
    register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await
}

#[actix_web::test]
async fn a_secretary_places_a_newly_arrived_child_in_an_hvb_home() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = fifteen_year_old(&app, &north).await;

    let body = placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    assert_eq!(body["status"], "active");
    assert_eq!(
        body["planned_end"], "2031-05-19",
        "defaults to the day before the 21st birthday"
    );
    assert_eq!(body["reconsideration"]["due_on"], "2026-09-01");
    assert_eq!(body["care_plan_revision"]["due_on"], "2028-03-01");

    let view: Value = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/children/{child}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["current_placement"]["facility_id"], home.to_string());
}

#[actix_web::test]
async fn the_first_placement_is_in_an_hvb_home_unless_a_unit_manager_deviates() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let older = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2008-01-15"),
    )
    .await;

    let refused = problem(
        place(
            &app,
            &north.secretary_session,
            older,
            placement(housing, "2026-03-01"),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "facility_id");
    let mut deviating = placement(housing, "2026-03-01");
    deviating["deviation_reason"] =
        json!("His brother lives there; investigation done in another municipality");
    let by_secretary = problem(
        place(&app, &north.secretary_session, older, deviating.clone()).await,
        422,
    )
    .await;
    assert_eq!(by_secretary["errors"][0]["field"], "deviation_reason");
    placed(&app, &north.manager_session, older, deviating).await;
}

#[actix_web::test]
async fn supported_housing_is_from_16_and_before_18_only_with_special_reasons() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let child = fifteen_year_old(&app, &north).await;
    let first = placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    let move_to = |date: &str, reasons: Option<&str>| {
        let mut body = json!({"facility_id": housing, "move_date": date, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-40"});
        if let Some(reasons) = reasons {
            body["special_reasons"] = json!(reasons);
        }
        body
    };
    let moves = format!("/api/v1/children/{child}/moves");

    let too_young = problem(
        app.as_user(&north.secretary_session)
            .post(&moves, move_to("2026-05-19", None))
            .await,
        422,
    )
    .await;
    assert_eq!(too_young["errors"][0]["field"], "facility_id");
    let no_reasons = problem(
        app.as_user(&north.secretary_session)
            .post(&moves, move_to("2026-05-20", None))
            .await,
        422,
    )
    .await;
    assert_eq!(no_reasons["errors"][0]["field"], "special_reasons");
    // The refused moves changed nothing: the HVB placement still runs to its planned end.
    let still: Value = app
        .as_user(&north.secretary_session)
        .get(&format!(
            "/api/v1/placements/{}",
            first["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(still["end_date"].is_null());

    let moved = app
        .as_user(&north.secretary_session)
        .post(
            &moves,
            move_to("2026-05-20", Some("Mature and stable; school nearby")),
        )
        .await;
    assert_eq!(moved.status(), 201);
    let history: Value = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/children/{child}/placements"))
        .await
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["end_date"], "2026-05-19");
    assert_eq!(items[0]["end_reason"], "moved");
    assert_eq!(items[1]["start_date"], "2026-05-20");
}

#[actix_web::test]
async fn a_placement_never_runs_past_the_day_before_the_21st_birthday() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = fifteen_year_old(&app, &north).await;
    let mut body = placement(home, "2026-03-01");
    body["planned_end"] = json!("2031-05-20");
    let refused = problem(
        place(&app, &north.secretary_session, child, body).await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "planned_end");
}

#[actix_web::test]
async fn a_child_lives_in_one_place_at_a_time() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let other = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = fifteen_year_old(&app, &north).await;
    placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    problem(
        place(
            &app,
            &north.secretary_session,
            child,
            placement(other, "2026-04-01"),
        )
        .await,
        409,
    )
    .await;
}

#[actix_web::test]
async fn a_full_home_takes_no_one_more_and_a_move_into_it_changes_nothing() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let small = app.arrange_facility(north.unit, "hvb", 1, &[]);
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let first = fifteen_year_old(&app, &north).await;
    let second = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    placed(
        &app,
        &north.secretary_session,
        first,
        placement(small, "2026-03-01"),
    )
    .await;
    let current = placed(
        &app,
        &north.secretary_session,
        second,
        placement(home, "2026-03-01"),
    )
    .await;

    let full = problem(
        place(
            &app,
            &north.secretary_session,
            second,
            placement(small, "2026-03-05"),
        )
        .await,
        409,
    )
    .await;
    assert!(
        full["detail"].as_str().unwrap().contains("place")
            || full["detail"].as_str().unwrap().contains("placement")
    );
    let moves = format!("/api/v1/children/{second}/moves");
    let refused = app.as_user(&north.secretary_session).post(&moves, json!({"facility_id": small, "move_date": "2026-04-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-41"})).await;
    problem(refused, 409).await;
    let unchanged: Value = app
        .as_user(&north.secretary_session)
        .get(&format!(
            "/api/v1/placements/{}",
            current["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        unchanged["end_date"].is_null(),
        "the move was atomic: the current placement did not end"
    );
}

#[actix_web::test]
async fn a_mistaken_placement_is_cancelled_and_stays_in_the_history() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = fifteen_year_old(&app, &north).await;
    let wrong = placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    let id = wrong["id"].as_str().unwrap();

    let cancelled = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/placements/{id}/cancel"),
            json!({"reason": "Registered on the wrong child"}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let body: Value = cancelled.json().await.unwrap();
    assert_eq!(body["status"], "cancelled");
    placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    let history: Value = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/children/{child}/placements"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"].as_array().unwrap().len(), 2);

    // Not even the service's own database role can delete a placement.
    use diesel::prelude::*;
    let deleted = diesel::sql_query("DELETE FROM placements").execute(&mut app.db.service_role());
    assert_eq!(
        deleted.unwrap_err().to_string(),
        "permission denied for table placements"
    );
}

#[actix_web::test]
async fn reconsideration_falls_due_every_six_months_and_shows_when_overdue() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = fifteen_year_old(&app, &north).await;
    let body = placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    let id = body["id"].as_str().unwrap().to_owned();

    app.clock.advance(chrono::Duration::days(190));
    let session = app.login(&north.secretary).await;
    let late: Value = app
        .as_user(&session)
        .get(&format!("/api/v1/placements/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(late["reconsideration"]["overdue"], true);

    let reviews = format!("/api/v1/placements/{id}/reviews");
    let missing = problem(app.as_user(&session).post(&reviews, json!({"kind": "reconsideration", "decided_on": "2026-09-10", "decision_reference": "BN-2026-99"})).await, 422).await;
    assert_eq!(missing["errors"][0]["field"], "continued_need");
    let recorded = app.as_user(&session).post(&reviews, json!({"kind": "reconsideration", "decided_on": "2026-09-10", "decision_reference": "BN-2026-99", "continued_need": true})).await;
    assert_eq!(recorded.status(), 201);
    let body: Value = recorded.json().await.unwrap();
    assert_eq!(body["reconsideration"]["due_on"], "2027-03-10");
    assert_eq!(body["reconsideration"]["overdue"], false);
}

#[actix_web::test]
async fn staff_and_strangers_cannot_place_a_child() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let staff = app.create_user(Profession::HvbStaff, Some(north.unit));
    let home = app.arrange_facility(north.unit, "hvb", 4, &[staff.id]);
    let child = fifteen_year_old(&app, &north).await;
    placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    let other = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;

    let staff_session = app.login(&staff).await;
    problem(
        place(&app, &staff_session, child, placement(home, "2027-01-01")).await,
        403,
    )
    .await;
    problem(
        place(&app, &staff_session, other, placement(home, "2026-03-01")).await,
        404,
    )
    .await;
}

/// 50 requests for a home with 3 free places, all at once: exactly 3 succeed, no day is
/// overbooked, and the audit chain is unbroken.
#[actix_web::test]
async fn fifty_simultaneous_placements_into_three_free_places() {
    let app = spawn_app_with(AppOptions::concurrent(50)).await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 5, &[]);
    let earlier = [
        fifteen_year_old(&app, &north).await,
        register(
            &app,
            &north.secretary_session,
            child_body(north.unit, "Omid", "2011-02-02"),
        )
        .await,
    ];
    for child in earlier {
        placed(
            &app,
            &north.secretary_session,
            child,
            placement(home, "2026-03-01"),
        )
        .await;
    }
    let mut children = Vec::new();
    for i in 0..50 {
        let mut body = child_body(north.unit, &format!("Child{i}"), "2011-06-01");
        body["family_name"] = json!(format!("Family{i}"));
        children.push(register(&app, &north.secretary_session, body).await);
    }
    let requests = children.iter().map(|child| {
        let app = &app;
        let session = &north.secretary_session;
        async move {
            place(app, session, *child, placement(home, "2026-03-10"))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );

    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Busiest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let busiest: Busiest = diesel::sql_query(
        "SELECT COALESCE(max(n), 0) AS n FROM (SELECT d, count(*) AS n FROM placements p, generate_series('2026-03-01'::date, '2031-12-31'::date, '1 day') d WHERE p.facility_id = $1 AND p.cancelled_at IS NULL AND p.period @> d::date GROUP BY d) x",
    )
    .bind::<diesel::sql_types::Uuid, _>(home)
    .get_result(&mut app.db.superuser())
    .unwrap();
    assert_eq!(busiest.n, 5);
    let report = trygg::audit::verify::verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{report:?}");
}

#[actix_web::test]
async fn the_database_itself_refuses_to_overbook_a_home() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 1, &[]);
    let first = fifteen_year_old(&app, &north).await;
    let second = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    placed(
        &app,
        &north.secretary_session,
        first,
        placement(home, "2026-03-01"),
    )
    .await;

    use diesel::connection::SimpleConnection;
    let sneaky = format!(
        "BEGIN; SET CONSTRAINTS ALL IMMEDIATE; INSERT INTO placements (id, child_id, facility_id, start_date, planned_end, legal_basis, decision_reference, created_at, updated_at, last_audit_event_id) \
         SELECT gen_random_uuid(), '{second}', '{home}', '2026-04-01', '2026-12-31', 'SoL2025-insats', 'X', now(), now(), id FROM audit_events LIMIT 1; COMMIT;"
    );
    let error = app
        .db
        .service_role()
        .batch_execute(&sneaky)
        .unwrap_err()
        .to_string();
    assert!(error.contains("capacity_exceeded"), "{error}");
}

#[actix_web::test]
async fn care_past_18_needs_a_decision_and_is_never_automatic() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2008-06-01"),
    )
    .await;
    let body = placed(
        &app,
        &north.secretary_session,
        child,
        placement(home, "2026-03-01"),
    )
    .await;
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        body["continued_care_after_18"]["decision_needed_by"],
        "2026-06-01"
    );
    assert!(body["continued_care_after_18"]["continues"].is_null());
    assert_eq!(body["continued_care_after_18"]["overdue"], false);

    app.clock.advance(chrono::Duration::days(90));
    let session = app.login(&north.secretary).await;
    let late: Value = app
        .as_user(&session)
        .get(&format!("/api/v1/placements/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(late["continued_care_after_18"]["overdue"], true, "{late}");

    let decided = app
        .as_user(&session)
        .post(&format!("/api/v1/placements/{id}/reviews"), json!({"kind": "continued_care_after_18", "decided_on": "2026-06-05", "decision_reference": "BN-2026-120", "continued_need": true}))
        .await;
    assert_eq!(decided.status(), 201);
    let decided: Value = decided.json().await.unwrap();
    assert_eq!(decided["continued_care_after_18"]["continues"], true);
    assert_eq!(decided["continued_care_after_18"]["overdue"], false);
}

#[actix_web::test]
async fn a_new_decision_extends_a_placement_only_into_free_days() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 1, &[]);
    let first = fifteen_year_old(&app, &north).await;
    let second = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let mut short = placement(home, "2026-03-01");
    short["planned_end"] = json!("2026-06-30");
    let body = placed(&app, &north.secretary_session, first, short).await;
    let id = body["id"].as_str().unwrap().to_owned();
    // The only place is taken again from August.
    placed(
        &app,
        &north.secretary_session,
        second,
        placement(home, "2026-08-01"),
    )
    .await;

    let url = app.url(&format!("/api/v1/placements/{id}"));
    let read = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/placements/{id}"))
        .await;
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();
    let change = |body: Value, tag: Option<String>| {
        let mut request = app
            .client
            .patch(&url)
            .bearer_auth(&north.secretary_session.access_token)
            .json(&body);
        if let Some(tag) = tag {
            request = request.header("if-match", tag);
        }
        async move { request.send().await.unwrap() }
    };
    problem(
        change(json!({"planned_end": "2026-07-31"}), None).await,
        428,
    )
    .await;
    problem(
        change(json!({"planned_end": "2026-08-15"}), Some(tag.clone())).await,
        409,
    )
    .await;
    let past = problem(
        change(json!({"planned_end": "2026-03-05"}), Some(tag.clone())).await,
        422,
    )
    .await;
    assert_eq!(past["errors"][0]["field"], "planned_end");

    let extended = change(
        json!({"planned_end": "2026-07-31", "decision_reference": "BN-2026-77"}),
        Some(tag.clone()),
    )
    .await;
    assert_eq!(extended.status(), 200);
    let extended: Value = extended.json().await.unwrap();
    assert_eq!(extended["planned_end"], "2026-07-31");
    assert_eq!(extended["decision_reference"], "BN-2026-77");
    problem(
        change(json!({"planned_end": "2026-07-30"}), Some(tag)).await,
        409,
    )
    .await;
}
