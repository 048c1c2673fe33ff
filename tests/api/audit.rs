//! Stories about the audit log: nothing happens unlogged, nobody rewrites history unnoticed,
//! and only an auditor reads it.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::audit::checkpoint::{Checkpoint, CheckpointFile};
use trygg::audit::event::ActorType;
use trygg::audit::verify::{
    verify_chain, verify_chain_at, write_checkpoint, CheckpointWriteError, Finding, VerifyReport,
};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType, Outcome};
use trygg::clock::Clock;
use trygg::db::schema::{audit_chain, audit_events, users};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register};
use crate::helpers::users::{Session, TestUser};
use crate::helpers::{problem, spawn_app, spawn_app_with, AppOptions, TestApp};

/// What the tests look at in a stored event.
#[derive(Debug, Clone, Queryable)]
struct Logged {
    seq: i64,
    id: Uuid,
    actor_id: Option<Uuid>,
    action: String,
    outcome: String,
    entity_type: String,
    entity_id: Option<Uuid>,
    child_id: Option<Uuid>,
}

fn logged_after(app: &TestApp, seq: i64) -> Vec<Logged> {
    audit_events::table
        .filter(audit_events::seq.gt(seq))
        .order(audit_events::seq)
        .select((
            audit_events::seq,
            audit_events::id,
            audit_events::actor_id,
            audit_events::action,
            audit_events::outcome,
            audit_events::entity_type,
            audit_events::entity_id,
            audit_events::child_id,
        ))
        .load(&mut app.db.superuser())
        .unwrap()
}

fn last_seq(app: &TestApp) -> i64 {
    audit_events::table
        .select(diesel::dsl::max(audit_events::seq))
        .first::<Option<i64>>(&mut app.db.superuser())
        .unwrap()
        .unwrap_or(0)
}

/// A superuser session with triggers off: what someone with full database rights could do.
fn tamperer(app: &TestApp) -> PgConnection {
    let mut conn = app.db.superuser();
    conn.batch_execute("SET session_replication_role = replica")
        .unwrap();
    conn
}

/// Seals what has committed, as the sequencer does; the chain's end.
pub fn seal(app: &TestApp) -> i64 {
    trygg::audit::sequencer::seal_all(&mut app.db.service_role())
        .unwrap()
        .through
}

/// What someone with full rights runs to cut the newest events off: the chain past `position`,
/// the events sealed there, and every event still waiting to be sealed.
fn cut_after(position: i64) -> String {
    format!(
        "WITH cut AS (DELETE FROM audit_chain WHERE position > {position} RETURNING event_seq) \
         DELETE FROM audit_events WHERE seq IN (SELECT event_seq FROM cut) \
            OR seq IN (SELECT event_seq FROM audit_queue); \
         DELETE FROM audit_queue;"
    )
}

/// The chain position of the event numbered `seq`.
fn position_of(app: &TestApp, seq: i64) -> i64 {
    audit_chain::table
        .filter(audit_chain::event_seq.eq(seq))
        .select(audit_chain::position)
        .first(&mut app.db.superuser())
        .unwrap()
}

fn checkpoint_file(app: &TestApp) -> CheckpointFile {
    CheckpointFile::new(&app.settings.audit.checkpoint_file)
}

async fn auditor(app: &TestApp) -> (TestUser, Session) {
    let karin = app.create_user(Profession::Auditor, None);
    let session = app.login(&karin).await;
    (karin, session)
}

async fn verify_over_http(app: &TestApp, session: &Session) -> Value {
    let response = app
        .as_user(session)
        .get("/api/v1/audit-events/verify")
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[actix_web::test]
async fn a_user_is_not_created_when_its_audit_event_cannot_be_written_and_reads_answer_nothing() {
    let app = spawn_app().await;
    let admin = app.create_user(Profession::SystemAdmin, None);
    let admin = app.login(&admin).await;
    let (_, karin) = auditor(&app).await;
    app.db
        .superuser()
        .batch_execute("REVOKE INSERT ON audit_events FROM trygg_app")
        .unwrap();

    let response = app
        .as_user(&admin)
        .post(
            "/api/v1/users",
            json!({"username": "new-person", "display_name": "New Person",
                   "profession": "auditor", "password": "a long enough passphrase"}),
        )
        .await;
    let body = problem(response, 503).await;
    assert_eq!(body["type"], "urn:trygg:problem:audit-unavailable");
    let created: i64 = users::table
        .filter(users::username.eq("new-person"))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(created, 0, "the user was created without its audit event");

    // Reads fail closed: no event, no data.
    for (session, path) in [(&admin, "/api/v1/users"), (&karin, "/api/v1/audit-events")] {
        let body = problem(app.as_user(session).get(path).await, 503).await;
        assert_eq!(body["type"], "urn:trygg:problem:audit-unavailable");
        assert!(body.get("items").is_none());
    }
}

#[actix_web::test]
async fn listing_users_logs_a_read_of_each_listed_user_and_reading_one_names_her() {
    let app = spawn_app().await;
    let admin_user = app.create_user(Profession::SystemAdmin, None);
    let unit = app.create_unit("North");
    for profession in [Profession::SocialSecretary, Profession::UnitManager] {
        app.create_user(profession, Some(unit));
    }
    let admin = app.login(&admin_user).await;
    let before = last_seq(&app);

    let listed: Value = app
        .as_user(&admin)
        .get("/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let listed: BTreeSet<Uuid> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(listed.len(), 3);
    let events = logged_after(&app, before);
    assert!(events.iter().all(|e| e.action == "read"
        && e.entity_type == "user"
        && e.actor_id == Some(admin_user.id)
        && e.outcome == "success"));
    let read: BTreeSet<Uuid> = events.iter().filter_map(|e| e.entity_id).collect();
    assert_eq!(read, listed);
    assert_eq!(events.len(), listed.len(), "one event per listed user");

    let one = *listed.iter().next().unwrap();
    let before = last_seq(&app);
    let response = app
        .as_user(&admin)
        .get(&format!("/api/v1/users/{one}"))
        .await;
    assert_eq!(response.status(), 200);
    let events = logged_after(&app, before);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].action.as_str(), events[0].entity_id),
        ("read", Some(one))
    );
}

