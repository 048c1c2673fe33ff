//! Recomputing the chain: every event whose content, link or position does not match, every
//! event whose details were removed without the right to remove them, every event that is not
//! the one a signed checkpoint vouches for, a tail cut off behind the highest checkpoint, and
//! events the sequencer has not sealed: those that left the queue unsealed, and a backlog that
//! has waited too long. The walk does not stop at the first problem: an altered event does not
//! hide a cut tail.
//!
//! Positions (`seq` in reports and checkpoints) are places in the chain, 1, 2, 3, ...; an
//! event's own number (`event_seq`, `audit_events.seq`) is the order it was written in.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::chain::{content_digest, link_hash, Content, GENESIS};
use super::checkpoint::{Checkpoint, CheckpointFile, CheckpointKey};
use super::sequencer::{chain_tail, seal_all};
use crate::db::schema::{audit_chain, audit_events, audit_queue};

const BATCH: i64 = 20_000;
/// At most this many problems are listed (all are counted): a chain rewritten from its start
/// would otherwise make a report of millions of lines.
pub const MAX_PROBLEMS: usize = 1_000;

/// How long an event keeps its details: the legal minimum of five years, counted generously
/// (five years of 365 days and two leap days), so no event loses its details a day early.
/// Only after that may an event's details be removed (`details_removed`), leaving a tombstone
/// whose stored `content_digest` keeps the chain verifiable.
pub const RETENTION: TimeDelta = TimeDelta::days(5 * 365 + 2);

/// How long (in seconds, by the database's clock) an event may wait in the queue before verify
/// calls the backlog a problem. The sequencer seals within a second under load; a minute means
/// it is not running.
pub const SEALING_GRACE_SECONDS: i32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// A chain position is missing.
    Gap,
    /// The chain names an event that is not stored.
    EventMissing,
    /// The stored content no longer matches its digest: the row was altered.
    ContentMismatch,
    /// The event is marked `details_removed` but is no tombstone (details remain), or is not
    /// provably older than [`RETENTION`]. The flag is not hashed, so it earns no trust by
    /// itself: anything it would excuse is reported here.
    PrematureOrFalseRemoval,
    /// The event does not link to its predecessor: altered, reordered or inserted.
    ChainBreak,
    /// The chain ends before the highest signed checkpoint: newest events were removed.
    Truncated,
    /// The event at a checkpoint's position is not the one that was signed (or a checkpoint
    /// names no event at all).
    CheckpointMismatch,
    /// An event is neither in the chain nor queued for it: it will never be sealed.
    Unsealed,
    /// An event has waited in the queue longer than [`SEALING_GRACE_SECONDS`]: the sequencer is not
    /// sealing (the backlog is reported from its oldest event).
    SealingOverdue,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub finding: Finding,
    /// The chain position at fault (for a gap or truncation: the first missing one; for an
    /// event that is not sealed: the position the chain has reached).
    pub seq: i64,
    /// The number of the event at fault, when there is one.
    pub event_seq: Option<i64>,
    pub event_id: Option<Uuid>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckpointSummary {
    pub seq: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub intact: bool,
    pub events_checked: i64,
    pub last_seq: i64,
    /// The highest signed checkpoint.
    pub checkpoint: Option<CheckpointSummary>,
    /// How many signed checkpoints the chain was compared with.
    pub checkpoints: usize,
    /// The first problem (`problems[0]`), where clients have always read it.
    pub problem: Option<Problem>,
    /// Every problem found, in chain order (the cut tail last), at most [`MAX_PROBLEMS`].
    pub problems: Vec<Problem>,
    /// How many problems were found, listed or not.
    pub problem_count: usize,
    /// The highest position in the chain as stored (`last_seq` is where the unbroken part
    /// ends).
    pub chain_end: i64,
    /// Events written but not sealed yet (a short backlog is normal; see
    /// [`SEALING_GRACE_SECONDS`]).
    pub unsealed: i64,
}

/// One chain position and the event it seals (if that is stored).
struct Row {
    position: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    event: Option<Event>,
}

