//! Stories about registering children, seeing them, and who may not.

use reqwest::Method;
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::helpers::users::{Session, TestUser};
use crate::helpers::{problem, spawn_app, TestApp};

/// A unit with a secretary and a manager, both logged in.
pub struct Office {
    pub unit: Uuid,
    pub secretary: TestUser,
    pub secretary_session: Session,
    pub manager: TestUser,
    pub manager_session: Session,
}

pub async fn office(app: &TestApp, name: &str) -> Office {
    let unit = app.create_unit(name);
    let secretary = app.create_user(Profession::SocialSecretary, Some(unit));
    let manager = app.create_user(Profession::UnitManager, Some(unit));
    let secretary_session = app.login(&secretary).await;
    app.clock.advance(chrono::Duration::seconds(31));
    let manager_session = app.login(&manager).await;
    Office {
        unit,
        secretary,
        secretary_session,
        manager,
        manager_session,
    }
}

pub fn child_body(unit: Uuid, given: &str, date_of_birth: &str) -> Value {
    json!({
        "given_name": given,
        "family_name": "Ahmadi",
        "date_of_birth": date_of_birth,
        "date_of_birth_assessed": true,
        "sex": "male",
        "country_of_origin": "Afghanistan",
        "languages": ["dari", "pashto"],
        "interpreter_needed": true,
        "asylum_status": "asylum_seeker",
        "arrival_date": "2026-02-01",
        "guardian": {"name": "Gunnel Gode", "phone": "070-123 45 67", "appointed_on": "2026-02-10"},
        "responsible_unit_id": unit,
    })
}

/// Registers a child as `session`; returns its id.
pub async fn register(app: &TestApp, session: &Session, body: Value) -> Uuid {
    let response = app.as_user(session).post("/api/v1/children", body).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "registration failed: {body}");
    body["child"]["id"].as_str().unwrap().parse().unwrap()
}

async fn read(app: &TestApp, session: &Session, child: Uuid) -> reqwest::Response {
    app.as_user(session)
        .get(&format!("/api/v1/children/{child}"))
        .await
}

async fn patch(
    app: &TestApp,
    session: &Session,
    child: Uuid,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(Method::PATCH, app.url(&format!("/api/v1/children/{child}")))
        .bearer_auth(&session.access_token)
        .json(&body);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.send().await.unwrap()
}

fn audit_events_about(app: &TestApp, child: Uuid, action: &str) -> i64 {
    use diesel::prelude::*;
    use trygg::db::schema::audit_events::dsl as a;
    a::audit_events
        .filter(a::child_id.eq(child))
        .filter(a::action.eq(action))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn a_social_secretary_registers_a_child_who_joins_her_caseload() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;

    let view: Value = read(&app, &north.secretary_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["given_name"], "Ali");
    assert_eq!(view["age_limits"]["age"], 15);
    assert_eq!(view["age_limits"]["last_placement_day"], "2031-05-19");
    assert_eq!(view["guardian"]["appointment_ends_on"], "2028-05-20");
    assert_eq!(view["secretaries"], json!([north.secretary.id]));

    let list: Value = app
        .as_user(&north.secretary_session)
        .get("/api/v1/children")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], child.to_string());
    // Registering, reading it and listing it are each in the audit log, naming the child.
    assert_eq!(audit_events_about(&app, child, "create"), 1);
    assert_eq!(audit_events_about(&app, child, "read"), 2);
}

#[actix_web::test]
async fn registration_names_every_field_at_fault() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let mut body = child_body(north.unit, "Ali", "2030-01-01");
    body["personal_identity_number"] = json!("811218-9877");
    body["dossier_number"] = json!("12ab");
    let response = app
        .as_user(&north.secretary_session)
        .post("/api/v1/children", body)
        .await;
    let problem = problem(response, 422).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"date_of_birth"), "{fields:?}");
    assert!(fields.contains(&"personal_identity_number"), "{fields:?}");
    assert!(fields.contains(&"dossier_number"), "{fields:?}");

    let mut missing = child_body(north.unit, "Ali", "2010-05-20");
    missing.as_object_mut().unwrap().remove("sex");
    let body = crate::helpers::problem(
        app.as_user(&north.secretary_session)
            .post("/api/v1/children", missing)
            .await,
        400,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "sex");
}