#[actix_web::test]
async fn the_service_role_can_neither_change_nor_remove_events() {
    let app = spawn_app().await;
    app.create_user(Profession::Auditor, None);
    let events = last_seq(&app);
    let mut service = app.db.service_role();
    for sql in [
        "UPDATE audit_events SET purpose = 'rewritten' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "TRUNCATE audit_events",
    ] {
        let error = service.batch_execute(sql).unwrap_err().to_string();
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    // And even a login with every right is stopped by the triggers while they are on.
    let mut superuser = app.db.superuser();
    for sql in [
        "UPDATE audit_events SET purpose = 'rewritten' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "TRUNCATE audit_events CASCADE",
    ] {
        let error = superuser.batch_execute(sql).unwrap_err().to_string();
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(last_seq(&app), events, "every event is still there");
}

#[actix_web::test]
async fn an_event_altered_in_the_database_is_named_by_verify() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let (_, karin) = auditor(&app).await;
    let target = 3;
    assert!(last_seq(&app) > target);
    seal(&app);
    let position = position_of(&app, target);

    tamperer(&app)
        .batch_execute(&format!(
            "UPDATE audit_events SET purpose = 'nothing to see' WHERE seq = {target}"
        ))
        .unwrap();

    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(!report.intact);
    let found = report.problem.unwrap();
    assert_eq!(
        (found.finding, found.seq, found.event_seq),
        (Finding::ContentMismatch, position, Some(target))
    );
    assert_eq!(report.last_seq, position - 1);

    let report = verify_over_http(&app, &karin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["finding"], "content_mismatch");
    assert_eq!(report["problem"]["seq"], position);
    assert_eq!(report["problem"]["event_seq"], target);

    // `trygg audit verify` fails (a non-zero exit) on the same chain.
    let cli = trygg::commands::audit::verify(trygg::cli::AuditArgs {
        database: trygg::cli::DatabaseArgs {
            database_url: app.db.url(),
        },
        checkpoints: trygg::cli::CheckpointArgs {
            checkpoint_file: app.settings.audit.checkpoint_file.clone(),
            checkpoint_secs: 60,
            seal_ms: 100,
        },
        dev: true,
        witness: Vec::new(),
    });
    assert!(cli.unwrap_err().contains("NOT intact"));
}

#[actix_web::test]
async fn removing_the_newest_events_after_a_checkpoint_is_reported_as_truncation() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let (_, karin) = auditor(&app).await;

    let response = app
        .as_user(&karin)
        .send(
            reqwest::Method::POST,
            "/api/v1/audit-events/checkpoints",
            None,
        )
        .await;
    assert_eq!(response.status(), 201);
    let checkpoint: Value = response.json().await.unwrap();
    let signed = checkpoint["seq"].as_i64().unwrap();
    assert_eq!(
        signed,
        last_seq(&app) - 1,
        "the checkpoint's own event follows it"
    );
    assert!(verify_over_http(&app, &karin).await["intact"] == true);

    tamperer(&app)
        .batch_execute(&cut_after(signed - 2))
        .unwrap();

    let latest = checkpoint_file(&app)
        .latest_valid(&app.settings.audit.checkpoint_key.verifying_key())
        .unwrap()
        .unwrap();
    assert_eq!(latest.seq, signed);
    let report = verify_chain(&mut app.db.superuser(), Some(&latest)).unwrap();
    let found = report.problem.unwrap();
    assert_eq!((found.finding, found.seq), (Finding::Truncated, signed - 1));

    let report = verify_over_http(&app, &karin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["finding"], "truncated");
    assert_eq!(report["checkpoint"]["seq"], signed);
}

#[actix_web::test]
async fn a_checkpoint_asked_for_when_the_chain_has_not_moved_is_the_latest_one() {
    let app = spawn_app().await;
    let (_, karin) = auditor(&app).await;
    // The background task (or another auditor) has just signed the chain's end.
    let written = trygg::audit::verify::write_checkpoint(
        &mut app.db.superuser(),
        &app.settings.audit.checkpoint_key,
        &checkpoint_file(&app),
        Utc::now(),
    )
    .unwrap();
    let written = written.unwrap_or_else(|| {
        checkpoint_file(&app)
            .latest_valid(&app.settings.audit.checkpoint_key.verifying_key())
            .unwrap()
            .unwrap()
    });

    let response = app
        .as_user(&karin)
        .send(
            reqwest::Method::POST,
            "/api/v1/audit-events/checkpoints",
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["seq"], written.seq);
    assert_eq!(body["signature"], written.signature);
}

/// Verifies as the service does: against every signed checkpoint, at the app's time.
fn verify_now(app: &TestApp) -> VerifyReport {
    let checkpoints = checkpoint_file(app)
        .all_valid(&app.settings.audit.checkpoint_key.verifying_key())
        .unwrap();
    verify_chain_at(&mut app.db.superuser(), &checkpoints, app.clock.now()).unwrap()
}

fn seq_of(app: &TestApp, id: Uuid) -> i64 {
    audit_events::table
        .filter(audit_events::id.eq(id))
        .select(audit_events::seq)
        .first(&mut app.db.superuser())
        .unwrap()
}

