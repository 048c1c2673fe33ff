//! Stories about the age-out plan: a secretary opens it and sets goals with the youth, the
//! home's staff note progress, reviews keep the goals' status, and the dates follow the date of
//! birth. The test clock starts on Tuesday 2026-03-10.

use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::{Session, TestUser};
use crate::helpers::{problem, spawn_app, TestApp};

/// A child of North, born on `born`, placed today in an HVB home whose staff is `erik`.
struct Case {
    north: Office,
    child: Uuid,
    erik: Session,
    erik_user: TestUser,
}

async fn placed_child(app: &TestApp, born: &str) -> Case {
    let north = office(app, "North").await;
    let erik_user: TestUser = app.create_user(Profession::HvbStaff, Some(north.unit));
    let home = app.arrange_facility(north.unit, "hvb", 4, &[erik_user.id]);
    let erik = app.login(&erik_user).await;
    let child = register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Amina", born),
    )
    .await;
    let placed = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-1"}),
        )
        .await;
    assert_eq!(placed.status(), 201, "{}", placed.text().await.unwrap());
    Case {
        north,
        child,
        erik,
        erik_user,
    }
}

fn plan_path(child: Uuid) -> String {
    format!("/api/v1/children/{child}/age-out-plan")
}

async fn open(app: &TestApp, session: &Session, child: Uuid) -> Value {
    let response = app
        .as_user(session)
        .post(&plan_path(child), json!({}))
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "opening the plan failed: {body}");
    body
}

async fn read(app: &TestApp, session: &Session, path: &str) -> (Value, String) {
    let response = app.as_user(session).get(path).await;
    let status = response.status();
    let tag = response
        .headers()
        .get("etag")
        .map(|t| t.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "reading {path} failed: {body}");
    (body, tag)
}

async fn add_goal(app: &TestApp, session: &Session, child: Uuid, body: Value) -> reqwest::Response {
    app.as_user(session)
        .post(&format!("{}/goals", plan_path(child)), body)
        .await
}

async fn goal(app: &TestApp, session: &Session, child: Uuid, responsible: &str) -> Value {
    let response = add_goal(
        app,
        session,
        child,
        json!({"domain": "housing", "description": "Find a flat of her own, with a first-hand contract",
               "target_date": "2027-06-01", "responsible": responsible}),
    )
    .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "adding a goal failed: {body}");
    body
}

