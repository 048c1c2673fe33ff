//! Stories about other systems: a system administrator registers them, they log in with a client
//! id and secret, and they never reach more than their scopes.

use std::collections::BTreeSet;

use diesel::sql_types::BigInt;
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::helpers::service_accounts::TestClient;
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};

fn scopes_of(tokens: &Value) -> BTreeSet<String> {
    tokens["scope"]
        .as_str()
        .expect("a client token names its scopes")
        .split(' ')
        .map(str::to_owned)
        .collect()
}

fn set(scopes: &[&str]) -> BTreeSet<String> {
    scopes.iter().map(|s| s.to_string()).collect()
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    response.json().await.unwrap()
}

#[actix_web::test]
async fn a_system_administrator_registers_a_client_system_that_then_gets_a_token() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;

    let created = app
        .as_user(&admin)
        .post(
            "/api/v1/service-accounts",
            json!({"client_id": "Placeringsregistret", "name": " Placement register ", "scopes": ["placements:read", "capacity:read"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert!(created.headers().contains_key("etag"));
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let account: Value = created.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/api/v1/service-accounts/{}",
            account["id"].as_str().unwrap()
        )
    );
    assert_eq!(account["client_id"], "placeringsregistret");
    assert_eq!(account["name"], "Placement register");
    assert_eq!(account["active"], true);
    let secret = account["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("cs_"), "{secret}");
    assert!(
        secret.len() >= 3 + 43,
        "32 random bytes in base64url: {secret}"
    );

    // JSON, as in the convention...
    let tokens = json_of(
        app.client_token_request("placeringsregistret", &secret, None)
            .await,
        200,
    )
    .await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens.get("refresh_token").is_none(),
        "a system logs in again instead"
    );
    assert_eq!(
        scopes_of(&tokens),
        set(&["placements:read", "capacity:read"])
    );

    // ...and form-encoded, as RFC 6749 has it.
    let form = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "placeringsregistret"),
            ("client_secret", secret.as_str()),
            ("scope", "capacity:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.headers()["cache-control"], "no-store");
    let tokens = json_of(form, 200).await;
    // Asked for one of its scopes, it gets that one only.
    assert_eq!(scopes_of(&tokens), set(&["capacity:read"]));
}

#[actix_web::test]
async fn the_secret_is_shown_once_and_never_again() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "ekonomisystemet", &["reports:read"])
        .await;

    let one = json_of(
        app.as_user(&admin)
            .get(&format!("/api/v1/service-accounts/{}", client.id))
            .await,
        200,
    )
    .await;
    let all = json_of(
        app.as_user(&admin).get("/api/v1/service-accounts").await,
        200,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["next_cursor"], Value::Null);
    for shown in [&one, &all["items"][0]] {
        assert_eq!(shown["client_id"], "ekonomisystemet");
        assert_eq!(shown["scopes"], json!(["reports:read"]));
        assert!(shown.get("client_secret").is_none(), "{shown}");
        assert!(shown.get("secret_hash").is_none(), "{shown}");
        let text = shown.to_string();
        assert!(!text.contains(&client.client_secret) && !text.contains("argon2"));
    }
}

#[actix_web::test]
async fn the_list_of_service_accounts_is_paged() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    for name in ["first-system", "second-system", "third-system"] {
        app.register_client(&admin, name, &["visits:read"]).await;
    }
    let first = json_of(
        app.as_user(&admin)
            .get("/api/v1/service-accounts?limit=2")
            .await,
        200,
    )
    .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = json_of(
        app.as_user(&admin)
            .get(&format!("/api/v1/service-accounts?limit=2&cursor={cursor}"))
            .await,
        200,
    )
    .await;
    assert_eq!(rest["items"][0]["client_id"], "third-system");
    assert_eq!(rest["next_cursor"], Value::Null);
    problem(
        app.as_user(&admin)
            .get("/api/v1/service-accounts?limit=501")
            .await,
        400,
    )
    .await;
}

#[actix_web::test]
async fn a_wrong_secret_is_answered_exactly_like_an_unknown_client() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "besokssystemet", &["visits:write"])
        .await;
    let guess = format!("cs_{}", "A".repeat(43));

    let wrong = problem(
        app.client_token_request(&client.client_id, &guess, None)
            .await,
        401,
    )
    .await;
    let unknown = problem(
        app.client_token_request("no-such-system", &guess, None)
            .await,
        401,
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[actix_web::test]
async fn a_system_cannot_ask_for_a_scope_it_was_not_granted() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "kapacitet", &["capacity:read"])
        .await;
    let refused = problem(
        app.client_token_request(
            &client.client_id,
            &client.client_secret,
            Some("capacity:read placements:write"),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "scope");
    assert!(refused["detail"]
        .as_str()
        .unwrap()
        .contains("placements:write"));
}