/// What a retention rule would leave of an event: its position, time, kind and digest.
fn strip_details(seq: i64) -> String {
    format!(
        "UPDATE audit_events SET actor_type = 'system', actor_id = NULL, actor_role = NULL, \
         actor_unit_id = NULL, entity_id = NULL, child_id = NULL, child_unit_id = NULL, \
         child_protected = false, request_id = NULL, client_addr = NULL, purpose = NULL, \
         changed_fields = '{{}}', details_removed = true WHERE seq = {seq}"
    )
}

#[actix_web::test]
async fn an_event_rewritten_and_marked_as_removed_is_named_by_verify() {
    let app = spawn_app().await;
    let case = casework(&app);
    let (_, karin) = auditor(&app).await;
    let target = seq_of(&app, case.outside);
    seal(&app);
    let position = position_of(&app, target);
    assert!(verify_now(&app).intact);

    // The flag is not hashed: before, setting it switched off the content check.
    tamperer(&app)
        .batch_execute(&format!(
            "UPDATE audit_events SET child_id = '{}', details_removed = true WHERE seq = {target}",
            Uuid::now_v7()
        ))
        .unwrap();

    let report = verify_now(&app);
    assert!(!report.intact);
    let found = report.problem.unwrap();
    assert_eq!(
        (found.finding, found.seq, found.event_id),
        (
            Finding::PrematureOrFalseRemoval,
            position,
            Some(case.outside)
        )
    );
    assert!(found.detail.contains("child_id"), "{}", found.detail);
    assert_eq!(report.last_seq, position - 1);
    let report = verify_over_http(&app, &karin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["finding"], "premature_or_false_removal");
    assert_eq!(report["problem"]["seq"], position);

    // Stripped like a real tombstone, it is still inside the retention period.
    tamperer(&app)
        .batch_execute(&strip_details(target))
        .unwrap();
    let found = verify_now(&app).problem.unwrap();
    assert_eq!(
        (found.finding, found.seq),
        (Finding::PrematureOrFalseRemoval, position)
    );
    assert!(found.detail.contains("retention"), "{}", found.detail);
}

#[actix_web::test]
async fn only_a_tombstone_that_a_checkpoint_proves_old_enough_passes() {
    let app = spawn_app().await;
    let (karin, _) = auditor(&app).await;
    let long_ago = Utc.with_ymd_and_hms(2019, 1, 7, 9, 0, 0).unwrap();
    let old = AuditEvent::new(
        as_person(&karin),
        AuditAction::Read,
        EntityType::Child,
        Some(Uuid::now_v7()),
        long_ago,
    )
    .about_child(Uuid::now_v7(), None, true);
    let old_id = old.id;
    record(&mut app.db.superuser(), &[old]);
    // Signed back then, so it vouches that the event existed then.
    write_checkpoint(
        &mut app.db.superuser(),
        &app.settings.audit.checkpoint_key,
        &checkpoint_file(&app),
        long_ago + chrono::Duration::minutes(1),
    )
    .unwrap()
    .unwrap();
    let recent = AuditEvent::new(
        as_person(&karin),
        AuditAction::Read,
        EntityType::Child,
        None,
        app.clock.now(),
    );
    let recent_id = recent.id;
    record(&mut app.db.superuser(), &[recent]);
    seal(&app);
    let (old_seq, recent_seq) = (seq_of(&app, old_id), seq_of(&app, recent_id));

    tamperer(&app)
        .batch_execute(&strip_details(old_seq))
        .unwrap();
    let report = verify_now(&app);
    assert!(report.intact, "{:?}", report.problem);
    assert_eq!(report.events_checked, report.last_seq);
    // Measured against the time verify runs: in 2023 the event was not five years old.
    let checkpoints = checkpoint_file(&app)
        .all_valid(&app.settings.audit.checkpoint_key.verifying_key())
        .unwrap();
    let in_2023 = Utc.with_ymd_and_hms(2023, 6, 1, 0, 0, 0).unwrap();
    let found = verify_chain_at(&mut app.db.superuser(), &checkpoints, in_2023)
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(
        (found.finding, found.event_seq),
        (Finding::PrematureOrFalseRemoval, Some(old_seq))
    );

    // Backdating a recent event's time does not make it old: no checkpoint that old covers it.
    tamperer(&app)
        .batch_execute(&format!(
            "{}; UPDATE audit_events SET occurred_at = '2019-01-07T09:00:00Z' WHERE seq = {recent_seq}",
            strip_details(recent_seq)
        ))
        .unwrap();
    let found = verify_now(&app).problem.unwrap();
    assert_eq!(
        (found.finding, found.event_seq, found.event_id),
        (
            Finding::PrematureOrFalseRemoval,
            Some(recent_seq),
            Some(recent_id)
        )
    );
    assert!(found.detail.contains("checkpoint"), "{}", found.detail);
}

