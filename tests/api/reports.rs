//! Stories about capacity: a unit manager sees how full her homes are today, when places free
//! up, and how fast they turn over; administrators and capacity systems see every unit; nobody
//! else sees any of it. (The test clock says 2026-03-10.)

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::db::schema::{audit_events, children, facilities};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

const REPORT: &str = "/api/v1/reports/capacity";

pub fn placement(facility: Uuid, start: &str, planned_end: Option<&str>) -> Value {
    let mut body = json!({"facility_id": facility, "start_date": start, "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-17"});
    if let Some(end) = planned_end {
        body["planned_end"] = json!(end);
    }
    body
}

/// Places `child` as `session`; returns the placement.
pub async fn place(app: &TestApp, session: &Session, child: Uuid, body: Value) -> Value {
    let response = app
        .as_user(session)
        .post(&format!("/api/v1/children/{child}/placements"), body)
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "placement failed: {body}");
    body
}

pub async fn end(app: &TestApp, session: &Session, placement: &Value, end_date: &str) {
    let id = placement["id"].as_str().unwrap();
    let response = app
        .as_user(session)
        .post(
            &format!("/api/v1/placements/{id}/end"),
            json!({"end_date": end_date, "end_reason": "returned_home"}),
        )
        .await;
    assert_eq!(
        response.status(),
        200,
        "ending failed: {}",
        response.text().await.unwrap()
    );
}

async fn report(app: &TestApp, session: &Session, query: &str) -> Value {
    let response = app.as_user(session).get(&format!("{REPORT}{query}")).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "report refused: {body}");
    body
}

/// A new user of `profession`, logged in.
pub async fn login(app: &TestApp, profession: Profession, unit: Option<Uuid>) -> (Uuid, Session) {
    let user = app.create_user(profession, unit);
    app.clock.advance(chrono::Duration::seconds(31));
    let session = app.login(&user).await;
    (user.id, session)
}

fn unit(report: &Value, id: Uuid) -> &Value {
    report["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_id"] == id.to_string())
        .unwrap_or_else(|| panic!("unit {id} is in the report"))
}

fn facility(report: &Value, id: Uuid) -> &Value {
    report["units"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["facilities"].as_array().unwrap())
        .find(|f| f["facility_id"] == id.to_string())
        .unwrap_or_else(|| panic!("facility {id} is in the report"))
}