#[derive(Queryable)]
struct Event {
    seq: i64,
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_type: String,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    actor_unit_id: Option<Uuid>,
    action: String,
    outcome: String,
    entity_type: String,
    entity_id: Option<Uuid>,
    child_id: Option<Uuid>,
    child_unit_id: Option<Uuid>,
    child_protected: bool,
    request_id: Option<String>,
    client_addr: Option<String>,
    purpose: Option<String>,
    changed_fields: Vec<String>,
    content_digest: Vec<u8>,
    details_removed: bool,
}

impl Event {
    fn content(&self) -> Content<'_> {
        Content {
            id: self.id,
            occurred_at: self.occurred_at,
            actor_type: &self.actor_type,
            actor_id: self.actor_id,
            actor_role: self.actor_role.as_deref(),
            actor_unit_id: self.actor_unit_id,
            action: &self.action,
            outcome: &self.outcome,
            entity_type: &self.entity_type,
            entity_id: self.entity_id,
            child_id: self.child_id,
            child_unit_id: self.child_unit_id,
            child_protected: self.child_protected,
            request_id: self.request_id.as_deref(),
            client_addr: self.client_addr.as_deref(),
            purpose: self.purpose.as_deref(),
            changed_fields: &self.changed_fields,
        }
    }
}

fn problem(finding: Finding, seq: i64, event: Option<&Event>, detail: String) -> Problem {
    Problem {
        finding,
        seq,
        event_seq: event.map(|e| e.seq),
        event_id: event.map(|e| e.id),
        detail,
    }
}

/// What verify trusts a `details_removed` flag by.
struct Removal {
    /// Events older than this (by their stored time) are past the retention period.
    cutoff: DateTime<Utc>,
    /// The highest position covered by a checkpoint signed before `cutoff`. A tombstone's
    /// stored time is not hashed any more, so by itself it proves nothing; a checkpoint signed
    /// more than [`RETENTION`] ago at or after the event's position proves the event existed
    /// then (its hash is compared when the walk reaches it).
    anchored_through: i64,
}

