//! Stories about requests that meet: two people changing the same record from the same read,
//! crossing moves, and relations that must not outlive the change that ends them.

use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

async fn etag_of(app: &TestApp, session: &Session, path: &str) -> String {
    let response = app.as_user(session).get(path).await;
    assert_eq!(response.status(), 200, "reading {path}");
    response.headers()["etag"].to_str().unwrap().to_owned()
}

/// Sends both PATCHes at once with the same `If-Match`; returns their statuses, sorted.
async fn patch_twice(
    app: &TestApp,
    session: &Session,
    path: &str,
    etag: &str,
    first: Value,
    second: Value,
) -> Vec<u16> {
    let (a, b) = futures_util::future::join(
        app.patch_if_match(session, path, Some(etag), first),
        app.patch_if_match(session, path, Some(etag), second),
    )
    .await;
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    statuses
}

#[actix_web::test]
async fn two_administrators_patch_one_user_from_the_same_read_and_one_is_told_to_read_again() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let admin = app.system_admin_session().await;
    let path = format!("/api/v1/users/{}", anna.id);

    for round in 0..5 {
        let etag = etag_of(&app, &admin, &path).await;
        let statuses = patch_twice(
            &app,
            &admin,
            &path,
            &etag,
            json!({"display_name": format!("Anna A {round}")}),
            json!({"display_name": format!("Anna B {round}")}),
        )
        .await;
        assert_eq!(statuses, [200, 409], "round {round}");
    }
    let etag = etag_of(&app, &admin, &path).await;
    assert!(etag.ends_with("-6\""), "one change per round: {etag}");
}

#[actix_web::test]
async fn two_administrators_patch_one_service_account_from_the_same_read() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "ledger", &["children:read"])
        .await;
    let path = format!("/api/v1/service-accounts/{}", client.id);

    for round in 0..5 {
        let etag = etag_of(&app, &admin, &path).await;
        let statuses = patch_twice(
            &app,
            &admin,
            &path,
            &etag,
            json!({"name": format!("Ledger A {round}")}),
            json!({"name": format!("Ledger B {round}")}),
        )
        .await;
        assert_eq!(statuses, [200, 409], "round {round}");
    }
}

