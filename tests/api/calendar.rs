//! Stories about the calendar feed: a secretary subscribes to her due contacts in her phone's
//! calendar. The feed is read with `ical`, a parser that is not the crate that writes it, and
//! it must never name a child to the calendar services that fetch it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::config::CalendarSettings;
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::{Session, PASSWORD};
use crate::helpers::{problem, spawn_app, spawn_app_with, AppOptions, TestApp};

const FEED: &str = "/api/v1/me/calendar-feed";

/// Ali (no protection) and Mina (protected registration), both on North's secretary's caseload
/// and placed today (2026-03-10) in an HVB home; Mina also has a monthly visit from January,
/// overdue since February.
struct Caseload {
    north: Office,
    ali: Uuid,
    mina: Uuid,
}

fn body_of(unit: Uuid, given: &str, family: &str, dossier: &str) -> Value {
    let mut body = child_body(unit, given, "2010-05-20");
    body["family_name"] = json!(family);
    body["dossier_number"] = json!(dossier);
    body
}

async fn place(app: &TestApp, session: &Session, child: Uuid, home: Uuid) {
    let placed = app
        .as_user(session)
        .post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-1"}),
        )
        .await;
    assert_eq!(placed.status(), 201);
}

async fn caseload(app: &TestApp) -> Caseload {
    let north = office(app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let secretary = &north.secretary_session;
    let ali = register(
        app,
        secretary,
        body_of(north.unit, "Ali", "Ahmadi", "4711001"),
    )
    .await;
    let mut protected = body_of(north.unit, "Mina", "Rahimi", "4711002");
    protected["protection_level"] = json!("protected_registration");
    let mina = register(app, secretary, protected).await;
    place(app, secretary, ali, home).await;
    place(app, secretary, mina, home).await;
    let monthly = app
        .as_user(secretary)
        .post(
            &format!("/api/v1/children/{mina}/contact-schedules"),
            json!({"kind": "secretary_visit", "responsible": "secretary", "secretary_id": north.secretary.id,
                   "recurrence": "1 per month", "tolerance_days": 7, "start_date": "2026-01-15",
                   "reason": "Needs closer follow-up"}),
        )
        .await;
    assert_eq!(monthly.status(), 201);
    Caseload { north, ali, mina }
}

/// Makes the caller's feed; returns its token and URL.
async fn make_feed(app: &TestApp, session: &Session) -> (String, String) {
    let response = app.as_user(session).post(FEED, json!({})).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(token.starts_with("cal_"), "{body}");
    assert!(url.ends_with(&format!("/api/v1/me/calendar.ics?token={token}")));
    (token, url)
}

async fn fetch(app: &TestApp, token: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/me/calendar.ics?token={token}"))
        .await
}

/// The feed's text, checking that it is served as a calendar.
async fn feed_text(app: &TestApp, token: &str) -> String {
    let response = fetch(app, token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    response.text().await.unwrap()
}

type Event = BTreeMap<String, String>;

/// The events of a feed, read by the independent parser: property name → value (the first of a
/// name), with `DTSTART;VALUE` as `DTSTART.VALUE`.
fn events(text: &str) -> Vec<Event> {
    let mut calendars = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let calendar = calendars
        .next()
        .expect("one calendar")
        .expect("the feed parses");
    assert!(calendars.next().is_none(), "exactly one calendar");
    let version = calendar.properties.iter().find(|p| p.name == "VERSION");
    assert_eq!(version.and_then(|p| p.value.as_deref()), Some("2.0"));
    calendar
        .events
        .into_iter()
        .map(|event| {
            let mut found = Event::new();
            for property in event.properties {
                for (param, values) in property.params.iter().flatten() {
                    found
                        .entry(format!("{}.{param}", property.name))
                        .or_insert(values.join(","));
                }
                found
                    .entry(property.name)
                    .or_insert(property.value.unwrap_or_default());
            }
            found
        })
        .collect()
}

/// Every name, identity and dossier number of the caseload, none of which a feed may hold.
const NAMES: [&str; 6] = ["Ali", "Ahmadi", "Mina", "Rahimi", "4711001", "4711002"];

fn unfolded(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

fn case_of(child: Uuid) -> String {
    let hex = child.simple().to_string();
    format!("case {}", hex[hex.len() - 6..].to_ascii_uppercase())
}

#[actix_web::test]
async fn a_secretary_subscribes_to_her_due_contacts_and_the_feed_names_no_child() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let (token, _) = make_feed(&app, &case.north.secretary_session).await;
    let text = feed_text(&app, &token).await;
    let found = events(&text);

    // The quarterly visits of both children, due three months after today's placement, and
    // Mina's monthly visit, due in February and overdue since its week's tolerance ran out.
    let mut dates: Vec<(String, String, bool)> = found
        .iter()
        .map(|e| {
            let case = if e["SUMMARY"].contains(&case_of(case.ali)) {
                "ali"
            } else {
                assert!(e["SUMMARY"].contains(&case_of(case.mina)), "{e:?}");
                "mina"
            };
            assert_eq!(e["DTSTART.VALUE"], "DATE", "an all-day event: {e:?}");
            let overdue = e["SUMMARY"].starts_with("Overdue: ");
            (case.to_owned(), e["DTSTART"].clone(), overdue)
        })
        .collect();
    dates.sort();
    assert_eq!(
        dates,
        vec![
            ("ali".to_owned(), "20260610".to_owned(), false),
            ("mina".to_owned(), "20260215".to_owned(), true),
            ("mina".to_owned(), "20260610".to_owned(), false),
        ],
        "{text}"
    );
    for event in &found {
        assert!(
            event["SUMMARY"].contains("Follow-up visit · case "),
            "{event:?}"
        );
        assert!(event["URL"].starts_with(&format!("{}/api/v1/contact-schedules/", app.address)));
        assert!(event["DESCRIPTION"].contains(&event["URL"]));
        assert_eq!(event["CLASS"], "PRIVATE");
    }
    let whole = unfolded(&text);
    for name in NAMES {
        assert!(!whole.contains(name), "the feed holds {name}:\n{text}");
    }

    // Fetched again, each contact keeps its UID, so calendars update rather than duplicate.
    let uids = |events: &[Event]| -> BTreeSet<String> {
        events.iter().map(|e| e["UID"].clone()).collect()
    };
    let again = events(&feed_text(&app, &token).await);
    assert_eq!(uids(&found).len(), 3);
    assert_eq!(uids(&found), uids(&again));
}

#[actix_web::test]
async fn with_first_names_allowed_the_feed_still_never_names_a_protected_child() {
    let app = spawn_app_with(AppOptions {
        calendar: Some(CalendarSettings {
            first_names: true,
            public_url: Some("https://trygg.example.se".into()),
        }),
        ..AppOptions::default()
    })
    .await;
    let case = caseload(&app).await;
    let (token, url) = make_feed(&app, &case.north.secretary_session).await;
    assert!(url.starts_with("https://trygg.example.se/api/v1/me/calendar.ics?token="));
    let text = feed_text(&app, &token).await;
    let found = events(&text);
    assert_eq!(found.len(), 3);
    for event in &found {
        let summary = &event["SUMMARY"];
        if summary.contains(&case_of(case.ali)) {
            assert!(summary.contains("Ali ("), "{summary}");
        }
        assert!(event["URL"].starts_with("https://trygg.example.se/api/v1/contact-schedules/"));
    }
    let whole = unfolded(&text);
    for name in ["Ahmadi", "Mina", "Rahimi", "4711001", "4711002"] {
        assert!(!whole.contains(name), "the feed holds {name}:\n{text}");
    }
}

#[actix_web::test]
async fn a_revoked_or_replaced_feed_answers_401() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let session = &case.north.secretary_session;
    let (first, _) = make_feed(&app, session).await;
    assert_eq!(fetch(&app, &first).await.status(), 200);

    let (second, _) = make_feed(&app, session).await;
    let body = problem(fetch(&app, &first).await, 401).await;
    assert_eq!(body["type"], "urn:trygg:problem:unauthenticated");
    assert_eq!(fetch(&app, &second).await.status(), 200);

    let revoked = app
        .as_user(session)
        .send(reqwest::Method::DELETE, FEED, None)
        .await;
    assert_eq!(revoked.status(), 204);
    problem(fetch(&app, &second).await, 401).await;
    // Revoking again is no error.
    let again = app
        .as_user(session)
        .send(reqwest::Method::DELETE, FEED, None)
        .await;
    assert_eq!(again.status(), 204);
}

#[actix_web::test]
async fn a_new_password_ends_the_feed() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let session = &case.north.secretary_session;
    let (token, _) = make_feed(&app, session).await;
    let changed = app
        .as_user(session)
        .post(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a quite different passphrase 42"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    problem(fetch(&app, &token).await, 401).await;
    // A new feed works again.
    let (fresh, _) = make_feed(&app, session).await;
    assert_eq!(fetch(&app, &fresh).await.status(), 200);
}

#[actix_web::test]
async fn each_feed_shows_only_its_owners_contacts() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let south = office(&app, "South").await;
    let home = app.arrange_facility(south.unit, "hvb", 4, &[]);
    let omid = register(
        &app,
        &south.secretary_session,
        body_of(south.unit, "Omid", "Karimi", "4711003"),
    )
    .await;
    place(&app, &south.secretary_session, omid, home).await;

    let (north_token, _) = make_feed(&app, &case.north.secretary_session).await;
    let (south_token, _) = make_feed(&app, &south.secretary_session).await;
    let south_text = unfolded(&feed_text(&app, &south_token).await);
    let north_text = unfolded(&feed_text(&app, &north_token).await);
    assert_eq!(events(&south_text).len(), 1);
    assert!(south_text.contains(&case_of(omid)));
    assert!(!south_text.contains(&case_of(case.ali)) && !south_text.contains(&case_of(case.mina)));
    assert!(!north_text.contains(&case_of(omid)));
    assert!(!south_text.contains("Omid") && !south_text.contains("Karimi"));
}

