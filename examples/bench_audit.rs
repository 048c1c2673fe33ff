//! The cost of the audit log, measured on a fresh database of the local PostgreSQL. Run by hand
//! through `bench/audit.sh` (which builds in release mode and writes `bench/RESULTS.md`):
//!
//! (a) appends `BENCH_EVENTS` (default 1,000,000) events through `audit::append`, a thousand a
//!     transaction, as the service does, then times `verify_chain` over all of them, with a
//!     signed checkpoint of the end;
//! (b) compares an audited write (UPDATE of a `users` row plus its audit event, in one
//!     transaction) with the same write without the audit step (the same UPDATE of an identical
//!     table that carries no audit trigger), sequentially and from 8 connections at once, and
//!     the same for a read (SELECT of one user, with and without its read event).
//!
//! The database (`trygg_bench_<id>`) is dropped at the end, also when the run fails.
//! Settings: `TRYGG_BENCH_DATABASE_URL` (server, default postgres://postgres@127.0.0.1:5432/postgres),
//! `BENCH_EVENTS`, `BENCH_WRITES` (default 2000), `BENCH_THREADS` (default 8).
//! The report (Markdown) goes to standard output; progress to standard error.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use trygg::audit::checkpoint::{CheckpointFile, CheckpointKey};
use trygg::audit::event::ActorType;
use trygg::audit::verify::{verify_chain, write_checkpoint};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use uuid::Uuid;

const BATCH: usize = 1_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn with_database(server: &str, name: &str) -> String {
    match server.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{server}/{name}"),
    }
}

/// The bench database; dropped when this goes out of scope, whatever happened.
struct BenchDatabase {
    server: String,
    name: String,
}

impl BenchDatabase {
    fn create(server: &str) -> Self {
        let name = format!("trygg_bench_{}", Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(server).expect("connect to the server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the bench database");
        Self {
            server: server.to_owned(),
            name,
        }
    }

    fn url(&self) -> String {
        with_database(&self.server, &self.name)
    }

    /// A connection as the service works: the restricted role, UTC.
    fn service_connection(&self) -> PgConnection {
        let mut conn = PgConnection::establish(&self.url()).expect("connect to the bench db");
        conn.batch_execute("SET TIME ZONE 'UTC'; SET ROLE trygg_app")
            .expect("act as the service role");
        conn
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.server) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
            eprintln!("dropped {}", self.name);
        }
    }
}

fn person(id: Uuid, unit: Uuid) -> AuditActor {
    AuditActor {
        actor_type: ActorType::User,
        id: Some(id),
        role: Some("social_secretary".into()),
        unit_id: Some(unit),
    }
}

/// An event shaped like a secretary's read of a child's record, with every field filled.
fn realistic_event(actors: &[(Uuid, Uuid)], children: &[(Uuid, Uuid)], i: usize) -> AuditEvent {
    let (actor, unit) = actors[i % actors.len()];
    let (child, child_unit) = children[(i * 7) % children.len()];
    let action = if i % 10 == 0 {
        AuditAction::Update
    } else {
        AuditAction::Read
    };
    let mut event = AuditEvent::new(
        person(actor, unit),
        action,
        EntityType::Child,
        Some(child),
        Utc::now(),
    )
    .about_child(child, Some(child_unit), i % 50 == 0)
    .request(
        Some(Uuid::now_v7().to_string()),
        Some(format!("10.0.{}.{}", (i / 256) % 256, i % 256)),
    );
    if action == AuditAction::Update {
        event = event.changed(["placement_id", "contact_interval_days"]);
    }
    event
}

struct Figures {
    label: String,
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index].as_secs_f64() * 1000.0
    }

    fn mean_ms(&self) -> f64 {
        self.latencies.iter().sum::<Duration>().as_secs_f64() * 1000.0 / self.latencies.len() as f64
    }
}

/// Runs `op` `count` times on one connection, timing each.
fn timed(
    conn: &mut PgConnection,
    count: usize,
    mut op: impl FnMut(&mut PgConnection, usize),
) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let one = Instant::now();
        op(conn, i);
        latencies.push(one.elapsed());
    }
    (started.elapsed(), latencies)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    PlainWrite,
    AuditedWrite,
    PlainRead,
    AuditedRead,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::PlainWrite => "write, no audit step",
            Step::AuditedWrite => "write + audit event",
            Step::PlainRead => "read, no audit step",
            Step::AuditedRead => "read + audit event",
        }
    }
}

