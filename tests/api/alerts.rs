//! The age-out alerts, in the secretary's worklist and the unit manager's list, appearing and
//! disappearing as the injected clock moves and the work gets done.

use chrono::Duration;
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

/// A child of North born on `born`, placed today (10 March 2026) in an HVB home.
async fn placed(app: &TestApp, north: &Office, home: Uuid, born: &str) -> (Uuid, String) {
    let mut body = child_body(north.unit, "Amina", born);
    body["arrival_date"] = json!("2026-02-01");
    let child = register(app, &north.secretary_session, body).await;
    let placed: Value = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-1"}),
        )
        .await
        .json()
        .await
        .unwrap();
    (child, placed["id"].as_str().unwrap().to_owned())
}

/// (child, kind, date) of the alerts in the secretary's worklist.
async fn alerts(app: &TestApp, session: &Session) -> Vec<(Uuid, String, String)> {
    let body: Value = app
        .as_user(session)
        .get("/api/v1/me/worklist")
        .await
        .json()
        .await
        .unwrap();
    body["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| {
            (
                a["child_id"].as_str().unwrap().parse().unwrap(),
                a["kind"].as_str().unwrap().to_owned(),
                a["on"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn unit_alerts(app: &TestApp, session: &Session, unit: Uuid) -> reqwest::Response {
    app.as_user(session)
        .get(&format!("/api/v1/units/{unit}/age-out-alerts"))
        .await
}

async fn post(app: &TestApp, session: &Session, path: &str, body: Value) -> Value {
    let response = app.as_user(session).post(path, body).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

#[actix_web::test]
async fn each_alert_appears_and_disappears_as_the_clock_moves_and_the_work_is_done() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 6, &[]);
    // Near 21 on 1 December 2026; 18 on 1 May 2026; 17, with a plan to come.
    let (near21, _) = placed(&app, &north, home, "2005-12-01").await;
    let (near18, near18_placement) = placed(&app, &north, home, "2008-05-01").await;
    let (young, _) = placed(&app, &north, home, "2009-01-01").await;
    let anna = &north.secretary_session;
    let plan = |child: Uuid| format!("/api/v1/children/{child}/age-out-plan");

    // Today: the 18th birthday 52 days ahead without a decision on care after it.
    assert_eq!(
        alerts(&app, anna).await,
        [(
            near18,
            "turns_18_without_decision".into(),
            "2026-05-01".into()
        )]
    );
    post(
        &app,
        anna,
        &format!("/api/v1/placements/{near18_placement}/reviews"),
        json!({"kind": "continued_care_after_18", "decided_on": "2026-03-10", "decision_reference": "BN-2026-18", "continued_need": true}),
    )
    .await;
    assert_eq!(alerts(&app, anna).await, []);

    // The youngest gets her plan today and applies to SFI.
    let opened = post(&app, anna, &plan(young), json!({})).await;
    let tag = format!("\"{}-1\"", opened["id"].as_str().unwrap().replace('-', ""));
    let applied = app
        .patch_if_match(
            anna,
            &plan(young),
            Some(&tag),
            json!({"education_kind": "sfi", "education_applied_on": "2026-03-10"}),
        )
        .await;
    assert_eq!(applied.status(), 200);

    // 1 June: six months before 21 without a plan.
    app.clock.advance(Duration::days(83));
    let anna = app.login(&north.secretary).await;
    assert_eq!(
        alerts(&app, &anna).await,
        [(near21, "near_21_without_plan".into(), "2026-12-01".into())]
    );
    // With a plan, but a housing goal still open.
    post(&app, &anna, &plan(near21), json!({})).await;
    let goal = post(
        &app,
        &anna,
        &format!("{}/goals", plan(near21)),
        json!({"domain": "housing", "description": "A flat of her own", "target_date": "2026-11-01", "responsible": "youth"}),
    )
    .await;
    assert_eq!(
        alerts(&app, &anna).await,
        [(
            near21,
            "near_21_with_open_goals".into(),
            "2026-12-01".into()
        )]
    );
    let goal_path = format!("/api/v1/age-out-goals/{}", goal["id"].as_str().unwrap());
    let tag = format!("\"{}-1\"", goal["id"].as_str().unwrap().replace('-', ""));
    let achieved = app
        .patch_if_match(&anna, &goal_path, Some(&tag), json!({"status": "achieved"}))
        .await;
    assert_eq!(achieved.status(), 200, "{}", achieved.text().await.unwrap());
    assert_eq!(alerts(&app, &anna).await, []);

    // 11 June: SFI has not started three months after the application.
    app.clock.advance(Duration::days(10));
    let anna = app.login(&north.secretary).await;
    assert_eq!(
        alerts(&app, &anna).await,
        [(young, "education_wait_too_long".into(), "2026-06-10".into())]
    );
    let tag = format!("\"{}-2\"", opened["id"].as_str().unwrap().replace('-', ""));
    let started = app
        .patch_if_match(
            &anna,
            &plan(young),
            Some(&tag),
            json!({"education_started_on": "2026-06-11"}),
        )
        .await;
    assert_eq!(started.status(), 200, "{}", started.text().await.unwrap());
    assert_eq!(alerts(&app, &anna).await, []);

    // 11 September: the youngest's plan, opened on 10 March, was due its review on 10 September.
    app.clock.advance(Duration::days(92));
    let anna = app.login(&north.secretary).await;
    let manager = app.login(&north.manager).await;
    let due = (
        young,
        "plan_review_overdue".to_owned(),
        "2026-09-10".to_owned(),
    );
    assert!(alerts(&app, &anna).await.contains(&due));
    // The unit manager's list holds it too; another unit's manager may not look.
    let list: Value = unit_alerts(&app, &manager, north.unit)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["child_id"] == json!(young) && a["kind"] == "plan_review_overdue"),
        "{list}"
    );
    post(
        &app,
        &anna,
        &format!("{}/reviews", plan(young)),
        json!({"held_on": "2026-09-11", "participants": ["Amina", "Her social secretary"], "youth_view": "SFI is going well."}),
    )
    .await;
    assert!(!alerts(&app, &anna).await.contains(&due));
}

#[actix_web::test]
async fn only_the_units_own_manager_reads_its_alert_list() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let ok = unit_alerts(&app, &north.manager_session, north.unit).await;
    assert_eq!(ok.status(), 200);
    problem(
        unit_alerts(&app, &south.manager_session, north.unit).await,
        403,
    )
    .await;
    problem(
        unit_alerts(&app, &north.secretary_session, north.unit).await,
        403,
    )
    .await;
    let erik = app.create_user(Profession::HvbStaff, Some(north.unit));
    let erik = app.login(&erik).await;
    problem(unit_alerts(&app, &erik, north.unit).await, 403).await;
}
