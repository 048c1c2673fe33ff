//! Stories about organisational units: a system administrator sets them up, and everyone signed
//! in can see them.

use diesel::sql_types::{BigInt, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected status: {body}");
    body
}

fn unit_events(app: &TestApp, action: &str, outcome: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    sql_query(
        "SELECT count(*) AS count FROM audit_events \
         WHERE entity_type = 'unit' AND action = $1 AND outcome = $2 AND actor_type <> 'system'",
    )
    .bind::<Text, _>(action)
    .bind::<Text, _>(outcome)
    .get_result::<Count>(&mut app.db.superuser())
    .unwrap()
    .count
}

async fn create(app: &TestApp, admin: &Session, name: &str) -> (Uuid, String) {
    let response = app
        .as_user(admin)
        .post("/api/v1/units", json!({ "name": name }))
        .await;
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = json_of(response, 201).await;
    (body["id"].as_str().unwrap().parse().unwrap(), etag)
}

#[actix_web::test]
async fn a_system_admin_creates_a_unit_a_unit_manager_cannot() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;

    let created = app
        .as_user(&admin)
        .post(
            "/api/v1/units",
            json!({"name": " Enheten för ensamkommande "}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("etag"));
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let unit = json_of(created, 201).await;
    assert_eq!(unit["name"], "Enheten för ensamkommande");
    assert_eq!(unit["active"], true);
    assert_eq!(
        location,
        format!("/api/v1/units/{}", unit["id"].as_str().unwrap())
    );
    assert!(unit.get("version").is_none() && unit.get("last_audit_event_id").is_none());

    let unit_id: Uuid = unit["id"].as_str().unwrap().parse().unwrap();
    let manager = app.create_user(Profession::UnitManager, Some(unit_id));
    let manager = app.login(&manager).await;
    let refused = app
        .as_user(&manager)
        .post("/api/v1/units", json!({"name": "Her own unit"}))
        .await;
    problem(refused, 403).await;

    assert_eq!(unit_events(&app, "create", "success"), 1);
    assert_eq!(unit_events(&app, "create", "denied"), 1);
    let taken = app
        .as_user(&admin)
        .post(
            "/api/v1/units",
            json!({"name": "Enheten för ensamkommande"}),
        )
        .await;
    assert_eq!(problem(taken, 409).await["errors"][0]["field"], "name");
    let blank = app
        .as_user(&admin)
        .post("/api/v1/units", json!({"name": " "}))
        .await;
    assert_eq!(problem(blank, 422).await["errors"][0]["field"], "name");
}

#[actix_web::test]
async fn everyone_signed_in_sees_the_units_page_by_page() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    for name in ["North", "South", "West"] {
        create(&app, &admin, name).await;
    }
    let north = app.create_unit("East");
    let anna = app.create_user(Profession::SocialSecretary, Some(north));
    let anna = app.login(&anna).await;
    let auditor = app.create_user(Profession::Auditor, None);
    let auditor = app.login(&auditor).await;
    let client = app
        .register_client(&admin, "statistiksystemet", &["reports:read"])
        .await;
    let system = app.client_login(&client).await;

    for session in [&anna, &auditor, &system, &admin] {
        let all = json_of(app.as_user(session).get("/api/v1/units").await, 200).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 4);
        assert_eq!(all["items"][0]["name"], "North");
    }
    let first = json_of(app.as_user(&anna).get("/api/v1/units?limit=3").await, 200).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = json_of(
        app.as_user(&anna)
            .get(&format!("/api/v1/units?limit=3&cursor={cursor}"))
            .await,
        200,
    )
    .await;
    assert_eq!(rest["items"][0]["name"], "East");
    assert_eq!(rest["next_cursor"], Value::Null);
    let one = json_of(
        app.as_user(&system)
            .get(&format!("/api/v1/units/{north}"))
            .await,
        200,
    )
    .await;
    assert_eq!(one, json!({"id": north, "name": "East", "active": true}));
    assert_eq!(unit_events(&app, "list", "success"), 6);
    assert_eq!(unit_events(&app, "read", "success"), 1);
    problem(app.get("/api/v1/units").await, 401).await;
}

#[actix_web::test]
async fn a_system_admin_renames_and_closes_a_unit_without_overwriting_anyone() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let colleague = app.system_admin_session().await;
    let (unit, etag) = create(&app, &admin, "North").await;
    create(&app, &admin, "South").await;
    let path = format!("/api/v1/units/{unit}");

    problem(
        app.patch_if_match(&admin, &path, None, json!({"active": false}))
            .await,
        428,
    )
    .await;
    let renamed = app
        .patch_if_match(
            &colleague,
            &path,
            Some(&etag),
            json!({"name": "Norra enheten"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let new_etag = renamed.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(json_of(renamed, 200).await["name"], "Norra enheten");
    problem(
        app.patch_if_match(&admin, &path, Some(&etag), json!({"active": false}))
            .await,
        409,
    )
    .await;
    let taken = app
        .patch_if_match(&admin, &path, Some(&new_etag), json!({"name": "South"}))
        .await;
    assert_eq!(problem(taken, 409).await["errors"][0]["field"], "name");
    let closed = app
        .patch_if_match(&admin, &path, Some(&new_etag), json!({"active": false}))
        .await;
    let closed = json_of(closed, 200).await;
    assert_eq!(
        (closed["name"].as_str(), closed["active"].as_bool()),
        (Some("Norra enheten"), Some(false))
    );

    let manager = app.create_user(Profession::UnitManager, Some(unit));
    let manager = app.login(&manager).await;
    let refused = app
        .patch_if_match(&manager, &path, Some(&new_etag), json!({"active": true}))
        .await;
    problem(refused, 403).await;
    // A closed unit takes no new facilities.
    let opening = app
        .as_user(&manager)
        .post(
            "/api/v1/facilities",
            json!({"kind": "hvb", "name": "Solrosen", "unit_id": unit, "capacity": 4}),
        )
        .await;
    assert_eq!(problem(opening, 422).await["errors"][0]["field"], "unit_id");
    assert_eq!(unit_events(&app, "update", "success"), 2);
    assert_eq!(unit_events(&app, "update", "denied"), 1);
}

#[actix_web::test]
async fn an_unknown_unit_is_not_found() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let nowhere = Uuid::now_v7();
    let path = format!("/api/v1/units/{nowhere}");
    problem(app.as_user(&admin).get(&path).await, 404).await;
    let etag = format!("\"{}-1\"", nowhere.simple());
    problem(
        app.patch_if_match(&admin, &path, Some(&etag), json!({"name": "X"}))
            .await,
        404,
    )
    .await;
}