/// Revises the date of birth as the age re-assessment does it (`POST .../age-assessments`).
async fn revise_date_of_birth(app: &TestApp, session: &Session, child: Uuid, born: NaiveDate) {
    let response = app
        .as_user(session)
        .post(
            &format!("/api/v1/children/{child}/age-assessments"),
            json!({"date_of_birth": born, "reason": "The medical age assessment came back", "decision_reference": "SN-2026-40"}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
}

fn milestones(plan: &Value) -> [&str; 5] {
    let m = &plan["milestones"];
    [
        m["opens_by"].as_str().unwrap(),
        m["opens_because"].as_str().unwrap(),
        m["turns_18_on"].as_str().unwrap(),
        m["turns_21_on"].as_str().unwrap(),
        m["last_placement_day"].as_str().unwrap(),
    ]
}

#[actix_web::test]
async fn a_secretary_opens_the_plan_of_a_16_year_old_and_sees_her_milestones() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let plan = open(&app, &case.north.secretary_session, case.child).await;
    assert_eq!(
        milestones(&plan),
        [
            "2026-06-01",
            "birthday",
            "2027-06-01",
            "2030-06-01",
            "2030-05-31"
        ]
    );
    assert_eq!(plan["opened_on"], "2026-03-10");
    assert_eq!(plan["opened_late"], false);
    assert_eq!(plan["next_review"]["due_on"], "2026-09-10");
    let reviews = plan["milestones"]["planned_reviews"].as_array().unwrap();
    assert_eq!(reviews.first(), Some(&json!("2026-09-10")));
    assert_eq!(reviews.last(), Some(&json!("2030-03-10")));
    assert!(plan["education"]["wait"].is_null());

    // One plan per child.
    let again = app
        .as_user(&case.north.secretary_session)
        .post(&plan_path(case.child), json!({}))
        .await;
    let body = problem(again, 409).await;
    assert_eq!(body["type"], "urn:trygg:problem:age-out-plan-exists");
}

#[actix_web::test]
async fn milestones_of_a_29_february_birth_fall_on_1_march_and_follow_a_revised_date_of_birth() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-05-20").await;
    let session = &case.north.secretary_session;
    let plan = open(&app, session, case.child).await;
    assert_eq!(
        milestones(&plan),
        [
            "2026-05-20",
            "birthday",
            "2027-05-20",
            "2030-05-20",
            "2030-05-19"
        ]
    );

    // The age assessment finds her a year older, born on 29 February 2008.
    revise_date_of_birth(
        &app,
        session,
        case.child,
        NaiveDate::from_ymd_opt(2008, 2, 29).unwrap(),
    )
    .await;
    let (plan, _) = read(&app, session, &plan_path(case.child)).await;
    assert_eq!(
        milestones(&plan),
        [
            "2025-03-01",
            "birthday",
            "2026-03-01",
            "2029-03-01",
            "2029-02-28"
        ]
    );
    assert_eq!(
        plan["opened_late"], true,
        "due by her 17th birthday, a year ago"
    );
    let planned = plan["milestones"]["planned_reviews"].as_array().unwrap();
    assert_eq!(planned.last(), Some(&json!("2028-09-10")));

    // And back to an ordinary day.
    revise_date_of_birth(
        &app,
        session,
        case.child,
        NaiveDate::from_ymd_opt(2009, 11, 30).unwrap(),
    )
    .await;
    let (plan, _) = read(&app, session, &plan_path(case.child)).await;
    assert_eq!(
        milestones(&plan),
        [
            "2026-11-30",
            "birthday",
            "2027-11-30",
            "2030-11-30",
            "2030-11-29"
        ]
    );
}