/// The optional details that are still present on an event marked `details_removed`.
fn remaining_details(row: &Event) -> Vec<&'static str> {
    [
        ("actor_id", row.actor_id.is_some()),
        ("actor_role", row.actor_role.is_some()),
        ("actor_unit_id", row.actor_unit_id.is_some()),
        ("entity_id", row.entity_id.is_some()),
        ("child_id", row.child_id.is_some()),
        ("child_unit_id", row.child_unit_id.is_some()),
        ("child_protected", row.child_protected),
        ("request_id", row.request_id.is_some()),
        ("client_addr", row.client_addr.is_some()),
        ("purpose", row.purpose.is_some()),
        ("changed_fields", !row.changed_fields.is_empty()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}

/// An event marked `details_removed` passes only as a true tombstone past retention; its
/// content cannot be recomputed, so its link (over the stored digest) is all that is checked.
fn check_removal(position: i64, row: &Event, removal: &Removal) -> Option<Problem> {
    let remaining = remaining_details(row);
    let why = if !remaining.is_empty() {
        format!(
            "marked details_removed, but still holds {}",
            remaining.join(", ")
        )
    } else if row.occurred_at > removal.cutoff {
        format!(
            "details removed from an event of {}, inside the retention period",
            row.occurred_at
        )
    } else if position > removal.anchored_through {
        "details removed, but no checkpoint signed before the retention cutoff shows the \
         event is that old"
            .to_owned()
    } else {
        return None;
    };
    Some(problem(
        Finding::PrematureOrFalseRemoval,
        position,
        Some(row),
        why,
    ))
}

/// Checks one chain position against its predecessor's hash and the event it seals. After a
/// gap the link cannot be checked (the predecessor is gone); the gap is the finding.
fn check_row(row: &Row, expected: i64, prev_hash: &[u8], removal: &Removal) -> Vec<Problem> {
    let mut found = Vec::new();
    let gap = row.position != expected;
    if gap {
        found.push(problem(
            Finding::Gap,
            expected,
            None,
            format!(
                "chain position {expected} is missing; the next is {}",
                row.position
            ),
        ));
    }
    let Some(event) = &row.event else {
        found.push(problem(
            Finding::EventMissing,
            row.position,
            None,
            "the chain seals an event that is not stored".into(),
        ));
        return found;
    };
    if event.details_removed {
        found.extend(check_removal(row.position, event, removal));
    } else if content_digest(&event.content()).as_slice() != event.content_digest {
        found.push(problem(
            Finding::ContentMismatch,
            row.position,
            Some(event),
            "the event's content does not match its digest".into(),
        ));
    }
    let expected_hash = link_hash(row.position, &row.prev_hash, &event.content_digest);
    if (!gap && row.prev_hash != prev_hash) || row.hash != expected_hash {
        found.push(problem(
            Finding::ChainBreak,
            row.position,
            Some(event),
            "the event does not link to its predecessor".into(),
        ));
    }
    found
}

/// A batch of chain positions from `from` on, each with the event it seals.
fn load_rows(conn: &mut PgConnection, from: i64) -> QueryResult<Vec<Row>> {
    let links: Vec<(i64, i64, Vec<u8>, Vec<u8>)> = audit_chain::table
        .select((
            audit_chain::position,
            audit_chain::event_seq,
            audit_chain::prev_hash,
            audit_chain::hash,
        ))
        .filter(audit_chain::position.ge(from))
        .order(audit_chain::position.asc())
        .limit(BATCH)
        .load(conn)?;
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<i64> = links.iter().map(|l| l.1).collect();
    let mut events: std::collections::HashMap<i64, Event> = audit_events::table
        .select((
            audit_events::seq,
            audit_events::id,
            audit_events::occurred_at,
            audit_events::actor_type,
            audit_events::actor_id,
            audit_events::actor_role,
            audit_events::actor_unit_id,
            audit_events::action,
            audit_events::outcome,
            audit_events::entity_type,
            audit_events::entity_id,
            audit_events::child_id,
            audit_events::child_unit_id,
            audit_events::child_protected,
            audit_events::request_id,
            audit_events::client_addr,
            audit_events::purpose,
            audit_events::changed_fields,
            audit_events::content_digest,
            audit_events::details_removed,
        ))
        .filter(audit_events::seq.eq_any(&numbers))
        .load::<Event>(conn)?
        .into_iter()
        .map(|e| (e.seq, e))
        .collect();
    Ok(links
        .into_iter()
        .map(|(position, event_seq, prev_hash, hash)| Row {
            position,
            prev_hash,
            hash,
            event: events.remove(&event_seq),
        })
        .collect())
}

/// Events that are not in the chain: how many, and the problems among them (each event that
/// left the queue unsealed; the backlog, once, when its oldest event waited too long).
fn unsealed(conn: &mut PgConnection, chain_end: i64, findings: &mut Findings) -> QueryResult<i64> {
    let count: i64 = audit_events::table
        .filter(diesel::dsl::not(diesel::dsl::exists(
            audit_chain::table.filter(audit_chain::event_seq.eq(audit_events::seq)),
        )))
        .count()
        .get_result(conn)?;
    if count == 0 {
        return Ok(0);
    }
    let lost: Vec<(i64, Uuid)> = audit_events::table
        .filter(diesel::dsl::not(diesel::dsl::exists(
            audit_chain::table.filter(audit_chain::event_seq.eq(audit_events::seq)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            audit_queue::table.filter(audit_queue::event_seq.eq(audit_events::seq)),
        )))
        .select((audit_events::seq, audit_events::id))
        .order(audit_events::seq.asc())
        .limit(MAX_PROBLEMS as i64)
        .load(conn)?;
    for (event_seq, event_id) in lost {
        findings.push(Problem {
            finding: Finding::Unsealed,
            seq: chain_end,
            event_seq: Some(event_seq),
            event_id: Some(event_id),
            detail: "the event is neither in the chain nor queued to be sealed".into(),
        });
    }
    let overdue: Option<(i64, Uuid, DateTime<Utc>)> = audit_queue::table
        .inner_join(audit_events::table.on(audit_events::seq.eq(audit_queue::event_seq)))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "audit_queue.queued_at < clock_timestamp() - interval '{SEALING_GRACE_SECONDS} seconds'"
        )))
        .select((
            audit_queue::event_seq,
            audit_events::id,
            audit_queue::queued_at,
        ))
        .order(audit_queue::queued_at.asc())
        .first(conn)
        .optional()?;
    if let Some((event_seq, event_id, queued_at)) = overdue {
        findings.push(Problem {
            finding: Finding::SealingOverdue,
            seq: chain_end,
            event_seq: Some(event_seq),
            event_id: Some(event_id),
            detail: format!(
                "events wait to be sealed; the oldest was queued at {queued_at}, more than {} s \
                 before the check",
                SEALING_GRACE_SECONDS
            ),
        });
    }
    Ok(count)
}