#[actix_web::test]
async fn a_cut_the_chain_has_grown_past_is_not_signed_over_and_verify_names_it() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let (karin_user, karin) = auditor(&app).await;
    let as_karin = app.as_user(&karin);
    let ask_for_checkpoint = || {
        as_karin.send(
            reqwest::Method::POST,
            "/api/v1/audit-events/checkpoints",
            None,
        )
    };
    let response = ask_for_checkpoint().await;
    assert_eq!(response.status(), 201);
    let signed = response.json::<Value>().await.unwrap()["seq"]
        .as_i64()
        .unwrap();
    let key = app.settings.audit.checkpoint_key.verifying_key();
    // The background task may have signed an earlier position at start.
    let signed_so_far = checkpoint_file(&app).all_valid(&key).unwrap().len();

    // A superuser removes the newest events, the checkpointed one among them.
    tamperer(&app)
        .batch_execute(&cut_after(signed - 2))
        .unwrap();
    let refused = write_checkpoint(
        &mut app.db.superuser(),
        &app.settings.audit.checkpoint_key,
        &checkpoint_file(&app),
        app.clock.now(),
    );
    assert!(
        matches!(refused, Err(CheckpointWriteError::Diverged { seq, missing: true, .. }) if seq == signed),
        "{refused:?}"
    );

    // Ordinary work goes on and the chain grows past the checkpointed position again.
    for _ in 0..4 {
        let response = app.as_user(&karin).get("/api/v1/audit-events").await;
        assert_eq!(response.status(), 200);
    }
    assert!(seal(&app) > signed);
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "the links alone cannot tell");

    // Signing the new end would launder the cut: refused, and the refusal is logged.
    let before = last_seq(&app);
    let body = problem(ask_for_checkpoint().await, 409).await;
    assert_eq!(body["type"], "urn:trygg:problem:checkpoint-diverged");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("checkpoint {signed} ")),
        "{detail}"
    );
    let logged = logged_after(&app, before);
    assert_eq!(logged.len(), 1);
    assert_eq!(
        (
            logged[0].action.as_str(),
            logged[0].outcome.as_str(),
            logged[0].actor_id
        ),
        ("checkpoint", "error", Some(karin_user.id))
    );
    assert_eq!(
        checkpoint_file(&app).all_valid(&key).unwrap().len(),
        signed_so_far,
        "nothing was signed"
    );

    let found = verify_now(&app).problem.unwrap();
    assert_eq!(
        (found.finding, found.seq),
        (Finding::CheckpointMismatch, signed)
    );
    let report = verify_over_http(&app, &karin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["finding"], "checkpoint_mismatch");
    assert_eq!(report["problem"]["seq"], signed);

    // A newer checkpoint over the regrown chain (as one signed before this check would have
    // been) does not hide the cut: every checkpoint is compared, not only the newest.
    let (tail, hash): (i64, Vec<u8>) = audit_chain::table
        .select((audit_chain::position, audit_chain::hash))
        .order(audit_chain::position.desc())
        .first(&mut app.db.superuser())
        .unwrap();
    checkpoint_file(&app)
        .append(&Checkpoint::sign(
            &app.settings.audit.checkpoint_key,
            tail,
            &hash,
            app.clock.now(),
        ))
        .unwrap();
    let report = verify_now(&app);
    assert_eq!(report.checkpoint.as_ref().map(|c| c.seq), Some(tail));
    assert_eq!(report.checkpoints, signed_so_far + 1);
    let found = report.problem.unwrap();
    assert_eq!(
        (found.finding, found.seq),
        (Finding::CheckpointMismatch, signed)
    );
}

#[actix_web::test]
async fn a_hundred_concurrent_audited_changes_leave_one_unbroken_chain() {
    let app = spawn_app_with(AppOptions::concurrent(100)).await;
    let admin_user = app.create_user(Profession::SystemAdmin, None);
    let admin = app.login(&admin_user).await;
    let unit = app.create_unit("North");
    let people: Vec<TestUser> = (0..100)
        .map(|_| app.create_user_without_mfa(Profession::SocialSecretary, Some(unit)))
        .collect();
    let before = last_seq(&app);

    let renames = people.iter().enumerate().map(|(i, person)| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{}", person.id)))
            .bearer_auth(&admin.access_token)
            .header("if-match", format!("\"{}-1\"", person.id.simple()))
            .json(&json!({"display_name": format!("Renamed {i}")}))
            .send()
    });
    let answers = futures_util::future::join_all(renames).await;
    for answer in answers {
        assert_eq!(answer.unwrap().status(), 200);
    }

    let updates = logged_after(&app, before)
        .iter()
        .filter(|e| e.action == "update" && e.actor_id == Some(admin_user.id))
        .count();
    assert_eq!(updates, 100);
    seal(&app);
    let count: i64 = audit_events::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    let (links, sealed, min, max): (i64, i64, Option<i64>, Option<i64>) = audit_chain::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::count(audit_chain::event_seq).aggregate_distinct(),
            diesel::dsl::min(audit_chain::position),
            diesel::dsl::max(audit_chain::position),
        ))
        .first(&mut app.db.superuser())
        .unwrap();
    assert_eq!(
        (links, sealed, min, max),
        (count, count, Some(1), Some(count)),
        "every event sealed once, at gap-free positions"
    );
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{:?}", report.problem);
    assert_eq!((report.events_checked, report.unsealed), (count, 0));
}

#[actix_web::test]
async fn appends_from_many_connections_at_once_keep_one_chain() {
    let app = spawn_app().await;
    let before = seal(&app);
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let mut conn = app.db.service_role();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    conn.transaction(|conn| {
                        audit::append(
                            conn,
                            &[AuditEvent::new(
                                AuditActor::system(),
                                AuditAction::Checkpoint,
                                EntityType::AuditLog,
                                None,
                                Utc::now(),
                            )],
                        )
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    seal(&app);
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{:?}", report.problem);
    assert_eq!(report.last_seq, before + 200);
    assert_eq!(report.events_checked, report.last_seq);
}

#[actix_web::test]
async fn a_refused_attempt_leaves_a_denied_event_and_nothing_else() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let session = app.login(&anna).await;
    let users_before: i64 = users::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    let before = last_seq(&app);

    problem(app.as_user(&session).get("/api/v1/users").await, 403).await;
    let response = app
        .as_user(&session)
        .post(
            "/api/v1/users",
            json!({"username": "sneaky", "display_name": "Sneaky", "profession": "system_admin",
                   "password": "a long enough passphrase"}),
        )
        .await;
    problem(response, 403).await;

    let events = logged_after(&app, before);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [before + 1, before + 2]);
    let seen: Vec<(&str, &str, &str, Option<Uuid>)> = events
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.outcome.as_str(),
                e.entity_type.as_str(),
                e.actor_id,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("list", "denied", "user", Some(anna.id)),
            ("create", "denied", "user", Some(anna.id)),
        ]
    );
    let users_after: i64 = users::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(users_after, users_before);
}

