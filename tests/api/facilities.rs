//! Stories about HVB homes and supported housing: a unit manager opens and runs the homes of her
//! unit, staff see where they work, and the address stays with those who need it.

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use reqwest::Method;
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

const ADDRESS: &str = "Storgatan 1, 123 45 Småstad";

/// A unit with its manager logged in.
async fn unit_with_manager(app: &TestApp, name: &str) -> (Uuid, Session) {
    let unit = app.create_unit(name);
    let manager = app.create_user(Profession::UnitManager, Some(unit));
    (unit, app.login(&manager).await)
}

async fn logged_in(app: &TestApp, profession: Profession, unit: Option<Uuid>) -> Session {
    let user = app.create_user(profession, unit);
    app.login(&user).await
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected status: {body}");
    body
}

fn path(facility: Uuid) -> String {
    format!("/api/v1/facilities/{facility}")
}

async fn etag_of(app: &TestApp, session: &Session, facility: Uuid) -> String {
    let response = app.as_user(session).get(&path(facility)).await;
    assert_eq!(response.status(), 200);
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn put_staff(
    app: &TestApp,
    session: &Session,
    facility: Uuid,
    user_ids: &[Uuid],
) -> reqwest::Response {
    app.as_user(session)
        .send(
            Method::PUT,
            &format!("{}/staff", path(facility)),
            Some(json!({ "user_ids": user_ids })),
        )
        .await
}

/// Audit events about facilities with this action and outcome (and entity, when given).
fn facility_events(app: &TestApp, entity: Option<Uuid>, action: &str, outcome: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    sql_query(
        "SELECT count(*) AS count FROM audit_events \
         WHERE entity_type = 'facility' AND action = $1 AND outcome = $2 \
           AND ($3::uuid IS NULL OR entity_id = $3)",
    )
    .bind::<Text, _>(action)
    .bind::<Text, _>(outcome)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(entity)
    .get_result::<Count>(&mut app.db.superuser())
    .unwrap()
    .count
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[actix_web::test]
async fn a_unit_manager_opens_a_new_hvb_home_in_her_unit() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;

    let created = app
        .as_user(&maria)
        .post(
            "/api/v1/facilities",
            json!({"kind": "hvb", "name": " Solrosen ", "unit_id": north, "address": ADDRESS, "capacity": 8, "agreed_places": 6}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let home = json_of(created, 201).await;
    let id: Uuid = home["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(location, path(id));
    assert_eq!(home["kind"], "hvb");
    assert_eq!(home["name"], "Solrosen");
    assert_eq!(home["unit_id"], north.to_string());
    assert_eq!(home["address"], ADDRESS);
    assert_eq!(
        (home["capacity"].as_i64(), home["agreed_places"].as_i64()),
        (Some(8), Some(6))
    );
    assert_eq!(home["active"], true);
    assert!(home.get("version").is_none() && home.get("last_audit_event_id").is_none());

    let read = app.as_user(&maria).get(&location).await;
    assert_eq!(read.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(json_of(read, 200).await["address"], ADDRESS);

    let listed = json_of(app.as_user(&maria).get("/api/v1/facilities").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["address"], ADDRESS);
    assert_eq!(listed["next_cursor"], Value::Null);

    assert_eq!(facility_events(&app, Some(id), "create", "success"), 1);
    assert_eq!(facility_events(&app, Some(id), "read", "success"), 1);
    assert_eq!(facility_events(&app, None, "list", "success"), 1);
}

#[actix_web::test]
async fn a_unit_manager_cannot_manage_another_units_facility() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let (_south, sven) = unit_with_manager(&app, "South").await;
    let home = app.create_facility(&maria, north, "hvb", 4).await;
    let etag = etag_of(&app, &maria, home).await;

    let opening = app
        .as_user(&sven)
        .post(
            "/api/v1/facilities",
            json!({"kind": "hvb", "name": "Not his", "unit_id": north, "capacity": 4}),
        )
        .await;
    problem(opening, 403).await;
    let changing = app
        .patch_if_match(&sven, &path(home), Some(&etag), json!({"capacity": 40}))
        .await;
    problem(changing, 403).await;
    let sven_staff = app.create_user(Profession::HvbStaff, Some(north));
    problem(put_staff(&app, &sven, home, &[sven_staff.id]).await, 403).await;

    // He still reads it, as any unit manager may, but without the address.
    let read = json_of(app.as_user(&sven).get(&path(home)).await, 200).await;
    assert_eq!(read["capacity"], 4);
    assert!(read.get("address").is_none(), "{read}");

    assert_eq!(facility_events(&app, None, "create", "denied"), 1);
    assert_eq!(facility_events(&app, Some(home), "update", "denied"), 2);
    let staff = json_of(
        app.as_user(&maria)
            .get(&format!("{}/staff", path(home)))
            .await,
        200,
    )
    .await;
    assert_eq!(staff["items"], json!([]), "nothing changed");
}

#[actix_web::test]
async fn only_unit_managers_open_facilities() {
    let app = spawn_app().await;
    let north = app.create_unit("North");
    let body = json!({"kind": "hvb", "name": "Solrosen", "unit_id": north, "capacity": 4});
    for profession in Profession::ALL
        .iter()
        .copied()
        .filter(|p| *p != Profession::UnitManager)
    {
        let unit = profession.needs_unit().then_some(north);
        let session = logged_in(&app, profession, unit).await;
        let refused = app
            .as_user(&session)
            .post("/api/v1/facilities", body.clone())
            .await;
        problem(refused, 403).await;
    }
    assert_eq!(facility_events(&app, None, "create", "denied"), 6);
}

#[actix_web::test]
async fn hvb_staff_see_their_homes_address_a_social_secretary_does_not() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let home = app.create_facility(&maria, north, "hvb", 6).await;
    let elsewhere = app.create_facility(&maria, north, "hvb", 6).await;
    let karin = app.create_user(Profession::HvbStaff, Some(north));
    json_of(put_staff(&app, &maria, home, &[karin.id]).await, 200).await;

    let karin = app.login(&karin).await;
    let hers = json_of(app.as_user(&karin).get(&path(home)).await, 200).await;
    assert_eq!(hers["address"], ADDRESS);
    let other = json_of(app.as_user(&karin).get(&path(elsewhere)).await, 200).await;
    assert!(other.get("address").is_none(), "{other}");
    let listed = json_of(app.as_user(&karin).get("/api/v1/facilities").await, 200).await;
    for item in listed["items"].as_array().unwrap() {
        let own = item["id"] == home.to_string();
        assert_eq!(item.get("address").is_some(), own, "{item}");
    }

    let anna = logged_in(&app, Profession::SocialSecretary, Some(north)).await;
    let seen = json_of(app.as_user(&anna).get(&path(home)).await, 200).await;
    assert!(seen["name"].is_string());
    assert!(seen.get("address").is_none(), "{seen}");
    assert!(!seen.to_string().contains("Storgatan"));

    // Another system planning places sees the homes and their capacity, never the address.
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "placeringsregistret", &["capacity:read"])
        .await;
    let system = app.client_login(&client).await;
    let listed = json_of(app.as_user(&system).get("/api/v1/facilities").await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains("Storgatan"), "{listed}");
}

#[actix_web::test]
async fn an_auditor_cannot_list_facilities() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let home = app.create_facility(&maria, north, "hvb", 4).await;

    let auditor = logged_in(&app, Profession::Auditor, None).await;
    problem(app.as_user(&auditor).get("/api/v1/facilities").await, 403).await;
    problem(app.as_user(&auditor).get(&path(home)).await, 403).await;
    let admin = app.system_admin_session().await;
    problem(app.as_user(&admin).get("/api/v1/facilities").await, 403).await;
    let client = app
        .register_client(&admin, "besokssystemet", &["visits:read", "children:read"])
        .await;
    let system = app.client_login(&client).await;
    problem(app.as_user(&system).get("/api/v1/facilities").await, 403).await;
    assert_eq!(facility_events(&app, None, "list", "denied"), 3);
    assert_eq!(facility_events(&app, Some(home), "read", "denied"), 1);

    // Who reads facilities: case work, administration, and planning systems.
    for profession in [
        Profession::SocialSecretary,
        Profession::UnitManager,
        Profession::HvbStaff,
        Profession::HousingStaff,
        Profession::Administrator,
    ] {
        let unit = profession.needs_unit().then_some(north);
        let session = logged_in(&app, profession, unit).await;
        json_of(app.as_user(&session).get("/api/v1/facilities").await, 200).await;
    }
    let planner = app
        .register_client(&admin, "placeringar", &["placements:read"])
        .await;
    let planner = app.client_login(&planner).await;
    json_of(app.as_user(&planner).get(&path(home)).await, 200).await;
    problem(
        app.as_user(&planner)
            .get(&format!("{}/staff", path(home)))
            .await,
        403,
    )
    .await;
}

#[actix_web::test]
async fn the_list_is_paged_and_filtered_by_unit_and_kind() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let (south, sven) = unit_with_manager(&app, "South").await;
    let first = app.create_facility(&maria, north, "hvb", 4).await;
    let housing = app
        .create_facility(&maria, north, "supported_housing", 10)
        .await;
    let southern = app.create_facility(&sven, south, "hvb", 4).await;
    let anna = logged_in(&app, Profession::SocialSecretary, Some(north)).await;
    let as_anna = app.as_user(&anna);
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let page = json_of(as_anna.get("/api/v1/facilities?limit=2").await, 200).await;
    assert_eq!(ids(&page), [first.to_string(), housing.to_string()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = json_of(
        as_anna
            .get(&format!("/api/v1/facilities?limit=2&cursor={cursor}"))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&rest), [southern.to_string()]);
    assert_eq!(rest["next_cursor"], Value::Null);

    let in_north = json_of(
        as_anna
            .get(&format!("/api/v1/facilities?unit_id={north}"))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&in_north), [first.to_string(), housing.to_string()]);
    let hvb = json_of(as_anna.get("/api/v1/facilities?kind=hvb").await, 200).await;
    assert_eq!(ids(&hvb), [first.to_string(), southern.to_string()]);
    let both = json_of(
        as_anna
            .get(&format!(
                "/api/v1/facilities?kind=supported_housing&unit_id={south}"
            ))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&both), Vec::<String>::new());

    problem(as_anna.get("/api/v1/facilities?kind=castle").await, 400).await;
    problem(as_anna.get("/api/v1/facilities?limit=501").await, 400).await;
    problem(as_anna.get("/api/v1/facilities?colour=red").await, 400).await;
}