/// Deactivates `user` straight in the database, as an earlier release without feeds would
/// have: the fetch itself must refuse the feed of someone no longer active.
fn deactivate(app: &TestApp, user: Uuid) {
    use trygg::db::schema::users;
    let mut conn = app.db.superuser();
    conn.transaction(|conn| {
        let event = AuditEvent::new(
            AuditActor::system(),
            AuditAction::Update,
            EntityType::User,
            Some(user),
            Utc::now(),
        );
        diesel::update(users::table.find(user))
            .set((
                users::active.eq(false),
                users::last_audit_event_id.eq(event.id),
            ))
            .execute(conn)?;
        audit::append(conn, &[event])?;
        Ok::<_, trygg::error::AppError>(())
    })
    .expect("deactivate");
}

#[actix_web::test]
async fn a_deactivated_persons_feed_stops_working() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let (token, _) = make_feed(&app, &case.north.secretary_session).await;
    assert_eq!(fetch(&app, &token).await.status(), 200);
    deactivate(&app, case.north.secretary.id);
    problem(fetch(&app, &token).await, 401).await;
}

#[derive(QueryableByName, Debug)]
struct Logged {
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    entity_type: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    actor_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    entity_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    child_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    child_protected: bool,
}

#[actix_web::test]
async fn each_fetch_is_audited_as_the_owners_look_at_her_worklist() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let (token, _) = make_feed(&app, &case.north.secretary_session).await;
    let mut conn = app.db.superuser();
    let last: i64 = diesel::sql_query("SELECT coalesce(max(seq), 0) AS seq FROM audit_events")
        .get_result::<Seq>(&mut conn)
        .unwrap()
        .seq;
    feed_text(&app, &token).await;
    let logged: Vec<Logged> = diesel::sql_query(
        "SELECT action, entity_type, actor_id, entity_id, child_id, child_protected \
         FROM audit_events WHERE seq > $1 ORDER BY seq",
    )
    .bind::<diesel::sql_types::BigInt, _>(last)
    .load(&mut conn)
    .unwrap();
    let secretary = Some(case.north.secretary.id);
    assert!(logged.iter().all(|e| e.actor_id == secretary), "{logged:?}");
    let lists = logged
        .iter()
        .filter(|e| e.action == "list" && e.entity_type == "contact_schedule")
        .count();
    assert_eq!(lists, 1, "{logged:?}");
    let reads: Vec<&Logged> = logged
        .iter()
        .filter(|e| e.action == "read" && e.entity_type == "contact_schedule")
        .collect();
    assert_eq!(reads.len(), 3, "a read of each schedule shown: {logged:?}");
    assert!(reads.iter().all(|e| e.entity_id.is_some()));
    let about_mina = reads
        .iter()
        .filter(|e| e.child_id == Some(case.mina))
        .collect::<Vec<_>>();
    assert_eq!(about_mina.len(), 2);
    assert!(about_mina.iter().all(|e| e.child_protected));
    assert!(reads
        .iter()
        .any(|e| e.child_id == Some(case.ali) && !e.child_protected));
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
}