const AUDIT_READS: [&str; 6] = [
    "/api/v1/audit-events",
    "/api/v1/audit-events/emergency-accesses",
    "/api/v1/audit-events/protected-identity-accesses",
    "/api/v1/audit-events/outside-unit-accesses",
    "/api/v1/audit-events/sample?size=5",
    "/api/v1/audit-events/verify",
];

/// Calls every audit endpoint; answers the statuses in a fixed order.
async fn every_audit_endpoint(app: &TestApp, session: &Session, event_id: Uuid) -> Vec<u16> {
    let caller = app.as_user(session);
    let mut statuses = Vec::new();
    for path in AUDIT_READS {
        statuses.push(caller.get(path).await.status().as_u16());
    }
    let one = format!("/api/v1/audit-events/{event_id}");
    statuses.push(caller.get(&one).await.status().as_u16());
    let checkpoint = caller
        .send(
            reqwest::Method::POST,
            "/api/v1/audit-events/checkpoints",
            None,
        )
        .await;
    statuses.push(checkpoint.status().as_u16());
    statuses
}

#[actix_web::test]
async fn only_an_auditor_may_read_verify_or_checkpoint_the_log() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let first_event = logged_after(&app, 0)[0].id;

    for profession in Profession::ALL.iter().copied() {
        let person = app.create_user(profession, profession.needs_unit().then_some(unit));
        let session = app.login(&person).await;
        let before = last_seq(&app);
        let statuses = every_audit_endpoint(&app, &session, first_event).await;
        let events = logged_after(&app, before);
        if profession == Profession::Auditor {
            assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
            assert!(events
                .iter()
                .all(|e| e.outcome == "success" && e.entity_type == "audit_log"));
            assert_eq!(events.len(), 8, "every read of the log is logged");
        } else {
            assert_eq!(statuses, [403; 8], "{profession}");
            assert_eq!(events.len(), 8, "{profession}: one event per refusal");
            assert!(
                events
                    .iter()
                    .all(|e| e.outcome == "denied" && e.actor_id == Some(person.id)),
                "{profession}"
            );
        }
    }

    // Another system, whatever its scopes, is refused too.
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "case-archive", &["children:read", "reports:read"])
        .await;
    let session = app.client_login(&client).await;
    let before = last_seq(&app);
    let statuses = every_audit_endpoint(&app, &session, first_event).await;
    assert_eq!(statuses, [403; 8]);
    let events = logged_after(&app, before);
    assert_eq!(events.len(), 8);
    assert!(events
        .iter()
        .all(|e| e.outcome == "denied" && e.actor_id == Some(client.id)));
}

/// Events as a child's case would write them, at chosen times.
fn record(conn: &mut PgConnection, events: &[AuditEvent]) {
    conn.transaction(|conn| audit::append(conn, events))
        .unwrap();
}

fn as_person(user: &TestUser) -> AuditActor {
    AuditActor {
        actor_type: ActorType::User,
        id: Some(user.id),
        role: Some(user.profession.as_str().to_owned()),
        unit_id: user.unit_id,
    }
}

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 9, 0, 0).unwrap()
}

/// Ids of the items of a JSON page.
fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

struct Casework {
    child: Uuid,
    protected_child: Uuid,
    north: Uuid,
    south: Uuid,
    anna: TestUser,
    /// (id, what it is)
    emergency: Uuid,
    outside: Uuid,
    protected: Uuid,
    denied: Uuid,
    january: Uuid,
}

/// Anna, a secretary in North, works on two children; one is protected, one belongs to South.
fn casework(app: &TestApp) -> Casework {
    let north = app.create_unit("North");
    let south = app.create_unit("South");
    let anna = app.create_user(Profession::SocialSecretary, Some(north));
    let (child, protected_child) = (Uuid::now_v7(), Uuid::now_v7());
    let by_anna = |action, when| {
        AuditEvent::new(
            as_person(&anna),
            action,
            EntityType::Child,
            Some(child),
            when,
        )
    };
    let january = by_anna(AuditAction::Read, at(1, 15)).about_child(child, Some(north), false);
    let outside = by_anna(AuditAction::Read, at(2, 10)).about_child(child, Some(south), false);
    let emergency =
        by_anna(AuditAction::EmergencyAccess, at(2, 11)).about_child(child, Some(south), false);
    let protected = AuditEvent {
        entity_id: Some(protected_child),
        ..by_anna(AuditAction::Read, at(2, 12))
    }
    .about_child(protected_child, Some(north), true);
    let denied = by_anna(AuditAction::Update, at(2, 13))
        .about_child(child, Some(south), false)
        .outcome(Outcome::Denied);
    let ids = [
        january.id,
        outside.id,
        emergency.id,
        protected.id,
        denied.id,
    ];
    record(
        &mut app.db.superuser(),
        &[january, outside, emergency, protected, denied],
    );
    Casework {
        child,
        protected_child,
        north,
        south,
        anna,
        january: ids[0],
        outside: ids[1],
        emergency: ids[2],
        protected: ids[3],
        denied: ids[4],
    }
}