#[actix_web::test]
async fn a_known_dossier_number_is_refused_and_a_namesake_is_pointed_out() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let mut first = child_body(north.unit, "Ali", "2010-05-20");
    first["dossier_number"] = json!("1234567");
    let existing = register(&app, &north.secretary_session, first.clone()).await;

    let again = app
        .as_user(&north.secretary_session)
        .post("/api/v1/children", first)
        .await;
    let body = problem(again, 409).await;
    assert_eq!(body["errors"][0]["field"], "dossier_number");

    let namesake = app
        .as_user(&north.secretary_session)
        .post(
            "/api/v1/children",
            child_body(north.unit, "Ali", "2010-05-20"),
        )
        .await;
    assert_eq!(namesake.status(), 201);
    let body: Value = namesake.json().await.unwrap();
    assert_eq!(body["possible_duplicates"][0]["id"], existing.to_string());
}

#[actix_web::test]
async fn a_child_outside_ones_reach_does_not_exist_for_the_caller() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;

    let colleague = app.create_user(Profession::SocialSecretary, Some(north.unit));
    let colleague_session = app.login(&colleague).await;
    problem(read(&app, &colleague_session, child).await, 404).await;
    problem(read(&app, &south.manager_session, child).await, 404).await;
    problem(read(&app, &south.secretary_session, child).await, 404).await;
    let unknown = read(&app, &north.secretary_session, Uuid::now_v7()).await;
    assert_eq!(
        problem(unknown, 404).await["type"],
        "urn:trygg:problem:not-found"
    );
    assert_eq!(
        read(&app, &north.manager_session, child).await.status(),
        200
    );

    for profession in [
        Profession::Administrator,
        Profession::Auditor,
        Profession::SystemAdmin,
    ] {
        let user = app.create_user(profession, None);
        let session = app.login(&user).await;
        problem(read(&app, &session, child).await, 403).await;
    }
    // Six refusals, six denied events about the child.
    use diesel::prelude::*;
    use trygg::db::schema::audit_events::dsl as a;
    let denied: i64 = a::audit_events
        .filter(a::child_id.eq(child))
        .filter(a::outcome.eq("denied"))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(denied, 6);
}

