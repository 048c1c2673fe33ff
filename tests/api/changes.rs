//! The change feed: what changed, in sealed order, to systems with `changes:read`; every
//! committed change exactly once across pages, none skipped, no data and no protected identity.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::audit::seal;
use crate::children::{child_body, office, register};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, spawn_app_with, AppOptions, TestApp};

async fn follower(app: &TestApp) -> Session {
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "arkivet", &["changes:read"])
        .await;
    app.client_login(&client).await
}

/// Every page from `after` until `more` is false: the items and where to go on.
async fn read_on(
    app: &TestApp,
    system: &Session,
    after: Option<String>,
    limit: u32,
) -> (Vec<Value>, String) {
    let mut items = Vec::new();
    let mut cursor = after;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/changes?limit={limit}&after={c}"),
            None => format!("/api/v1/changes?limit={limit}"),
        };
        let response = app.as_user(system).get(&path).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        cursor = Some(page["next"].as_str().unwrap().to_owned());
        if page["more"] == false {
            return (items, cursor.unwrap());
        }
    }
}

fn key(item: &Value) -> (String, String, String) {
    (
        item["entity_type"].as_str().unwrap().to_owned(),
        item["entity_id"].as_str().unwrap_or("").to_owned(),
        item["change"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn a_system_follows_what_changed_without_data_or_protected_identities() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let system = follower(&app).await;
    let ali = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let mut hidden = child_body(north.unit, "Hidden", "2010-06-01");
    hidden["protection_level"] = json!("protected_registration");
    let secret = register(&app, &north.secretary_session, hidden).await;
    seal(&app);

    let (items, next) = read_on(&app, &system, None, 2).await;
    let children: Vec<&Value> = items
        .iter()
        .filter(|i| i["entity_type"] == "child")
        .collect();
    assert_eq!(children.len(), 1, "{items:?}");
    assert_eq!(children[0]["entity_id"], ali.to_string());
    assert_eq!(children[0]["child_id"], ali.to_string());
    assert_eq!(children[0]["change"], "create");
    let text = serde_json::to_string(&items).unwrap();
    for word in ["Ali", "Ahmadi", "Gunnel", "Hidden", &secret.to_string()] {
        assert!(!text.contains(word), "{word} in the feed: {text}");
    }
    // Users and sign-ins are the service's own business, never in the feed.
    assert!(items
        .iter()
        .all(|i| i["entity_type"] != "user" && i["entity_type"] != "session"));

    // Nothing new: an empty page, and the same place to go on from.
    let response = app
        .as_user(&system)
        .get(&format!("/api/v1/changes?after={next}"))
        .await;
    let page: Value = response.json().await.unwrap();
    assert_eq!(
        (
            page["items"].as_array().unwrap().len(),
            page["more"].clone()
        ),
        (0, json!(false))
    );
    // A change after the cursor is the next item.
    let etag = app
        .as_user(&north.secretary_session)
        .get(&format!("/api/v1/children/{ali}"))
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let changed = app
        .patch_if_match(
            &north.secretary_session,
            &format!("/api/v1/children/{ali}"),
            Some(&etag),
            json!({"interpreter_needed": false}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    seal(&app);
    let (items, _) = read_on(&app, &system, Some(next), 10).await;
    assert_eq!(
        items.iter().map(key).collect::<Vec<_>>(),
        [("child".to_owned(), ali.to_string(), "update".to_owned())]
    );
}

#[actix_web::test]
async fn only_a_system_with_changes_read_follows_and_a_bad_cursor_is_refused() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let admin = app.system_admin_session().await;
    let other = app
        .register_client(&admin, "statistik", &["children:read", "reports:read"])
        .await;
    let other = app.client_login(&other).await;
    for session in [
        &north.secretary_session,
        &north.manager_session,
        &admin,
        &other,
    ] {
        problem(app.as_user(session).get("/api/v1/changes").await, 403).await;
        // Refused before anything else: a bad cursor tells a caller who may not follow nothing.
        let malformed = app.as_user(session).get("/api/v1/changes?after=%21").await;
        problem(malformed, 403).await;
    }
    let system = follower(&app).await;
    for query in [
        "after=%21%21",
        "after=AAAA",
        "limit=0",
        "limit=1001",
        "after=",
        "since=1",
    ] {
        let body = problem(
            app.as_user(&system)
                .get(&format!("/api/v1/changes?{query}"))
                .await,
            400,
        )
        .await;
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:trygg:problem:"),
            "{query}: {body}"
        );
    }
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = SqlUuid)]
    entity_id: Uuid,
    #[diesel(sql_type = Text)]
    action: String,
}

#[actix_web::test]
async fn under_sixteen_writers_every_committed_change_comes_exactly_once_and_none_is_skipped() {
    let app = spawn_app_with(AppOptions::concurrent(16)).await;
    let north = office(&app, "North").await;
    let system = follower(&app).await;
    let (_, start) = read_on(&app, &system, None, 1000).await;

    // Sixteen writers register children while the system pages through the feed.
    let writers = (0..16).map(|w| {
        let session = north.secretary_session.clone();
        let app = &app;
        async move {
            for i in 0..6 {
                let body = child_body(north.unit, &format!("Writer{w}n{i}"), "2010-05-20");
                let response = app.as_user(&session).post("/api/v1/children", body).await;
                assert_eq!(response.status(), 201);
            }
        }
    });
    let reader = async {
        let mut seen = Vec::new();
        let mut cursor = start.clone();
        for _ in 0..40 {
            let (items, next) = read_on(&app, &system, Some(cursor), 7).await;
            seen.extend(items);
            cursor = next;
            actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        (seen, cursor)
    };
    let (_, (mut seen, cursor)) =
        futures_util::future::join(futures_util::future::join_all(writers), reader).await;
    seal(&app);
    let (rest, _) = read_on(&app, &system, Some(cursor), 7).await;
    seen.extend(rest);

    let mut counted: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for item in &seen {
        *counted.entry(key(item)).or_default() += 1;
    }
    assert!(
        counted.values().all(|n| *n == 1),
        "a change came twice: {counted:?}"
    );
    // What the database holds as committed changes since the start, each exactly once.
    let written: Vec<Written> = diesel::sql_query(
        "SELECT e.entity_type, e.entity_id, e.action FROM audit_events e
          WHERE e.outcome = 'success' AND e.action = 'create' AND e.entity_type = 'child'",
    )
    .load(&mut app.db.superuser())
    .unwrap();
    assert_eq!(written.len(), 96);
    for row in &written {
        let k = (
            row.entity_type.clone(),
            row.entity_id.to_string(),
            row.action.clone(),
        );
        assert_eq!(counted.get(&k), Some(&1), "{k:?} was skipped");
    }
}
