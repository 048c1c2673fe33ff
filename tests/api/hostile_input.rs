//! Stories about input an attacker sends (issue 9, defect 2): a NUL character in any text field
//! is refused at the boundary with the field named, never passed to PostgreSQL (which refuses it
//! with an error the client would see as 500), and nothing is written. A date or an instant in
//! any other shape than the spec's (`format: date`, `format: date-time`) is refused as
//! malformed with the field named.

use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::db::schema::{facilities, units, users};

use crate::children::{child_body, children_count, office, register};
use crate::helpers::{problem, spawn_app};

/// The fields named in a 422 `invalid-character` answer.
async fn refused_fields(response: reqwest::Response) -> Vec<String> {
    let body = problem(response, 422).await;
    assert_eq!(
        body["type"], "urn:trygg:problem:invalid-character",
        "{body}"
    );
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

#[actix_web::test]
async fn a_nul_in_a_childs_text_fields_is_refused_with_each_field_named() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let mut body = child_body(north.unit, "A\u{0}li", "2010-05-20");
    body["languages"] = json!(["dari", "pa\u{0}shto"]);
    body["guardian"]["name"] = json!("Gunnel\u{0}");
    let response = app
        .as_user(&north.secretary_session)
        .post("/api/v1/children", body)
        .await;
    assert_eq!(
        refused_fields(response).await,
        ["given_name", "guardian.name", "languages[1]"]
    );
    assert_eq!(children_count(&app), 0);

    // In an edit too, and in a placement's reasons.
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let tag = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/children/{child}"))
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/children/{child}")))
        .bearer_auth(&north.secretary_session.access_token)
        .header("if-match", tag)
        .json(&json!({"family_name": "\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_fields(response).await, ["family_name"]);
    let path = format!("/api/v1/children/{child}/placements");
    let placement = json!({
        "facility_id": uuid::Uuid::now_v7(),
        "start_date": "2026-03-01",
        "legal_basis": "SoL2025-insats",
        "decision_reference": "SN\u{0}1",
    });
    let response = app
        .as_user(&north.secretary_session)
        .post(&path, placement)
        .await;
    assert_eq!(refused_fields(response).await, ["decision_reference"]);
}

#[actix_web::test]
async fn a_nul_in_units_facilities_users_and_systems_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let as_admin = app.as_user(&admin);
    let units_before: i64 = units::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    let response = as_admin
        .post("/api/v1/units", json!({"name": "Nor\u{0}th"}))
        .await;
    assert_eq!(refused_fields(response).await, ["name"]);
    let units_after: i64 = units::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(units_after, units_before);

    let user = json!({
        "username": "an\u{0}na",
        "display_name": "Anna",
        "profession": "auditor",
        "password": "a long and fine passphrase 1",
    });
    let users_before: i64 = users::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(
        refused_fields(as_admin.post("/api/v1/users", user).await).await,
        ["username"]
    );
    let users_after: i64 = users::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(users_after, users_before);

    let client =
        json!({"client_id": "ekonomi", "name": "Ekonomi\u{0}", "scopes": ["capacity:read"]});
    assert_eq!(
        refused_fields(as_admin.post("/api/v1/service-accounts", client).await).await,
        ["name"]
    );

    let north = office(&app, "North").await;
    let facility = json!({
        "kind": "hvb", "name": "Björk\u{0}gården", "unit_id": north.unit,
        "address": "Storgatan\u{0} 1", "capacity": 4,
    });
    let response = app
        .as_user(&north.manager_session)
        .post("/api/v1/facilities", facility)
        .await;
    assert_eq!(refused_fields(response).await, ["address", "name"]);
    let stored: i64 = facilities::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(stored, 0);
}

#[actix_web::test]
async fn a_nul_in_a_query_parameter_is_a_malformed_request_naming_it() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let response = app
        .as_user(&north.secretary_session)
        .get("/api/v1/children?cursor=ab%00cd")
        .await;
    let body: Value = problem(response, 400).await;
    assert_eq!(body["type"], "urn:trygg:problem:malformed-request");
    assert_eq!(body["errors"][0]["field"], "cursor");
}

fn throttle_keys(app: &crate::helpers::TestApp) -> Vec<(String, i32)> {
    use trygg::db::schema::login_throttle::dsl as t;
    t::login_throttle
        .select((t::key, t::failures))
        .order(t::key)
        .load(&mut app.db.superuser())
        .unwrap()
}

fn failed_logins(app: &crate::helpers::TestApp) -> i64 {
    use trygg::db::schema::audit_events::dsl as a;
    a::audit_events
        .filter(a::action.eq("login_failed"))
        .filter(a::outcome.eq("denied"))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn an_impossible_login_name_is_refused_counted_against_the_address_and_never_stored() {
    let app = spawn_app().await;
    let long = "a".repeat(8_000);
    let attempts = [
        json!({"grant_type": "password", "username": "an\u{0}na", "password": "x"}),
        json!({"grant_type": "password", "username": long, "password": "x"}),
        json!({"grant_type": "client_credentials", "client_id": "ekonomi\u{0}", "client_secret": "x"}),
        json!({"grant_type": "client_credentials", "client_id": "b".repeat(60_000), "client_secret": "x"}),
    ];
    for (tried, attempt) in attempts.into_iter().enumerate() {
        let field = if attempt["grant_type"] == "password" {
            "username"
        } else {
            "client_id"
        };
        let body = problem(app.token_request(attempt).await, 422).await;
        assert_eq!(body["errors"][0]["field"], field);
        assert_eq!(
            failed_logins(&app),
            tried as i64 + 1,
            "each attempt is audited"
        );
    }
    // Form-encoded too, as OAuth clients send it.
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "x\u{0}y"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    let body = problem(response, 422).await;
    assert_eq!(body["errors"][0]["field"], "username");
    // Only the address holds a count; no name is stored as a key.
    assert_eq!(throttle_keys(&app), [("address:127.0.0.1".to_owned(), 5)]);
    // From the fifth failure in a row, the address waits.
    let next = json!({"grant_type": "password", "username": "z\u{0}", "password": "x"});
    problem(app.token_request(next).await, 429).await;
}

#[actix_web::test]
async fn an_integer_written_with_a_zero_fraction_counts_as_that_integer() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let facility = |capacity: f64| json!({"kind": "hvb", "name": format!("Hem {capacity}"), "unit_id": north.unit, "capacity": capacity});
    let as_manager = app.as_user(&north.manager_session);
    let created: Value = as_manager
        .post("/api/v1/facilities", facility(6.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        created["capacity"], 6,
        "JSON Schema counts 6.0 as the integer 6: {created}"
    );
    let body = problem(
        as_manager.post("/api/v1/facilities", facility(6.5)).await,
        400,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "capacity");
}

#[actix_web::test]
async fn a_token_over_its_request_rate_waits_and_others_are_served() {
    use crate::helpers::{spawn_app_with, AppOptions};
    let app = spawn_app_with(AppOptions {
        rate_limits: Some(trygg::config::RateLimitSettings {
            per_token_per_minute: 3,
            per_address_per_minute: 1_000,
        }),
        ..AppOptions::default()
    })
    .await;
    let north = office(&app, "North").await;
    for _ in 0..3 {
        assert_eq!(
            app.as_user(&north.secretary_session)
                .get("/api/v1/me")
                .await
                .status(),
            200
        );
    }
    let refused = app
        .as_user(&north.secretary_session)
        .get("/api/v1/me")
        .await;
    assert!(refused.headers().contains_key("retry-after"));
    let body = problem(refused, 429).await;
    assert_eq!(body["type"], "urn:trygg:problem:too-many-requests");
    // Another person's token has its own allowance.
    assert_eq!(
        app.as_user(&north.manager_session)
            .get("/api/v1/me")
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn every_answer_forbids_framing_and_other_origins() {
    let app = spawn_app().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/children"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    for response in [preflight, app.get("/health/live").await] {
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
}

#[actix_web::test]
async fn a_long_reason_is_kept_whole_and_its_event_still_written() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let south = office(&app, "South").await;
    let reason = "Akut: ".to_owned() + &"x".repeat(1_994);
    let path = format!("/api/v1/children/{child}/emergency-access");
    let response = app
        .as_user(&south.secretary_session)
        .post(&path, json!({"reason": reason}))
        .await;
    assert_eq!(response.status(), 201);
    use trygg::db::schema::{audit_events::dsl as a, emergency_accesses::dsl as e};
    let kept: String = e::emergency_accesses
        .select(e::reason)
        .first(&mut app.db.superuser())
        .unwrap();
    assert_eq!(kept.chars().count(), 2_000);
    let purpose: Option<String> = a::audit_events
        .filter(a::action.eq("emergency_access"))
        .select(a::purpose)
        .first(&mut app.db.superuser())
        .unwrap();
    let purpose = purpose.unwrap();
    assert_eq!(purpose.chars().count(), 1_000);
    assert!(purpose.ends_with('…'));
}

/// The field named in a 400 `malformed-request` answer.
async fn malformed_field(response: reqwest::Response) -> String {
    let body = problem(response, 400).await;
    assert_eq!(
        body["type"], "urn:trygg:problem:malformed-request",
        "{body}"
    );
    body["errors"][0]["field"].as_str().unwrap().to_owned()
}

/// A date is RFC 3339's `full-date`, exactly `YYYY-MM-DD` (the spec's `format: date`); what
/// chrono would read besides (`2026-1-5`, a space, a sign) is refused as malformed with the field
/// named, as any other malformed value of that field, and nothing is written.
#[actix_web::test]
async fn a_date_not_written_yyyy_mm_dd_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let as_secretary = app.as_user(&north.secretary_session);
    for date in [
        "2026-1-5",
        "2010-5-20",
        "2010 -05- 20",
        " 2010-05-20",
        "2010-05-20 ",
        "+2010-05-20",
        "2010-05-2",
        "-0001-01-01",
        "2010-02-29",
    ] {
        let mut body = child_body(north.unit, "Ali", "2010-05-20");
        body["date_of_birth"] = json!(date);
        let response = as_secretary.post("/api/v1/children", body).await;
        assert_eq!(malformed_field(response).await, "date_of_birth", "{date:?}");
    }
    for field in ["arrival_date", "guardian.appointed_on"] {
        let mut body = child_body(north.unit, "Ali", "2010-05-20");
        match field.split_once('.') {
            Some((outer, inner)) => body[outer][inner] = json!("2026-1-5"),
            None => body[field] = json!("2026-1-5"),
        }
        let response = as_secretary.post("/api/v1/children", body).await;
        assert_eq!(malformed_field(response).await, field);
    }
    assert_eq!(children_count(&app), 0);

    // A leap day is a day; in a merge patch and in a visit's instant the same rule holds.
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2008-02-29"),
    )
    .await;
    let response = as_secretary
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/contact-schedules/{}", uuid::Uuid::now_v7()),
            Some(json!({"end_date": "2026-1-5", "reason": "The case changed"})),
        )
        .await;
    assert_eq!(malformed_field(response).await, "end_date");
    for at in [
        "2026-1-5T08:00:00Z",
        " 2026-03-01T08:00:00Z",
        "2026-03-01 08:00:00Z",
    ] {
        let visit = json!({"occurred_at": at, "mode": "home_visit", "at_placement": true,
                           "completed": true, "spoke_alone": true, "planned": true});
        let response = as_secretary
            .post(&format!("/api/v1/children/{child}/visits"), visit)
            .await;
        assert_eq!(malformed_field(response).await, "occurred_at", "{at:?}");
    }
}

/// The same in a query: `?until=2026-1-5` names `until`, as a body names its field.
#[actix_web::test]
async fn a_query_date_not_written_yyyy_mm_dd_is_refused_naming_the_parameter() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let as_secretary = app.as_user(&north.secretary_session);
    for until in [
        "2026-1-5",
        "%202026-07-01",
        "%2B2026-07-01",
        "2026-07-01%20",
        "2026-02-29",
    ] {
        let response = as_secretary
            .get(&format!("/api/v1/me/worklist?until={until}"))
            .await;
        assert_eq!(malformed_field(response).await, "until", "{until}");
    }
    let response = as_secretary
        .get("/api/v1/me/worklist?until=2026-07-01")
        .await;
    assert_eq!(response.status(), 200);

    let as_manager = app.as_user(&north.manager_session);
    let response = as_manager
        .get("/api/v1/reports/contact-compliance?from=2026-4-1&to=2026-06-30")
        .await;
    assert_eq!(malformed_field(response).await, "from");
}