#[actix_web::test]
async fn hvb_staff_see_the_children_living_in_their_home_and_nobody_else() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let staff = app.create_user(Profession::HvbStaff, Some(north.unit));
    let other_staff = app.create_user(Profession::HvbStaff, Some(north.unit));
    let home = app.arrange_facility(north.unit, "hvb", 5, &[staff.id]);
    app.arrange_facility(north.unit, "hvb", 5, &[other_staff.id]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let placed = app
        .as_user(&north.secretary_session)
        .post(&format!("/api/v1/children/{child}/placements"), json!({"facility_id": home, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-17"}))
        .await;
    assert_eq!(placed.status(), 201);

    let staff_session = app.login(&staff).await;
    app.clock.advance(chrono::Duration::seconds(31));
    let other_session = app.login(&other_staff).await;
    let view: Value = read(&app, &staff_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["given_name"], "Ali");
    assert_eq!(view["interpreter_needed"], true);
    assert!(
        view.get("dossier_number").is_none()
            && view.get("asylum_status").is_none()
            && view.get("personal_identity_number").is_none()
    );
    problem(read(&app, &other_session, child).await, 404).await;
    let list: Value = app
        .as_user(&staff_session)
        .get("/api/v1/children")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Staff may read but not change.
    let tag = read(&app, &north.secretary_session, child).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    problem(
        patch(
            &app,
            &staff_session,
            child,
            Some(&tag),
            json!({"languages": ["dari"]}),
        )
        .await,
        403,
    )
    .await;
}

#[actix_web::test]
async fn a_protected_identity_is_hidden_from_everyone_not_directly_assigned() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let mut body = child_body(north.unit, "Ali", "2010-05-20");
    body["protection_level"] = json!("protected_registration");
    let child = register(&app, &north.secretary_session, body).await;

    let own: Value = read(&app, &north.secretary_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["given_name"], "Ali");
    assert_eq!(own["identity_withheld"], false);
    let managed: Value = read(&app, &north.manager_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert!(managed.get("given_name").is_none() && managed.get("family_name").is_none());
    assert_eq!(managed["identity_withheld"], true);
    let listed: Value = app
        .as_user(&north.manager_session)
        .get("/api/v1/children")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["items"][0].get("given_name").is_none());
}

#[actix_web::test]
async fn emergency_access_opens_a_child_for_a_while_with_the_reason_on_record() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let url = format!("/api/v1/children/{child}/emergency-access");

    let too_short = app
        .as_user(&south.secretary_session)
        .post(&url, json!({"reason": "urgent"}))
        .await;
    problem(too_short, 422).await;
    let granted = app
        .as_user(&south.secretary_session)
        .post(
            &url,
            json!({"reason": "Police called at night; the child was found alone in our city"}),
        )
        .await;
    assert_eq!(granted.status(), 201);
    assert_eq!(
        read(&app, &south.secretary_session, child).await.status(),
        200
    );
    assert_eq!(audit_events_about(&app, child, "emergency_access"), 1);

    app.clock.advance(chrono::Duration::minutes(61));
    let fresh = app.login(&south.secretary).await;
    problem(read(&app, &fresh, child).await, 404).await;

    let staff = app.create_user(Profession::HvbStaff, Some(south.unit));
    let staff_session = app.login(&staff).await;
    problem(
        app.as_user(&staff_session)
            .post(
                &url,
                json!({"reason": "I would like to see this child please"}),
            )
            .await,
        403,
    )
    .await;
}

#[actix_web::test]
async fn two_people_editing_a_child_never_overwrite_each_other() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let tag = read(&app, &north.secretary_session, child).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    problem(
        patch(
            &app,
            &north.secretary_session,
            child,
            None,
            json!({"languages": ["dari"]}),
        )
        .await,
        428,
    )
    .await;
    let first = patch(
        &app,
        &north.secretary_session,
        child,
        Some(&tag),
        json!({"languages": ["dari"], "guardian": null}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let updated: Value = first.json().await.unwrap();
    assert_eq!(updated["languages"], json!(["dari"]));
    assert!(updated["guardian"]["name"].is_null());
    problem(
        patch(
            &app,
            &north.manager_session,
            child,
            Some(&tag),
            json!({"interpreter_needed": false}),
        )
        .await,
        409,
    )
    .await;
    let bad = patch(
        &app,
        &north.secretary_session,
        child,
        Some(&format!("\"{}-2\"", child.simple())),
        json!({"date_of_birth": "2040-01-01"}),
    )
    .await;
    assert_eq!(
        problem(bad, 422).await["errors"][0]["field"],
        "date_of_birth"
    );
}

/// (action, purpose, child's unit, child protected, actor)
type DeniedEvent = (String, Option<String>, Option<Uuid>, bool, Option<Uuid>);

/// Denied events naming `child`, with their purpose, unit and protection marking.
fn denied_events_about(app: &TestApp, child: Uuid) -> Vec<DeniedEvent> {
    use diesel::prelude::*;
    use trygg::db::schema::audit_events::dsl as a;
    a::audit_events
        .filter(a::child_id.eq(child))
        .filter(a::outcome.eq("denied"))
        .order(a::seq)
        .select((
            a::action,
            a::purpose,
            a::child_unit_id,
            a::child_protected,
            a::actor_id,
        ))
        .load(&mut app.db.superuser())
        .unwrap()
}

pub fn children_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    trygg::db::schema::children::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn probing_for_a_known_number_is_refused_and_leaves_a_denied_event_about_the_child() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let mut body = child_body(north.unit, "Ali", "2010-05-20");
    body["dossier_number"] = json!("7654321");
    body["personal_identity_number"] = json!("20100520-1239");
    body["protection_level"] = json!("protected_registration");
    let existing = register(&app, &north.secretary_session, body).await;

    // A secretary of another unit, who cannot see the child, tries both numbers.
    let mut by_dossier = child_body(south.unit, "Someone", "2011-01-01");
    by_dossier["dossier_number"] = json!("7654321");
    let refused = app
        .as_user(&south.secretary_session)
        .post("/api/v1/children", by_dossier)
        .await;
    assert_eq!(
        problem(refused, 409).await["errors"][0]["field"],
        "dossier_number"
    );
    let mut by_pin = child_body(south.unit, "Someone", "2011-01-01");
    by_pin["personal_identity_number"] = json!("201005201239");
    let refused = app
        .as_user(&south.secretary_session)
        .post("/api/v1/children", by_pin)
        .await;
    assert_eq!(
        problem(refused, 409).await["errors"][0]["field"],
        "personal_identity_number"
    );
    assert_eq!(children_count(&app), 1, "nothing was registered");

    // Changing another child to a known number is the same probe.
    let other = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let tag = read(&app, &north.secretary_session, other).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let refused = patch(
        &app,
        &north.secretary_session,
        other,
        Some(&tag),
        json!({"dossier_number": "7654321"}),
    )
    .await;
    assert_eq!(
        problem(refused, 409).await["errors"][0]["field"],
        "dossier_number"
    );

    let events = denied_events_about(&app, existing);
    assert_eq!(
        events,
        vec![
            (
                "create".to_owned(),
                Some("duplicate dossier number".to_owned()),
                Some(north.unit),
                true,
                Some(south.secretary.id),
            ),
            (
                "create".to_owned(),
                Some("duplicate personal identity number".to_owned()),
                Some(north.unit),
                true,
                Some(south.secretary.id),
            ),
            (
                "update".to_owned(),
                Some("duplicate dossier number".to_owned()),
                Some(north.unit),
                true,
                Some(north.secretary.id),
            ),
        ]
    );
    let unchanged: Value = read(&app, &north.secretary_session, other)
        .await
        .json()
        .await
        .unwrap();
    assert!(unchanged.get("dossier_number").is_none(), "{unchanged}");
}

#[actix_web::test]
async fn a_protected_identity_withholds_numbers_and_guardian_contact_from_the_manager() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let mut body = child_body(north.unit, "Ali", "2010-05-20");
    body["dossier_number"] = json!("7654321");
    body["personal_identity_number"] = json!("20100520-1239");
    body["protection_level"] = json!("fictitious_identity");
    let child = register(&app, &north.secretary_session, body).await;

    let own: Value = read(&app, &north.secretary_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["dossier_number"], "7654321");
    assert_eq!(own["personal_identity_number"], "20100520-1239");
    assert_eq!(own["guardian"]["name"], "Gunnel Gode");
    assert_eq!(own["guardian"]["phone"], "070-123 45 67");

    let managed: Value = read(&app, &north.manager_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(managed["identity_withheld"], true);
    for field in ["dossier_number", "personal_identity_number", "given_name"] {
        assert!(managed.get(field).is_none(), "{field}: {managed}");
    }
    let guardian = &managed["guardian"];
    assert!(
        guardian.get("name").is_none() && guardian.get("phone").is_none(),
        "{guardian}"
    );
    assert_eq!(guardian["appointment_ends_on"], "2028-05-20");
    let listed: Value = app
        .as_user(&north.manager_session)
        .get("/api/v1/children")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["items"][0].get("personal_identity_number").is_none());

    // Without protection the manager sees them, and a missing phone is `null`, not absent.
    let mut plain = child_body(north.unit, "Omid", "2011-02-02");
    plain["dossier_number"] = json!("1234567");
    plain["guardian"] = json!({"name": "Gunnel Gode"});
    let plain = register(&app, &north.secretary_session, plain).await;
    let seen: Value = read(&app, &north.manager_session, plain)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["dossier_number"], "1234567");
    assert_eq!(seen["guardian"]["name"], "Gunnel Gode");
    assert!(seen["guardian"]["phone"].is_null() && seen["guardian"].get("phone").is_some());
}

