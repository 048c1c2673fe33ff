//! The contact compliance report against figures worked out by hand: three secretaries, six
//! children, the second quarter of 2026, asked for on 15 July.

use chrono::Duration;
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

const QUARTER: &str = "from=2026-04-01&to=2026-06-30";

/// A monthly secretary schedule with a private conversation, from 1 March.
async fn monthly(
    app: &TestApp,
    session: &Session,
    child: Uuid,
    secretary: Uuid,
    end: Option<&str>,
) -> Uuid {
    let response = app
        .as_user(session)
        .post(
            &format!("/api/v1/children/{child}/contact-schedules"),
            json!({"kind": "secretary_visit", "responsible": "secretary", "secretary_id": secretary,
                   "recurrence": "1 per month", "tolerance_days": 7, "private_conversation": true,
                   "start_date": "2026-03-01", "end_date": end, "reason": "Monthly follow-up agreed"}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().parse().unwrap()
}

struct Visit {
    on: &'static str,
    completed: bool,
    alone: bool,
    at_placement: bool,
}

const fn made(on: &'static str) -> Visit {
    Visit {
        on,
        completed: true,
        alone: true,
        at_placement: true,
    }
}

fn visit_body(schedule: Uuid, v: &Visit) -> Value {
    json!({
        "schedule_id": schedule,
        "occurred_at": format!("{}T10:00:00Z", v.on),
        "mode": if v.at_placement { "home_visit" } else { "meeting_elsewhere" },
        "at_placement": v.at_placement,
        "completed": v.completed,
        "not_completed_reason": (!v.completed).then_some("Nobody opened the door"),
        "spoke_alone": v.alone,
        "planned": true,
    })
}

async fn record(app: &TestApp, session: &Session, child: Uuid, schedule: Uuid, v: &Visit) -> Uuid {
    let response = app
        .as_user(session)
        .post(
            &format!("/api/v1/children/{child}/visits"),
            visit_body(schedule, v),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().parse().unwrap()
}

async fn report(app: &TestApp, session: &Session, query: &str) -> Value {
    let response = app
        .as_user(session)
        .get(&format!("/api/v1/reports/contact-compliance?{query}"))
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn row<'a>(rows: &'a Value, key: &str, id: Uuid) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == id.to_string())
        .unwrap_or_else(|| panic!("no row for {key} {id} in {rows}"))
}

/// The figures compared: (due, on time, children, spoken with alone, secretary visits, at the
/// placement, attempted).
fn counts(row: &Value) -> [u64; 7] {
    [
        "due_contacts",
        "on_time",
        "children",
        "children_spoken_alone",
        "secretary_visits",
        "secretary_visits_at_placement",
        "attempted_not_completed",
    ]
    .map(|k| row[k].as_u64().unwrap_or_else(|| panic!("{k} in {row}")))
}

#[actix_web::test]
async fn the_quarter_of_three_secretaries_equals_the_figures_worked_out_by_hand() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let anna = (north.secretary.id, north.secretary_session.clone());
    let bo_user = app.create_user(Profession::SocialSecretary, Some(north.unit));
    let cia_user = app.create_user(Profession::SocialSecretary, Some(north.unit));
    let bo = (bo_user.id, app.login(&bo_user).await);
    let cia = (cia_user.id, app.login(&cia_user).await);
    let child = |given: &'static str| child_body(north.unit, given, "2010-05-20");
    let mut cases = Vec::new();
    for (who, given) in [
        (&anna, "A1"),
        (&anna, "A2"),
        (&bo, "B1"),
        (&bo, "B2"),
        (&cia, "C1"),
        (&cia, "C2"),
    ] {
        let id = register(&app, &who.1, child(given)).await;
        let end = (given == "C2").then_some("2026-04-15");
        let schedule = monthly(&app, &who.1, id, who.0, end).await;
        cases.push((id, schedule));
    }
    // 10 March + 127 days = 15 July; everyone signs in again.
    app.clock.advance(Duration::days(127));
    let anna = (anna.0, app.login(&north.secretary).await);
    let bo = (bo.0, app.login(&bo_user).await);
    let manager = app.login(&north.manager).await;
    let [(a1, sa1), (a2, sa2), (b1, sb1), (b2, sb2), ..] = cases[..] else {
        unreachable!()
    };

    // Anna. A1: due 1 Apr (made 30 Mar), 30 Apr (28 Apr), 28 May (2 Jun, within 7 days): 3 of 3.
    for v in [made("2026-03-30"), made("2026-04-28"), made("2026-06-02")] {
        record(&app, &anna.1, a1, sa1, &v).await;
    }
    // A2: a meeting elsewhere without a private conversation (does not count for a private
    // schedule) and an attempt: 1 Apr, 1 May, 1 Jun all missed: 0 of 3.
    let elsewhere = Visit {
        on: "2026-04-20",
        completed: true,
        alone: false,
        at_placement: false,
    };
    let attempt = Visit {
        on: "2026-05-05",
        completed: false,
        alone: false,
        at_placement: true,
    };
    record(&app, &anna.1, a2, sa2, &elsewhere).await;
    record(&app, &anna.1, a2, sa2, &attempt).await;

    // Bo. B1: 15 May is late for 1 Apr and for 1 May, and restarts the clock: 15 Jun is then
    // missed too: 0 of 3.
    record(&app, &bo.1, b1, sb1, &made("2026-05-15")).await;
    // B2: a visit on 5 Apr, corrected to 10 Apr (late for 1 Apr; the clock restarts), then
    // 10 May missed, and 12 Jun on time for 10 Jun: 1 of 3.
    let first = record(&app, &bo.1, b2, sb2, &made("2026-04-05")).await;
    let mut corrected = visit_body(sb2, &made("2026-04-10"));
    corrected["reason"] = json!("The visit was on the tenth");
    let response = app
        .as_user(&bo.1)
        .post(&format!("/api/v1/visits/{first}/corrections"), corrected)
        .await;
    assert_eq!(response.status(), 201);
    record(&app, &bo.1, b2, sb2, &made("2026-06-12")).await;

    // Cia: nothing. C1 misses 1 Apr, 1 May, 1 Jun; C2's schedule ends on 15 April: only 1 Apr.

    let body = report(&app, &manager, QUARTER).await;
    assert_eq!(body["on_time_target_percent"], 95);
    let secretaries = &body["secretaries"];
    let anna_row = row(secretaries, "secretary_id", anna.0);
    assert_eq!(counts(anna_row), [6, 3, 2, 1, 3, 2, 1]);
    assert_eq!(anna_row["on_time_share"], 0.5);
    assert_eq!(anna_row["at_placement_share"], 0.667);
    let bo_row = row(secretaries, "secretary_id", bo.0);
    assert_eq!(counts(bo_row), [6, 1, 2, 2, 3, 3, 0]);
    assert_eq!(bo_row["on_time_share"], 0.167);
    let cia_row = row(secretaries, "secretary_id", cia.0);
    assert_eq!(counts(cia_row), [4, 0, 2, 0, 0, 0, 0]);
    assert_eq!(
        cia_row["at_placement_share"],
        Value::Null,
        "no visit, no share"
    );
    assert_eq!(cia_row["meets_target"], false);

    let unit = row(&body["units"], "unit_id", north.unit);
    assert_eq!(counts(unit), [16, 4, 6, 3, 6, 5, 1]);
    assert_eq!(unit["on_time_share"], 0.25);
    assert_eq!(unit["spoken_alone_share"], 0.5);
    assert_eq!(unit["meets_target"], false);
    assert_eq!(body["facilities"], json!([]), "no staff schedule in North");
}