#[actix_web::test]
async fn two_managers_editing_a_facility_never_overwrite_each_other() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let colleague = logged_in(&app, Profession::UnitManager, Some(north)).await;
    let home = app.create_facility(&maria, north, "hvb", 4).await;
    let etag = etag_of(&app, &maria, home).await;

    let missing = app
        .patch_if_match(&maria, &path(home), None, json!({"capacity": 5}))
        .await;
    problem(missing, 428).await;

    let first = app
        .patch_if_match(
            &colleague,
            &path(home),
            Some(&etag),
            json!({"name": "Solrosen", "agreed_places": 3}),
        )
        .await;
    assert_eq!(first.status(), 200);
    let new_etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let changed = json_of(first, 200).await;
    assert_eq!(
        (changed["name"].as_str(), changed["agreed_places"].as_i64()),
        (Some("Solrosen"), Some(3))
    );

    let stale = app
        .patch_if_match(&maria, &path(home), Some(&etag), json!({"capacity": 5}))
        .await;
    problem(stale, 409).await;
    let fresh = app
        .patch_if_match(
            &maria,
            &path(home),
            Some(&new_etag),
            json!({"capacity": 5, "address": null, "active": false}),
        )
        .await;
    let fresh = json_of(fresh, 200).await;
    assert_eq!(fresh["capacity"], 5);
    assert_eq!(fresh["active"], false);
    assert_eq!(fresh.get("address"), Some(&Value::Null));
    assert_eq!(fresh["name"], "Solrosen", "untouched fields stay");
    assert_eq!(facility_events(&app, Some(home), "update", "success"), 2);
}