#[actix_web::test]
async fn school_must_start_within_three_months_of_the_application() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    let plan = open(&app, session, case.child).await;
    let path = plan_path(case.child);
    let tag = format!("\"{}-1\"", plan["id"].as_str().unwrap().replace('-', ""));
    let applied = app
        .patch_if_match(
            session,
            &path,
            Some(&tag),
            json!({"education_kind": "sfi", "education_applied_on": "2026-03-02"}),
        )
        .await;
    assert_eq!(applied.status(), 200);
    let tag = applied.headers()["etag"].to_str().unwrap().to_owned();
    let plan: Value = applied.json().await.unwrap();
    let wait = &plan["education"]["wait"];
    assert_eq!(
        (wait["start_due_by"].as_str(), wait["waiting_days"].as_i64()),
        (Some("2026-06-02"), Some(8))
    );
    assert_eq!(
        (wait["waiting"].as_bool(), wait["breach"].as_bool()),
        (Some(true), Some(false))
    );

    // Three months and a day later she is still waiting: the rule is broken.
    app.clock.advance(Duration::days(93));
    let session = app.login(&case.north.secretary).await;
    let (plan, _) = read(&app, &session, &path).await;
    let wait = &plan["education"]["wait"];
    assert_eq!(plan["education"]["start_within_months"], 3);
    assert_eq!(
        (wait["waiting_days"].as_i64(), wait["breach"].as_bool()),
        (Some(101), Some(true))
    );

    // She started on 1 June after all, within the three months.
    let started = app
        .patch_if_match(
            &session,
            &path,
            Some(&tag),
            json!({"education_started_on": "2026-06-01"}),
        )
        .await;
    assert_eq!(started.status(), 200);
    let plan: Value = started.json().await.unwrap();
    let wait = &plan["education"]["wait"];
    assert_eq!(
        (
            wait["waiting_days"].as_i64(),
            wait["waiting"].as_bool(),
            wait["breach"].as_bool()
        ),
        (Some(91), Some(false), Some(false))
    );

    // Each change of the plan is kept, as the goals' are.
    let (versions, _) = read(&app, &session, &format!("{path}/versions")).await;
    let seen: Vec<(i64, Option<&str>, Option<&str>)> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["education_applied_on"].as_str(),
                v["education_started_on"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, None, None),
            (2, Some("2026-03-02"), None),
            (3, Some("2026-03-02"), Some("2026-06-01"))
        ]
    );

    // A start before the application is refused.
    let tag = format!("\"{}-3\"", plan["id"].as_str().unwrap().replace('-', ""));
    let body = problem(
        app.patch_if_match(
            &session,
            &path,
            Some(&tag),
            json!({"education_started_on": "2026-02-01"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "education_started_on");
}

#[actix_web::test]
async fn two_secretaries_editing_one_goal_never_overwrite_each_other() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    open(&app, session, case.child).await;
    let created = goal(&app, session, case.child, "youth").await;
    let path = format!("/api/v1/age-out-goals/{}", created["id"].as_str().unwrap());
    let (_, tag) = read(&app, session, &path).await;
    let first = app
        .patch_if_match(session, &path, Some(&tag), json!({"status": "in_progress"}))
        .await;
    assert_eq!(first.status(), 200);
    let second = app
        .patch_if_match(
            session,
            &path,
            Some(&tag),
            json!({"target_date": "2027-09-01"}),
        )
        .await;
    let body = problem(second, 409).await;
    assert_eq!(body["type"], "urn:trygg:problem:stale-version");
    let without = app
        .patch_if_match(session, &path, None, json!({"status": "achieved"}))
        .await;
    assert_eq!(
        problem(without, 428).await["type"],
        "urn:trygg:problem:precondition-required"
    );
    let (goal, _) = read(&app, session, &path).await;
    assert_eq!(
        (goal["status"].as_str(), goal["target_date"].as_str()),
        (Some("in_progress"), Some("2027-06-01"))
    );
}

#[actix_web::test]
async fn every_version_of_a_goal_reads_back_oldest_first() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    open(&app, session, case.child).await;
    let created = goal(&app, session, case.child, "secretary").await;
    let path = format!("/api/v1/age-out-goals/{}", created["id"].as_str().unwrap());
    let (_, tag) = read(&app, session, &path).await;
    let started = app
        .patch_if_match(session, &path, Some(&tag), json!({"status": "in_progress"}))
        .await;
    let tag = started.headers()["etag"].to_str().unwrap().to_owned();

    // Dropping a goal needs a reason, and says so by its own code.
    let body = problem(
        app.patch_if_match(session, &path, Some(&tag), json!({"status": "dropped"}))
            .await,
        422,
    )
    .await;
    assert_eq!(body["type"], "urn:trygg:problem:drop-reason-required");
    assert_eq!(body["errors"][0]["field"], "dropped_reason");
    let dropped = app
        .patch_if_match(
            session,
            &path,
            Some(&tag),
            json!({"status": "dropped", "dropped_reason": "She will stay with her aunt's family instead"}),
        )
        .await;
    assert_eq!(dropped.status(), 200);

    let (versions, _) = read(&app, session, &format!("{path}/versions")).await;
    let items = versions["items"].as_array().unwrap();
    let seen: Vec<(i64, &str)> = items
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [(1, "not_started"), (2, "in_progress"), (3, "dropped")]
    );
    assert!(items[..2].iter().all(|v| v.get("dropped_reason").is_none()));
    assert_eq!(
        items[2]["dropped_reason"],
        "She will stay with her aunt's family instead"
    );
    let secretary = json!(case.north.secretary.id);
    assert!(items
        .iter()
        .all(|v| v["changed_by"] == secretary && v["changed_at"].is_string()));
    assert_eq!(items[0]["description"], created["description"]);
}

