//! Webhooks: every committed change a subscription follows reaches its receiver, signed the
//! Standard Webhooks way, at least once; nothing of a rolled-back transaction; failures retried
//! with back-off, logged, and a subscription disabled after repeated failure.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use uuid::Uuid;

use crate::audit::seal;
use crate::children::{child_body, office, register};
use crate::helpers::users::Session;
use crate::helpers::{problem, quick_webhooks, spawn_app, spawn_app_with, AppOptions, TestApp};

/// What a receiver was sent.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Checked as a receiver would, with its own HMAC: any of the signatures under `secret`.
    fn signed_by(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

/// A local receiver: answers 500 to its first `failing` requests (all of them while `failing`
/// is `u32::MAX`), then 204, and keeps every request it got.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    failing: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(failing: u32) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(Mutex::new(failing));
        let (g, f) = (got.clone(), failing.clone());
        let server = HttpServer::new(move || {
            let (g, f) = (g.clone(), f.clone());
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: String| {
                    let (g, f) = (g.clone(), f.clone());
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default()
                        };
                        g.lock().unwrap().push(Received {
                            id: header("webhook-id"),
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body,
                        });
                        let mut left = f.lock().unwrap();
                        if *left > 0 {
                            if *left != u32::MAX {
                                *left -= 1;
                            }
                            HttpResponse::InternalServerError().finish()
                        } else {
                            HttpResponse::NoContent().finish()
                        }
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            got,
            failing,
        }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn heal(&self) {
        *self.failing.lock().unwrap() = 0;
    }

    /// Waits (up to 20 s) until `enough` holds of what it got.
    async fn until(&self, enough: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.got();
            if enough(&got) {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the receiver never got what was expected: {got:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn follower(app: &TestApp, client_id: &str) -> Session {
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, client_id, &["changes:read", "children:read"])
        .await;
    app.client_login(&client).await
}

/// Registers a webhook; its id, ETag and secret.
async fn subscribe(
    app: &TestApp,
    system: &Session,
    url: &str,
    types: &[&str],
) -> (Uuid, String, String) {
    let response = app
        .as_user(system)
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "entity_types": types}),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (body["id"].as_str().unwrap().parse().unwrap(), etag, secret)
}

async fn patch(
    app: &TestApp,
    system: &Session,
    id: Uuid,
    etag: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&system.access_token)
        .header("if-match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp, system: &Session, id: Uuid) -> Vec<Value> {
    let response = app
        .as_user(system)
        .get(&format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

/// A change committed (or rolled back) straight in the database, as a request's work would.
fn placement_change(app: &TestApp, commit: bool) -> Uuid {
    let id = Uuid::now_v7();
    let event = AuditEvent::new(
        AuditActor::system(),
        AuditAction::Update,
        EntityType::Placement,
        Some(id),
        Utc::now(),
    );
    let mut conn = app.db.service_role();
    let done = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        audit::append(conn, &[event]).unwrap();
        if commit {
            Ok(())
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    });
    assert_eq!(done.is_ok(), commit);
    id
}

fn ids_of(got: &[Received]) -> BTreeSet<String> {
    got.iter()
        .map(|r| r.json()["data"]["entity_id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_receiver_gets_every_committed_change_signed_and_nothing_rolled_back() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let receiver = Receiver::start(0).await;
    let system = follower(&app, "ekonomi").await;
    let (_, _, secret) = subscribe(&app, &system, &receiver.url, &["child", "placement"]).await;

    let mut expected = BTreeSet::new();
    for (i, name) in ["Ali", "Sara", "Omar"].iter().enumerate() {
        let born = format!("2010-0{}-20", i + 1);
        expected.insert(
            register(
                &app,
                &north.secretary_session,
                child_body(north.unit, name, &born),
            )
            .await
            .to_string(),
        );
    }
    let mut hidden = child_body(north.unit, "Hidden", "2010-06-01");
    hidden["protection_level"] = json!("protected_registration");
    let protected = register(&app, &north.secretary_session, hidden).await;
    let rolled_back = placement_change(&app, false);
    expected.insert(placement_change(&app, true).to_string());
    seal(&app);

    let got = receiver
        .until(|got| ids_of(got).len() >= expected.len())
        .await;
    // Time for anything else to arrive that should not.
    actix_web::rt::time::sleep(Duration::from_millis(600)).await;
    let got_all = receiver.got();
    assert_eq!(got_all.len(), got.len(), "nothing more arrived");
    assert_eq!(
        ids_of(&got_all),
        expected,
        "every committed change, and only those"
    );
    assert!(!ids_of(&got_all).contains(&rolled_back.to_string()));
    assert!(!ids_of(&got_all).contains(&protected.to_string()));
    let webhook_ids: BTreeSet<&str> = got_all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        webhook_ids.len(),
        got_all.len(),
        "each delivery once, under its own id"
    );
    for received in &got_all {
        assert!(received.signed_by(&secret), "{received:?}");
        assert!(!received.signed_by("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let sent_at: i64 = received.timestamp.parse().unwrap();
        assert!((Utc::now().timestamp() - sent_at).abs() < 60);
        let body = received.json();
        assert!(body["type"].as_str().unwrap().contains('.'));
        let data = body["data"].as_object().unwrap();
        let keys: BTreeSet<&str> = data.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "at",
                "change",
                "child_id",
                "cursor",
                "entity_id",
                "entity_type"
            ]),
            "ids and kinds only, never data"
        );
        assert!(!received.body.contains("Ali") && !received.body.contains("Sara"));
    }
}

#[actix_web::test]
async fn a_receiver_that_fails_three_times_then_succeeds_gets_the_delivery() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let receiver = Receiver::start(3).await;
    let system = follower(&app, "arkivet").await;
    let (id, _, secret) = subscribe(&app, &system, &receiver.url, &["child"]).await;

    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    seal(&app);
    let got = receiver.until(|got| got.len() >= 4).await;
    assert!(got.iter().all(|r| r.signed_by(&secret)));
    assert!(
        got.iter()
            .all(|r| r.id == got[0].id && r.body == got[0].body),
        "the same message, retried"
    );
    assert_eq!(got[0].json()["data"]["entity_id"], child.to_string());

    let start = Instant::now();
    let log = loop {
        let all = deliveries(&app, &system, id).await;
        if all.len() == 1 && all[0]["state"] == "delivered" {
            break all;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{all:?}");
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(log[0]["attempts"], 4);
    let statuses: Vec<&Value> = log[0]["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(
        statuses,
        [&json!(500), &json!(500), &json!(500), &json!(204)]
    );
    let started: Vec<&str> = log[0]["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["started_at"].as_str().unwrap())
        .collect();
    assert!(started.windows(2).all(|w| w[0] < w[1]), "{started:?}");
}

#[actix_web::test]
async fn repeated_failure_disables_it_and_its_owner_turns_it_on_again() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let receiver = Receiver::start(u32::MAX).await;
    let system = follower(&app, "skolan").await;
    let (id, _, _) = subscribe(&app, &system, &receiver.url, &["child"]).await;

    // Two deliveries, four attempts each (the quick settings), fail: it is disabled.
    for name in ["Ali", "Sara"] {
        register(
            &app,
            &north.secretary_session,
            child_body(north.unit, name, "2010-05-20"),
        )
        .await;
    }
    seal(&app);
    let start = Instant::now();
    let disabled = loop {
        let response = app
            .as_user(&system)
            .get(&format!("/api/v1/webhooks/{id}"))
            .await;
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let view: Value = response.json().await.unwrap();
        if !view["disabled_at"].is_null() {
            break (view, etag);
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{view}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(disabled.0["failed_deliveries_in_a_row"], 2);
    assert_eq!(receiver.got().len(), 8);
    let failed = deliveries(&app, &system, id).await;
    assert!(failed.iter().all(|d| d["state"] == "failed"), "{failed:?}");
    let by_system: i64 = trygg::db::schema::audit_events::table
        .filter(trygg::db::schema::audit_events::entity_id.eq(id))
        .filter(trygg::db::schema::audit_events::actor_type.eq("system"))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(
        by_system, 1,
        "the disabling is audited as the system's own change"
    );

    // While disabled nothing is sent, not even what changes meanwhile.
    let omar = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Omar", "2010-05-20"),
    )
    .await;
    seal(&app);
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.got().len(), 8);

    receiver.heal();
    let response = patch(&app, &system, id, &disabled.1, json!({"active": true})).await;
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.unwrap();
    assert!(view["disabled_at"].is_null());
    assert_eq!(view["failed_deliveries_in_a_row"], 0);
    let got = receiver
        .until(|got| ids_of(got).contains(&omar.to_string()))
        .await;
    assert_eq!(
        got.len(),
        9,
        "what changed while it was off follows once it is on"
    );

    // A failed delivery is sent again on request.
    let first = failed[0]["id"].as_str().unwrap();
    let response = app
        .as_user(&system)
        .post(
            &format!("/api/v1/webhook-deliveries/{first}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let got = receiver.until(|got| got.len() >= 10).await;
    assert_eq!(
        got[9].id, got[0].id,
        "the same message id as before, so receivers can dedupe"
    );
}

#[actix_web::test]
async fn a_rotated_secret_and_the_one_before_both_sign_while_they_overlap() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let receiver = Receiver::start(0).await;
    let system = follower(&app, "statistik").await;
    let (id, _, old) = subscribe(&app, &system, &receiver.url, &["child"]).await;
    let response = app
        .as_user(&system)
        .post(&format!("/api/v1/webhooks/{id}/secret"), json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let new = body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(!body["previous_secret_until"].is_null());

    register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    seal(&app);
    let got = receiver.until(|got| !got.is_empty()).await;
    assert!(got[0].signed_by(&new) && got[0].signed_by(&old));
    assert_eq!(got[0].signature.split(' ').count(), 2);
    let shown = app
        .as_user(&system)
        .get(&format!("/api/v1/webhooks/{id}"))
        .await;
    let shown: Value = shown.json().await.unwrap();
    assert!(shown.get("secret").is_none(), "a secret is shown only once");
}

#[actix_web::test]
async fn only_a_following_system_manages_webhooks_and_only_its_own() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let receiver = Receiver::start(0).await;
    let owner = follower(&app, "ekonomi").await;
    let stranger = follower(&app, "annan").await;
    let admin = app.system_admin_session().await;
    let reader = app
        .register_client(&admin, "lasare", &["children:read"])
        .await;
    let reader = app.client_login(&reader).await;
    let body = json!({"url": receiver.url, "entity_types": ["child"]});

    for session in [
        &north.secretary_session,
        &north.manager_session,
        &admin,
        &reader,
    ] {
        let response = app
            .as_user(session)
            .post("/api/v1/webhooks", body.clone())
            .await;
        problem(response, 403).await;
        let response = app.as_user(session).get("/api/v1/webhooks").await;
        problem(response, 403).await;
    }

    let (id, etag, _) = subscribe(&app, &owner, &receiver.url, &["child"]).await;
    register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    seal(&app);
    receiver.until(|got| !got.is_empty()).await;
    let delivery = deliveries(&app, &owner, id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let listed: Value = app
        .as_user(&stranger)
        .get("/api/v1/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    for path in [
        format!("/api/v1/webhooks/{id}"),
        format!("/api/v1/webhooks/{id}/deliveries"),
    ] {
        problem(app.as_user(&stranger).get(&path).await, 404).await;
    }
    problem(
        app.as_user(&stranger)
            .post(&format!("/api/v1/webhooks/{id}/secret"), json!({}))
            .await,
        404,
    )
    .await;
    problem(
        app.as_user(&stranger)
            .post(
                &format!("/api/v1/webhook-deliveries/{delivery}/redeliver"),
                json!({}),
            )
            .await,
        404,
    )
    .await;
    problem(
        patch(&app, &stranger, id, &etag, json!({"active": false})).await,
        404,
    )
    .await;

    let listed: Value = app
        .as_user(&owner)
        .get("/api/v1/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none());
}

#[actix_web::test]
async fn a_target_outside_the_rules_is_refused_with_its_own_code() {
    let app = spawn_app_with(AppOptions {
        webhooks: Some(trygg::config::WebhookSettings {
            private_targets: false,
            ..quick_webhooks()
        }),
        ..AppOptions::default()
    })
    .await;
    let system = follower(&app, "ekonomi").await;
    for url in [
        "http://partner.example.se/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest",
        "https://localhost/hook",
        "https://user:pw@partner.example.se/hook",
    ] {
        let response = app
            .as_user(&system)
            .post(
                "/api/v1/webhooks",
                json!({"url": url, "entity_types": ["child"]}),
            )
            .await;
        let problem = problem(response, 422).await;
        assert_eq!(
            problem["type"], "urn:trygg:problem:webhook-target-refused",
            "{url}"
        );
        assert_eq!(problem["errors"][0]["field"], "url");
    }
    let response = app
        .as_user(&system)
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://partner.example.se/hook", "entity_types": ["session"]}),
        )
        .await;
    let problem_body = problem(response, 422).await;
    assert_eq!(problem_body["errors"][0]["field"], "entity_types");
    let response = app
        .as_user(&system)
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://partner.example.se/hook", "entity_types": ["nonsense"]}),
        )
        .await;
    problem(response, 400).await;
    let response = app
        .as_user(&system)
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://partner.example.se/hook", "entity_types": []}),
        )
        .await;
    problem(response, 422).await;
    let response = app
        .as_user(&system)
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://partner.example.se/hook", "entity_types": ["child"]}),
        )
        .await;
    assert_eq!(response.status(), 201, "a public https target is taken");
}

#[actix_web::test]
async fn a_delivery_claimed_by_a_dispatcher_that_died_is_sent_when_its_lease_ends() {
    use trygg::webhooks::{dispatcher, outbox};
    let app = spawn_app_with(AppOptions {
        webhooks: crate::helpers::without_dispatcher(),
        ..AppOptions::default()
    })
    .await;
    let north = office(&app, "North").await;
    let receiver = Receiver::start(0).await;
    let system = follower(&app, "arkivet").await;
    let (id, _, secret) = subscribe(&app, &system, &receiver.url, &["child"]).await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    seal(&app);

    // A dispatcher queues and claims the delivery, then dies before it sends anything.
    let mut conn = app.db.service_role();
    assert_eq!(outbox::fan_out(&mut conn).unwrap(), 1);
    assert_eq!(outbox::fan_out(&mut conn).unwrap(), 0, "queued once");
    let claimed = outbox::claim(&mut conn, 10, Duration::from_secs(1)).unwrap();
    assert_eq!(claimed.len(), 1);
    drop(conn);

    // The next dispatcher leaves it alone while the lease runs, then sends it.
    let settings = app.settings.as_ref().clone();
    dispatcher::spawn(dispatcher::Dispatcher {
        db: trygg::db::Db::new(trygg::db::build_pool(
            &settings.database_url,
            &settings.database,
        )),
        settings: settings.webhooks.clone(),
        data_key: settings.data_key.clone(),
    });
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver.got().is_empty(),
        "not while the dead dispatcher's lease runs"
    );
    let got = receiver.until(|got| !got.is_empty()).await;
    assert_eq!(got[0].json()["data"]["entity_id"], child.to_string());
    assert!(got[0].signed_by(&secret));
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got().len(), 1);
    let log = deliveries(&app, &system, id).await;
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["attempts"], 2, "the lost attempt counts");
    assert_eq!(
        log[0]["log"].as_array().unwrap().len(),
        1,
        "only the attempt that was made is logged"
    );
}