/// One unit of work, in its own transaction, on the row of `user`.
fn work(conn: &mut PgConnection, step: Step, actor: &AuditActor, user: Uuid, i: usize) {
    let now = Utc::now();
    let name = format!("Renamed {i}");
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        match step {
            Step::PlainWrite => {
                sql_query(
                    "UPDATE bench_plain_users SET display_name = $1, updated_at = $2, \
                     version = version + 1, last_audit_event_id = $3 WHERE id = $4",
                )
                .bind::<Text, _>(&name)
                .bind::<Timestamptz, _>(now)
                .bind::<SqlUuid, _>(Uuid::now_v7())
                .bind::<SqlUuid, _>(user)
                .execute(conn)?;
            }
            Step::AuditedWrite => {
                let event = AuditEvent::new(
                    actor.clone(),
                    AuditAction::Update,
                    EntityType::User,
                    Some(user),
                    now,
                )
                .changed(["display_name"]);
                sql_query(
                    "UPDATE users SET display_name = $1, updated_at = $2, \
                     version = version + 1, last_audit_event_id = $3 WHERE id = $4",
                )
                .bind::<Text, _>(&name)
                .bind::<Timestamptz, _>(now)
                .bind::<SqlUuid, _>(event.id)
                .bind::<SqlUuid, _>(user)
                .execute(conn)?;
                audit::append(conn, &[event])
                    .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
            }
            Step::PlainRead | Step::AuditedRead => {
                let table = if step == Step::PlainRead {
                    "bench_plain_users"
                } else {
                    "users"
                };
                sql_query(format!("SELECT display_name FROM {table} WHERE id = $1"))
                    .bind::<SqlUuid, _>(user)
                    .execute(conn)?;
                if step == Step::AuditedRead {
                    let event = AuditEvent::new(
                        actor.clone(),
                        AuditAction::Read,
                        EntityType::User,
                        Some(user),
                        now,
                    );
                    audit::append(conn, &[event]).map_err(|e| {
                        diesel::result::Error::QueryBuilderError(e.to_string().into())
                    })?;
                }
            }
        }
        Ok(())
    })
    .expect("a unit of work");
}