#[actix_web::test]
async fn a_profession_without_a_worklist_gets_no_feed() {
    let app = spawn_app().await;
    let auditor = app.create_user(Profession::Auditor, None);
    let session = app.login(&auditor).await;
    let body = problem(app.as_user(&session).post(FEED, json!({})).await, 403).await;
    assert_eq!(body["type"], "urn:trygg:problem:forbidden");
}

#[derive(QueryableByName)]
struct Ended {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    revoked_reason: Option<String>,
}

#[actix_web::test]
async fn a_system_administrator_deactivating_her_ends_the_feed_in_the_same_change() {
    let app = spawn_app().await;
    let case = caseload(&app).await;
    let (token, _) = make_feed(&app, &case.north.secretary_session).await;
    let admin = app.system_admin_session().await;
    let path = format!("/api/v1/users/{}", case.north.secretary.id);
    let read = app.as_user(&admin).get(&path).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let deactivated = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin.access_token)
        .header("if-match", etag)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);
    problem(fetch(&app, &token).await, 401).await;
    let ended: Ended =
        diesel::sql_query("SELECT revoked_reason FROM calendar_feeds WHERE user_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(case.north.secretary.id)
            .get_result(&mut app.db.superuser())
            .unwrap();
    assert_eq!(ended.revoked_reason.as_deref(), Some("deactivated"));
}