/// `(occupied, free)` on `date` in the forecast of `figures`.
fn on(figures: &Value, date: &str) -> (i64, i64) {
    let day = figures["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap_or_else(|| panic!("{date} is in the forecast"));
    (
        day["occupied"].as_i64().unwrap(),
        day["free"].as_i64().unwrap(),
    )
}

fn today(figures: &Value) -> (i64, i64) {
    (
        figures["occupied"].as_i64().unwrap(),
        figures["free"].as_i64().unwrap(),
    )
}

/// Places agreed with Migrationsverket, set as the unit manager would.
pub fn agree_places(app: &TestApp, facility: Uuid, places: i32) {
    app.db
        .superuser()
        .transaction(|conn| {
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Update,
                EntityType::Facility,
                Some(facility),
                Utc::now(),
            )
            .changed(["agreed_places"]);
            diesel::update(facilities::table.find(facility))
                .set((
                    facilities::agreed_places.eq(places),
                    facilities::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            audit::append(conn, &[event])?;
            Ok::<_, trygg::error::AppError>(())
        })
        .expect("agree places");
}

/// The child's age is assessed again, and she turns out older than was thought.
fn reassess_age(app: &TestApp, child: Uuid, date_of_birth: &str) {
    let dob: NaiveDate = date_of_birth.parse().unwrap();
    app.db
        .superuser()
        .transaction(|conn| {
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Update,
                EntityType::Child,
                Some(child),
                Utc::now(),
            )
            .child(child)
            .changed(["date_of_birth"]);
            diesel::update(children::table.find(child))
                .set((
                    children::date_of_birth.eq(dob),
                    children::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            audit::append(conn, &[event])?;
            Ok::<_, trygg::error::AppError>(())
        })
        .expect("reassess the age");
}

/// Report reads by `actor` with `outcome`.
pub fn report_events(app: &TestApp, actor: Uuid, outcome: &str) -> i64 {
    audit_events::table
        .filter(audit_events::entity_type.eq("report"))
        .filter(audit_events::action.eq("read"))
        .filter(audit_events::actor_id.eq(actor))
        .filter(audit_events::outcome.eq(outcome))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn a_unit_manager_sees_today_s_occupancy_and_free_places_in_her_homes() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let almen = app.arrange_facility(north.unit, "hvb", 3, &[]);
    let bjorken = app.arrange_facility(north.unit, "hvb", 2, &[]);
    agree_places(&app, almen, 2);
    agree_places(&app, bjorken, 2);
    let secretary = &north.secretary_session;
    let ali = register(&app, secretary, child_body(north.unit, "Ali", "2010-05-20")).await;
    let omid = register(
        &app,
        secretary,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let reza = register(
        &app,
        secretary,
        child_body(north.unit, "Reza", "2012-09-01"),
    )
    .await;
    let amir = register(
        &app,
        secretary,
        child_body(north.unit, "Amir", "2011-11-11"),
    )
    .await;
    place(
        &app,
        secretary,
        ali,
        placement(almen, "2026-03-01", Some("2026-04-15")),
    )
    .await;
    place(&app, secretary, omid, placement(almen, "2026-02-01", None)).await;
    place(
        &app,
        secretary,
        reza,
        placement(bjorken, "2026-03-01", None),
    )
    .await;
    // Amir moves in next month.
    place(
        &app,
        secretary,
        amir,
        placement(bjorken, "2026-04-01", None),
    )
    .await;

    let body = report(&app, &north.manager_session, "").await;
    assert_eq!(body["as_of"], "2026-03-10");
    assert_eq!(body["forecast_days"], 90);
    assert_eq!(
        body["units"].as_array().unwrap().len(),
        1,
        "her own unit only"
    );
    let mine = unit(&body, north.unit);
    assert_eq!(
        (mine["capacity"].as_i64(), mine["agreed_places"].as_i64()),
        (Some(5), Some(4))
    );
    assert_eq!(today(mine), (3, 2));
    assert_eq!(today(facility(&body, almen)), (2, 1));
    assert_eq!(today(facility(&body, bjorken)), (1, 1));

    // Ali's planned end is 15 April: her place is free from the 16th.
    let forecast = facility(&body, almen)["forecast"].as_array().unwrap();
    assert_eq!(forecast.len(), 90);
    assert_eq!(forecast[0]["date"], "2026-03-10");
    assert_eq!(on(facility(&body, almen), "2026-04-15"), (2, 1));
    assert_eq!(on(facility(&body, almen), "2026-04-16"), (1, 2));
    // Amir takes Björken's last place on 1 April.
    assert_eq!(on(facility(&body, bjorken), "2026-03-31"), (1, 1));
    assert_eq!(on(facility(&body, bjorken), "2026-04-01"), (2, 0));
    assert_eq!(on(mine, "2026-04-16"), (3, 2));
    // Counts only: no child is named.
    assert!(!body.to_string().contains("Ali"));

    let short = report(&app, &north.manager_session, "?days=7").await;
    assert_eq!(
        unit(&short, north.unit)["forecast"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    for days in ["0", "367", "x"] {
        problem(
            app.as_user(&north.manager_session)
                .get(&format!("{REPORT}?days={days}"))
                .await,
            400,
        )
        .await;
    }
    assert_eq!(report_events(&app, north.manager.id, "success"), 2);
}

#[actix_web::test]
async fn a_place_frees_at_the_21st_birthday_even_when_the_planned_end_is_later() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 3, &[]);
    let secretary = &north.secretary_session;
    // Samir turns 21 on 2 April: his planned end defaults to the day before.
    let samir = register(
        &app,
        secretary,
        child_body(north.unit, "Samir", "2005-04-02"),
    )
    .await;
    let placed = place(&app, secretary, samir, placement(home, "2026-03-01", None)).await;
    assert_eq!(placed["planned_end"], "2026-04-01");
    // Karim was placed as a 19-year-old until the day before he turns 21 in 2027; a new age
    // assessment finds him a year older, so he turns 21 on 10 May this year.
    let karim = register(
        &app,
        secretary,
        child_body(north.unit, "Karim", "2006-05-10"),
    )
    .await;
    let placed = place(&app, secretary, karim, placement(home, "2026-03-01", None)).await;
    assert_eq!(placed["planned_end"], "2027-05-09");
    reassess_age(&app, karim, "2005-05-10");

    let body = report(&app, &north.manager_session, "").await;
    let figures = facility(&body, home);
    assert_eq!(today(figures), (2, 1));
    assert_eq!(on(figures, "2026-04-01"), (2, 1));
    assert_eq!(on(figures, "2026-04-02"), (1, 2));
    assert_eq!(on(figures, "2026-05-09"), (1, 2));
    assert_eq!(
        on(figures, "2026-05-10"),
        (0, 3),
        "free at his 21st birthday, not at the planned end"
    );
}

#[actix_web::test]
async fn turnover_and_average_stay_count_the_placements_that_ended_in_the_past_year() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 2, &[]);
    let other = app.arrange_facility(north.unit, "hvb", 2, &[]);
    let secretary = &north.secretary_session;
    let ali = register(&app, secretary, child_body(north.unit, "Ali", "2010-05-20")).await;
    let omid = register(
        &app,
        secretary,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let reza = register(
        &app,
        secretary,
        child_body(north.unit, "Reza", "2012-09-01"),
    )
    .await;
    let first = place(&app, secretary, ali, placement(home, "2026-01-01", None)).await;
    let second = place(&app, secretary, omid, placement(home, "2026-01-15", None)).await;

    let before = report(&app, &north.manager_session, "").await;
    assert_eq!(today(facility(&before, home)), (2, 0));
    assert_eq!(facility(&before, home)["ended_placements"], 0);
    assert_eq!(facility(&before, home)["turnover_per_place"], 0.0);
    assert!(facility(&before, home)["average_stay_days"].is_null());

    // 10 days and 30 days.
    end(&app, secretary, &first, "2026-01-10").await;
    end(&app, secretary, &second, "2026-02-13").await;
    // Reza takes one of the freed places.
    place(&app, secretary, reza, placement(home, "2026-02-20", None)).await;
    let after = report(&app, &north.manager_session, "").await;
    assert_eq!(
        after["statistics_period"],
        json!({"from": "2025-03-10", "to": "2026-03-09"})
    );
    let figures = facility(&after, home);
    assert_eq!(today(figures), (1, 1));
    assert_eq!(figures["ended_placements"], 2);
    assert_eq!(figures["turnover_per_place"], 1.0);
    assert_eq!(figures["average_stay_days"], 20.0);
    assert_eq!(facility(&after, other)["ended_placements"], 0);
    // The unit: 2 ended over 4 places.
    let mine = unit(&after, north.unit);
    assert_eq!(mine["turnover_per_place"], 0.5);
    assert_eq!(mine["average_stay_days"], 20.0);
}

#[actix_web::test]
async fn a_unit_manager_cannot_see_another_unit_s_capacity() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    app.arrange_facility(south.unit, "hvb", 4, &[]);

    problem(
        app.as_user(&north.manager_session)
            .get(&format!("{REPORT}?unit_id={}", south.unit))
            .await,
        403,
    )
    .await;
    assert_eq!(report_events(&app, north.manager.id, "denied"), 1);
    assert_eq!(report_events(&app, north.manager.id, "success"), 0);
    let own = report(
        &app,
        &north.manager_session,
        &format!("?unit_id={}", north.unit),
    )
    .await;
    assert_eq!(own["units"].as_array().unwrap().len(), 1);
    assert_eq!(own["units"][0]["unit_id"], north.unit.to_string());
}

#[actix_web::test]
async fn case_workers_staff_auditors_and_system_administrators_are_refused() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    app.arrange_facility(north.unit, "hvb", 4, &[]);
    problem(app.as_user(&north.secretary_session).get(REPORT).await, 403).await;
    assert_eq!(report_events(&app, north.secretary.id, "denied"), 1);
    for (profession, unit) in [
        (Profession::HvbStaff, Some(north.unit)),
        (Profession::HousingStaff, Some(north.unit)),
        (Profession::Auditor, None),
        (Profession::SystemAdmin, None),
    ] {
        let (id, session) = login(&app, profession, unit).await;
        problem(app.as_user(&session).get(REPORT).await, 403).await;
        assert_eq!(report_events(&app, id, "denied"), 1, "{profession}");
    }
}

#[actix_web::test]
async fn an_administrator_sees_every_unit_or_the_one_she_asks_for() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let north_home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let south_home = app.arrange_facility(south.unit, "supported_housing", 6, &[]);
    let ali = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    place(
        &app,
        &north.secretary_session,
        ali,
        placement(north_home, "2026-03-01", None),
    )
    .await;
    let (admin, session) = login(&app, Profession::Administrator, None).await;

    let all = report(&app, &session, "").await;
    assert_eq!(today(unit(&all, north.unit)), (1, 3));
    assert_eq!(today(unit(&all, south.unit)), (0, 6));
    assert_eq!(facility(&all, south_home)["kind"], "supported_housing");

    let south_only = report(&app, &session, &format!("?unit_id={}", south.unit)).await;
    assert_eq!(south_only["units"].as_array().unwrap().len(), 1);
    assert_eq!(south_only["units"][0]["unit_id"], south.unit.to_string());
    problem(
        app.as_user(&session)
            .get(&format!("{REPORT}?unit_id={}", Uuid::now_v7()))
            .await,
        404,
    )
    .await;
    assert_eq!(report_events(&app, admin, "success"), 2);
}

#[actix_web::test]
async fn a_system_with_capacity_read_sees_capacity_and_others_do_not() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    app.arrange_facility(north.unit, "hvb", 4, &[]);
    let admin = app.system_admin_session().await;
    let planner = app
        .register_client(&admin, "migrationsverket-places", &["capacity:read"])
        .await;
    let records = app
        .register_client(
            &admin,
            "records-system",
            &["placements:read", "reports:read"],
        )
        .await;

    let planner_session = app.client_login(&planner).await;
    let body = report(&app, &planner_session, "").await;
    assert_eq!(today(unit(&body, north.unit)), (0, 4));
    assert_eq!(report_events(&app, planner.id, "success"), 1);

    let records_session = app.client_login(&records).await;
    problem(app.as_user(&records_session).get(REPORT).await, 403).await;
    assert_eq!(report_events(&app, records.id, "denied"), 1);
}
