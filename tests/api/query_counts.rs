//! What a list costs the database: the statements of one request, counted on the wire between
//! the app and PostgreSQL, must not grow with the rows the caller sees. A list that asks once
//! per row (N+1) shows here as a count that grows with the world.

use chrono::NaiveDate;
use serde_json::Value;
use trygg::policy::Profession;
use uuid::Uuid;

use crate::helpers::db_proxy::{DbProxy, FrontendReader};
use crate::helpers::users::Session;
use crate::helpers::{spawn_app_with, AppOptions, TestApp};

const SMALL: usize = 2;
const LARGE: usize = 12;

/// The app, with its database connections counted by a proxy. No sequencer and no webhook
/// dispatcher run: their passes (on connections through the same proxy) are not the request's
/// statements.
async fn counted_app() -> (TestApp, DbProxy) {
    let proxy = DbProxy::start();
    let app = spawn_app_with(AppOptions {
        database_url_override: Some(proxy.url()),
        no_sequencer: true,
        webhooks: crate::helpers::without_dispatcher(),
        ..AppOptions::default()
    })
    .await;
    (app, proxy)
}

/// The statements one `GET path` by `session` costs, after the answer (200 with
/// `expected_items` items) has arrived. The pool adds a constant few of its own (a connection
/// test on checkout, a setup batch when it opens a connection), so the request is made once to
/// warm the pool and then three times, and the least is taken: noise only ever adds.
async fn statements_of(
    app: &TestApp,
    proxy: &DbProxy,
    session: &Session,
    path: &str,
    expected_items: usize,
) -> u64 {
    let mut least = u64::MAX;
    for attempt in 0..4 {
        let before = proxy.statements();
        let response = app.as_user(session).get(path).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let after = proxy.statements();
        assert_eq!(status, 200, "GET {path}: {body}");
        let items = body["items"].as_array().map_or(0, Vec::len);
        assert_eq!(items, expected_items, "GET {path} shows the rows arranged");
        if attempt > 0 {
            least = least.min(after - before);
        }
    }
    least
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// `n` stays of 30 days in a row from 1 January 2024, the last ending long before today.
fn stays(n: usize) -> Vec<(NaiveDate, NaiveDate)> {
    (0..n as i64)
        .map(|k| {
            let start = day("2024-01-01") + chrono::Duration::days(30 * k);
            (start, start + chrono::Duration::days(29))
        })
        .collect()
}

#[actix_web::test]
async fn a_page_of_children_costs_the_same_statements_for_2_children_as_for_12() {
    let (app, proxy) = counted_app().await;
    let north = app.create_unit("North");
    let home = app.arrange_facility(north, "hvb", 20, &[]);
    let maria = app.create_user(Profession::UnitManager, Some(north));
    let session = app.login(&maria).await;
    let arrange = |n: usize| {
        for _ in 0..n {
            app.arrange_placement(north, home, day("2026-01-01"), day("2026-12-31"), false);
        }
    };

    // Maria, the unit manager, lists her unit's children: first two, then twelve, each living
    // in the unit's HVB home today.
    arrange(SMALL);
    let small = statements_of(&app, &proxy, &session, "/api/v1/children?limit=50", SMALL).await;
    arrange(LARGE - SMALL);
    let large = statements_of(&app, &proxy, &session, "/api/v1/children?limit=50", LARGE).await;

    assert_eq!(
        small,
        large,
        "GET /api/v1/children: {small} statements for {SMALL} children, {large} for {LARGE} \
         ({:+.1} per extra child); a page must load its rows' secretaries and placements in \
         batches, not per child",
        (large as f64 - small as f64) / (LARGE - SMALL) as f64
    );
}

#[actix_web::test]
async fn a_childs_placements_cost_the_same_statements_for_2_placements_as_for_12() {
    let (app, proxy) = counted_app().await;
    let north = app.create_unit("North");
    let home = app.arrange_facility(north, "hvb", 20, &[]);
    let maria = app.create_user(Profession::UnitManager, Some(north));
    let session = app.login(&maria).await;

    // Two children of Maria's unit: Amir has lived in the home twice, Dawit twelve times.
    let amir: Uuid = app.arrange_child_with_placements(north, home, &stays(SMALL));
    let dawit: Uuid = app.arrange_child_with_placements(north, home, &stays(LARGE));
    let path = |child: Uuid| format!("/api/v1/children/{child}/placements");
    let small = statements_of(&app, &proxy, &session, &path(amir), SMALL).await;
    let large = statements_of(&app, &proxy, &session, &path(dawit), LARGE).await;

    assert_eq!(
        small,
        large,
        "GET /api/v1/children/{{id}}/placements: {small} statements for {SMALL} placements, \
         {large} for {LARGE} ({:+.1} per extra placement); the list must load its reviews and \
         decisions in batches, not per placement",
        (large as f64 - small as f64) / (LARGE - SMALL) as f64
    );
}

#[actix_web::test]
async fn a_worklist_costs_the_same_statements_for_2_children_as_for_12() {
    use serde_json::json;
    let (app, proxy) = counted_app().await;
    let north = crate::children::office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 20, &[]);
    let place = |n: usize| {
        let (app, north) = (&app, &north);
        async move {
            for k in 0..n {
                let body =
                    crate::children::child_body(north.unit, &format!("Child{k}"), "2010-05-20");
                let child = crate::children::register(app, &north.secretary_session, body).await;
                let placed = app
                    .as_user(&north.secretary_session)
                    .post(
                        &format!("/api/v1/children/{child}/placements"),
                        json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": format!("SN-{k}")}),
                    )
                    .await;
                assert_eq!(placed.status(), 201);
            }
        }
    };

    // Maria's worklist holds the weekly staff contact of every child placed in her unit's
    // home, due within the fortnight: first two children, then twelve.
    place(SMALL).await;
    let path = "/api/v1/me/worklist";
    let manager = &north.manager_session;
    let small = statements_of(&app, &proxy, manager, path, SMALL).await;
    place(LARGE - SMALL).await;
    let large = statements_of(&app, &proxy, manager, path, LARGE).await;
    assert_eq!(
        small, large,
        "GET /api/v1/me/worklist: {small} statements for {SMALL} children, {large} for {LARGE}; \
         schedules, last contacts, children and placement decisions load in batches"
    );
}

