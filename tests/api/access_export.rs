//! Stories about a child's access request (GDPR art. 15): the registrar exports everything held
//! about her, and nothing about anyone else, and nobody else may.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel::{sql_query, QueryableByName};
use serde_json::{json, Value};
use trygg::policy::{Profession, Scope};
use uuid::Uuid;

use crate::audit_triggers::age_out_plan;
use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

const HOSTILE: &str = "<script>alert(\"x\")</script>";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The ids `sql` finds for `child` (bound as `$1`), read straight from the database.
fn ids_in_db(app: &TestApp, sql: &str, child: Uuid) -> BTreeSet<String> {
    sql_query(sql)
        .bind::<SqlUuid, _>(child)
        .load::<Id>(&mut app.db.superuser())
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect()
}

/// The tables that hold a child's rows, the key the export lists them under, the field that
/// names each row, and how the test finds them, written here apart from the service's queries.
fn tables() -> Vec<(&'static str, &'static str, String)> {
    let own = |table: &str| format!("SELECT id::text AS id FROM {table} WHERE child_id = $1");
    let mut tables: Vec<(&'static str, &'static str, String)> = [
        "age_assessments",
        "protection_changes",
        "emergency_accesses",
        "placements",
        "contact_schedules",
        "visits",
        "age_out_plans",
        "age_out_plan_versions",
        "age_out_goals",
        "age_out_goal_versions",
        "age_out_progress_notes",
        "age_out_reviews",
        "reimbursement_claim_lines",
    ]
    .into_iter()
    .map(|table| (table, "id", own(table)))
    .collect();
    tables.push((
        "placement_reviews",
        "id",
        "SELECT id::text AS id FROM placement_reviews \
         WHERE placement_id IN (SELECT id FROM placements WHERE child_id = $1)"
            .to_owned(),
    ));
    tables.push((
        "secretaries",
        "user_id",
        "SELECT user_id::text AS id FROM child_secretaries WHERE child_id = $1".to_owned(),
    ));
    tables
}

fn id_of(body: &Value) -> Uuid {
    body["id"].as_str().unwrap().parse().unwrap()
}

async fn created(response: reqwest::Response) -> Uuid {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    id_of(&body)
}