/// One round: each connection does `per_thread` units of `step` on its own row, all at once.
fn round(
    conns: &mut [PgConnection],
    step: Step,
    actor: &AuditActor,
    users: &[Uuid],
    per_thread: usize,
) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .iter_mut()
            .zip(users)
            .map(|(conn, &user)| {
                scope.spawn(move || {
                    timed(conn, per_thread, |conn, i| work(conn, step, actor, user, i)).1
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a bench thread"))
            .collect()
    });
    (started.elapsed(), latencies)
}

const ROUNDS: usize = 4;

/// The same work without and with the audit step, in alternating rounds (A B B A A B B A), so
/// that a disk or a neighbour that slows down during the run weighs on both alike.
fn compare(
    db: &BenchDatabase,
    pair: [Step; 2],
    actor: &AuditActor,
    users: &[Uuid],
    total: usize,
) -> [Figures; 2] {
    let threads = users.len();
    let mut conns: Vec<Vec<PgConnection>> = (0..2)
        .map(|_| (0..threads).map(|_| db.service_connection()).collect())
        .collect();
    let per_thread = (total / ROUNDS / threads).max(1);
    for (variant, step) in pair.iter().enumerate() {
        round(
            &mut conns[variant],
            *step,
            actor,
            users,
            (per_thread / 2).max(1),
        );
    }
    let mut elapsed = [Duration::ZERO; 2];
    let mut latencies: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for r in 0..ROUNDS {
        let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
        for variant in order {
            let (took, each) = round(&mut conns[variant], pair[variant], actor, users, per_thread);
            elapsed[variant] += took;
            latencies[variant].extend(each);
        }
    }
    let connections = if threads == 1 {
        "1 connection".to_owned()
    } else {
        format!("{threads} connections")
    };
    let [plain, audited] = latencies;
    let figures = |variant: usize, latencies: Vec<Duration>| Figures {
        label: format!("{}, {connections}", pair[variant].label()),
        count: per_thread * threads * ROUNDS,
        elapsed: elapsed[variant],
        latencies,
    };
    [figures(0, plain), figures(1, audited)]
}

/// Users to write to, created as the service would (each with its audit event), and a copy of
/// the table without the audit trigger and foreign key, for the unaudited baseline.
fn prepare_users(db: &BenchDatabase, count: usize) -> Vec<Uuid> {
    let mut conn = db.service_connection();
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::now_v7()).collect();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let mut events = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Create,
                EntityType::User,
                Some(*id),
                Utc::now(),
            );
            sql_query(
                "INSERT INTO users (id, username, display_name, profession, password_hash, \
                 password_changed_at, created_at, updated_at, last_audit_event_id) \
                 VALUES ($1, $2, 'Bench User', 'administrator', 'x', now(), now(), now(), $3)",
            )
            .bind::<SqlUuid, _>(*id)
            .bind::<Text, _>(format!("bench-user-{i}"))
            .bind::<SqlUuid, _>(event.id)
            .execute(conn)?;
            events.push(event);
        }
        audit::append(conn, &events)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))
    })
    .expect("create the bench users");
    let mut admin = PgConnection::establish(&db.url()).expect("connect as the login");
    admin
        .batch_execute(
            "CREATE TABLE bench_plain_users (LIKE users INCLUDING DEFAULTS INCLUDING CONSTRAINTS \
             INCLUDING INDEXES);
             INSERT INTO bench_plain_users SELECT * FROM users;
             GRANT SELECT, UPDATE ON bench_plain_users TO trygg_app;
             ANALYZE;",
        )
        .expect("create the unaudited twin of users");
    ids
}