#[actix_web::test]
async fn the_homes_staff_note_progress_on_their_goals_and_the_manager_only_reads() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    open(&app, session, case.child).await;
    let theirs = goal(&app, session, case.child, "home_staff").await;
    let hers = goal(&app, session, case.child, "youth").await;
    let note = |goal: &Value| {
        format!(
            "/api/v1/age-out-goals/{}/progress-notes",
            goal["id"].as_str().unwrap()
        )
    };
    let body =
        json!({"note": "We looked at three flats together; she liked the one in Gottsunda."});
    let noted = app
        .as_user(&case.erik)
        .post(&note(&theirs), body.clone())
        .await;
    assert_eq!(noted.status(), 201);
    let refused = app
        .as_user(&case.erik)
        .post(&note(&hers), body.clone())
        .await;
    assert_eq!(
        problem(refused, 403).await["type"],
        "urn:trygg:problem:forbidden"
    );
    // The staff read the plan, and see the note under its goal.
    let (plan, _) = read(&app, &case.erik, &plan_path(case.child)).await;
    let notes: Vec<usize> = plan["goals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["progress_notes"].as_array().unwrap().len())
        .collect();
    assert_eq!(notes, [1, 0]);
    // The staff change no goal, and the manager reads but writes nothing.
    let manager = &case.north.manager_session;
    read(&app, manager, &plan_path(case.child)).await;
    let by_manager = add_goal(&app, manager, case.child, json!({"domain": "health", "description": "A dentist", "target_date": "2026-12-01", "responsible": "youth"})).await;
    assert_eq!(by_manager.status(), 403);
    let by_staff = add_goal(&app, &case.erik, case.child, json!({"domain": "health", "description": "A dentist", "target_date": "2026-12-01", "responsible": "youth"})).await;
    assert_eq!(by_staff.status(), 403);
    assert_eq!(
        app.as_user(manager).post(&note(&hers), body).await.status(),
        403
    );
}

#[actix_web::test]
async fn a_review_keeps_the_youths_own_view_and_the_goals_status_at_that_moment() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    open(&app, session, case.child).await;
    let created = goal(&app, session, case.child, "youth").await;
    app.clock.advance(Duration::days(120));
    let session = app.login(&case.north.secretary).await;
    let reviewed = app
        .as_user(&session)
        .post(
            &format!("{}/reviews", plan_path(case.child)),
            json!({"held_on": "2026-07-01", "participants": ["Amina", "Her social secretary", "Gunnel Gode, god man"],
                   "youth_view": "I want to live near my school. I'm not sure about the money yet."}),
        )
        .await;
    assert_eq!(reviewed.status(), 201);
    // The goal moves on after the review.
    let path = format!("/api/v1/age-out-goals/{}", created["id"].as_str().unwrap());
    let (_, tag) = read(&app, &session, &path).await;
    let achieved = app
        .patch_if_match(&session, &path, Some(&tag), json!({"status": "achieved"}))
        .await;
    assert_eq!(achieved.status(), 200);

    let (plan, _) = read(&app, &session, &plan_path(case.child)).await;
    let review = &plan["reviews"][0];
    assert_eq!(review["held_on"], "2026-07-01");
    assert_eq!(review["participants"].as_array().unwrap().len(), 3);
    assert_eq!(
        review["goal_statuses"],
        json!([{"goal_id": created["id"], "version": 1, "status": "not_started"}])
    );
    assert_eq!(plan["goals"][0]["status"], "achieved");
    assert_eq!(plan["next_review"]["due_on"], "2027-01-01");
    assert_eq!(
        review["youth_view"],
        "I want to live near my school. I'm not sure about the money yet."
    );
    // The youth's own words are for her secretary and the manager, not the home's staff.
    let erik = app.login(&case.erik_user).await;
    let (seen_by_staff, _) = read(&app, &erik, &plan_path(case.child)).await;
    assert!(seen_by_staff["reviews"][0].get("youth_view").is_none());
}