#[actix_web::test]
async fn an_unknown_facility_is_not_found() {
    let app = spawn_app().await;
    let (_north, maria) = unit_with_manager(&app, "North").await;
    let nowhere = Uuid::now_v7();
    let etag = format!("\"{}-1\"", nowhere.simple());

    problem(app.as_user(&maria).get(&path(nowhere)).await, 404).await;
    problem(
        app.patch_if_match(&maria, &path(nowhere), Some(&etag), json!({"capacity": 1}))
            .await,
        404,
    )
    .await;
    problem(
        app.as_user(&maria)
            .get(&format!("{}/staff", path(nowhere)))
            .await,
        404,
    )
    .await;
    problem(put_staff(&app, &maria, nowhere, &[]).await, 404).await;
    problem(
        app.as_user(&maria)
            .get("/api/v1/facilities/not-an-id")
            .await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn validation_names_every_field_at_fault() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;

    let refused = app
        .as_user(&maria)
        .post(
            "/api/v1/facilities",
            json!({"kind": "hvb", "name": "  ", "unit_id": north, "address": "x".repeat(501), "capacity": 1001, "agreed_places": -1}),
        )
        .await;
    let refused = problem(refused, 422).await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "address", "capacity", "agreed_places"]);

    let unknown_unit = app
        .as_user(&maria)
        .post(
            "/api/v1/facilities",
            json!({"kind": "hvb", "name": "Solrosen", "unit_id": Uuid::now_v7(), "capacity": 4}),
        )
        .await;
    let unknown_unit = problem(unknown_unit, 422).await;
    assert_eq!(unknown_unit["errors"][0]["field"], "unit_id");

    let castle = app
        .as_user(&maria)
        .post(
            "/api/v1/facilities",
            json!({"kind": "castle", "name": "Solrosen", "unit_id": north, "capacity": 4}),
        )
        .await;
    assert_eq!(problem(castle, 400).await["errors"][0]["field"], "kind");

    let home = app.create_facility(&maria, north, "hvb", 4).await;
    let etag = etag_of(&app, &maria, home).await;
    let patch = app
        .patch_if_match(
            &maria,
            &path(home),
            Some(&etag),
            json!({"name": "", "capacity": -1}),
        )
        .await;
    let patch = problem(patch, 422).await;
    assert_eq!(patch["errors"][0]["field"], "name");
    assert_eq!(patch["errors"][1]["field"], "capacity");
    let kind = app
        .patch_if_match(
            &maria,
            &path(home),
            Some(&etag),
            json!({"kind": "supported_housing"}),
        )
        .await;
    assert_eq!(problem(kind, 400).await["errors"][0]["field"], "kind");
    assert_eq!(facility_events(&app, Some(home), "update", "success"), 0);
}

