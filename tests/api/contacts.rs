//! Stories about contact schedules and visits: what is due, what happened, what is overdue.
//! The clock is moved through weeks and months; dates are the municipality's.

use chrono::Duration;
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::{Session, TestUser};
use crate::helpers::{problem, spawn_app, TestApp};

/// A child of North placed today (2026-03-10) in an HVB home whose staff is `erik`.
struct Case {
    north: Office,
    child: Uuid,
    placement: Uuid,
    erik: Session,
    erik_user: TestUser,
}

async fn placed_child(app: &TestApp) -> Case {
    let north = office(app, "North").await;
    let erik_user = app.create_user(Profession::HvbStaff, Some(north.unit));
    let home = app.arrange_facility(north.unit, "hvb", 4, &[erik_user.id]);
    let erik = app.login(&erik_user).await;
    let child = register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
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
    let placement = placed["id"].as_str().unwrap().parse().unwrap();
    Case {
        north,
        child,
        placement,
        erik,
        erik_user,
    }
}

async fn schedules(app: &TestApp, session: &Session, child: Uuid) -> Vec<Value> {
    let body: Value = app
        .as_user(session)
        .get(&format!("/api/v1/children/{child}/contact-schedules"))
        .await
        .json()
        .await
        .unwrap();
    body["items"].as_array().unwrap().clone()
}

fn of_kind<'a>(schedules: &'a [Value], kind: &str) -> &'a Value {
    schedules
        .iter()
        .find(|s| s["kind"] == kind)
        .expect("a schedule of the kind")
}

fn visit(at: &str, schedule: &Value, spoke_alone: bool) -> Value {
    json!({"schedule_id": schedule["id"], "occurred_at": at, "mode": "home_visit", "at_placement": true,
           "completed": true, "spoke_alone": spoke_alone, "planned": true, "notes": "We talked about school."})
}

#[actix_web::test]
async fn placing_a_child_starts_the_secretarys_visits_and_the_home_staffs_contact() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let all = schedules(&app, &case.north.secretary_session, case.child).await;
    assert_eq!(all.len(), 2);
    let secretary = of_kind(&all, "secretary_visit");
    assert_eq!(secretary["recurrence"], "1 per quarter");
    assert_eq!(secretary["private_conversation"], true);
    assert_eq!(secretary["secretary_id"], json!(case.north.secretary.id));
    assert_eq!(secretary["next"]["due_on"], "2026-06-10");
    let staff = of_kind(&all, "staff_contact");
    assert_eq!(staff["recurrence"], "every 7 days");
    assert_eq!(staff["next"]["due_on"], "2026-03-17");
    assert_eq!(staff["next"]["overdue"], false);
}

#[actix_web::test]
async fn an_overdue_visit_shows_until_a_counting_visit_is_made() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let secretary_session = &case.north.secretary_session;
    // Three months and fifteen days on: past the due date and its two weeks' tolerance.
    app.clock.advance(Duration::days(92 + 15));
    let session = app.login(&case.north.secretary).await;
    let all = schedules(&app, &session, case.child).await;
    let due = of_kind(&all, "secretary_visit");
    assert_eq!(due["next"]["overdue"], true, "{due}");

    // A visit without the private conversation does not count for this schedule.
    let path = format!("/api/v1/children/{}/visits", case.child);
    let at = "2026-06-24T09:00:00Z";
    assert_eq!(
        app.as_user(&session)
            .post(&path, visit(at, due, false))
            .await
            .status(),
        201
    );
    let still = schedules(&app, &session, case.child).await;
    assert_eq!(of_kind(&still, "secretary_visit")["next"]["overdue"], true);

    let at = "2026-06-24T10:00:00Z";
    assert_eq!(
        app.as_user(&session)
            .post(&path, visit(at, due, true))
            .await
            .status(),
        201
    );
    let after = schedules(&app, &session, case.child).await;
    let next = of_kind(&after, "secretary_visit");
    assert_eq!(next["last_contact_on"], "2026-06-24");
    assert_eq!(
        (
            next["next"]["due_on"].as_str(),
            next["next"]["overdue"].as_bool()
        ),
        (Some("2026-09-24"), Some(false))
    );
    let _ = secretary_session;
}