#[actix_web::test]
async fn the_facility_address_is_for_the_secretary_and_the_staff_not_the_manager() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let staff = app.create_user(Profession::HvbStaff, Some(north.unit));
    let home = app.arrange_facility(north.unit, "hvb", 5, &[staff.id]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let placed = app
        .as_user(&north.secretary_session)
        .post(&format!("/api/v1/children/{child}/placements"), json!({"facility_id": home, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-17"}))
        .await;
    assert_eq!(placed.status(), 201);
    let staff_session = app.login(&staff).await;
    let granted = app
        .as_user(&south.manager_session)
        .post(
            &format!("/api/v1/children/{child}/emergency-access"),
            json!({"reason": "Police called at night; the child was found alone in our city"}),
        )
        .await;
    assert_eq!(granted.status(), 201);

    for (who, session, sees) in [
        ("secretary", &north.secretary_session, true),
        ("staff", &staff_session, true),
        ("manager", &north.manager_session, false),
        ("emergency access", &south.manager_session, false),
    ] {
        let view: Value = read(&app, session, child).await.json().await.unwrap();
        let placement = &view["current_placement"];
        assert_eq!(placement["facility_id"], home.to_string(), "{who}");
        assert_eq!(
            placement.get("facility_address").is_some(),
            sees,
            "{who}: {placement}"
        );
    }
}

#[actix_web::test]
async fn only_the_unit_manager_moves_a_case_and_only_to_an_active_unit() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = app.create_unit("South");
    let closed = app.create_unit("Closed");
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let tag = read(&app, &north.secretary_session, child).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let refused = patch(
        &app,
        &north.secretary_session,
        child,
        Some(&tag),
        json!({"responsible_unit_id": south}),
    )
    .await;
    problem(refused, 403).await;
    let events = denied_events_about(&app, child);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].0.as_str(), events[0].4),
        ("update", Some(north.secretary.id))
    );
    let still: Value = read(&app, &north.secretary_session, child)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["responsible_unit_id"], north.unit.to_string());

    // Close a unit the way a system administrator does.
    let admin = app.system_admin_session().await;
    let unit_path = format!("/api/v1/units/{closed}");
    let unit_tag = app.as_user(&admin).get(&unit_path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let closing = app
        .patch_if_match(
            &admin,
            &unit_path,
            Some(&unit_tag),
            json!({"active": false}),
        )
        .await;
    assert_eq!(closing.status(), 200);

    for unit in [Uuid::now_v7(), closed] {
        let refused = patch(
            &app,
            &north.manager_session,
            child,
            Some(&tag),
            json!({"responsible_unit_id": unit}),
        )
        .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            "responsible_unit_id"
        );
    }
    let moved = patch(
        &app,
        &north.manager_session,
        child,
        Some(&tag),
        json!({"responsible_unit_id": south}),
    )
    .await;
    assert_eq!(moved.status(), 200);
}