#[actix_web::test]
async fn capacity_cannot_be_lowered_below_the_children_already_placed_there() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let home = app.create_facility(&maria, north, "hvb", 3).await;
    // The test clock says 2026-03-10. Three lived here until yesterday; from today on, at most
    // two at once (one all year, one over the summer); a cancelled placement holds no place.
    app.arrange_placement(north, home, day("2026-01-01"), day("2026-03-09"), false);
    app.arrange_placement(north, home, day("2026-02-15"), day("2026-03-09"), false);
    app.arrange_placement(north, home, day("2026-02-01"), day("2026-12-31"), false);
    app.arrange_placement(north, home, day("2026-06-01"), day("2026-08-01"), false);
    app.arrange_placement(north, home, day("2026-06-15"), day("2026-07-01"), true);
    let etag = etag_of(&app, &maria, home).await;

    let too_low = app
        .patch_if_match(&maria, &path(home), Some(&etag), json!({"capacity": 1}))
        .await;
    let too_low = problem(too_low, 409).await;
    assert_eq!(too_low["errors"][0]["field"], "capacity");
    assert!(
        too_low["detail"].as_str().unwrap().contains('2'),
        "{too_low}"
    );

    let enough = app
        .patch_if_match(&maria, &path(home), Some(&etag), json!({"capacity": 2}))
        .await;
    assert_eq!(json_of(enough, 200).await["capacity"], 2);
}