/// The counter itself: a startup packet, then a simple query and an extended-protocol run,
/// arriving in pieces cut anywhere.
#[test]
fn the_counter_reads_the_frontend_protocol_in_pieces() {
    fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut message = vec![kind];
        message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(body);
        message
    }
    let mut startup_body = 196608u32.to_be_bytes().to_vec(); // protocol 3.0
    startup_body.extend_from_slice(b"user\0postgres\0database\0t\0\0");
    let mut stream = (startup_body.len() as u32 + 4).to_be_bytes().to_vec();
    stream.extend(startup_body);
    stream.extend(typed(b'p', b"password\0")); // a message that is no statement
    stream.extend(typed(b'Q', b"SET TIME ZONE 'UTC'; SELECT 1\0"));
    stream.extend(typed(b'P', b"\0SELECT $1\0\0\0"));
    stream.extend(typed(b'B', b"\0\0\0\0\0\0\0\0"));
    stream.extend(typed(b'D', b"P\0"));
    stream.extend(typed(b'E', b"\0\0\0\0\0"));
    stream.extend(typed(b'S', b""));
    stream.extend(typed(b'E', b"\0\0\0\0\0")); // an E body starting with bytes like a length
    stream.extend(typed(b'S', b""));

    for piece in [1, 2, 3, 5, 7, 64, stream.len()] {
        let mut reader = FrontendReader::default();
        let counted: u64 = stream.chunks(piece).map(|chunk| reader.feed(chunk)).sum();
        assert_eq!(counted, 3, "in pieces of {piece} bytes");
    }

    // An SSL request before the startup packet is skipped like it.
    let mut with_ssl = 8u32.to_be_bytes().to_vec();
    with_ssl.extend_from_slice(&80877103u32.to_be_bytes());
    with_ssl.extend_from_slice(&stream);
    assert_eq!(FrontendReader::default().feed(&with_ssl), 3);
}