#[actix_web::test]
async fn rotating_the_secret_makes_the_old_one_fail_and_ends_live_sessions() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "placeringar", &["placements:read"])
        .await;
    let session = app.client_login(&client).await;
    assert_eq!(app.as_user(&session).get("/api/v1/me").await.status(), 403);

    let rotated = app
        .as_user(&admin)
        .post(
            &format!("/api/v1/service-accounts/{}/secret", client.id),
            json!({}),
        )
        .await;
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    assert_ne!(rotated.headers()["etag"].to_str().unwrap(), client.etag);
    let rotated = json_of(rotated, 200).await;
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("cs_"));
    assert_ne!(new_secret, client.client_secret);

    problem(
        app.client_token_request(&client.client_id, &client.client_secret, None)
            .await,
        401,
    )
    .await;
    problem(app.as_user(&session).get("/api/v1/me").await, 401).await;
    let renewed = TestClient {
        client_secret: new_secret,
        ..client
    };
    app.client_login(&renewed).await;
}

#[actix_web::test]
async fn a_deactivated_system_is_out_on_its_next_request() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "besok", &["visits:read", "visits:write"])
        .await;
    let session = app.client_login(&client).await;
    // Authenticated, though a system has no profile: 403, not 401.
    assert_eq!(app.as_user(&session).get("/api/v1/me").await.status(), 403);

    let path = format!("/api/v1/service-accounts/{}", client.id);
    let changed = app
        .patch_if_match(&admin, &path, Some(&client.etag), json!({"active": false}))
        .await;
    let changed = json_of(changed, 200).await;
    assert_eq!(changed["active"], false);

    problem(app.as_user(&session).get("/api/v1/me").await, 401).await;
    let again = problem(
        app.client_token_request(&client.client_id, &client.client_secret, None)
            .await,
        401,
    )
    .await;
    let unknown = problem(
        app.client_token_request("no-such-system", &client.client_secret, None)
            .await,
        401,
    )
    .await;
    assert_eq!(again, unknown, "a deactivated client looks like no client");
}

#[actix_web::test]
async fn taking_a_scope_away_ends_the_systems_sessions_but_granting_one_does_not() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "rapporter", &["reports:read"])
        .await;
    let path = format!("/api/v1/service-accounts/{}", client.id);

    let session = app.client_login(&client).await;
    let widened = app
        .patch_if_match(
            &admin,
            &path,
            Some(&client.etag),
            json!({"scopes": ["reports:read", "capacity:read"], "name": "Rapportverktyget"}),
        )
        .await;
    let etag = widened.headers()["etag"].to_str().unwrap().to_owned();
    let widened = json_of(widened, 200).await;
    assert_eq!(widened["name"], "Rapportverktyget");
    assert_eq!(
        app.as_user(&session).get("/api/v1/me").await.status(),
        403,
        "still logged in"
    );

    let narrowed = app
        .patch_if_match(
            &admin,
            &path,
            Some(&etag),
            json!({"scopes": ["capacity:read"]}),
        )
        .await;
    assert_eq!(
        json_of(narrowed, 200).await["scopes"],
        json!(["capacity:read"])
    );
    problem(app.as_user(&session).get("/api/v1/me").await, 401).await;
    let tokens = json_of(
        app.client_token_request(&client.client_id, &client.client_secret, None)
            .await,
        200,
    )
    .await;
    assert_eq!(scopes_of(&tokens), set(&["capacity:read"]));
}

#[actix_web::test]
async fn a_systems_token_cannot_manage_users_or_systems_nor_has_it_a_profile() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "nyfiken", &["children:read", "reports:read"])
        .await;
    let session = app.client_login(&client).await;
    let as_system = app.as_user(&session);

    problem(as_system.get("/api/v1/users").await, 403).await;
    problem(
        as_system
            .post("/api/v1/users", json!({"username": "x", "display_name": "x", "profession": "system_admin", "password": "a long enough password"}))
            .await,
        403,
    )
    .await;
    problem(as_system.get("/api/v1/service-accounts").await, 403).await;
    problem(
        as_system
            .get(&format!("/api/v1/service-accounts/{}", client.id))
            .await,
        403,
    )
    .await;
    problem(
        as_system
            .post(
                &format!("/api/v1/service-accounts/{}/secret", client.id),
                json!({}),
            )
            .await,
        403,
    )
    .await;
    problem(as_system.get("/api/v1/me").await, 403).await;
    // Still the same secret: the refused rotation changed nothing.
    app.client_login(&client).await;
}

