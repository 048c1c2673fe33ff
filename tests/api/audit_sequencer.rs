//! The audit log's guarantees once the chain is sealed after commit by the sequencer: every
//! committed event sealed exactly once, in an order verify can recompute; nothing of a
//! rolled-back transaction; nothing lost when the service dies between a commit and the
//! sealing; and verify naming an altered event, a cut-off tail and an unsealed backlog.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;
use trygg::audit::sequencer::{backlog, seal_all};
use trygg::audit::verify::{verify_chain, Finding};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::db::schema::{audit_chain, audit_events, audit_queue};
use trygg::policy::Profession;

use crate::audit::seal;
use crate::helpers::{spawn_app_with, AppOptions, TestApp};

fn system_event() -> AuditEvent {
    AuditEvent::new(
        AuditActor::system(),
        AuditAction::Checkpoint,
        EntityType::AuditLog,
        None,
        Utc::now(),
    )
}

/// Every event and the position it was sealed at, in event order.
fn sealed_positions(app: &TestApp) -> Vec<(i64, Option<i64>)> {
    audit_events::table
        .left_join(audit_chain::table)
        .select((audit_events::seq, audit_chain::position.nullable()))
        .order(audit_events::seq)
        .load(&mut app.db.superuser())
        .unwrap()
}

