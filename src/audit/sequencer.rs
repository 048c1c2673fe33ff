//! The sequencer: the one writer of the chain. Requests only insert their events (each queued
//! by the database in the same transaction); the sequencer takes the queued events that have
//! committed, in batches, gives them the next gap-free positions in the order of their event
//! numbers, links each to its predecessor and deletes them from the queue, all in one
//! transaction. So
//! - no request waits for another's commit (the chain is not computed on their path);
//! - a crash between a request's commit and its sealing loses nothing: the queue row committed
//!   with the event, and the next pass (of this process or the next) seals it;
//! - nothing is sealed twice: taking an event from the queue and sealing it commit together,
//!   `audit_chain.event_seq` is unique, and one advisory lock admits one sequencer at a time
//!   (several service processes may run one each);
//! - a rolled-back transaction's events are never sealed: their queue rows rolled back too;
//! - a slow transaction's event is never skipped: there is no high-water mark, every
//!   committed queued event is taken, so one that commits behind a sealed one is sealed in the
//!   next batch. The chain's order is the order of sealing, fixed once written.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Timestamptz};

use super::chain::{link_hash, GENESIS};
use crate::db::schema::{audit_chain, audit_queue};
use crate::db::Db;

/// Admits one sequencer at a time, across processes. Requests never take it.
const SEQUENCER_LOCK: i64 = 0x7472_7967_675f_7371;

/// Events sealed in one transaction at most; a backlog is worked off in several.
pub const BATCH: i64 = 5_000;

/// The newest sealed event's position and hash, or the genesis position.
pub fn chain_tail(conn: &mut PgConnection) -> QueryResult<(i64, Vec<u8>)> {
    Ok(audit_chain::table
        .select((audit_chain::position, audit_chain::hash))
        .order(audit_chain::position.desc())
        .first::<(i64, Vec<u8>)>(conn)
        .optional()?
        .unwrap_or((0, GENESIS.to_vec())))
}

/// What one pass sealed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    pub events: usize,
    /// The chain's end after the pass.
    pub through: i64,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Bytea)]
    content_digest: Vec<u8>,
    #[diesel(sql_type = Timestamptz)]
    queued_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_chain)]
struct Link {
    position: i64,
    event_seq: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    queued_at: DateTime<Utc>,
}

/// Seals at most `limit` committed queued events, oldest event number first, in a transaction
/// of its own (a savepoint when the caller has one open). Waits for a sequencer that is busy.
pub fn seal_batch(conn: &mut PgConnection, limit: i64) -> QueryResult<Sealed> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(SEQUENCER_LOCK)
            .execute(conn)?;
        let (mut position, mut prev_hash) = chain_tail(conn)?;
        // The queue is only filled by the database's trigger; an event already in the chain
        // would mean the queue was written by hand, and is dropped rather than sealed twice.
        let taken: Vec<Taken> = diesel::sql_query(
            "WITH taken AS (
                 DELETE FROM audit_queue
                  WHERE event_seq IN (SELECT event_seq FROM audit_queue
                                       ORDER BY event_seq LIMIT $1)
              RETURNING event_seq, queued_at)
             SELECT e.seq, e.content_digest, taken.queued_at
               FROM taken JOIN audit_events e ON e.seq = taken.event_seq
              WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_seq = e.seq)
              ORDER BY e.seq",
        )
        .bind::<BigInt, _>(limit)
        .load(conn)?;
        let mut links = Vec::with_capacity(taken.len());
        for event in taken {
            position += 1;
            let hash = link_hash(position, &prev_hash, &event.content_digest).to_vec();
            links.push(Link {
                position,
                event_seq: event.seq,
                prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
                queued_at: event.queued_at,
            });
        }
        for chunk in links.chunks(1000) {
            diesel::insert_into(audit_chain::table)
                .values(chunk)
                .execute(conn)?;
        }
        Ok(Sealed {
            events: links.len(),
            through: position,
        })
    })
}

/// Seals every event that had committed when it was called (batch after batch).
pub fn seal_all(conn: &mut PgConnection) -> QueryResult<Sealed> {
    let mut total = Sealed::default();
    loop {
        let sealed = seal_batch(conn, BATCH)?;
        total.events += sealed.events;
        total.through = sealed.through;
        if (sealed.events as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Events written and committed but not sealed yet.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Backlog {
    pub events: i64,
    /// How long the oldest of them has waited, in seconds (0 when none waits).
    pub oldest_seconds: f64,
}

pub fn backlog(conn: &mut PgConnection) -> QueryResult<Backlog> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        events: i64,
        #[diesel(sql_type = diesel::sql_types::Double)]
        oldest_seconds: f64,
    }
    let row: Row = diesel::sql_query(
        "SELECT count(*) AS events,
                coalesce(extract(epoch FROM clock_timestamp() - min(queued_at)), 0)::float8
                    AS oldest_seconds
           FROM audit_queue",
    )
    .get_result(conn)?;
    Ok(Backlog {
        events: row.events,
        oldest_seconds: row.oldest_seconds,
    })
}

/// The queue's oldest entry, to tell whether anything waits (cheap at any size).
pub fn oldest_queued(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    audit_queue::table
        .select(audit_queue::queued_at)
        .order(audit_queue::event_seq.asc())
        .first(conn)
        .optional()
}

/// Runs the sequencer in the background: a pass every `interval`, each sealing everything that
/// has committed. A pass that finds the sequencer's lag (the age of the oldest event it
/// sealed) above `lag_warning` says so in the log; a failed pass is retried at the next tick.
pub fn spawn(db: Db, interval: Duration, lag_warning: Duration) {
    actix_web::rt::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match db.run(|conn| Ok(pass(conn)?)).await {
                Ok(Some(lag)) if lag > lag_warning => {
                    tracing::warn!(lag_ms = lag.as_millis() as u64, "audit sequencer lagging");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "audit sequencer pass failed"),
            }
        }
    });
}

/// One pass: seals what waits and returns the longest an event it sealed had waited.
fn pass(conn: &mut PgConnection) -> QueryResult<Option<Duration>> {
    let Some(oldest) = oldest_queued(conn)? else {
        return Ok(None);
    };
    seal_all(conn)?;
    let waited = (Utc::now() - oldest).to_std().unwrap_or_default();
    Ok(Some(waited))
}