#[actix_web::test]
async fn a_completed_visit_in_the_future_is_refused_with_its_own_code() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let all = schedules(&app, &case.north.secretary_session, case.child).await;
    let path = format!("/api/v1/children/{}/visits", case.child);
    let tomorrow = visit(
        "2026-03-11T09:00:00Z",
        of_kind(&all, "secretary_visit"),
        true,
    );
    let body = problem(
        app.as_user(&case.north.secretary_session)
            .post(&path, tomorrow)
            .await,
        422,
    )
    .await;
    assert_eq!(body["type"], "urn:trygg:problem:visit-in-future");
    assert_eq!(body["errors"][0]["field"], "occurred_at");
}

#[actix_web::test]
async fn a_correction_keeps_the_original_and_the_latest_counts() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let session = &case.north.secretary_session;
    let all = schedules(&app, session, case.child).await;
    let schedule = of_kind(&all, "secretary_visit");
    let path = format!("/api/v1/children/{}/visits", case.child);
    let first: Value = app
        .as_user(session)
        .post(&path, visit("2026-03-10T07:00:00Z", schedule, true))
        .await
        .json()
        .await
        .unwrap();
    let mut fix = visit("2026-03-09T07:00:00Z", schedule, true);
    fix["reason"] = json!("The visit was the day before");
    let correction = format!(
        "/api/v1/visits/{}/corrections",
        first["id"].as_str().unwrap()
    );
    let second = app.as_user(session).post(&correction, fix.clone()).await;
    assert_eq!(second.status(), 201);
    // Only the latest entry can be corrected.
    let body = problem(app.as_user(session).post(&correction, fix).await, 409).await;
    assert_eq!(body["type"], "urn:trygg:problem:visit-corrected");

    let listed: Value = app.as_user(session).get(&path).await.json().await.unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "both entries stay readable");
    assert_eq!(items[0]["corrected"], true);
    assert_eq!(items[1]["corrects_id"], first["id"]);
    let after = schedules(&app, session, case.child).await;
    assert_eq!(
        of_kind(&after, "secretary_visit")["last_contact_on"],
        "2026-03-09"
    );
}

