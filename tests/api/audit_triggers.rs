//! The database's own guard of "every change has its audit event": for every table that carries
//! the commit-time trigger (found in the catalogue, not listed by hand), the service's role tries
//! INSERT, UPDATE and DELETE with no event, with a NULL event and with an event of another
//! transaction, and is refused at commit with the trigger's own words. Deleting is refused
//! outright where the role may not delete, and needs an event about the row where it may.

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::{spawn_app, TestApp};

/// Tables the service may delete from that hold neither personal data nor a relation to a
/// child, so a delete there needs no audit event.
const DELETABLE_WITHOUT_EVENT: [(&str, &str); 3] = [
    (
        "audit_queue",
        "the sequencer's work list: events leave it as they are sealed, and verify names any \
         event that left it unsealed",
    ),
    ("rule_sets", "the rules file, rewritten at every start"),
    (
        "idempotency_keys",
        "answers to retried POSTs, purged after a day",
    ),
];

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn names(conn: &mut PgConnection, sql: &str) -> BTreeSet<String> {
    sql_query(sql)
        .load::<Name>(conn)
        .expect("read the catalogue")
        .into_iter()
        .map(|n| n.name)
        .collect()
}

/// Tables with a trigger that runs `function`, from pg_trigger and pg_proc.
fn tables_with_trigger(conn: &mut PgConnection, function: &str) -> BTreeSet<String> {
    names(
        conn,
        &format!(
            "SELECT DISTINCT t.tgrelid::regclass::text AS name FROM pg_trigger t \
             JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = '{function}' AND NOT t.tgisinternal"
        ),
    )
}

fn flag(conn: &mut PgConnection, sql: &str) -> bool {
    sql_query(sql)
        .get_result::<Flag>(conn)
        .expect("ask the catalogue")
        .flag
}

/// How a transaction ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Committed,
    /// A statement was refused; the message.
    RefusedAt(String),
    /// Every statement ran, the commit was refused; the message.
    RefusedAtCommit(String),
}

fn transaction(conn: &mut PgConnection, statements: &[String]) -> Ended {
    conn.batch_execute("BEGIN").expect("begin");
    for statement in statements {
        if let Err(e) = conn.batch_execute(statement) {
            conn.batch_execute("ROLLBACK").expect("roll back");
            return Ended::RefusedAt(e.to_string());
        }
    }
    match conn.batch_execute("COMMIT") {
        Ok(()) => Ended::Committed,
        Err(e) => Ended::RefusedAtCommit(e.to_string()),
    }
}

/// An audit event as the service would write it (its number comes from the sequence; its
/// digest does not matter here).
pub fn event(
    id: Uuid,
    entity_type: &str,
    entity_id: Option<Uuid>,
    child_id: Option<Uuid>,
) -> String {
    let sql_uuid = |id: Option<Uuid>| id.map_or("NULL".to_owned(), |id| format!("'{id}'"));
    format!(
        "INSERT INTO audit_events (id, occurred_at, actor_type, action, outcome, entity_type, \
         entity_id, child_id, content_digest) \
         VALUES ('{id}', now(), 'system', 'update', 'success', '{entity_type}', {}, {}, \
         sha256('{id}c'::bytea))",
        sql_uuid(entity_id),
        sql_uuid(child_id),
    )
}

/// Tables whose rows are never changed: their own trigger refuses any update first.
const APPEND_ONLY: [&str; 5] = [
    "visits",
    "age_out_plan_versions",
    "age_out_goal_versions",
    "age_out_progress_notes",
    "age_out_reviews",
];

/// The ids the insert recipes fill in.
struct World {
    unit: Uuid,
    /// A social secretary of the unit not yet on the child's case.
    colleague: Uuid,
    facility: Uuid,
    /// A child of the unit with no placement.
    unplaced: Uuid,
    placement: Uuid,
    /// The age-out plan of the placed child, and a goal of it.
    plan: Uuid,
    goal: Uuid,
}