/// Each of the five service-account operations, as `session`.
async fn every_operation(app: &TestApp, session: &Session, client: &TestClient) -> Vec<u16> {
    let one = format!("/api/v1/service-accounts/{}", client.id);
    let as_them = app.as_user(session);
    vec![
        as_them.get("/api/v1/service-accounts").await,
        as_them
            .post(
                "/api/v1/service-accounts",
                json!({"client_id": "intruder", "name": "Intruder", "scopes": ["children:read"]}),
            )
            .await,
        as_them.get(&one).await,
        app.patch_if_match(session, &one, Some(&client.etag), json!({"active": false}))
            .await,
        as_them.post(&format!("{one}/secret"), json!({})).await,
    ]
    .into_iter()
    .map(|r| r.status().as_u16())
    .collect()
}

fn denied_service_account_events(app: &TestApp) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    sql_query(
        "SELECT count(*) AS count FROM audit_events \
         WHERE entity_type = 'service_account' AND outcome = 'denied'",
    )
    .get_result::<Count>(&mut app.db.superuser())
    .unwrap()
    .count
}

#[actix_web::test]
async fn every_other_profession_is_refused_every_service_account_operation() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "skyddad", &["placements:read"])
        .await;
    let unit = app.create_unit("North");
    let others: Vec<Profession> = Profession::ALL
        .iter()
        .copied()
        .filter(|p| *p != Profession::SystemAdmin)
        .collect();

    for profession in &others {
        let person = app.create_user(*profession, profession.needs_unit().then_some(unit));
        let session = app.login(&person).await;
        assert_eq!(
            every_operation(&app, &session, &client).await,
            [403; 5],
            "{profession}"
        );
    }

    // Nothing changed, and every refusal is in the audit log.
    assert_eq!(denied_service_account_events(&app), 5 * others.len() as i64);
    let all = json_of(
        app.as_user(&admin).get("/api/v1/service-accounts").await,
        200,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["active"], true);
    app.client_login(&client).await;
    let read = app
        .as_user(&admin)
        .get(&format!("/api/v1/service-accounts/{}", client.id))
        .await;
    assert_eq!(read.headers()["etag"].to_str().unwrap(), client.etag);
}

#[actix_web::test]
async fn a_change_needs_the_current_etag() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "samtidig", &["visits:read"])
        .await;
    let path = format!("/api/v1/service-accounts/{}", client.id);

    problem(
        app.patch_if_match(&admin, &path, None, json!({"name": "No If-Match"}))
            .await,
        428,
    )
    .await;
    let first = app
        .patch_if_match(
            &admin,
            &path,
            Some(&client.etag),
            json!({"name": "First edit"}),
        )
        .await;
    assert_eq!(first.status(), 200);
    // A second administrator still holding the old ETag does not overwrite the first.
    problem(
        app.patch_if_match(
            &admin,
            &path,
            Some(&client.etag),
            json!({"name": "Second edit"}),
        )
        .await,
        409,
    )
    .await;
    let read = json_of(app.as_user(&admin).get(&path).await, 200).await;
    assert_eq!(read["name"], "First edit");
}