/// The problems of one walk: the first [`MAX_PROBLEMS`] kept, all counted.
#[derive(Default)]
struct Findings {
    listed: Vec<Problem>,
    count: usize,
}

impl Findings {
    fn push(&mut self, found: Problem) {
        self.count += 1;
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(found);
        }
    }
}

fn checkpoint_mismatch(checkpoint: &Checkpoint, event: Option<&Event>) -> Problem {
    problem(
        Finding::CheckpointMismatch,
        checkpoint.seq,
        event,
        format!(
            "the event at the checkpoint signed at {} is not the one that was signed",
            checkpoint.at
        ),
    )
}

/// [`verify_chain_at`] with the wall clock as the time the retention period is measured to.
pub fn verify_chain<'a>(
    conn: &mut PgConnection,
    checkpoints: impl IntoIterator<Item = &'a Checkpoint>,
) -> QueryResult<VerifyReport> {
    verify_chain_at(conn, checkpoints, Utc::now())
}

/// Walks the whole chain once, in batches: each event's content (or, for a tombstone, its
/// right to be one as of `now`), its link to its predecessor, and, at every position a signed
/// checkpoint names, the signed hash. Then checks that the chain reaches the highest
/// checkpoint. Pass every validly signed checkpoint ([`CheckpointFile::all_valid`]): comparing
/// with the newest alone misses a cut that the chain has since grown past.
///
/// [`CheckpointFile::all_valid`]: super::checkpoint::CheckpointFile::all_valid
pub fn verify_chain_at<'a>(
    conn: &mut PgConnection,
    checkpoints: impl IntoIterator<Item = &'a Checkpoint>,
    now: DateTime<Utc>,
) -> QueryResult<VerifyReport> {
    // Sorted by position (stable: file order within one position), then met in step with the
    // walk, which visits every position from 1 in order: one comparison per checkpoint, no
    // lookup per event.
    let mut signed: Vec<&Checkpoint> = checkpoints.into_iter().collect();
    signed.sort_by_key(|c| c.seq);
    let cutoff = now - RETENTION;
    let removal = Removal {
        cutoff,
        anchored_through: signed
            .iter()
            .filter(|c| c.at <= cutoff)
            .map(|c| c.seq)
            .max()
            .unwrap_or(0),
    };
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_vec();
    let mut checked = 0i64;
    let mut findings = Findings::default();
    // Where the unbroken chain from the first event ends: before the first problem.
    let mut intact_through: Option<i64> = None;
    // A checkpoint below the first position names no event.
    let mut next = signed.iter().take_while(|c| c.seq < 1).count();
    for c in signed.iter().take(next) {
        findings.push(problem(
            Finding::CheckpointMismatch,
            c.seq,
            None,
            format!("the checkpoint signed at {} names no event", c.at),
        ));
        intact_through = Some(0);
    }
    loop {
        let rows = load_rows(conn, expected_seq)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let mut at_row = check_row(row, expected_seq, &prev_hash, &removal);
            // Checkpoints at positions the chain skipped name events that are gone.
            while let Some(checkpoint) = signed.get(next).filter(|c| c.seq < row.position) {
                at_row.push(checkpoint_mismatch(checkpoint, None));
                next += 1;
            }
            while let Some(checkpoint) = signed.get(next).filter(|c| c.seq == row.position) {
                if checkpoint.hash != hex::encode(&row.hash) {
                    at_row.push(checkpoint_mismatch(checkpoint, row.event.as_ref()));
                }
                next += 1;
            }
            if !at_row.is_empty() && intact_through.is_none() {
                intact_through = Some(expected_seq - 1);
            }
            at_row.into_iter().for_each(|p| findings.push(p));
            checked += 1;
            expected_seq = row.position + 1;
            // Go on from the event as stored, so one altered event is one finding, not a
            // cascade of broken links behind it.
            prev_hash.clone_from(&row.hash);
        }
    }
    let chain_end = expected_seq - 1;
    let highest = signed.last().copied();
    // Every checkpoint at or below the chain's end was met in the walk; any left lie beyond it.
    if let Some(highest) = highest.filter(|_| next < signed.len()) {
        intact_through.get_or_insert(chain_end);
        findings.push(problem(
            Finding::Truncated,
            chain_end + 1,
            None,
            format!(
                "the chain ends at {chain_end}, but event {} was signed at {}",
                highest.seq, highest.at
            ),
        ));
    }
    let unsealed = unsealed(conn, chain_end, &mut findings)?;
    Ok(VerifyReport {
        intact: findings.count == 0,
        events_checked: checked,
        last_seq: intact_through.unwrap_or(chain_end),
        checkpoint: highest.map(|c| CheckpointSummary {
            seq: c.seq,
            at: c.at,
        }),
        checkpoints: signed.len(),
        problem: findings.listed.first().cloned(),
        problems: findings.listed,
        problem_count: findings.count,
        chain_end,
        unsealed,
    })
}