/// A child placed in `facility` with a placement review, a visit and its correction, and an
/// age-out plan with a goal, a progress note and a review: every kind of record a case grows.
async fn case_of(app: &TestApp, office: &Office, facility: Uuid, child: Uuid) {
    let me = app.as_user(&office.secretary_session);
    let placement = created(
        me.post(
            &format!("/api/v1/children/{child}/placements"),
            json!({"facility_id": facility, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-1"}),
        )
        .await,
    )
    .await;
    created(
        me.post(
            &format!("/api/v1/placements/{placement}/reviews"),
            json!({"kind": "reconsideration", "decided_on": "2026-03-05", "decision_reference": "BN-2026-52", "continued_need": true}),
        )
        .await,
    )
    .await;
    let visit = created(
        me.post(
            &format!("/api/v1/children/{child}/visits"),
            json!({"occurred_at": "2026-03-09T10:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true, "notes": "She likes her new school"}),
        )
        .await,
    )
    .await;
    created(
        me.post(
            &format!("/api/v1/visits/{visit}/corrections"),
            json!({"occurred_at": "2026-03-09T11:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true, "reason": "The visit began an hour later"}),
        )
        .await,
    )
    .await;
    age_out_plan(&me, child).await;
}

struct Story {
    north: Office,
    south: Office,
    /// Åsa, whose access request it is.
    asa: Uuid,
    /// Another girl of the same unit, living in the same home, with a protected identity.
    leyla: Uuid,
    staff: Session,
}

async fn story(app: &TestApp) -> Story {
    let north = office(app, "North").await;
    let south = office(app, "South").await;
    let erik = app.create_user(Profession::HvbStaff, Some(north.unit));
    let facility = app.arrange_facility(north.unit, "hvb", 10, &[erik.id]);
    let mut body = child_body(north.unit, "Åsa", "2010-05-20");
    body["family_name"] = json!(HOSTILE);
    body["sex"] = json!("female");
    body["personal_identity_number"] = json!("100520-1247");
    // Both assigned to the municipality in the last quarter of 2025: a claim line each.
    body["assigned_on"] = json!("2025-12-15");
    let asa = register(app, &north.secretary_session, body).await;
    let mut body = child_body(north.unit, "Leyla", "2010-08-02");
    body["assigned_on"] = json!("2025-12-15");
    let leyla = register(app, &north.secretary_session, body).await;
    case_of(app, &north, facility, asa).await;
    case_of(app, &north, facility, leyla).await;
    let finance = app.create_user(Profession::Administrator, None);
    let claimed = app
        .as_user(&app.login(&finance).await)
        .post(
            "/api/v1/reimbursement-claims",
            json!({"quarter": "2025-Q4"}),
        )
        .await;
    assert_eq!(claimed.status(), 201);
    let glass = app
        .as_user(&south.secretary_session)
        .post(
            &format!("/api/v1/children/{asa}/emergency-access"),
            json!({"reason": "Police called at night: the child was found alone"}),
        )
        .await;
    assert_eq!(glass.status(), 201);
    // Leyla's own decisions, which must stay out of Åsa's export.
    let manager = app.as_user(&north.manager_session);
    let reassessed = manager
        .post(
            &format!("/api/v1/children/{leyla}/age-assessments"),
            json!({"date_of_birth": "2010-01-20", "reason": "The medical age assessment came back", "decision_reference": "SN-2026-10"}),
        )
        .await;
    assert_eq!(reassessed.status(), 200);
    let decided = manager
        .post(
            &format!("/api/v1/children/{leyla}/protection"),
            json!({"protection_level": "confidentiality_marking", "reason": "A threat was reported today", "decision_reference": "SN-2026-9"}),
        )
        .await;
    assert_eq!(decided.status(), 200);
    // Reads by the people on the case, for the audit log to tell.
    for session in [&north.secretary_session, &south.secretary_session] {
        let read = app
            .as_user(session)
            .get(&format!("/api/v1/children/{asa}"))
            .await;
        assert_eq!(read.status(), 200);
    }
    let staff = app.login(&erik).await;
    Story {
        north,
        south,
        asa,
        leyla,
        staff,
    }
}

async fn registrar(app: &TestApp, profession: Profession) -> (Uuid, Session) {
    let user = app.create_user(profession, None);
    let session = app.login(&user).await;
    (user.id, session)
}

fn export_url(child: Uuid) -> String {
    format!("/api/v1/children/{child}/access-export")
}

#[actix_web::test]
async fn an_administrator_exports_everything_held_about_a_child_and_nothing_of_another() {
    let app = spawn_app().await;
    let story = story(&app).await;
    let (admin, session) = registrar(&app, Profession::Administrator).await;

    let response = app.as_user(&session).get(&export_url(story.asa)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();

    // Her record, every field: identity number, guardian, the hostile name as data.
    let child = &export["child"];
    assert_eq!(export["child_id"], story.asa.to_string());
    assert_eq!(child["id"], story.asa.to_string());
    assert_eq!(child["given_name"], "Åsa");
    assert_eq!(child["family_name"], HOSTILE);
    // Stored in its full, twelve-digit form.
    assert_eq!(child["personal_identity_number"], "20100520-1247");
    assert_eq!(child["guardian_name"], "Gunnel Gode");
    assert_eq!(child["guardian_phone"], "070-123 45 67");

    // Table by table, exactly her rows.
    for (key, field, sql) in tables() {
        let in_db = ids_in_db(&app, &sql, story.asa);
        let exported: BTreeSet<String> = export["records"][key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is a list"))
            .iter()
            .map(|row| row[field].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(exported, in_db, "{key}");
    }
    for key in [
        "placements",
        "placement_reviews",
        "contact_schedules",
        "emergency_accesses",
        "age_out_plans",
        "age_out_goals",
        "age_out_progress_notes",
        "age_out_reviews",
        "secretaries",
        "reimbursement_claim_lines",
    ] {
        assert!(
            !export["records"][key].as_array().unwrap().is_empty(),
            "{key}"
        );
    }
    assert_eq!(export["records"]["visits"].as_array().unwrap().len(), 2);
    assert!(export["records"]["visits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["correction_reason"] == "The visit began an hour later"));

    // The audit log's events about her, but the export's own (written after the reads).
    let events = ids_in_db(
        &app,
        &format!(
            "SELECT id::text AS id FROM audit_events WHERE child_id = $1 \
             AND NOT (action = 'export' AND actor_id = '{admin}')"
        ),
        story.asa,
    );
    let exported: Vec<&Value> = export["records"]["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let exported_ids: BTreeSet<String> = exported
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported_ids, events);
    let south_read = exported.iter().any(|e| {
        e["action"] == "emergency_access"
            && e["actor_id"] == story.south.secretary.id.to_string()
            && e["actor_role"] == "social_secretary"
            && e["purpose"] == "Police called at night: the child was found alone"
    });
    assert!(south_read, "who opened her, in which role, and why");
    assert!(exported
        .iter()
        .any(|e| e["action"] == "read" && e["actor_id"] == story.north.secretary.id.to_string()));

    // Nothing of Leyla: not her id, nor the id of any row of hers.
    let mut hers = BTreeSet::from([story.leyla.to_string()]);
    for (_, _, sql) in tables()
        .into_iter()
        .filter(|(key, ..)| *key != "secretaries")
    {
        hers.extend(ids_in_db(&app, &sql, story.leyla));
    }
    hers.extend(ids_in_db(
        &app,
        "SELECT id::text AS id FROM audit_events WHERE child_id = $1",
        story.leyla,
    ));
    assert!(hers.len() > 10, "Leyla has records of her own: {hers:?}");
    for id in &hers {
        assert!(
            !text.contains(id.as_str()),
            "{id} of the other child is in the export"
        );
    }

    // The export is itself an event about her, with her unit and protection.
    let (count, unit, protected): (i64, Option<Uuid>, bool) = {
        use trygg::db::schema::audit_events as e;
        let rows: Vec<(Option<Uuid>, bool)> = e::table
            .filter(e::child_id.eq(story.asa))
            .filter(e::actor_id.eq(admin))
            .filter(e::action.eq("export"))
            .filter(e::outcome.eq("success"))
            .filter(e::entity_type.eq("child"))
            .filter(e::entity_id.eq(story.asa))
            .select((e::child_unit_id, e::child_protected))
            .load(&mut app.db.superuser())
            .unwrap();
        (rows.len() as i64, rows[0].0, rows[0].1)
    };
    assert_eq!(count, 1);
    assert_eq!(unit, Some(story.north.unit));
    assert!(!protected);
}

#[actix_web::test]
async fn the_page_shows_the_same_export_with_every_value_escaped() {
    let app = spawn_app().await;
    let story = story(&app).await;
    let (_, session) = registrar(&app, Profession::SystemAdmin).await;

    let by_accept = app
        .client
        .get(app.url(&export_url(story.asa)))
        .bearer_auth(&session.access_token)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(by_accept.status(), 200);
    assert_eq!(
        by_accept.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = by_accept.text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(
        !page.contains("<script"),
        "the hostile name came out as markup"
    );
    assert!(page.contains("Åsa"));
    assert!(page.contains("20100520-1247"));
    assert!(page.contains("Police called at night: the child was found alone"));
    assert!(!page.contains(&story.leyla.to_string()));

    let by_query = app
        .as_user(&session)
        .get(&format!("{}?format=html", export_url(story.asa)))
        .await;
    assert_eq!(by_query.status(), 200);
    assert!(by_query
        .text()
        .await
        .unwrap()
        .contains("<h2>Placements</h2>"));

    // `format=json` wins over Accept; anything else is a malformed request.
    let json = app
        .client
        .get(app.url(&format!("{}?format=json", export_url(story.asa))))
        .bearer_auth(&session.access_token)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(json.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    for bad in ["format=csv", "child_id=x"] {
        let answer = app
            .as_user(&session)
            .get(&format!("{}?{bad}", export_url(story.asa)))
            .await;
        let body = problem(answer, 400).await;
        assert_eq!(body["type"], "urn:trygg:problem:malformed-request");
    }
}

#[actix_web::test]
async fn a_protected_identity_is_exported_in_full_and_the_auditor_sees_the_export() {
    let app = spawn_app().await;
    let story = story(&app).await;
    let (admin, session) = registrar(&app, Profession::SystemAdmin).await;

    let response = app.as_user(&session).get(&export_url(story.leyla)).await;
    assert_eq!(response.status(), 200);
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["child"]["given_name"], "Leyla");
    assert_eq!(
        export["child"]["protection_level"],
        "confidentiality_marking"
    );
    assert_eq!(
        export["records"]["protection_changes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let auditor = app.create_user(Profession::Auditor, None);
    let auditor = app.login(&auditor).await;
    let review: Value = app
        .as_user(&auditor)
        .get("/api/v1/audit-events/protected-identity-accesses?action=export")
        .await
        .json()
        .await
        .unwrap();
    let exports: Vec<&Value> = review["items"].as_array().unwrap().iter().collect();
    assert_eq!(exports.len(), 1, "{review}");
    assert_eq!(exports[0]["actor_id"], admin.to_string());
    assert_eq!(exports[0]["child_id"], story.leyla.to_string());
    assert_eq!(exports[0]["child_protected"], true);
}

#[actix_web::test]
async fn nobody_but_the_registrars_may_export_and_an_unknown_child_gives_nothing_away() {
    let app = spawn_app().await;
    let story = story(&app).await;
    let housing = app.create_user(Profession::HousingStaff, Some(story.north.unit));
    let housing = app.login(&housing).await;
    let auditor = app.create_user(Profession::Auditor, None);
    let auditor = app.login(&auditor).await;
    let admin = app.system_admin_session().await;
    let every_scope: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let client = app.register_client(&admin, "ledger", &every_scope).await;
    let system = app.client_login(&client).await;
    let unknown = Uuid::now_v7();

    let refused = [
        ("her secretary", &story.north.secretary_session),
        ("her unit manager", &story.north.manager_session),
        ("the staff of her home", &story.staff),
        ("housing staff", &housing),
        ("an auditor", &auditor),
        ("a system with every scope", &system),
    ];
    for (who, session) in refused {
        for child in [story.asa, unknown] {
            let answer = app.as_user(session).get(&export_url(child)).await;
            let body = problem(answer, 403).await;
            assert_eq!(body["type"], "urn:trygg:problem:forbidden", "{who}");
        }
    }
    let denied = ids_in_db(
        &app,
        "SELECT id::text AS id FROM audit_events WHERE child_id = $1 \
         AND action = 'export' AND outcome = 'denied'",
        story.asa,
    );
    assert_eq!(
        denied.len(),
        refused.len(),
        "each refusal is a denied event"
    );
    let exported = ids_in_db(
        &app,
        "SELECT id::text AS id FROM audit_events WHERE child_id = $1 \
         AND action = 'export' AND outcome = 'success'",
        story.asa,
    );
    assert!(exported.is_empty());

    let (_, administrator) = registrar(&app, Profession::Administrator).await;
    let body = problem(
        app.as_user(&administrator).get(&export_url(unknown)).await,
        404,
    )
    .await;
    assert_eq!(body["type"], "urn:trygg:problem:not-found");
}
