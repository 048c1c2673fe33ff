//! Stories about the relations that open a child to someone, and how they end: a unit manager
//! hands a case to another secretary, a secretary breaks the glass, staff of a home see the
//! children who live there today (not yesterday's, tomorrow's or a cancelled arrival's), a
//! child lives in another unit's home, a person leaves, a unit closes.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::sql_types::{Array, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::users::{Session, TestUser};
use crate::helpers::{problem, spawn_app, TestApp};

async fn status_of(app: &TestApp, session: &Session, path: &str) -> u16 {
    app.as_user(session).get(path).await.status().as_u16()
}

fn child_path(child: Uuid) -> String {
    format!("/api/v1/children/{child}")
}

async fn listed_children(app: &TestApp, session: &Session) -> Vec<String> {
    let list: Value = app
        .as_user(session)
        .get("/api/v1/children")
        .await
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn assign(
    app: &TestApp,
    session: &Session,
    child: Uuid,
    people: &[Uuid],
) -> reqwest::Response {
    app.as_user(session)
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/children/{child}/secretaries"),
            Some(json!({ "user_ids": people })),
        )
        .await
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Change {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Array<Text>)]
    changed_fields: Vec<String>,
}

/// The newest event about `child` written by `actor`.
fn last_event_about(app: &TestApp, child: Uuid) -> Change {
    sql_query(format!(
        "SELECT action, outcome, actor_id::text AS actor, changed_fields FROM audit_events \
         WHERE child_id = '{child}' AND entity_id = '{child}' AND action <> 'read' \
         ORDER BY seq DESC LIMIT 1"
    ))
    .get_result(&mut app.db.superuser())
    .unwrap()
}

/// A logged-in colleague in `unit`.
async fn colleague(app: &TestApp, profession: Profession, unit: Uuid) -> (TestUser, Session) {
    app.clock.advance(Duration::seconds(31));
    let user = app.create_user(profession, Some(unit));
    let session = app.login(&user).await;
    (user, session)
}

#[actix_web::test]
async fn a_unit_manager_hands_a_case_to_another_secretary_who_has_it_on_her_next_request() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let (bo, bo_session) = colleague(&app, Profession::SocialSecretary, north.unit).await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    assert_eq!(status_of(&app, &bo_session, &child_path(child)).await, 404);

    let handed = assign(&app, &north.manager_session, child, &[bo.id]).await;
    assert_eq!(handed.status(), 200);
    assert_eq!(
        handed.json::<Value>().await.unwrap(),
        json!({"user_ids": [bo.id]})
    );
    assert_eq!(
        last_event_about(&app, child),
        Change {
            action: "update".into(),
            outcome: "success".into(),
            actor: north.manager.id.to_string(),
            changed_fields: vec!["secretaries".into()],
        }
    );
    // No new login: the very next requests see the new assignment.
    assert_eq!(status_of(&app, &bo_session, &child_path(child)).await, 200);
    assert_eq!(
        listed_children(&app, &bo_session).await,
        [child.to_string()]
    );
    assert_eq!(
        status_of(&app, &north.secretary_session, &child_path(child)).await,
        404
    );
    assert!(listed_children(&app, &north.secretary_session)
        .await
        .is_empty());
    let case: Value = app
        .as_user(&north.manager_session)
        .get(&child_path(child))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["secretaries"], json!([bo.id]));
}

#[actix_web::test]
async fn a_case_goes_only_to_active_secretaries_of_its_unit_and_only_by_the_managers_hand() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let erik = app.create_user(Profession::HvbStaff, Some(north.unit));
    let (gone, _) = colleague(&app, Profession::SocialSecretary, north.unit).await;
    let admin = app.system_admin_session().await;
    let path = format!("/api/v1/users/{}", gone.id);
    let etag = app.as_user(&admin).get(&path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let left = app
        .patch_if_match(&admin, &path, Some(&etag), json!({"active": false}))
        .await;
    assert_eq!(left.status(), 200);
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;

    for (who, person) in [
        ("a secretary of another unit", south.secretary.id),
        ("HVB staff", erik.id),
        ("a deactivated secretary", gone.id),
        ("no one at all", Uuid::now_v7()),
    ] {
        let refused = problem(
            assign(
                &app,
                &north.manager_session,
                child,
                &[north.secretary.id, person],
            )
            .await,
            422,
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], "user_ids[1]", "{who}");
    }
    // The secretary does not pick her own cases, nor does the other unit's manager.
    problem(
        assign(&app, &north.secretary_session, child, &[north.secretary.id]).await,
        403,
    )
    .await;
    problem(
        assign(&app, &south.manager_session, child, &[south.secretary.id]).await,
        404,
    )
    .await;
    let case: Value = app
        .as_user(&north.manager_session)
        .get(&child_path(child))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        case["secretaries"],
        json!([north.secretary.id]),
        "unchanged"
    );
    let last = last_event_about(&app, child);
    assert_eq!(
        (last.action.as_str(), last.outcome.as_str()),
        ("update", "denied")
    );
    assert_eq!(last.actor, south.manager.id.to_string());
}