#[actix_web::test]
async fn an_unknown_service_account_is_not_found() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let id = Uuid::now_v7();
    let path = format!("/api/v1/service-accounts/{id}");
    let etag = trygg::http::etag::etag(id, 1);

    problem(app.as_user(&admin).get(&path).await, 404).await;
    problem(
        app.patch_if_match(&admin, &path, Some(&etag), json!({"active": false}))
            .await,
        404,
    )
    .await;
    problem(
        app.as_user(&admin)
            .post(&format!("{path}/secret"), json!({}))
            .await,
        404,
    )
    .await;
    problem(
        app.as_user(&admin)
            .get("/api/v1/service-accounts/not-a-uuid")
            .await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn a_registration_against_the_rules_names_the_field_at_fault() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let as_admin = app.as_user(&admin);
    let create = |body: Value| as_admin.post("/api/v1/service-accounts", body);

    let unknown_field = problem(
        create(json!({"client_id": "abc", "name": "A", "scopes": ["visits:read"], "client_secret": "mine"})).await,
        400,
    )
    .await;
    assert_eq!(unknown_field["errors"][0]["field"], "client_secret");

    let unknown_scope = problem(
        create(json!({"client_id": "abc", "name": "A", "scopes": ["visits:read", "everything"]}))
            .await,
        400,
    )
    .await;
    assert_eq!(unknown_scope["errors"][0]["field"], "scopes[1]");

    let rules = problem(
        create(json!({"client_id": "x y", "name": " ", "scopes": []})).await,
        422,
    )
    .await;
    let fields: BTreeSet<&str> = rules["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, BTreeSet::from(["client_id", "name", "scopes"]));

    app.register_client(&admin, "tvilling", &["visits:read"])
        .await;
    let taken = problem(
        create(json!({"client_id": "Tvilling", "name": "Twin", "scopes": ["visits:read"]})).await,
        409,
    )
    .await;
    assert_eq!(taken["errors"][0]["field"], "client_id");

    let client = app.register_client(&admin, "andra", &["visits:read"]).await;
    let path = format!("/api/v1/service-accounts/{}", client.id);
    let empty = problem(
        app.patch_if_match(&admin, &path, Some(&client.etag), json!({"scopes": []}))
            .await,
        422,
    )
    .await;
    assert_eq!(empty["errors"][0]["field"], "scopes");
    let secret_by_patch = problem(
        app.patch_if_match(
            &admin,
            &path,
            Some(&client.etag),
            json!({"client_secret": "x"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(secret_by_patch["errors"][0]["field"], "client_secret");
}

#[actix_web::test]
async fn every_read_and_write_of_a_service_account_is_in_the_audit_log() {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        outcome: String,
    }
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "loggad", &["visits:read"])
        .await;
    let path = format!("/api/v1/service-accounts/{}", client.id);
    // Logged in, so that switching it off has a session to end.
    app.client_login(&client).await;
    assert_eq!(app.as_user(&admin).get(&path).await.status(), 200);
    assert_eq!(
        app.as_user(&admin)
            .get("/api/v1/service-accounts")
            .await
            .status(),
        200
    );
    let patched = app
        .patch_if_match(&admin, &path, Some(&client.etag), json!({"active": false}))
        .await;
    assert_eq!(patched.status(), 200);
    let rotated = app
        .as_user(&admin)
        .post(&format!("{path}/secret"), json!({}))
        .await;
    assert_eq!(rotated.status(), 200);

    let logged: Vec<(String, String)> = sql_query(
        "SELECT action, outcome FROM audit_events \
         WHERE entity_type = 'service_account' AND entity_id = $1 AND actor_type = 'user' \
         ORDER BY seq",
    )
    .bind::<diesel::sql_types::Uuid, _>(client.id)
    .load::<Row>(&mut app.db.superuser())
    .unwrap()
    .into_iter()
    .map(|r| (r.action, r.outcome))
    .collect();
    let success = |action: &str| (action.to_owned(), "success".to_owned());
    assert_eq!(
        logged,
        [
            success("create"),
            success("read"),
            success("read"),
            success("update"),
            success("revoke"),
            success("update")
        ],
        "create, get, list, deactivate (ending its session), rotate"
    );
}

#[actix_web::test]
async fn a_token_asked_for_with_a_narrower_scope_carries_only_that_scope() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "rapporter", &["capacity:read", "reports:read"])
        .await;
    let response = app
        .client_token_request(
            &client.client_id,
            &client.client_secret,
            Some("capacity:read"),
        )
        .await;
    let tokens = json_of(response, 200).await;
    assert_eq!(scopes_of(&tokens), set(&["capacity:read"]));
    let narrow = Session {
        access_token: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh_token: None,
    };
    let unit = app.create_unit("North");
    let capacity = format!("/api/v1/reports/capacity?unit_id={unit}");
    let compliance =
        format!("/api/v1/reports/contact-compliance?unit_id={unit}&from=2026-01-01&to=2026-03-31");
    assert_eq!(app.as_user(&narrow).get(&capacity).await.status(), 200);
    problem(app.as_user(&narrow).get(&compliance).await, 403).await;

    // Without `scope`, a token carries every scope the account holds.
    let full = app.client_login(&client).await;
    assert_eq!(app.as_user(&full).get(&compliance).await.status(), 200);
}

#[actix_web::test]
async fn a_system_granted_one_unit_sees_that_units_children_facilities_figures_and_changes_only() {
    use crate::children::{child_body, office, register};
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let north_home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let south_home = app.arrange_facility(south.unit, "hvb", 4, &[]);
    let ali = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let sara = register(
        &app,
        &south.secretary_session,
        child_body(south.unit, "Sara", "2010-06-20"),
    )
    .await;
    let admin = app.system_admin_session().await;
    let scopes = [
        "children:read",
        "capacity:read",
        "changes:read",
        "placements:read",
    ];

    // A unit that does not exist, or none at all, is no grant.
    for units in [json!([Uuid::now_v7()]), json!([])] {
        let response = app
            .as_user(&admin)
            .post(
                "/api/v1/service-accounts",
                json!({"client_id": "skolan-x", "name": "School", "scopes": scopes, "unit_ids": units}),
            )
            .await;
        let refused = problem(response, 422).await;
        assert_eq!(refused["errors"][0]["field"], "unit_ids", "{units}");
    }
    let response = app
        .as_user(&admin)
        .post(
            "/api/v1/service-accounts",
            json!({"client_id": "skolan", "name": "School", "scopes": scopes, "unit_ids": [north.unit]}),
        )
        .await;
    let registered = json_of(response, 201).await;
    assert_eq!(registered["unit_ids"], json!([north.unit]));
    let client = TestClient {
        id: registered["id"].as_str().unwrap().parse().unwrap(),
        client_id: "skolan".into(),
        client_secret: registered["client_secret"].as_str().unwrap().into(),
        etag: String::new(),
    };
    let system = app.client_login(&client).await;
    let ids = |body: &Value| -> BTreeSet<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let children = json_of(app.as_user(&system).get("/api/v1/children").await, 200).await;
    assert_eq!(ids(&children), set(&[&ali.to_string()]));
    json_of(
        app.as_user(&system)
            .get(&format!("/api/v1/children/{ali}"))
            .await,
        200,
    )
    .await;
    problem(
        app.as_user(&system)
            .get(&format!("/api/v1/children/{sara}"))
            .await,
        404,
    )
    .await;
    let placements = app
        .as_user(&system)
        .get(&format!("/api/v1/children/{sara}/placements"))
        .await;
    problem(placements, 404).await;

    let facilities = json_of(app.as_user(&system).get("/api/v1/facilities").await, 200).await;
    assert_eq!(ids(&facilities), set(&[&north_home.to_string()]));
    problem(
        app.as_user(&system)
            .get(&format!("/api/v1/facilities/{south_home}"))
            .await,
        404,
    )
    .await;

    let capacity = json_of(
        app.as_user(&system).get("/api/v1/reports/capacity").await,
        200,
    )
    .await;
    let units: Vec<&Value> = capacity["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["unit_id"])
        .collect();
    assert_eq!(units, [&json!(north.unit)]);
    let other = app
        .as_user(&system)
        .get(&format!("/api/v1/reports/capacity?unit_id={}", south.unit))
        .await;
    problem(other, 403).await;

    crate::audit::seal(&app);
    let feed = json_of(
        app.as_user(&system).get("/api/v1/changes?limit=1000").await,
        200,
    )
    .await;
    let about: BTreeSet<String> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["child_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        about,
        set(&[&ali.to_string()]),
        "changes about her unit's children only"
    );
    let facility_changes = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["entity_type"] == "facility")
        .count();
    assert!(
        facility_changes >= 1,
        "changes to facilities are about no one and stay in"
    );

    // Every unit again: at once, for the same token.
    let shown = app
        .as_user(&admin)
        .get(&format!("/api/v1/service-accounts/{}", client.id))
        .await;
    let etag = shown.headers()["etag"].to_str().unwrap().to_owned();
    let widened = app
        .client
        .patch(app.url(&format!("/api/v1/service-accounts/{}", client.id)))
        .bearer_auth(&admin.access_token)
        .header("if-match", etag)
        .json(&json!({"unit_ids": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(widened, 200).await["unit_ids"], Value::Null);
    json_of(
        app.as_user(&system)
            .get(&format!("/api/v1/children/{sara}"))
            .await,
        200,
    )
    .await;
}