/// Why no checkpoint was written.
#[derive(Debug)]
pub enum CheckpointWriteError {
    /// The event at the latest checkpoint's position is missing or no longer has the signed
    /// hash: the chain was cut or rewritten. Signing its end now would vouch for the result
    /// and launder the change, so nothing is signed until the chain is investigated.
    Diverged {
        /// The position of the latest checkpoint.
        seq: i64,
        signed_at: DateTime<Utc>,
        /// Whether the event at `seq` is gone (rather than different).
        missing: bool,
    },
    Database(diesel::result::Error),
    File(super::checkpoint::CheckpointError),
}

impl fmt::Display for CheckpointWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Diverged {
                seq,
                signed_at,
                missing,
            } => write!(
                f,
                "the event at checkpoint {seq} (signed at {signed_at}) {}; the chain was cut or \
                 rewritten, so its end is not signed",
                if *missing {
                    "is missing"
                } else {
                    "no longer has the signed hash"
                }
            ),
            Self::Database(error) => write!(f, "reading the audit chain: {error}"),
            Self::File(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for CheckpointWriteError {}

impl From<diesel::result::Error> for CheckpointWriteError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

impl From<super::checkpoint::CheckpointError> for CheckpointWriteError {
    fn from(error: super::checkpoint::CheckpointError) -> Self {
        Self::File(error)
    }
}

/// Seals what has committed, then signs the end of the chain and appends it to the checkpoint
/// file, unless it is already the latest checkpoint. Refuses ([`CheckpointWriteError::Diverged`]) when the event
/// at the latest checkpoint's position is gone or changed.
pub fn write_checkpoint(
    conn: &mut PgConnection,
    key: &CheckpointKey,
    file: &CheckpointFile,
    now: DateTime<Utc>,
) -> Result<Option<Checkpoint>, CheckpointWriteError> {
    let latest = file.latest_valid(&key.verifying_key())?;
    if let Some(latest) = &latest {
        // Events are only ever appended, so the one at `latest.seq` is there for good and
        // the tail read below cannot lie before it.
        let at_latest: Option<Vec<u8>> = audit_chain::table
            .filter(audit_chain::position.eq(latest.seq))
            .select(audit_chain::hash)
            .first(conn)
            .optional()?;
        if at_latest
            .as_ref()
            .is_none_or(|h| hex::encode(h) != latest.hash)
        {
            return Err(CheckpointWriteError::Diverged {
                seq: latest.seq,
                signed_at: latest.at,
                missing: at_latest.is_none(),
            });
        }
    }
    seal_all(conn)?;
    let (seq, hash) = chain_tail(conn)?;
    if seq == 0 || latest.is_some_and(|c| c.seq == seq) {
        return Ok(None);
    }
    let checkpoint = Checkpoint::sign(key, seq, &hash, now);
    file.append(&checkpoint)?;
    Ok(Some(checkpoint))
}