fn queued(app: &TestApp) -> i64 {
    audit_queue::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

fn without_sequencer() -> AppOptions {
    AppOptions {
        no_sequencer: true,
        ..AppOptions::default()
    }
}

#[actix_web::test]
async fn a_slow_transactions_event_committed_behind_sealed_ones_is_sealed_later_never_skipped() {
    let app = spawn_app_with(without_sequencer()).await;
    // A slow transaction writes its event first (the lower number) and stays open.
    let mut slow = app.db.service_role();
    slow.batch_execute("BEGIN").unwrap();
    let late = system_event();
    let late_id = late.id;
    audit::append(&mut slow, &[late]).unwrap();

    // Others write and commit behind it, and are sealed while it is still open.
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let mut conn = app.db.service_role();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    conn.transaction(|conn| audit::append(conn, &[system_event(), system_event()]))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let first = seal(&app);
    let late_seq: i64 = audit_events::table
        .filter(audit_events::id.eq(late_id))
        .select(audit_events::seq)
        .first(&mut app.db.superuser())
        .unwrap_or(0);
    assert_eq!(
        late_seq, 0,
        "the open transaction's event is not visible yet"
    );

    slow.batch_execute("COMMIT").unwrap();
    let second = seal_all(&mut app.db.service_role()).unwrap();
    assert_eq!(
        (second.events, second.through),
        (1, first + 1),
        "the late event is sealed next"
    );
    let (late_seq, late_position): (i64, i64) = audit_events::table
        .inner_join(audit_chain::table)
        .filter(audit_events::id.eq(late_id))
        .select((audit_events::seq, audit_chain::position))
        .first(&mut app.db.superuser())
        .unwrap();
    assert_eq!(late_position, first + 1);
    assert!(
        sealed_positions(&app)
            .iter()
            .any(|(seq, _)| *seq > late_seq),
        "events numbered after it were sealed before it"
    );

    // Every event exactly once, at gap-free positions; verify recomputes the whole order.
    let all = sealed_positions(&app);
    let positions: BTreeSet<i64> = all.iter().filter_map(|(_, p)| *p).collect();
    assert_eq!(positions.len(), all.len(), "each event sealed once");
    assert_eq!(positions, (1..=all.len() as i64).collect());
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{:?}", report.problem);
    assert_eq!(
        (report.events_checked, report.unsealed),
        (all.len() as i64, 0)
    );
    assert_eq!(queued(&app), 0);
    // A second pass finds nothing to do: nothing is sealed twice.
    assert_eq!(seal_all(&mut app.db.service_role()).unwrap().events, 0);
}

#[actix_web::test]
async fn concurrent_sequencers_seal_each_event_once() {
    let app = spawn_app_with(without_sequencer()).await;
    let mut conn = app.db.service_role();
    for _ in 0..300 {
        conn.transaction(|conn| audit::append(conn, &[system_event()]))
            .unwrap();
    }
    // Several processes' sequencers at once (batches of 7, to interleave): one lock admits one.
    let sequencers: Vec<_> = (0..4)
        .map(|_| {
            let mut conn = app.db.service_role();
            std::thread::spawn(move || {
                let mut sealed = 0;
                loop {
                    let batch = trygg::audit::sequencer::seal_batch(&mut conn, 7).unwrap();
                    if batch.events == 0 {
                        return sealed;
                    }
                    sealed += batch.events;
                }
            })
        })
        .collect();
    let sealed: usize = sequencers.into_iter().map(|s| s.join().unwrap()).sum();
    let events = sealed_positions(&app);
    assert_eq!(sealed, events.len());
    assert!(events.iter().all(|(_, p)| p.is_some()));
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{:?}", report.problem);
}

#[actix_web::test]
async fn a_rolled_back_transactions_events_are_never_sealed() {
    let app = spawn_app_with(without_sequencer()).await;
    let before = seal(&app);
    let mut conn = app.db.service_role();
    let lost = system_event();
    let lost_id = lost.id;
    let rolled_back = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        audit::append(conn, &[lost]).unwrap();
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    let kept = system_event();
    conn.transaction(|conn| audit::append(conn, &[kept]))
        .unwrap();

    assert_eq!(seal(&app), before + 1, "only the committed event is sealed");
    let stored: i64 = audit_events::table
        .filter(audit_events::id.eq(lost_id))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!((stored, queued(&app)), (0, 0));
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{:?}", report.problem);
    assert_eq!(report.unsealed, 0);
}

#[actix_web::test]
async fn events_committed_by_a_service_killed_before_sealing_are_sealed_by_the_next_one() {
    // This instance never seals: as if it were killed after each commit, before sealing.
    let app = spawn_app_with(without_sequencer()).await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    app.login(&anna).await;
    let ready: Value = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waiting = ready["audit_backlog"]["events"].as_i64().unwrap();
    assert!(waiting > 0, "{ready}");
    assert_eq!(waiting, queued(&app));
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(
        report.intact,
        "a short backlog is no problem: {:?}",
        report.problem
    );
    assert_eq!(report.unsealed, waiting);

    // The next instance of the service, on the same database, seals what the first left.
    let next = app
        .another_instance(trygg::config::AuditSettings {
            sequencer: true,
            ..app.settings.audit.clone()
        })
        .await;
    let handle = next.handle();
    let running = actix_web::rt::spawn(next.into_server());
    for _ in 0..100 {
        if queued(&app) == 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(queued(&app), 0, "the backlog is sealed");
    assert!(sealed_positions(&app).iter().all(|(_, p)| p.is_some()));
    let report = verify_chain(&mut app.db.superuser(), None).unwrap();
    assert!(report.intact, "{:?}", report.problem);
    assert_eq!(report.unsealed, 0);
    handle.stop(false).await;
    let _ = running.await;
}

#[actix_web::test]
async fn verify_names_an_altered_event_a_cut_off_tail_and_an_unsealed_backlog_together() {
    let app = spawn_app_with(without_sequencer()).await;
    let mut conn = app.db.service_role();
    for _ in 0..10 {
        conn.transaction(|conn| audit::append(conn, &[system_event()]))
            .unwrap();
    }
    // A checkpoint seals what has committed and signs its end.
    let signed = trygg::audit::verify::write_checkpoint(
        &mut conn,
        &app.settings.audit.checkpoint_key,
        &trygg::audit::checkpoint::CheckpointFile::new(&app.settings.audit.checkpoint_file),
        Utc::now(),
    )
    .unwrap()
    .unwrap();
    // Work goes on; the sequencer has stopped, so these wait.
    for _ in 0..3 {
        conn.transaction(|conn| audit::append(conn, &[system_event()]))
            .unwrap();
    }
    let altered = 2;
    let altered_seq: i64 = audit_chain::table
        .filter(audit_chain::position.eq(altered))
        .select(audit_chain::event_seq)
        .first(&mut app.db.superuser())
        .unwrap();
    let mut tamperer = app.db.superuser();
    tamperer
        .batch_execute("SET session_replication_role = replica")
        .unwrap();
    tamperer
        .batch_execute(&format!(
            "UPDATE audit_events SET purpose = 'nothing to see' WHERE seq = {altered_seq};
             WITH cut AS (DELETE FROM audit_chain WHERE position > {} RETURNING event_seq)
                 DELETE FROM audit_events WHERE seq IN (SELECT event_seq FROM cut);
             UPDATE audit_queue SET queued_at = queued_at - interval '2 minutes';",
            signed.seq - 2
        ))
        .unwrap();
    // And one waiting event is dropped from the queue: it would never be sealed.
    let dropped: i64 = audit_queue::table
        .select(diesel::dsl::max(audit_queue::event_seq))
        .first::<Option<i64>>(&mut app.db.superuser())
        .unwrap()
        .unwrap();
    tamperer
        .batch_execute(&format!(
            "DELETE FROM audit_queue WHERE event_seq = {dropped}"
        ))
        .unwrap();

    let report = verify_chain(&mut app.db.superuser(), Some(&signed)).unwrap();
    assert!(!report.intact);
    let found: Vec<(Finding, i64, Option<i64>)> = report
        .problems
        .iter()
        .map(|p| (p.finding, p.seq, p.event_seq))
        .collect();
    let end = signed.seq - 2;
    let first_waiting = dropped - 2;
    assert_eq!(
        found,
        [
            (Finding::ContentMismatch, altered, Some(altered_seq)),
            (Finding::Truncated, end + 1, None),
            (Finding::Unsealed, end, Some(dropped)),
            (Finding::SealingOverdue, end, Some(first_waiting)),
        ]
    );
    assert_eq!(report.unsealed, 3);
    assert_eq!(report.problem_count, 4);

    // The backlog alone, young, is no problem; left for over a minute, it is.
    let young = spawn_app_with(without_sequencer()).await;
    let mut conn = young.db.service_role();
    conn.transaction(|conn| audit::append(conn, &[system_event()]))
        .unwrap();
    let report = verify_chain(&mut young.db.superuser(), None).unwrap();
    assert!(report.intact && report.unsealed >= 1, "{report:?}");
    young
        .db
        .superuser()
        .batch_execute("UPDATE audit_queue SET queued_at = queued_at - interval '61 seconds'")
        .unwrap();
    let report = verify_chain(&mut young.db.superuser(), None).unwrap();
    assert_eq!(
        report
            .problems
            .iter()
            .map(|p| p.finding)
            .collect::<Vec<_>>(),
        [Finding::SealingOverdue]
    );
    assert!(backlog(&mut young.db.superuser()).unwrap().oldest_seconds > 60.0);
}