#[actix_web::test]
async fn dates_before_the_birth_are_refused_before_they_reach_the_database() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let field_of = |body: Value| async {
        let response = app
            .as_user(&north.secretary_session)
            .post("/api/v1/children", body)
            .await;
        problem(response, 422).await["errors"][0]["field"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (date, field) in [
        ("2009-12-31", "guardian.appointed_on"),
        ("0001-01-01", "guardian.appointed_on"),
        ("0001-01-01", "arrival_date"),
        ("0001-01-01", "assigned_on"),
    ] {
        let mut body = child_body(north.unit, "Ali", "2010-05-20");
        match field {
            "guardian.appointed_on" => body["guardian"]["appointed_on"] = json!(date),
            other => body[other] = json!(date),
        }
        assert_eq!(field_of(body).await, field, "{field} = {date}");
    }
    // A year before 0001 (PostgreSQL's dates reach 4713 BC) is no `YYYY-MM-DD` at all.
    for field in ["guardian.appointed_on", "arrival_date", "assigned_on"] {
        let mut body = child_body(north.unit, "Ali", "2010-05-20");
        match field {
            "guardian.appointed_on" => body["guardian"]["appointed_on"] = json!("-4800-01-01"),
            other => body[other] = json!("-4800-01-01"),
        }
        let response = app
            .as_user(&north.secretary_session)
            .post("/api/v1/children", body)
            .await;
        assert_eq!(problem(response, 400).await["errors"][0]["field"], field);
    }
    assert_eq!(children_count(&app), 0);

    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let tag = read(&app, &north.secretary_session, child).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let refused = patch(
        &app,
        &north.secretary_session,
        child,
        Some(&tag),
        json!({"guardian": {"appointed_on": "0001-01-01"}}),
    )
    .await;
    assert_eq!(
        problem(refused, 422).await["errors"][0]["field"],
        "guardian.appointed_on"
    );
    let refused = patch(
        &app,
        &north.secretary_session,
        child,
        Some(&tag),
        json!({"date_of_birth": "2026-03-01"}),
    )
    .await;
    let body = problem(refused, 422).await;
    assert_eq!(
        body["type"], "urn:trygg:problem:age-reassessment-required",
        "a date of birth is revised only as a re-assessment"
    );
    let refused = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/age-assessments"),
            json!({"date_of_birth": "2026-03-01", "reason": "The age assessment was revised", "decision_reference": "SN-2026-3"}),
        )
        .await;
    let body = problem(refused, 422).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    // The stored dates now fall before the new birth date.
    assert!(
        fields.contains(&"arrival_date") && fields.contains(&"guardian.appointed_on"),
        "{fields:?}"
    );
}