/// A new row of each table with the commit-time trigger, naming `event` (an SQL expression).
fn insert_recipe(table: &str, w: &World, event: &str) -> Option<String> {
    let fresh = Uuid::now_v7();
    let tag = &fresh.simple().to_string()[20..];
    Some(match table {
        "units" => format!(
            "INSERT INTO units (id, name, created_at, updated_at, last_audit_event_id) \
             VALUES ('{fresh}', 'Unit {tag}', now(), now(), {event})"
        ),
        "users" => format!(
            "INSERT INTO users (id, username, display_name, profession, unit_id, password_hash, \
             password_changed_at, created_at, updated_at, last_audit_event_id) VALUES ('{fresh}', \
             'u-{tag}', 'Someone', 'hvb_staff', '{}', 'x', now(), now(), now(), {event})",
            w.unit
        ),
        "service_accounts" => format!(
            "INSERT INTO service_accounts (id, client_id, name, secret_hash, scopes, created_at, \
             updated_at, last_audit_event_id) VALUES ('{fresh}', 'c-{tag}', 'A system', 'x', \
             '{{visits:read}}', now(), now(), {event})"
        ),
        // Each in the quarter after the last one claimed: one original claim per quarter.
        "reimbursement_claims" => format!(
            "INSERT INTO reimbursement_claims (id, quarter_start, deadline, created_at, \
             updated_at, last_audit_event_id) SELECT '{fresh}', q, q + 300, now(), now(), {event} \
             FROM (SELECT COALESCE((SELECT max(quarter_start) FROM reimbursement_claims) \
             + interval '3 months', DATE '2000-01-01')::date AS q) AS next"
        ),
        "webhook_subscriptions" => format!(
            "INSERT INTO webhook_subscriptions (id, service_account_id, url, entity_types, \
             secret_sealed, created_at, updated_at, last_audit_event_id) SELECT '{fresh}', id, \
             'https://example.se/hook', '{{child}}', 'v1:x', now(), now(), {event} \
             FROM service_accounts WHERE client_id = 'ledger'"
        ),
        "facilities" => format!(
            "INSERT INTO facilities (id, kind, name, unit_id, capacity, created_at, updated_at, \
             last_audit_event_id) VALUES ('{fresh}', 'hvb', 'Home {tag}', '{}', 3, now(), now(), \
             {event})",
            w.unit
        ),
        "facility_staff" => format!(
            "INSERT INTO facility_staff (facility_id, user_id, last_audit_event_id) \
             VALUES ('{}', '{}', {event})",
            w.facility, w.colleague
        ),
        "children" => format!(
            "INSERT INTO children (id, given_name, family_name, date_of_birth, sex, asylum_status, \
             responsible_unit_id, created_at, updated_at, last_audit_event_id) VALUES ('{fresh}', \
             'Sneaky', 'Entry', '2011-01-01', 'unknown', 'asylum_seeker', '{}', now(), now(), \
             {event})",
            w.unit
        ),
        "child_secretaries" => format!(
            "INSERT INTO child_secretaries (child_id, user_id, assigned_at, last_audit_event_id) \
             VALUES ('{}', '{}', now(), {event})",
            w.unplaced, w.colleague
        ),
        "placements" => format!(
            "INSERT INTO placements (id, child_id, facility_id, start_date, planned_end, \
             legal_basis, decision_reference, created_at, updated_at, last_audit_event_id) VALUES \
             ('{fresh}', '{}', '{}', '2026-03-01', '2026-06-30', 'SoL2025-insats', 'BN-1', now(), \
             now(), {event})",
            w.unplaced, w.facility
        ),
        "placement_reviews" => format!(
            "INSERT INTO placement_reviews (id, placement_id, kind, decided_on, \
             decision_reference, continued_need, created_at, last_audit_event_id) VALUES \
             ('{fresh}', '{}', 'reconsideration', '2026-03-05', 'BN-2', true, now(), {event})",
            w.placement
        ),
        "emergency_accesses" => format!(
            "INSERT INTO emergency_accesses (id, user_id, child_id, reason, granted_at, \
             expires_at, last_audit_event_id) VALUES ('{fresh}', '{}', '{}', \
             'Found alone at night', now(), now() + interval '1 hour', {event})",
            w.colleague, w.unplaced
        ),
        "contact_schedules" => format!(
            "INSERT INTO contact_schedules (id, child_id, kind, responsible, secretary_id, \
             recurrence, tolerance_days, start_date, created_at, updated_at, last_audit_event_id) \
             VALUES ('{fresh}', '{}', 'secretary_visit', 'secretary', '{}', '1 per quarter', 14, \
             '2026-03-01', now(), now(), {event})",
            w.unplaced, w.colleague
        ),
        "visits" => format!(
            "INSERT INTO visits (id, child_id, performed_by, occurred_at, mode, at_placement, \
             completed, spoke_alone, planned, interpreter_used, created_at, last_audit_event_id) \
             VALUES ('{fresh}', '{}', '{}', now(), 'phone', false, true, false, true, false, \
             now(), {event})",
            w.unplaced, w.colleague
        ),
        "protection_changes" => format!(
            "INSERT INTO protection_changes (id, child_id, from_level, to_level, reason, \
             decision_reference, decided_by, created_at, last_audit_event_id) VALUES ('{fresh}', \
             '{}', 'none', 'confidentiality_marking', 'A decision made today', 'SN-1', '{}', \
             now(), {event})",
            w.unplaced, w.colleague
        ),
        "age_assessments" => format!(
            "INSERT INTO age_assessments (id, child_id, from_date_of_birth, to_date_of_birth, \
             from_assessed, to_assessed, reason, decision_reference, decided_by, created_at, \
             last_audit_event_id) VALUES ('{fresh}', '{}', '2010-01-01', '2010-02-01', true, true, \
             'A decision made today', 'SN-1', '{}', now(), {event})",
            w.unplaced, w.colleague
        ),
        // Revoked, so a second row of the same person is no second live feed.
        "calendar_feeds" => format!(
            "INSERT INTO calendar_feeds (id, user_id, token_hash, created_at, revoked_at, \
             revoked_reason, last_audit_event_id) VALUES ('{fresh}', '{}', '{hash}{hash}', now(), \
             now(), 'revoked', {event})",
            w.colleague,
            hash = fresh.simple()
        ),
        // The unplaced child has no plan yet: one per child.
        "age_out_plans" => format!(
            "INSERT INTO age_out_plans (id, child_id, opened_on, opened_by, created_at, \
             updated_at, last_audit_event_id) VALUES ('{fresh}', '{}', '2026-03-10', '{}', now(), \
             now(), {event})",
            w.unplaced, w.colleague
        ),
        "age_out_plan_versions" => format!(
            "INSERT INTO age_out_plan_versions (id, plan_id, child_id, version, opened_on, \
             changed_by, changed_at, last_audit_event_id) SELECT '{fresh}', id, child_id, {}, \
             opened_on, '{}', now(), {event} FROM age_out_plans WHERE id = '{}'",
            100 + fresh.as_u128() % 1_000_000,
            w.colleague,
            w.plan
        ),
        "age_out_goals" => format!(
            "INSERT INTO age_out_goals (id, plan_id, child_id, domain, description, target_date, \
             responsible, status, created_at, updated_at, last_audit_event_id) SELECT '{fresh}', \
             id, child_id, 'leisure', 'Join a football team', '2026-09-01', 'youth', \
             'not_started', now(), now(), {event} FROM age_out_plans WHERE id = '{}'",
            w.plan
        ),
        "age_out_goal_versions" => format!(
            "INSERT INTO age_out_goal_versions (id, goal_id, child_id, version, domain, \
             description, target_date, responsible, status, changed_by, changed_at, \
             last_audit_event_id) SELECT '{fresh}', id, child_id, {}, domain, description, \
             target_date, responsible, status, '{}', now(), {event} FROM age_out_goals \
             WHERE id = '{}'",
            100 + fresh.as_u128() % 1_000_000,
            w.colleague,
            w.goal
        ),
        "age_out_progress_notes" => format!(
            "INSERT INTO age_out_progress_notes (id, goal_id, child_id, noted_on, note, \
             written_by, created_at, last_audit_event_id) SELECT '{fresh}', id, child_id, \
             '2026-03-10', 'A sneaky note', '{}', now(), {event} FROM age_out_goals \
             WHERE id = '{}'",
            w.colleague, w.goal
        ),
        "age_out_reviews" => format!(
            "INSERT INTO age_out_reviews (id, plan_id, child_id, held_on, participants, \
             youth_view, goal_statuses, recorded_by, created_at, last_audit_event_id) SELECT \
             '{fresh}', id, child_id, '2026-03-10', '{{\"The youth\"}}', 'Fine', '[]', '{}', \
             now(), {event} FROM age_out_plans WHERE id = '{}'",
            w.colleague, w.plan
        ),
        _ => return None,
    })
}