#[actix_web::test]
async fn an_auditor_reviews_accesses_by_child_actor_unit_action_outcome_and_period() {
    let app = spawn_app().await;
    let case = casework(&app);
    let (karin, session) = auditor(&app).await;
    let karin_reads = app.as_user(&session);
    let page = |query: String| {
        let karin_reads = &karin_reads;
        async move {
            let response = karin_reads
                .get(&format!("/api/v1/audit-events?{query}"))
                .await;
            assert_eq!(response.status(), 200, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let about_child = vec![case.january, case.outside, case.emergency, case.denied];

    assert_eq!(
        ids(&page(format!("child_id={}", case.child)).await),
        about_child
    );
    let by_anna = ids(&page(format!("actor_id={}", case.anna.id)).await);
    assert!(by_anna.contains(&case.protected) && by_anna.len() >= 5);
    let in_north = ids(&page(format!("unit_id={}", case.north)).await);
    assert!(in_north.contains(&case.january) && in_north.contains(&case.protected));
    assert!(ids(&page(format!("unit_id={}", case.south)).await).is_empty());
    assert_eq!(
        ids(&page("action=emergency_access".into()).await),
        [case.emergency]
    );
    assert_eq!(
        ids(&page(format!("child_id={}&outcome=denied", case.child)).await),
        [case.denied]
    );
    assert_eq!(
        ids(&page(format!(
            "child_id={}&from=2026-02-11T09:00:00Z&to=2026-02-13T09:00:00%2B00:00",
            case.child
        ))
        .await),
        [case.emergency]
    );

    // The event an auditor sees: what happened, not what the record said.
    let shown = &page(format!(
        "child_id={}&action=read&limit=1",
        case.protected_child
    ))
    .await["items"][0];
    assert_eq!(shown["child_protected"], true);
    assert_eq!(shown["child_unit_id"], case.north.to_string());
    assert_eq!(shown["actor_role"], "social_secretary");
    assert_eq!(shown["hash"].as_str().unwrap().len(), 64);

    // Each of those reads is logged, naming the child where the review was about one.
    let reviews = logged_after(&app, 0)
        .into_iter()
        .filter(|e| e.actor_id == Some(karin.id) && e.entity_type == "audit_log")
        .collect::<Vec<_>>();
    assert_eq!(reviews.len(), 8);
    assert!(reviews.iter().all(|e| e.action == "list"));
    assert!(reviews.iter().any(|e| e.child_id == Some(case.child)));
}

#[actix_web::test]
async fn an_auditor_pages_through_the_log_without_missing_or_repeating_an_event() {
    let app = spawn_app().await;
    casework(&app);
    let (_, session) = auditor(&app).await;
    let everything = ids(&app
        .as_user(&session)
        .get("/api/v1/audit-events?limit=500")
        .await
        .json()
        .await
        .unwrap());

    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit=3&cursor={cursor}"),
            None => "?limit=3".to_owned(),
        };
        let page: Value = app
            .as_user(&session)
            .get(&format!("/api/v1/audit-events{query}"))
            .await
            .json()
            .await
            .unwrap();
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // Each page's own read event lands after the first listing; compare what both saw.
    assert_eq!(paged[..everything.len()], everything[..]);
    let unique: BTreeSet<_> = paged.iter().collect();
    assert_eq!(unique.len(), paged.len());
}

#[actix_web::test]
async fn the_review_views_show_emergency_protected_and_outside_unit_accesses() {
    let app = spawn_app().await;
    let case = casework(&app);
    let (_, session) = auditor(&app).await;
    let view = |path: &'static str| {
        let caller = app.as_user(&session);
        async move {
            let response = caller.get(path).await;
            assert_eq!(response.status(), 200);
            ids(&response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        view("/api/v1/audit-events/emergency-accesses").await,
        [case.emergency]
    );
    assert_eq!(
        view("/api/v1/audit-events/protected-identity-accesses").await,
        [case.protected]
    );
    // Anna works in North: her reads of a child of South are outside her unit.
    assert_eq!(
        view("/api/v1/audit-events/outside-unit-accesses").await,
        [case.outside, case.emergency, case.denied]
    );
}

#[actix_web::test]
async fn an_auditor_exports_the_log_as_csv() {
    let app = spawn_app().await;
    let case = casework(&app);
    let (karin, session) = auditor(&app).await;

    let response = app
        .client
        .get(app.url(&format!("/api/v1/audit-events?child_id={}", case.child)))
        .bearer_auth(&session.access_token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let csv = response.text().await.unwrap();
    let csv = csv
        .strip_prefix('\u{feff}')
        .expect("the byte-order mark first");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("seq,id,occurred_at,actor_type,actor_id"));
    assert_eq!(lines.len(), 1 + 4, "a header and the child's four events");
    assert!(lines[1].contains(&case.january.to_string()));

    // `format=csv` works without an Accept header, and pages carry the next cursor.
    let response = app
        .as_user(&session)
        .get(&format!(
            "/api/v1/audit-events?format=csv&limit=2&child_id={}",
            case.child
        ))
        .await;
    assert!(response.headers().contains_key("x-next-cursor"));
    assert_eq!(response.text().await.unwrap().lines().count(), 3);

    let exports = logged_after(&app, 0)
        .into_iter()
        .filter(|e| e.actor_id == Some(karin.id) && e.action == "export")
        .count();
    assert_eq!(exports, 2, "each export is logged as an export");
}

#[actix_web::test]
async fn a_purpose_written_as_a_formula_opens_as_text_in_the_exported_csv() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    let child = register(
        &app,
        &north.secretary_session,
        child_body(north.unit, "Åsa", "2010-05-20"),
    )
    .await;
    let formula = "=HYPERLINK(\"http://x\",\"Öppna\")";
    let granted = app
        .as_user(&south.secretary_session)
        .post(
            &format!("/api/v1/children/{child}/emergency-access"),
            json!({ "reason": formula }),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let (_, session) = auditor(&app).await;

    let response = app
        .as_user(&session)
        .get(&format!(
            "/api/v1/audit-events?format=csv&action=emergency_access&child_id={child}"
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"audit-events.csv\""
    );
    let bytes = response.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "the byte-order mark first"
    );
    let csv = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        lines.len(),
        2,
        "the header and the one emergency access: {csv}"
    );
    // Quoted for its quotes and comma, and an apostrophe first: a spreadsheet shows text.
    assert!(
        lines[1].contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"Öppna\"\")\","),
        "{}",
        lines[1]
    );
}

#[actix_web::test]
async fn a_spot_check_draws_a_random_sample_of_the_period() {
    let app = spawn_app().await;
    let case = casework(&app);
    let (_, session) = auditor(&app).await;
    let response = app
        .as_user(&session)
        .get("/api/v1/audit-events/sample?size=3&from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z")
        .await;
    assert_eq!(response.status(), 200);
    let sample: Value = response.json().await.unwrap();
    assert_eq!(sample["population"], 4, "February's four events");
    let drawn = ids(&sample);
    assert_eq!(drawn.len(), 3);
    let february = [case.outside, case.emergency, case.protected, case.denied];
    assert!(drawn.iter().all(|id| february.contains(id)));

    for bad in ["size=0", "size=201", "size=many", "cursor=abc"] {
        let response = app
            .as_user(&session)
            .get(&format!("/api/v1/audit-events/sample?{bad}"))
            .await;
        let body = problem(response, 400).await;
        assert_eq!(body["errors"][0]["field"], bad.split('=').next().unwrap());
    }
}

#[actix_web::test]
async fn bad_filters_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let (_, session) = auditor(&app).await;
    for (query, field) in [
        ("child_id=anna", "child_id"),
        ("actor_id=1", "actor_id"),
        ("unit_id=north", "unit_id"),
        ("action=peek", "action"),
        ("outcome=maybe", "outcome"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=not-ours", "cursor"),
        ("format=xml", "format"),
        ("childid=1", "childid"),
    ] {
        let response = app
            .as_user(&session)
            .get(&format!("/api/v1/audit-events?{query}"))
            .await;
        let body = problem(response, 400).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
}

/// An empty value (`?unit_id=`) is no filter the auditor meant: it would widen the answer to the
/// whole log, so it is refused naming the parameter, on every review list and the sample.
#[actix_web::test]
async fn an_empty_filter_is_refused_naming_it_rather_than_widening_the_answer() {
    let app = spawn_app().await;
    let (_, session) = auditor(&app).await;
    let filters = [
        "child_id", "actor_id", "unit_id", "action", "outcome", "from", "to", "format",
    ];
    let lists = [
        "/api/v1/audit-events",
        "/api/v1/audit-events/emergency-accesses",
        "/api/v1/audit-events/protected-identity-accesses",
        "/api/v1/audit-events/outside-unit-accesses",
    ];
    let mut cases: Vec<(&str, &str)> = Vec::new();
    for path in lists {
        for parameter in filters.iter().chain(&["limit", "cursor"]) {
            cases.push((path, parameter));
        }
    }
    for parameter in filters.iter().chain(&["size"]) {
        cases.push(("/api/v1/audit-events/sample", parameter));
    }
    for (path, parameter) in cases {
        let response = app
            .as_user(&session)
            .get(&format!("{path}?{parameter}="))
            .await;
        assert_eq!(response.status(), 400, "{path}?{parameter}=");
        let body = problem(response, 400).await;
        assert_eq!(body["type"], "urn:trygg:problem:malformed-request");
        assert_eq!(body["errors"][0]["field"], parameter, "{path}?{parameter}=");
    }
}

#[actix_web::test]
async fn an_auditor_opens_one_event_and_that_read_is_logged() {
    let app = spawn_app().await;
    let case = casework(&app);
    let (karin, session) = auditor(&app).await;
    let response = app
        .as_user(&session)
        .get(&format!("/api/v1/audit-events/{}", case.protected))
        .await;
    assert_eq!(response.status(), 200);
    let event: Value = response.json().await.unwrap();
    assert_eq!(event["id"], case.protected.to_string());
    assert_eq!(event["action"], "read");
    assert_eq!(event["child_protected"], true);

    let last = logged_after(&app, 0).pop().unwrap();
    assert_eq!(
        (
            last.actor_id,
            last.action.as_str(),
            last.entity_type.as_str()
        ),
        (Some(karin.id), "read", "audit_log")
    );
    assert_eq!(last.entity_id, Some(case.protected));
    assert_eq!(last.child_id, Some(case.protected_child));

    let unknown = app
        .as_user(&session)
        .get(&format!("/api/v1/audit-events/{}", Uuid::now_v7()))
        .await;
    problem(unknown, 404).await;
}

#[actix_web::test]
async fn the_service_refuses_to_start_on_a_database_that_does_not_wait_for_commits() {
    let app = spawn_app().await;
    app.db
        .superuser()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET synchronous_commit = off",
            app.db.name()
        ))
        .unwrap();
    let start = |dev_mode: bool| {
        let settings = trygg::config::Settings {
            dev_mode,
            ..(*app.settings).clone()
        };
        trygg::startup::Application::build(
            settings,
            app.clock.clone(),
            trygg::startup::ServerOptions {
                workers: 1,
                run_migrations: false,
            },
        )
    };
    let refused = start(false).await.err().expect("the service must refuse");
    assert!(
        refused.to_string().contains("synchronous_commit is off"),
        "{refused}"
    );
    // Development mode only warns.
    assert!(start(true).await.is_ok());
}