#[actix_web::test]
async fn a_home_is_judged_by_its_staff_schedules() {
    let app = spawn_app().await;
    let south = office(&app, "South").await;
    let erik_user = app.create_user(Profession::HvbStaff, Some(south.unit));
    let home = app.arrange_facility(south.unit, "hvb", 4, &[erik_user.id]);
    let child = register(
        &app,
        &south.secretary_session,
        child_body(south.unit, "Ali", "2010-05-20"),
    )
    .await;
    let placed = app
        .as_user(&south.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-1"}),
        )
        .await;
    assert_eq!(placed.status(), 201);
    let schedules: Value = app
        .as_user(&south.secretary_session)
        .get(&format!("/api/v1/children/{child}/contact-schedules"))
        .await
        .json()
        .await
        .unwrap();
    let staff = schedules["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "staff_contact")
        .expect("the home's staff schedule")["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.clock.advance(Duration::days(127));
    let erik = app.login(&erik_user).await;
    let manager = app.login(&south.manager).await;
    // Every 7 days with 2 days' tolerance from 10 March: 17, 24, 31 March missed (before the
    // quarter); 8 April is on time for 7 April; then 15 April and every 7 days to 24 June
    // missed: 12 due, 1 on time.
    let contact = Visit {
        on: "2026-04-08",
        completed: true,
        alone: false,
        at_placement: true,
    };
    record(&app, &erik, child, staff, &contact).await;

    let body = report(&app, &manager, QUARTER).await;
    let facility = row(&body["facilities"], "facility_id", home);
    assert_eq!(counts(facility), [12, 1, 1, 0, 0, 0, 0]);
    // The secretary's quarterly visit (due 10 June, 14 days' tolerance) was missed.
    let secretary = row(&body["secretaries"], "secretary_id", south.secretary.id);
    assert_eq!(counts(secretary), [1, 0, 1, 0, 0, 0, 0]);
}

#[actix_web::test]
async fn a_period_must_be_given_whole_and_a_manager_sees_only_her_unit() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let manager = app.as_user(&north.manager_session);
    let path = "/api/v1/reports/contact-compliance";
    for (query, field) in [
        ("to=2026-06-30", "from"),
        ("from=2026-04-01", "to"),
        ("from=2026-04-01&to=2026-03-31", "to"),
        ("from=2024-01-01&to=2025-01-01", "to"),
    ] {
        let body = problem(manager.get(&format!("{path}?{query}")).await, 400).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    let other = manager
        .get(&format!("{path}?{QUARTER}&unit_id={}", south.unit))
        .await;
    problem(other, 403).await;
    let own = report(&app, &north.manager_session, QUARTER).await;
    assert_eq!(own["units"].as_array().unwrap().len(), 1);
    assert_eq!(own["units"][0]["unit_id"], north.unit.to_string());
}