/// One row of `table` (the first), changed to name `event`.
fn update_first_row(table: &str, event: &str) -> String {
    format!(
        "UPDATE {table} SET last_audit_event_id = {event} \
         WHERE ctid = (SELECT ctid FROM {table} LIMIT 1)"
    )
}

fn delete_first_row(table: &str) -> String {
    format!("DELETE FROM {table} WHERE ctid = (SELECT ctid FROM {table} LIMIT 1)")
}

/// A unit with every kind of audited row in it, made through the API.
async fn world(app: &TestApp) -> World {
    let north = office(app, "North").await;
    let south = office(app, "South").await;
    let erik = app.create_user(Profession::HvbStaff, Some(north.unit));
    let facility = app.arrange_facility(north.unit, "hvb", 10, &[erik.id]);
    let colleague = app.create_user(Profession::SocialSecretary, Some(north.unit));
    let admin = app.system_admin_session().await;
    let ledger = app
        .register_client(&admin, "ledger", &["children:read", "changes:read"])
        .await;
    let ledger = app.client_login(&ledger).await;
    let hooked = app
        .as_user(&ledger)
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "entity_types": ["child"]}),
        )
        .await;
    assert_eq!(hooked.status(), 201);
    let finance = app.create_user(Profession::Administrator, None);
    let finance = app.login(&finance).await;
    let claimed = app
        .as_user(&finance)
        .post(
            "/api/v1/reimbursement-claims",
            json!({"quarter": "2025-Q4"}),
        )
        .await;
    assert_eq!(claimed.status(), 201);
    let placed = register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Ali", "2010-05-20"),
    )
    .await;
    let unplaced = register(
        app,
        &north.secretary_session,
        child_body(north.unit, "Omid", "2011-02-02"),
    )
    .await;
    let me = app.as_user(&north.secretary_session);
    let response = me
        .post(
            &format!("/api/v1/children/{placed}/placements"),
            json!({"facility_id": facility, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-1"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let placement: Uuid = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let reviewed = me
        .post(
            &format!("/api/v1/placements/{placement}/reviews"),
            json!({"kind": "reconsideration", "decided_on": "2026-03-05", "decision_reference": "BN-2026-52", "continued_need": true}),
        )
        .await;
    assert_eq!(reviewed.status(), 201);
    let decided = app
        .as_user(&north.manager_session)
        .post(
            &format!("/api/v1/children/{unplaced}/protection"),
            json!({"protection_level": "confidentiality_marking", "reason": "A threat was reported today", "decision_reference": "SN-2026-9"}),
        )
        .await;
    assert_eq!(decided.status(), 200);
    let reassessed = app
        .as_user(&north.manager_session)
        .post(
            &format!("/api/v1/children/{unplaced}/age-assessments"),
            json!({"date_of_birth": "2010-01-20", "reason": "The medical age assessment came back", "decision_reference": "SN-2026-10"}),
        )
        .await;
    assert_eq!(reassessed.status(), 200);
    let visited = me
        .post(
            &format!("/api/v1/children/{placed}/visits"),
            json!({"occurred_at": "2026-03-09T10:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true}),
        )
        .await;
    assert_eq!(visited.status(), 201);
    let (plan, goal) = age_out_plan(&me, placed).await;
    let subscribed = me.post("/api/v1/me/calendar-feed", json!({})).await;
    assert_eq!(subscribed.status(), 201);
    let glass = app
        .as_user(&south.secretary_session)
        .post(
            &format!("/api/v1/children/{placed}/emergency-access"),
            json!({"reason": "Police called at night: the child was found alone"}),
        )
        .await;
    assert_eq!(glass.status(), 201);
    // Recovery codes come with enrolment; only their existence matters here.
    app.db
        .superuser()
        .batch_execute(&format!(
            "INSERT INTO recovery_codes (user_id, code_hash) VALUES ('{}', 'hash')",
            erik.id
        ))
        .unwrap();
    World {
        unit: north.unit,
        colleague: colleague.id,
        facility,
        unplaced,
        placement,
        plan,
        goal,
    }
}

/// An age-out plan for `child` with a goal, a progress note and a review; its and the goal's ids.
pub async fn age_out_plan(me: &crate::helpers::users::AsUser<'_>, child: Uuid) -> (Uuid, Uuid) {
    let path = format!("/api/v1/children/{child}/age-out-plan");
    let id = |v: Value| v["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let opened = me.post(&path, json!({})).await;
    assert_eq!(opened.status(), 201);
    let plan = id(opened.json().await.unwrap());
    let added = me
        .post(
            &format!("{path}/goals"),
            json!({"domain": "housing", "description": "A flat of her own", "target_date": "2027-06-01", "responsible": "youth"}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let goal = id(added.json().await.unwrap());
    let noted = me
        .post(
            &format!("/api/v1/age-out-goals/{goal}/progress-notes"),
            json!({"note": "Saw two flats"}),
        )
        .await;
    assert_eq!(noted.status(), 201);
    let reviewed = me
        .post(
            &format!("{path}/reviews"),
            json!({"held_on": "2026-03-10", "participants": ["The youth"], "youth_view": "Good"}),
        )
        .await;
    assert_eq!(reviewed.status(), 201);
    (plan, goal)
}

/// What is tried, the statements, and whether the way it ended is the refusal wanted.
type Try<'a> = (&'a str, Vec<String>, Box<dyn Fn(&Ended) -> bool + 'a>);

fn own_words(table: &str) -> String {
    format!("write to {table} without an audit event in the same transaction")
}

/// An event committed in a transaction of its own, as every earlier change's event is.
fn committed_event(conn: &mut PgConnection) -> Uuid {
    let id = Uuid::now_v7();
    assert_eq!(
        transaction(conn, &[event(id, "child", None, None)]),
        Ended::Committed
    );
    id
}

#[actix_web::test]
async fn no_row_of_personal_data_is_written_without_its_audit_event_in_the_same_transaction() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut conn = app.db.service_role();
    let audited = tables_with_trigger(&mut conn, "require_audit_event");
    let known: BTreeSet<String> = [
        "units",
        "users",
        "service_accounts",
        "webhook_subscriptions",
        "reimbursement_claims",
        "facilities",
        "facility_staff",
        "children",
        "child_secretaries",
        "placements",
        "placement_reviews",
        "emergency_accesses",
        "protection_changes",
        "age_assessments",
        "contact_schedules",
        "visits",
        "calendar_feeds",
        "age_out_plans",
        "age_out_plan_versions",
        "age_out_goals",
        "age_out_goal_versions",
        "age_out_progress_notes",
        "age_out_reviews",
    ]
    .map(str::to_owned)
    .into();
    let mut faults = Vec::new();
    for table in audited.difference(&known) {
        faults.push(format!(
            "{table} carries the audit trigger but this test has no insert recipe for it"
        ));
    }
    // A table the recipes know is tried whether or not it still carries the trigger, so a
    // dropped trigger shows as a write that commits.
    for table in audited.union(&known) {
        let Some(_) = insert_recipe(table, &w, "NULL") else {
            continue;
        };
        let rows = flag(
            &mut conn,
            &format!("SELECT EXISTS (SELECT 1 FROM {table}) AS flag"),
        );
        assert!(rows, "the world has a row in {table}");
        let nullable = flag(
            &mut conn,
            &format!(
                "SELECT NOT attnotnull AS flag FROM pg_attribute \
                 WHERE attrelid = '{table}'::regclass AND attname = 'last_audit_event_id'"
            ),
        );
        let elsewhere = committed_event(&mut conn);
        let never_written = Uuid::now_v7();
        let null_refusal = |ended: &Ended| {
            if nullable {
                *ended == Ended::RefusedAtCommit(own_words(table))
            } else {
                matches!(ended, Ended::RefusedAt(m) if m.contains("null value in column \"last_audit_event_id\""))
            }
        };
        let tries: Vec<Try> = vec![
            (
                "INSERT naming an event no one wrote",
                vec![insert_recipe(table, &w, &format!("'{never_written}'")).unwrap()],
                // The deferred foreign key to audit_events may say it first.
                Box::new(|e: &Ended| match e {
                    Ended::RefusedAtCommit(m) => {
                        *m == own_words(table)
                            || m.contains(&format!("\"{table}_last_audit_event_id_fkey\""))
                    }
                    _ => false,
                }),
            ),
            (
                "INSERT with a NULL event",
                vec![insert_recipe(table, &w, "NULL").unwrap()],
                Box::new(null_refusal),
            ),
            (
                "INSERT naming an event of another transaction",
                vec![insert_recipe(table, &w, &format!("'{elsewhere}'")).unwrap()],
                Box::new(|e: &Ended| *e == Ended::RefusedAtCommit(own_words(table))),
            ),
            (
                "UPDATE writing no event (the row keeps naming its last one)",
                vec![update_first_row(table, "last_audit_event_id")],
                Box::new(|e: &Ended| *e == Ended::RefusedAtCommit(own_words(table))),
            ),
            (
                "UPDATE with a NULL event",
                vec![update_first_row(table, "NULL")],
                Box::new(null_refusal),
            ),
            (
                "UPDATE naming an event of another transaction",
                vec![update_first_row(table, &format!("'{elsewhere}'"))],
                Box::new(|e: &Ended| *e == Ended::RefusedAtCommit(own_words(table))),
            ),
        ];
        for (what, statements, refused) in tries {
            let ended = transaction(&mut conn, &statements);
            // What was recorded stays as recorded: an update is refused before anything else.
            let kept = APPEND_ONLY.contains(&table.as_str()) && what.starts_with("UPDATE");
            let refused = if kept {
                matches!(&ended, Ended::RefusedAt(m) if m.contains("never changed"))
            } else {
                refused(&ended)
            };
            if !refused {
                faults.push(format!("{table}: {what}: {ended:?}"));
            }
        }
        // And with its event in the same transaction, the very same writes go through.
        for (what, statement) in [
            ("INSERT", insert_recipe(table, &w, "(SELECT id FROM e)")),
            (
                "UPDATE",
                Some(update_first_row(table, "(SELECT id FROM e)")),
            ),
        ] {
            let id = Uuid::now_v7();
            let with_event = format!(
                "WITH e AS (SELECT '{id}'::uuid AS id) {}",
                statement.unwrap()
            );
            let ended = transaction(&mut conn, &[event(id, "child", None, None), with_event]);
            if what == "UPDATE" && APPEND_ONLY.contains(&table.as_str()) {
                if !matches!(&ended, Ended::RefusedAt(m) if m.contains("never changed")) {
                    faults.push(format!("{table}: UPDATE even with its event: {ended:?}"));
                }
            } else if ended != Ended::Committed {
                faults.push(format!("{table}: {what} with its event: {ended:?}"));
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[actix_web::test]
async fn the_service_deletes_a_relation_only_with_an_audit_event_about_it() {
    let app = spawn_app().await;
    world(&app).await;
    let mut conn = app.db.service_role();
    let tables = names(
        &mut conn,
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'",
    );
    let audited = tables_with_trigger(&mut conn, "require_audit_event");
    let delete_audited = tables_with_trigger(&mut conn, "require_audit_event_for_delete");
    let exempt: BTreeSet<String> = DELETABLE_WITHOUT_EVENT
        .iter()
        .map(|(t, _)| t.to_string())
        .collect();
    let mut faults = Vec::new();
    let mut tried = 0;
    for table in &tables {
        let may_delete = flag(
            &mut conn,
            &format!("SELECT has_table_privilege('trygg_app', '{table}', 'DELETE') AS flag"),
        );
        let may_truncate = flag(
            &mut conn,
            &format!("SELECT has_table_privilege('trygg_app', '{table}', 'TRUNCATE') AS flag"),
        );
        if may_truncate {
            faults.push(format!(
                "{table}: the service may TRUNCATE, which no trigger sees"
            ));
        }
        if !may_delete {
            if audited.contains(table) {
                tried += 1;
                let ended = transaction(&mut conn, &[delete_first_row(table)]);
                if ended != Ended::RefusedAt(format!("permission denied for table {table}")) {
                    faults.push(format!("{table}: DELETE without the right: {ended:?}"));
                }
            }
            continue;
        }
        if exempt.contains(table) {
            if audited.contains(table) {
                faults.push(format!("{table} holds audited data but is exempt"));
            }
            continue;
        }
        if !delete_audited.contains(table) {
            faults.push(format!(
                "{table}: the service may DELETE with no audit event (no require_audit_event_for_delete trigger)"
            ));
        }
        tried += 1;
        let row: Value = sql_query(format!(
            "SELECT to_jsonb(t)::text AS name FROM {table} t WHERE ctid = (SELECT ctid FROM {table} LIMIT 1)"
        ))
        .get_result::<Name>(&mut conn)
        .map(|n| serde_json::from_str(&n.name).unwrap())
        .unwrap_or_else(|_| panic!("the world has a row in {table}"));
        let id = |key: &str| {
            row.get(key)
                .and_then(Value::as_str)
                .map(|s| s.parse().unwrap())
        };
        // What the row links, as an event would name it.
        let about = |event_id: Uuid| match (id("child_id"), id("facility_id"), id("user_id")) {
            (Some(child), _, _) => event(event_id, "child", Some(child), Some(child)),
            (_, Some(facility), _) => event(event_id, "facility", Some(facility), None),
            (_, _, Some(user)) => event(event_id, "user", Some(user), None),
            _ => panic!("{table}: a relation to no child, facility or person"),
        };
        let words =
            format!("delete from {table} without an audit event about it in the same transaction");
        let earlier = Uuid::now_v7();
        assert_eq!(transaction(&mut conn, &[about(earlier)]), Ended::Committed);
        let other = Uuid::now_v7();
        for (what, statements) in [
            ("with no event", vec![delete_first_row(table)]),
            (
                "with an event about something else",
                vec![
                    event(Uuid::now_v7(), "child", Some(other), Some(other)),
                    delete_first_row(table),
                ],
            ),
            (
                "after an event about it in another transaction",
                vec![delete_first_row(table)],
            ),
        ] {
            let ended = transaction(&mut conn, &statements);
            if ended != Ended::RefusedAtCommit(words.clone()) {
                faults.push(format!("{table}: DELETE {what}: {ended:?}"));
            }
        }
        let ended = transaction(&mut conn, &[delete_first_row(table), about(Uuid::now_v7())]);
        if ended != Ended::Committed {
            faults.push(format!("{table}: DELETE with an event about it: {ended:?}"));
        }
    }
    assert!(tried >= audited.len(), "every audited table was tried");
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[actix_web::test]
async fn not_even_a_role_that_may_delete_can_remove_a_placement() {
    let app = spawn_app().await;
    world(&app).await;
    let refused = transaction(
        &mut app.db.service_role(),
        &[delete_first_row("placements")],
    );
    assert_eq!(
        refused,
        Ended::RefusedAt("permission denied for table placements".into())
    );
    // A superuser may delete anything, but the table's own trigger still says no.
    let refused = transaction(&mut app.db.superuser(), &[delete_first_row("placements")]);
    assert_eq!(
        refused,
        Ended::RefusedAt("placements are never deleted; cancel with a reason instead".into())
    );
}