#[actix_web::test]
async fn verify_names_an_altered_event_and_a_cut_off_tail_together() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let (_, karin) = auditor(&app).await;
    let response = app
        .as_user(&karin)
        .send(
            reqwest::Method::POST,
            "/api/v1/audit-events/checkpoints",
            None,
        )
        .await;
    assert_eq!(response.status(), 201);
    let signed = response.json::<Value>().await.unwrap()["seq"]
        .as_i64()
        .unwrap();
    let altered = position_of(&app, 3);
    assert!(signed - 2 > altered);

    // Someone with full rights rewrites an old event and cuts the newest ones off.
    tamperer(&app)
        .batch_execute(&format!(
            "UPDATE audit_events SET purpose = 'nothing to see' WHERE seq = 3; {}",
            cut_after(signed - 2)
        ))
        .unwrap();

    let findings = |report: &Value| -> Vec<(String, i64)> {
        report["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("no problems list in {report}"))
            .iter()
            .map(|p| {
                (
                    p["finding"].as_str().unwrap().to_owned(),
                    p["seq"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let report = serde_json::to_value(verify_now(&app)).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(
        findings(&report),
        [
            ("content_mismatch".to_owned(), altered),
            ("truncated".to_owned(), signed - 1)
        ]
    );
    // The first problem is still where clients have always read it.
    assert_eq!(report["problem"]["finding"], "content_mismatch");
    assert_eq!(report["last_seq"], altered - 1);
    assert_eq!(report["chain_end"], signed - 2);

    let report = verify_over_http(&app, &karin).await;
    let found = findings(&report);
    assert_eq!(found[0], ("content_mismatch".to_owned(), altered));
    assert!(
        found.iter().any(|(finding, _)| finding == "truncated"),
        "{found:?}"
    );
}

fn latest_checkpoint_seq(app: &TestApp) -> i64 {
    checkpoint_file(app)
        .latest_valid(&app.settings.audit.checkpoint_key.verifying_key())
        .unwrap()
        .map_or(0, |c| c.seq)
}

#[actix_web::test]
async fn a_normal_shutdown_signs_the_chain_end_so_no_tail_can_be_cut_unnoticed() {
    let app = spawn_app().await;
    // A second instance of the service on the same database, which is then stopped.
    let other = app.another_instance(app.settings.audit.clone()).await;
    let handle = other.handle();
    let running = actix_web::rt::spawn(other.run_until_stopped());

    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let before = last_seq(&app);
    assert!(latest_checkpoint_seq(&app) < before);

    handle.stop(true).await;
    running.await.unwrap().unwrap();
    assert_eq!(latest_checkpoint_seq(&app), before);
}

#[actix_web::test]
async fn a_checkpoint_is_signed_once_the_chain_has_grown_by_the_set_number_of_events() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        checkpoint_every_events: Some(3),
        ..Default::default()
    })
    .await;
    let unit = app.create_unit("North");
    for _ in 0..3 {
        let anna = app.create_user(Profession::SocialSecretary, Some(unit));
        app.login(&anna).await;
    }
    let grown = last_seq(&app);
    assert!(grown >= 3);
    // The minute's checkpoint is far off; the count triggers one within a few short ticks.
    let mut signed = 0;
    for _ in 0..50 {
        signed = latest_checkpoint_seq(&app);
        if signed + 3 > grown {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(signed + 3 > grown, "signed {signed} of {grown}");
}

/// `trygg audit verify` against the app's database and checkpoint file, with `extra` flags.
fn verify_with_the_binary(app: &TestApp, extra: &[&str]) -> (bool, Value) {
    let key = app.settings.audit.checkpoint_key.to_base64();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trygg"))
        .args(["audit", "verify"])
        .args(extra)
        .env("DATABASE_URL", app.db.url())
        .env("TRYGG_CHECKPOINT_KEY", key)
        .env(
            "TRYGG_AUDIT_CHECKPOINT_FILE",
            &app.settings.audit.checkpoint_file,
        )
        .env_remove("TRYGG_DEV")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the trygg binary");
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.success(), report)
}

#[actix_web::test]
async fn a_witness_catches_a_database_rolled_back_with_the_servers_own_checkpoints() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let (_, karin) = auditor(&app).await;
    // The server's file holds a checkpoint; a backup is taken of the database and the file.
    let first = app
        .as_user(&karin)
        .send(
            reqwest::Method::POST,
            "/api/v1/audit-events/checkpoints",
            None,
        )
        .await;
    assert_eq!(first.status(), 201);
    let backed_up_at = seal(&app);
    let events_backed_up = last_seq(&app);
    let file = app.settings.audit.checkpoint_file.clone();
    let file_backup = std::fs::read(&file).unwrap();

    // More happens, and the auditor's witness keeps the newest signed end.
    app.clock.advance(chrono::Duration::seconds(31));
    app.login(&anna).await;
    let witnessed: Value = app
        .as_user(&karin)
        .get("/api/v1/audit-events/checkpoints/latest")
        .await
        .json()
        .await
        .unwrap();
    let kept = witnessed["checkpoint"].clone();
    assert!(kept["seq"].as_i64().unwrap() > backed_up_at);
    assert_eq!(
        witnessed["public_key"],
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            app.settings.audit.checkpoint_key.verifying_key().as_bytes()
        )
    );
    let witness_file = std::env::temp_dir().join(format!("{}-witness.jsonl", app.db.name()));
    std::fs::write(&witness_file, format!("{kept}\n")).unwrap();

    // Someone restores the backup: the database and the server's checkpoint file alike.
    tamperer(&app)
        .batch_execute(&format!(
            "DELETE FROM audit_chain WHERE position > {backed_up_at}; \
             DELETE FROM audit_events WHERE seq > {events_backed_up}; \
             DELETE FROM audit_queue WHERE event_seq > {events_backed_up};"
        ))
        .unwrap();
    std::fs::write(&file, file_backup).unwrap();

    let (intact, _) = verify_with_the_binary(&app, &[]);
    assert!(
        intact,
        "the server's own records agree with each other after the restore"
    );
    let witness = witness_file.to_string_lossy().to_string();
    let (intact, report) = verify_with_the_binary(&app, &["--witness", &witness]);
    assert!(
        !intact,
        "the witness's checkpoint is past the restored chain: {report}"
    );
    assert_eq!(report["problem"]["finding"], "truncated", "{report}");
    let _ = std::fs::remove_file(witness_file);
}