#[actix_web::test]
async fn a_secretary_who_breaks_the_glass_reads_the_child_until_the_access_expires() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let path = child_path(child);
    assert_eq!(status_of(&app, &south.secretary_session, &path).await, 404);

    let granted = app
        .as_user(&south.secretary_session)
        .post(
            &format!("{path}/emergency-access"),
            json!({"reason": "Police called at night: the child was found alone"}),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let granted: Value = granted.json().await.unwrap();
    let expires: DateTime<Utc> = granted["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, app.clock_now() + Duration::minutes(60));

    assert_eq!(status_of(&app, &south.secretary_session, &path).await, 200);
    // It opens the child to read, not to change, and adds nothing to her caseload.
    let etag = app
        .as_user(&south.secretary_session)
        .get(&path)
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    problem(
        app.patch_if_match(
            &south.secretary_session,
            &path,
            Some(&etag),
            json!({"languages": ["arabic"]}),
        )
        .await,
        403,
    )
    .await;
    assert!(listed_children(&app, &south.secretary_session)
        .await
        .is_empty());
    // Her colleague in South did not break the glass and still sees nothing.
    let (_, other) = colleague(&app, Profession::SocialSecretary, south.unit).await;
    assert_eq!(status_of(&app, &other, &path).await, 404);

    app.clock.set(expires + Duration::seconds(1));
    let later = app.login(&south.secretary).await;
    assert_eq!(status_of(&app, &later, &path).await, 404);
}

/// A home's staff member, logged in, with the home.
async fn home_with_staff(
    app: &TestApp,
    unit: Uuid,
    kind: &str,
    profession: Profession,
) -> (Uuid, TestUser, Session) {
    let (user, session) = colleague(app, profession, unit).await;
    let home = app.arrange_facility(unit, kind, 10, &[user.id]);
    (home, user, session)
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[actix_web::test]
async fn home_staff_see_the_children_who_live_there_today_only() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let (home, erik, erik_session) =
        home_with_staff(&app, north.unit, "hvb", Profession::HvbStaff).await;
    let child_of = |placement: Uuid| {
        #[derive(QueryableByName)]
        struct Child {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            child_id: Uuid,
        }
        sql_query(format!(
            "SELECT child_id FROM placements WHERE id = '{placement}'"
        ))
        .get_result::<Child>(&mut app.db.superuser())
        .unwrap()
        .child_id
    };
    let today = app.arrange_placement(
        north.unit,
        home,
        day("2026-03-01"),
        day("2026-06-30"),
        false,
    );
    let moved_out = app.arrange_placement(
        north.unit,
        home,
        day("2025-09-01"),
        day("2026-03-09"),
        false,
    );
    let arriving = app.arrange_placement(
        north.unit,
        home,
        day("2026-04-01"),
        day("2026-09-30"),
        false,
    );
    let cancelled =
        app.arrange_placement(north.unit, home, day("2026-03-01"), day("2026-06-30"), true);

    for (who, placement, status) in [
        ("the child living there today", today, 200),
        ("the child who moved out yesterday", moved_out, 404),
        ("the child arriving next month", arriving, 404),
        ("the child whose placement was cancelled", cancelled, 404),
    ] {
        let path = child_path(child_of(placement));
        assert_eq!(status_of(&app, &erik_session, &path).await, status, "{who}");
        let placements = format!("{path}/placements");
        assert_eq!(
            status_of(&app, &erik_session, &placements).await,
            status,
            "{who}"
        );
    }

    // On the day the newcomer arrives, she is theirs too.
    app.clock.set("2026-04-01T08:00:00Z".parse().unwrap());
    let morning = app.login(&erik).await;
    assert_eq!(
        status_of(&app, &morning, &child_path(child_of(arriving))).await,
        200
    );
}

#[actix_web::test]
async fn a_child_in_another_units_home_is_seen_by_that_homes_staff_but_not_its_manager() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let (home, _, hanna) = home_with_staff(&app, south.unit, "hvb", Profession::HvbStaff).await;
    let placement = app.arrange_placement(
        north.unit,
        home,
        day("2026-03-01"),
        day("2026-06-30"),
        false,
    );
    #[derive(QueryableByName)]
    struct Child {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        child_id: Uuid,
    }
    let child = sql_query(format!(
        "SELECT child_id FROM placements WHERE id = '{placement}'"
    ))
    .get_result::<Child>(&mut app.db.superuser())
    .unwrap()
    .child_id;
    let path = child_path(child);

    assert_eq!(
        status_of(&app, &hanna, &path).await,
        200,
        "she cares for him"
    );
    assert_eq!(
        status_of(&app, &north.manager_session, &path).await,
        200,
        "his case is North's"
    );
    assert_eq!(
        status_of(&app, &south.manager_session, &path).await,
        404,
        "the home's manager"
    );
    assert_eq!(status_of(&app, &south.secretary_session, &path).await, 404);
}