fn placement(facility: Uuid, start: &str) -> Value {
    json!({"facility_id": facility, "start_date": start, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-17"})
}

async fn placed(app: &TestApp, session: &Session, child: Uuid, facility: Uuid) -> String {
    let response = app
        .as_user(session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            placement(facility, "2026-03-01"),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "placement failed: {body}");
    body["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn two_secretaries_change_one_placement_from_the_same_read() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let id = placed(&app, &north.secretary_session, child, home).await;
    let path = format!("/api/v1/placements/{id}");

    for (round, (a, b)) in [("2027-01-31", "2027-02-28"), ("2027-03-31", "2027-04-30")]
        .into_iter()
        .enumerate()
    {
        let etag = etag_of(&app, &north.secretary_session, &path).await;
        let statuses = patch_twice(
            &app,
            &north.manager_session,
            &path,
            &etag,
            json!({"planned_end": a}),
            json!({"planned_end": b}),
        )
        .await;
        assert_eq!(statuses, [200, 409], "round {round}");
    }

    // Two endings at once: the placement ends once, the other request is told it has ended.
    let end = format!("/api/v1/placements/{id}/end");
    let (one, other) = futures_util::future::join(
        app.as_user(&north.secretary_session).post(
            &end,
            json!({"end_date": "2026-06-30", "end_reason": "returned_home"}),
        ),
        app.as_user(&north.manager_session).post(
            &end,
            json!({"end_date": "2026-07-31", "end_reason": "own_housing"}),
        ),
    )
    .await;
    let mut statuses = [one.status().as_u16(), other.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
}

/// X lives in home A and moves to B; Y lives in B and moves to A; both on the same day, both
/// requests at once. Each move locks two homes; taken in the same order, they queue up.
#[actix_web::test]
async fn crossing_moves_at_the_same_moment_both_go_through() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let a = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let b = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let x = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let y = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    placed(&app, &north.secretary_session, x, a).await;
    placed(&app, &north.secretary_session, y, b).await;

    let move_to = |facility: Uuid, date: &str| json!({"facility_id": facility, "move_date": date, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-50"});
    let (mut x_home, mut y_home) = (a, b);
    for (round, date) in ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"]
        .into_iter()
        .enumerate()
    {
        let (x_moved, y_moved) = futures_util::future::join(
            app.as_user(&north.secretary_session).post(
                &format!("/api/v1/children/{x}/moves"),
                move_to(y_home, date),
            ),
            app.as_user(&north.manager_session).post(
                &format!("/api/v1/children/{y}/moves"),
                move_to(x_home, date),
            ),
        )
        .await;
        let statuses = [x_moved.status().as_u16(), y_moved.status().as_u16()];
        let bodies = [x_moved.text().await.unwrap(), y_moved.text().await.unwrap()];
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 409),
            "round {round}: {statuses:?} {bodies:?}"
        );
        assert!(
            bodies.iter().all(|b| !b.contains("deadlock")),
            "round {round}: {bodies:?}"
        );
        assert_eq!(
            statuses,
            [201, 201],
            "round {round}: the homes are locked in one order, so neither move is undone: {bodies:?}"
        );
        std::mem::swap(&mut x_home, &mut y_home);
    }

    for (child, home) in [(x, x_home), (y, y_home)] {
        let view: Value = app
            .as_user(&north.secretary_session)
            .get(&format!("/api/v1/children/{child}/placements"))
            .await
            .json()
            .await
            .unwrap();
        let items = view["items"].as_array().unwrap();
        assert_eq!(items.len(), 5, "{view}");
        assert_eq!(items[4]["facility_id"], home.to_string());
        assert!(items[..4].iter().all(|p| p["end_reason"] == "moved"));
    }
    let report = trygg::audit::verify::verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{report:?}");
}

/// The changed fields of the newest `update` event about `user`.
fn last_user_change(app: &TestApp, user: Uuid) -> Vec<String> {
    use trygg::db::schema::audit_events;
    audit_events::table
        .filter(audit_events::entity_type.eq("user"))
        .filter(audit_events::entity_id.eq(user))
        .filter(audit_events::action.eq("update"))
        .order(audit_events::seq.desc())
        .select(audit_events::changed_fields)
        .first::<Vec<String>>(&mut app.db.superuser())
        .unwrap()
}

async fn move_user(app: &TestApp, admin: &Session, user: Uuid, change: Value) {
    let path = format!("/api/v1/users/{user}");
    let etag = etag_of(app, admin, &path).await;
    let response = app.patch_if_match(admin, &path, Some(&etag), change).await;
    assert_eq!(response.status(), 200);
}

#[actix_web::test]
async fn a_secretary_moved_to_another_unit_no_longer_reaches_her_old_caseload() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = app.create_unit("South");
    let admin = app.system_admin_session().await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let path = format!("/api/v1/children/{child}");
    assert_eq!(
        app.as_user(&north.secretary_session)
            .get(&path)
            .await
            .status(),
        200
    );

    move_user(&app, &admin, north.secretary.id, json!({"unit_id": south})).await;
    assert_eq!(
        last_user_change(&app, north.secretary.id),
        ["unit_id", "assignments"]
    );

    app.clock.advance(chrono::Duration::seconds(31));
    let again = app.login(&north.secretary).await;
    problem(app.as_user(&again).get(&path).await, 404).await;
    // The case stays with its unit: the manager still sees it, with no secretary on it.
    let case: Value = app
        .as_user(&north.manager_session)
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["secretaries"], json!([]), "{case}");
}

#[actix_web::test]
async fn hvb_staff_given_another_profession_no_longer_reach_the_children_of_their_home() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let admin = app.system_admin_session().await;
    let erik = app.create_user(Profession::HvbStaff, Some(north.unit));
    let home = app.arrange_facility(north.unit, "hvb", 4, &[erik.id]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    placed(&app, &north.secretary_session, child, home).await;
    let path = format!("/api/v1/children/{child}");
    let session = app.login(&erik).await;
    assert_eq!(app.as_user(&session).get(&path).await.status(), 200);

    move_user(
        &app,
        &admin,
        erik.id,
        json!({"profession": "housing_staff"}),
    )
    .await;
    assert_eq!(
        last_user_change(&app, erik.id),
        ["profession", "assignments"]
    );
    let staff: Value = app
        .as_user(&north.manager_session)
        .get(&format!("/api/v1/facilities/{home}/staff"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["items"], json!([]), "{staff}");

    app.clock.advance(chrono::Duration::seconds(31));
    let again = app.login(&erik).await;
    problem(app.as_user(&again).get(&path).await, 404).await;
}

#[actix_web::test]
async fn a_user_whose_name_alone_changes_keeps_her_caseload() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let admin = app.system_admin_session().await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;

    move_user(
        &app,
        &admin,
        north.secretary.id,
        json!({"display_name": "Anna Andersson", "unit_id": north.unit}),
    )
    .await;
    assert_eq!(last_user_change(&app, north.secretary.id), ["display_name"]);
    assert_eq!(
        app.as_user(&north.secretary_session)
            .get(&format!("/api/v1/children/{child}"))
            .await
            .status(),
        200,
        "her session and her caseload stay"
    );
}

#[actix_web::test]
async fn a_case_moved_to_a_unit_that_does_not_exist_is_refused_not_an_internal_error() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let path = format!("/api/v1/children/{child}");
    let etag = etag_of(&app, &north.manager_session, &path).await;

    let refused = problem(
        app.patch_if_match(
            &north.manager_session,
            &path,
            Some(&etag),
            json!({"responsible_unit_id": Uuid::now_v7()}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(refused["type"], "urn:trygg:problem:rule-violation");
    assert_eq!(refused["errors"][0]["field"], "responsible_unit_id");
    let unchanged: Value = app
        .as_user(&north.manager_session)
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["responsible_unit_id"], north.unit.to_string());
}

#[actix_web::test]
async fn two_changes_of_a_child_with_the_same_etag_never_both_pass() {
    use crate::children::{child_body, office, register};
    let app = crate::helpers::spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    for round in 0..3 {
        let read = app
            .as_user(&north.secretary_session)
            .get(&format!("/api/v1/children/{child}"))
            .await;
        let tag = read.headers()["etag"].to_str().unwrap().to_owned();
        let change = |language: String| {
            let request = app
                .client
                .patch(app.url(&format!("/api/v1/children/{child}")))
                .bearer_auth(&north.secretary_session.access_token)
                .header("if-match", tag.clone())
                .json(&serde_json::json!({"languages": [language]}));
            async move { request.send().await.unwrap().status().as_u16() }
        };
        let (a, b) = tokio::join!(change(format!("a{round}")), change(format!("b{round}")));
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
    }
}