#[actix_web::test]
async fn a_unit_manager_staffs_her_homes_with_the_right_professions() {
    let app = spawn_app().await;
    let (north, maria) = unit_with_manager(&app, "North").await;
    let home = app.create_facility(&maria, north, "hvb", 6).await;
    let housing = app
        .create_facility(&maria, north, "supported_housing", 10)
        .await;
    let karin = app.create_user(Profession::HvbStaff, Some(north));
    let lars = app.create_user(Profession::HvbStaff, Some(north));
    let hanna = app.create_user(Profession::HousingStaff, Some(north));
    let anna = app.create_user(Profession::SocialSecretary, Some(north));
    let gone = app.create_user(Profession::HvbStaff, Some(north));
    let admin = app.system_admin_session().await;
    let user_path = format!("/api/v1/users/{}", gone.id);
    let read = app.as_user(&admin).get(&user_path).await;
    let user_etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let deactivated = app
        .patch_if_match(
            &admin,
            &user_path,
            Some(&user_etag),
            json!({"active": false}),
        )
        .await;
    assert_eq!(deactivated.status(), 200);

    let staffed = json_of(
        put_staff(&app, &maria, home, &[karin.id, lars.id, karin.id]).await,
        200,
    )
    .await;
    for member in staffed["items"].as_array().unwrap() {
        assert_eq!(member["profession"], "hvb_staff");
        assert_eq!(member["active"], true);
    }
    assert_eq!(
        staffed["items"].as_array().unwrap().len(),
        2,
        "duplicates collapse"
    );

    let wrong = put_staff(
        &app,
        &maria,
        home,
        &[karin.id, hanna.id, anna.id, gone.id, Uuid::now_v7()],
    )
    .await;
    let wrong = problem(wrong, 422).await;
    let fields: Vec<&str> = wrong["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["user_ids[1]", "user_ids[2]", "user_ids[3]", "user_ids[4]"]
    );

    problem(put_staff(&app, &maria, housing, &[karin.id]).await, 422).await;
    json_of(put_staff(&app, &maria, housing, &[hanna.id]).await, 200).await;

    let listed = json_of(
        app.as_user(&maria)
            .get(&format!("{}/staff?limit=1", path(home)))
            .await,
        200,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["next_cursor"].is_string());
    assert!(listed["items"][0]["display_name"].is_string());

    let cleared = json_of(put_staff(&app, &maria, home, &[lars.id]).await, 200).await;
    assert_eq!(cleared["items"][0]["user_id"], lars.id.to_string());
    // Karin no longer works there, so the address is no longer hers to see.
    let karin = app.login(&karin).await;
    let read = json_of(app.as_user(&karin).get(&path(home)).await, 200).await;
    assert!(read.get("address").is_none(), "{read}");

    assert_eq!(facility_events(&app, Some(home), "update", "success"), 2);
    problem(
        app.as_user(&maria)
            .send(
                Method::PUT,
                &format!("{}/staff", path(home)),
                Some(json!({"user_ids": ["nope"]})),
            )
            .await,
        400,
    )
    .await;
}