fn main() {
    let server = std::env::var("TRYGG_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let events = env_number("BENCH_EVENTS", 1_000_000);
    let writes = env_number("BENCH_WRITES", 2_000);
    let threads = env_number("BENCH_THREADS", 8).max(1);

    let db = BenchDatabase::create(&server);
    eprintln!("bench database {}", db.name);
    trygg::db::run_migrations(&db.url()).expect("migrations apply");

    // (a) a million events, appended as the service appends them, then verified.
    let mut conn = db.service_connection();
    let actors: Vec<(Uuid, Uuid)> = (0..200).map(|_| (Uuid::now_v7(), Uuid::now_v7())).collect();
    let children: Vec<(Uuid, Uuid)> = (0..5_000)
        .map(|_| (Uuid::now_v7(), Uuid::now_v7()))
        .collect();
    let started = Instant::now();
    let mut appended = 0;
    while appended < events {
        let batch: Vec<AuditEvent> = (appended..(appended + BATCH).min(events))
            .map(|i| realistic_event(&actors, &children, i))
            .collect();
        conn.transaction(|conn| audit::append(conn, &batch))
            .expect("append a batch");
        appended += batch.len();
        if appended % 100_000 == 0 {
            eprintln!("appended {appended}");
        }
    }
    let append_time = started.elapsed();
    let mut admin = PgConnection::establish(&db.url()).expect("connect as the login");
    admin
        .batch_execute("VACUUM ANALYZE audit_events")
        .expect("vacuum");
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = Text)]
        size: String,
    }
    let table_size =
        sql_query("SELECT pg_size_pretty(pg_total_relation_size('audit_events')) AS size")
            .get_result::<Size>(&mut admin)
            .expect("table size")
            .size;

    let key = CheckpointKey::generate();
    let file_path = std::env::temp_dir().join(format!("{}-checkpoints.jsonl", db.name));
    let file = CheckpointFile::new(&file_path);
    let checkpoint = write_checkpoint(&mut conn, &key, &file, Utc::now())
        .expect("write a checkpoint")
        .expect("the chain is not empty");
    let started = Instant::now();
    let report = verify_chain(&mut conn, Some(&checkpoint)).expect("verify");
    let verify_time = started.elapsed();
    let _ = std::fs::remove_file(&file_path);
    assert!(
        report.intact,
        "the bench chain must verify: {:?}",
        report.problem
    );
    eprintln!(
        "verified {} events in {:.1} s",
        report.events_checked,
        verify_time.as_secs_f64()
    );

    // (b) the cost of the audit step on one write and one read.
    let users = prepare_users(&db, threads);
    // Flush what (a) left dirty, so its write-back does not slow the first lines of (b).
    admin.batch_execute("CHECKPOINT").expect("checkpoint");
    let actor = person(Uuid::now_v7(), Uuid::now_v7());
    let mut results = Vec::new();
    for connections in [&users[..1], &users[..]] {
        for pair in [
            [Step::PlainWrite, Step::AuditedWrite],
            [Step::PlainRead, Step::AuditedRead],
        ] {
            eprintln!(
                "{} vs {}, {} connection(s)",
                pair[0].label(),
                pair[1].label(),
                connections.len()
            );
            results.extend(compare(&db, pair, &actor, connections, writes));
        }
    }
    let final_report = verify_chain(&mut conn, None).expect("verify after the writes");
    assert!(final_report.intact);

    println!("### (a) One million events: append and verify\n");
    println!("| what | figure |\n|---|---|");
    println!("| events appended (`audit::append`, {BATCH} a transaction) | {events} |");
    println!(
        "| append time | {:.1} s ({:.0} events/s) |",
        append_time.as_secs_f64(),
        events as f64 / append_time.as_secs_f64()
    );
    println!("| `audit_events` size with indexes | {} |", table_size);
    println!(
        "| `verify_chain` over {} events, against a signed checkpoint | **{:.1} s** ({:.0} events/s); intact: {} |",
        report.events_checked,
        verify_time.as_secs_f64(),
        report.events_checked as f64 / verify_time.as_secs_f64(),
        report.intact
    );
    println!();
    println!("### (b) Cost of the audit step\n");
    println!(
        "Each unit of work is one transaction on a `users` row of a table that already holds \
         {events} events. *Write*: UPDATE of one row (display name, time, version); audited, the \
         row also names its event and `audit::append` writes the event under the chain lock \
         (the deferred trigger checks it at commit). *Read*: SELECT of one row; audited, plus \
         its read event. The baseline uses an identical copy of the table without the audit \
         trigger and foreign key. {writes} units per line, run in {ROUNDS} rounds that \
         alternate with the baseline (after a warm-up); with several connections, each works \
         on its own row, at the same time.\n"
    );
    println!("| work | throughput | mean | p50 | p99 |\n|---|---:|---:|---:|---:|");
    for f in &results {
        println!(
            "| {} | {:.0}/s | {:.2} ms | {:.2} ms | {:.2} ms |",
            f.label,
            f.per_second(),
            f.mean_ms(),
            f.percentile(0.5),
            f.percentile(0.99)
        );
    }
    let ratio =
        |plain: usize, audited: usize| results[audited].per_second() / results[plain].per_second();
    println!();
    println!(
        "Audited throughput relative to unaudited: writes {:.0}% (1 connection), {:.0}% ({threads} connections); \
         reads {:.0}% (1 connection), {:.0}% ({threads} connections).",
        ratio(0, 1) * 100.0,
        ratio(4, 5) * 100.0,
        ratio(2, 3) * 100.0,
        ratio(6, 7) * 100.0
    );
    println!(
        "\nThe chain still verified after the writes: {} events, intact: {}.",
        final_report.events_checked, final_report.intact
    );
    println!("\n{READING}");
}

const READING: &str = "**Reading the figures.** Verification is linear in the length of the \
chain: one indexed scan in batches of 20,000 and two SHA-256 a event. An audited read is a read \
that writes: its event must be committed, a WAL flush to disk, before the answer goes out, which \
a plain read never waits for; that flush is most of the difference for reads. The chain lock \
(`pg_advisory_xact_lock`) is held from the append until the commit, so that chain order is \
commit order; concurrent audited transactions therefore commit one at a time and cannot share a \
WAL flush (group commit), which is why the audited lines grow little with more connections \
while the unaudited ones do. Handlers append last, just before the commit, to hold the lock as \
briefly as that allows.";