#[actix_web::test]
async fn hvb_staff_do_not_see_a_child_in_supported_housing_of_their_own_unit() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let (_, _, erik) = home_with_staff(&app, north.unit, "hvb", Profession::HvbStaff).await;
    let (housing, _, sara) = home_with_staff(
        &app,
        north.unit,
        "supported_housing",
        Profession::HousingStaff,
    )
    .await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Reza", "2009-06-01"),
    )
    .await;
    let placed = app
        .as_user(&north.manager_session)
        .post(
            &format!("{}/placements", child_path(child)),
            json!({"facility_id": housing, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-1", "special_reasons": "Mature and stable; school nearby", "deviation_reason": "Investigated in another municipality"}),
        )
        .await;
    assert_eq!(placed.status(), 201);

    assert_eq!(status_of(&app, &sara, &child_path(child)).await, 200);
    assert_eq!(status_of(&app, &erik, &child_path(child)).await, 404);
    assert!(listed_children(&app, &erik).await.is_empty());
}

#[actix_web::test]
async fn a_secretary_who_leaves_is_out_at_once_and_her_case_stays_with_the_unit() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let admin = app.system_admin_session().await;
    let path = format!("/api/v1/users/{}", north.secretary.id);
    let etag = app.as_user(&admin).get(&path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let left = app
        .patch_if_match(&admin, &path, Some(&etag), json!({"active": false}))
        .await;
    assert_eq!(left.status(), 200);

    problem(
        app.as_user(&north.secretary_session)
            .get(&child_path(child))
            .await,
        401,
    )
    .await;
    app.clock.advance(Duration::seconds(31));
    let again = app.token_request(json!({"grant_type": "password", "username": north.secretary.username, "password": north.secretary.password, "totp_code": app.totp_for(&north.secretary)})).await;
    assert_eq!(again.status(), 401);
    assert_eq!(
        status_of(&app, &north.manager_session, &child_path(child)).await,
        200
    );
}

#[actix_web::test]
async fn a_closed_unit_takes_no_new_people_but_keeps_its_cases() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let admin = app.system_admin_session().await;
    let unit_path = format!("/api/v1/units/{}", north.unit);
    let etag = app.as_user(&admin).get(&unit_path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let closed = app
        .patch_if_match(&admin, &unit_path, Some(&etag), json!({"active": false}))
        .await;
    assert_eq!(closed.status(), 200);

    // No new child is registered in it.
    let refused = problem(
        app.as_user(&north.secretary_session)
            .post(
                "/api/v1/children",
                child_body(north.unit, "Sami", "2011-01-01"),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "responsible_unit_id");
    let south = app.create_unit("South");
    let newcomer = app.create_user(Profession::SocialSecretary, Some(south));
    let path = format!("/api/v1/users/{}", newcomer.id);
    let etag = app.as_user(&admin).get(&path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let moved = problem(
        app.patch_if_match(&admin, &path, Some(&etag), json!({"unit_id": north.unit}))
            .await,
        422,
    )
    .await;
    assert_eq!(moved["errors"][0]["field"], "unit_id");
    // The children already in its care are not orphaned.
    for session in [&north.secretary_session, &north.manager_session] {
        assert_eq!(status_of(&app, session, &child_path(child)).await, 200);
    }
}