#[actix_web::test]
async fn notes_are_hidden_from_the_staff_who_did_not_write_them() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let all = schedules(&app, &case.erik, case.child).await;
    let path = format!("/api/v1/children/{}/visits", case.child);
    let by_secretary = visit(
        "2026-03-10T07:00:00Z",
        of_kind(&all, "secretary_visit"),
        true,
    );
    assert_eq!(
        app.as_user(&case.north.secretary_session)
            .post(&path, by_secretary)
            .await
            .status(),
        201
    );
    let mut by_staff = visit(
        "2026-03-10T07:30:00Z",
        of_kind(&all, "staff_contact"),
        false,
    );
    by_staff["notes"] = json!("Cooked dinner together.");
    assert_eq!(
        app.as_user(&case.erik).post(&path, by_staff).await.status(),
        201
    );

    let seen_by_staff: Value = app
        .as_user(&case.erik)
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    let notes: Vec<Option<&str>> = seen_by_staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["notes"].as_str())
        .collect();
    assert_eq!(notes, [None, Some("Cooked dinner together.")]);
    let seen_by_secretary: Value = app
        .as_user(&case.north.secretary_session)
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    assert!(seen_by_secretary["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["notes"].is_string()));
    let seen_by_manager: Value = app
        .as_user(&case.north.manager_session)
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    assert!(seen_by_manager["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v.get("notes").is_none()));
}

#[actix_web::test]
async fn the_staff_schedule_follows_a_moved_child_and_ends_with_her_placement() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let next_home = app.arrange_facility(case.north.unit, "hvb", 4, &[]);
    let before = schedules(&app, &case.north.secretary_session, case.child).await;
    let staff_schedule = of_kind(&before, "staff_contact")["id"].clone();
    let moved = app
        .as_user(&case.north.secretary_session)
        .post(
            &format!("/api/v1/children/{}/moves", case.child),
            json!({"facility_id": next_home, "move_date": "2026-03-20", "legal_basis": "SoL2025-insats", "decision_reference": "SN-2"}),
        )
        .await;
    assert_eq!(moved.status(), 201);
    let moved: Value = moved.json().await.unwrap();
    let after = schedules(&app, &case.north.secretary_session, case.child).await;
    assert_eq!(
        after.len(),
        2,
        "no second staff schedule: the first one followed her"
    );
    let staff = of_kind(&after, "staff_contact");
    assert_eq!(staff["id"], staff_schedule);
    assert_eq!(staff["facility_id"], json!(next_home));

    let end = format!("/api/v1/placements/{}/end", moved["id"].as_str().unwrap());
    app.clock.advance(Duration::days(20));
    let session = app.login(&case.north.secretary).await;
    let ended = app
        .as_user(&session)
        .post(
            &end,
            json!({"end_date": "2026-03-30", "end_reason": "own_housing"}),
        )
        .await;
    assert_eq!(ended.status(), 200);
    let last = schedules(&app, &session, case.child).await;
    assert_eq!(of_kind(&last, "staff_contact")["end_date"], "2026-03-30");
    assert_eq!(
        of_kind(&last, "secretary_visit")["end_date"],
        Value::Null,
        "the secretary's stays"
    );
    let _ = case.placement;
}

#[actix_web::test]
async fn the_worklist_shows_each_persons_overdue_contacts_first() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    // Two weeks on: the home staff's weekly contact is overdue; the secretary's is months away.
    app.clock.advance(Duration::days(14));
    let erik = app.login(&case.erik_user).await;
    let staff: Value = app
        .as_user(&erik)
        .get("/api/v1/me/worklist")
        .await
        .json()
        .await
        .unwrap();
    let items = staff["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{staff}");
    assert_eq!(
        (items[0]["kind"].as_str(), items[0]["overdue"].as_bool()),
        (Some("staff_contact"), Some(true))
    );
    assert_eq!(items[0]["child_id"], json!(case.child));

    let anna = app.login(&case.north.secretary).await;
    let later: Value = app
        .as_user(&anna)
        .get("/api/v1/me/worklist?until=2026-07-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["items"][0]["kind"], "secretary_visit");
    assert_eq!(later["items"][0]["due_on"], "2026-06-10");
    let soon: Value = app
        .as_user(&anna)
        .get("/api/v1/me/worklist")
        .await
        .json()
        .await
        .unwrap();
    assert!(soon["items"].as_array().unwrap().is_empty());

    let admin = app.system_admin_session().await;
    problem(app.as_user(&admin).get("/api/v1/me/worklist").await, 403).await;
}

#[actix_web::test]
async fn the_worklist_holds_the_placement_decisions_due_for_her_children() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let kinds = |body: &Value| -> Vec<(String, String, bool)> {
        body["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(d["placement_id"], json!(case.placement));
                (
                    d["kind"].as_str().unwrap().to_owned(),
                    d["due_on"].as_str().unwrap().to_owned(),
                    d["overdue"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    // Placed on 10 March 2026, born 20 May 2010: the reconsideration is due in six months,
    // the care plan's revision in two years, and the decision on care after 18 on the 18th
    // birthday (the placement runs on to the day before the 21st).
    let ahead: Value = app
        .as_user(&case.north.secretary_session)
        .get("/api/v1/me/worklist?until=2028-06-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kinds(&ahead),
        [
            ("reconsideration".into(), "2026-09-10".into(), false),
            ("care_plan".into(), "2028-03-10".into(), false),
            ("migration_agency_notice".into(), "2028-04-29".into(), false),
            ("continued_care_after_18".into(), "2028-05-20".into(), false),
            (
                "guardian_appointment_end".into(),
                "2028-05-20".into(),
                false
            ),
        ]
    );

    // A day after the reconsideration was due, it is overdue for the secretary, the manager
    // and the home's staff; once recorded, it is gone and the next is six months on.
    app.clock.advance(Duration::days(185));
    let anna = app.login(&case.north.secretary).await;
    let manager = app.login(&case.north.manager).await;
    let erik = app.login(&case.erik_user).await;
    for session in [&anna, &manager, &erik] {
        let now: Value = app
            .as_user(session)
            .get("/api/v1/me/worklist")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            kinds(&now),
            [("reconsideration".into(), "2026-09-10".into(), true)]
        );
    }
    let recorded = app
        .as_user(&anna)
        .post(
            &format!("/api/v1/placements/{}/reviews", case.placement),
            json!({"kind": "reconsideration", "decided_on": "2026-09-11", "decision_reference": "BN-2026-88", "continued_need": true}),
        )
        .await;
    assert_eq!(recorded.status(), 201);
    let after: Value = app
        .as_user(&anna)
        .get("/api/v1/me/worklist?until=2027-03-31")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kinds(&after),
        [("reconsideration".into(), "2027-03-11".into(), false)]
    );

    // Someone else's secretary sees none of it.
    let other = crate::children::office(&app, "South").await;
    let theirs: Value = app
        .as_user(&other.secretary_session)
        .get("/api/v1/me/worklist?until=2030-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["decisions"], json!([]));
}

#[actix_web::test]
async fn the_eighteenth_birthdays_tasks_leave_the_worklist_once_recorded() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    // 18 on 1 March 2026, placed on 10 March with a god man still appointed; another child, 18
    // on 20 March 2026, placed over her birthday.
    let mut body = child_body(north.unit, "Omid", "2008-03-01");
    body["arrival_date"] = json!("2026-01-10");
    let adult = register(&app, &north.secretary_session, body).await;
    let near = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2008-03-20"),
    )
    .await;
    let mut placements = Vec::new();
    for (child, reference) in [(adult, "SN-7"), (near, "SN-8")] {
        let placed: Value = app
            .as_user(&north.secretary_session)
            .post(
                &format!("/api/v1/children/{child}/placements"),
                json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": reference}),
            )
            .await
            .json()
            .await
            .unwrap();
        placements.push(placed["id"].as_str().unwrap().to_owned());
    }
    let tasks = |body: &Value| -> Vec<(String, String, String, bool)> {
        body["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] != "reconsideration" && d["kind"] != "care_plan")
            .map(|d| {
                (
                    d["child_id"].as_str().unwrap().to_owned(),
                    d["kind"].as_str().unwrap().to_owned(),
                    d["due_on"].as_str().unwrap().to_owned(),
                    d["overdue"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let (adult_id, near_id) = (adult.to_string(), near.to_string());
    assert_eq!(
        tasks(&worklist(&app, &north.secretary_session).await),
        [
            (
                near_id.clone(),
                "migration_agency_notice".into(),
                "2026-02-27".into(),
                true
            ),
            (
                adult_id.clone(),
                "guardian_appointment_end".into(),
                "2026-03-01".into(),
                true
            ),
            (
                near_id.clone(),
                "continued_care_after_18".into(),
                "2026-03-20".into(),
                false
            ),
            (
                near_id.clone(),
                "guardian_appointment_end".into(),
                "2026-03-20".into(),
                false
            ),
        ]
    );

    // The god man's appointment ended on the birthday; no specially appointed guardian follows.
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/children/{adult}")))
        .bearer_auth(&north.secretary_session.access_token)
        .header("if-match", format!("\"{}-1\"", adult.simple()))
        .json(&json!({"guardian": {"name": "Gunnel Gode", "appointed_on": "2026-02-10", "ended_on": "2026-03-01", "special_guardian_follows": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    // The notice to Migrationsverket was sent (late): recorded as a review of its own kind.
    let noticed = app
        .as_user(&north.secretary_session)
        .post(
            &format!("/api/v1/placements/{}/reviews", placements[1]),
            json!({"kind": "migration_agency_notice", "decided_on": "2026-03-10", "decision_reference": "MIG-2026-1234"}),
        )
        .await;
    assert_eq!(noticed.status(), 201, "{}", noticed.text().await.unwrap());
    assert_eq!(
        tasks(&worklist(&app, &north.secretary_session).await),
        [
            (
                near_id.clone(),
                "continued_care_after_18".into(),
                "2026-03-20".into(),
                false
            ),
            (
                near_id,
                "guardian_appointment_end".into(),
                "2026-03-20".into(),
                false
            ),
        ]
    );
}

async fn worklist(app: &TestApp, session: &Session) -> Value {
    app.as_user(session)
        .get("/api/v1/me/worklist")
        .await
        .json()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_system_with_visits_write_records_a_contact_for_a_person_who_may_record_it() {
    let app = spawn_app().await;
    let case = placed_child(&app).await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "boendeappen", &["visits:write"])
        .await;
    let system = app.client_login(&client).await;
    let staff = of_kind(
        &schedules(&app, &case.erik, case.child).await,
        "staff_contact",
    )
    .clone();
    let path = format!("/api/v1/children/{}/visits", case.child);
    let mut body = visit("2026-03-10T06:30:00Z", &staff, false);

    // Nobody named, or someone who could not record it herself: refused with its own code.
    let unrelated = app.create_user(Profession::HvbStaff, Some(case.north.unit));
    let gone = app.create_user(Profession::HvbStaff, Some(case.north.unit));
    let shown = app
        .as_user(&admin)
        .get(&format!("/api/v1/users/{}", gone.id))
        .await;
    let etag = shown.headers()["etag"].to_str().unwrap().to_owned();
    let deactivated = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", gone.id)))
        .bearer_auth(&admin.access_token)
        .header("if-match", etag)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);
    for named in [
        Value::Null,
        json!(unrelated.id),
        json!(gone.id),
        json!(Uuid::now_v7()),
    ] {
        body["performed_by"] = named.clone();
        let refused = problem(app.as_user(&system).post(&path, body.clone()).await, 422).await;
        assert_eq!(
            refused["type"], "urn:trygg:problem:visit-performer-refused",
            "{named}"
        );
        assert_eq!(refused["errors"][0]["field"], "performed_by");
    }

    // The home's staff member: recorded as hers, by the system.
    body["performed_by"] = json!(case.erik_user.id);
    let response = app.as_user(&system).post(&path, body.clone()).await;
    assert_eq!(response.status(), 201);
    let recorded: Value = response.json().await.unwrap();
    assert_eq!(recorded["performed_by"], case.erik_user.id.to_string());
    let visits: Value = app
        .as_user(&case.erik)
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(visits["items"].as_array().unwrap().len(), 1);
    let by: (String, Option<Uuid>) = {
        use diesel::prelude::*;
        use trygg::db::schema::audit_events::dsl as e;
        e::audit_events
            .filter(e::entity_id.eq(recorded["id"].as_str().unwrap().parse::<Uuid>().unwrap()))
            .filter(e::action.eq("create"))
            .select((e::actor_type, e::actor_id))
            .first(&mut app.db.superuser())
            .unwrap()
    };
    assert_eq!(
        by,
        ("service_account".to_owned(), Some(client.id)),
        "the system is the one who wrote it"
    );

    // A person records only her own contacts.
    body["performed_by"] = json!(case.north.secretary.id);
    let refused = problem(app.as_user(&case.erik).post(&path, body).await, 422).await;
    assert_eq!(refused["type"], "urn:trygg:problem:visit-performer-refused");
}