#[actix_web::test]
async fn the_summary_in_plain_language_is_json_or_an_escaped_printable_page() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    open(&app, session, case.child).await;
    let response = add_goal(
        &app,
        session,
        case.child,
        json!({"domain": "education_occupation", "description": "Apply to <b>SFI</b> & \"Komvux\"",
               "target_date": "2026-08-15", "responsible": "other", "responsible_other": "Studie- och yrkesvägledare"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let path = format!("{}/summary", plan_path(case.child));
    let (summary, _) = read(&app, session, &path).await;
    assert_eq!(summary["given_name"], "Amina");
    assert_eq!(summary["next_review"]["due_on"], "2026-09-10");
    assert_eq!(summary["last_placement_day"], "2030-05-31");
    let goal = &summary["goals"][0];
    assert_eq!(
        (
            goal["area"].as_str(),
            goal["who"].as_str(),
            goal["by"].as_str()
        ),
        (
            Some("School or work"),
            Some("Studie- och yrkesvägledare"),
            Some("2026-08-15")
        )
    );
    assert!(!summary.to_string().contains("personal_identity_number"));

    let page = app
        .client
        .get(app.url(&path))
        .bearer_auth(&session.access_token)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Apply to &lt;b&gt;SFI&lt;/b&gt; &amp; &quot;Komvux&quot;"),
        "{html}"
    );
    assert!(!html.contains("<b>SFI"));
    assert!(html.contains("<title>Amina's plan for moving on</title>"));

    // A protected identity's name stays out of the manager's summary, as out of her child view.
    let mut body = child_body(case.north.unit, "Hidden", "2009-06-01");
    body["protection_level"] = json!("protected_registration");
    let protected = register(&app, session, body).await;
    open(&app, session, protected).await;
    let path = format!("{}/summary", plan_path(protected));
    let (by_manager, _) = read(&app, &case.north.manager_session, &path).await;
    assert_eq!(by_manager["identity_withheld"], true);
    assert!(by_manager.get("given_name").is_none());
    let (by_secretary, _) = read(&app, session, &path).await;
    assert_eq!(by_secretary["given_name"], "Hidden");
}

#[actix_web::test]
async fn a_move_to_supported_housing_before_the_17th_birthday_makes_the_plan_due_at_once() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let housing = app.arrange_facility(north.unit, "supported_housing", 4, &[]);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Amina", "2009-06-01"),
    )
    .await;
    // Only a unit manager starts a first placement outside an HVB home.
    let placed = app
        .as_user(&north.manager_session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": housing, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats",
                   "decision_reference": "SN-2", "special_reasons": "Mature and stable; school nearby",
                   "deviation_reason": "Investigated in another municipality"}),
        )
        .await;
    assert_eq!(placed.status(), 201, "{}", placed.text().await.unwrap());
    let plan = open(&app, &north.secretary_session, child).await;
    assert_eq!(
        milestones(&plan),
        [
            "2026-03-01",
            "supported_housing",
            "2027-06-01",
            "2030-06-01",
            "2030-05-31"
        ]
    );
    assert_eq!(
        plan["opened_late"], true,
        "due on the day she moved, nine days ago"
    );
}

#[actix_web::test]
async fn a_retried_goal_is_added_once_and_no_text_holds_a_nul() {
    let app = spawn_app().await;
    let case = placed_child(&app, "2009-06-01").await;
    let session = &case.north.secretary_session;
    open(&app, session, case.child).await;
    let body = json!({"domain": "economy", "description": "Open a bank account", "target_date": "2026-06-01", "responsible": "youth"});
    let send = || {
        app.client
            .post(app.url(&format!("{}/goals", plan_path(case.child))))
            .bearer_auth(&session.access_token)
            .header("idempotency-key", "goal-1")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let (plan, _) = read(&app, session, &plan_path(case.child)).await;
    assert_eq!(plan["goals"].as_array().unwrap().len(), 1);

    let nul = add_goal(
        &app,
        session,
        case.child,
        json!({"domain": "economy", "description": "Save\u{0}money", "target_date": "2026-06-01", "responsible": "youth"}),
    )
    .await;
    let body = problem(nul, 422).await;
    assert_eq!(body["type"], "urn:trygg:problem:invalid-character");
    assert_eq!(body["errors"][0]["field"], "description");
    let long = add_goal(
        &app,
        session,
        case.child,
        json!({"domain": "economy", "description": "x".repeat(2001), "target_date": "2026-06-01", "responsible": "other"}),
    )
    .await;
    let body = problem(long, 422).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["description", "responsible_other"]);
}