#[actix_web::test]
async fn other_systems_see_no_free_text_of_a_placement() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2009-06-01"),
    )
    .await;
    let placed = app
        .as_user(&north.manager_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({
                "facility_id": housing,
                "start_date": "2026-03-01",
                "legal_basis": "SoL2025-insats",
                "decision_reference": "BN-2026-1",
                "special_reasons": "Mature and stable; school nearby",
                "deviation_reason": "Investigated in another municipality",
            }),
        )
        .await;
    let status = placed.status();
    let placed: Value = placed.json().await.unwrap();
    assert_eq!(status, 201, "{placed}");
    let placement = placed["id"].as_str().unwrap().to_owned();
    let cancelled = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/placements/{placement}/cancel"),
            json!({"reason": "Registered for the wrong child"}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);

    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "placeringar", &["placements:read"])
        .await;
    let system = app.client_login(&client).await;
    let one: Value = app
        .as_user(&system)
        .get(&format!("/api/v1/placements/{placement}"))
        .await
        .json()
        .await
        .unwrap();
    let listed: Value = app
        .as_user(&system)
        .get(&format!("/api/v1/children/{child}/placements"))
        .await
        .json()
        .await
        .unwrap();
    let own: Value = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/placements/{placement}"))
        .await
        .json()
        .await
        .unwrap();
    for field in ["special_reasons", "deviation_reason", "cancellation_reason"] {
        assert!(own.get(field).is_some(), "{field}: {own}");
        assert!(one.get(field).is_none(), "{field}: {one}");
        assert!(listed["items"][0].get(field).is_none(), "{field}: {listed}");
    }
    assert_eq!(one["status"], "cancelled");
    assert_eq!(listed["items"][0]["id"], placement);
}
