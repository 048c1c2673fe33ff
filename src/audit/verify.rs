//! Recomputing the chain: every event whose content, link or position does not match, every
//! event whose details were removed without the right to remove them, every event that is not
//! the one a signed checkpoint vouches for, and a tail cut off behind the highest checkpoint.
//! The walk does not stop at the first problem: an altered event does not hide a cut tail.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::chain::{content_digest, link_hash, Content, GENESIS};
use super::checkpoint::{Checkpoint, CheckpointFile, CheckpointKey};
use super::writer::chain_tail;
use crate::db::schema::audit_events;

const BATCH: i64 = 20_000;
/// At most this many problems are listed (all are counted): a chain rewritten from its start
/// would otherwise make a report of millions of lines.
pub const MAX_PROBLEMS: usize = 1_000;

/// How long an event keeps its details: the legal minimum of five years, counted generously
/// (five years of 365 days and two leap days), so no event loses its details a day early.
/// Only after that may an event's details be removed (`details_removed`), leaving a tombstone
/// whose stored `content_digest` keeps the chain verifiable.
pub const RETENTION: TimeDelta = TimeDelta::days(5 * 365 + 2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// A sequence number is missing.
    Gap,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub finding: Finding,
    /// The first event that does not match (for a gap or truncation: the first missing number).
    pub seq: i64,
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
    /// The highest sequence number in the chain as stored (`last_seq` is where the unbroken
    /// part ends).
    pub chain_end: i64,
}

#[derive(Queryable)]
struct Row {
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
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    details_removed: bool,
}

impl Row {
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

fn problem(finding: Finding, seq: i64, event_id: Option<Uuid>, detail: String) -> Problem {
    Problem {
        finding,
        seq,
        event_id,
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
fn remaining_details(row: &Row) -> Vec<&'static str> {
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
fn check_removal(row: &Row, removal: &Removal) -> Option<Problem> {
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
    } else if row.seq > removal.anchored_through {
        "details removed, but no checkpoint signed before the retention cutoff shows the \
         event is that old"
            .to_owned()
    } else {
        return None;
    };
    Some(problem(
        Finding::PrematureOrFalseRemoval,
        row.seq,
        Some(row.id),
        why,
    ))
}

/// Checks one stored event against its predecessor's hash. After a gap the link cannot be
/// checked (the predecessor is gone); the gap is the finding.
fn check_row(row: &Row, expected_seq: i64, prev_hash: &[u8], removal: &Removal) -> Vec<Problem> {
    let mut found = Vec::new();
    let gap = row.seq != expected_seq;
    if gap {
        found.push(problem(
            Finding::Gap,
            expected_seq,
            None,
            format!("event {expected_seq} is missing; the next is {}", row.seq),
        ));
    }
    if row.details_removed {
        found.extend(check_removal(row, removal));
    } else if content_digest(&row.content()).as_slice() != row.content_digest {
        found.push(problem(
            Finding::ContentMismatch,
            row.seq,
            Some(row.id),
            "the event's content does not match its digest".into(),
        ));
    }
    let expected_hash = link_hash(row.seq, &row.prev_hash, &row.content_digest);
    if (!gap && row.prev_hash != prev_hash) || row.hash != expected_hash {
        found.push(problem(
            Finding::ChainBreak,
            row.seq,
            Some(row.id),
            "the event does not link to its predecessor".into(),
        ));
    }
    found
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

fn checkpoint_mismatch(checkpoint: &Checkpoint, event_id: Option<Uuid>) -> Problem {
    problem(
        Finding::CheckpointMismatch,
        checkpoint.seq,
        event_id,
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
        let rows: Vec<Row> = audit_events::table
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
                audit_events::prev_hash,
                audit_events::hash,
                audit_events::details_removed,
            ))
            .filter(audit_events::seq.ge(expected_seq))
            .order(audit_events::seq.asc())
            .limit(BATCH)
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let mut at_row = check_row(row, expected_seq, &prev_hash, &removal);
            // Checkpoints at positions the chain skipped name events that are gone.
            while let Some(checkpoint) = signed.get(next).filter(|c| c.seq < row.seq) {
                at_row.push(checkpoint_mismatch(checkpoint, None));
                next += 1;
            }
            while let Some(checkpoint) = signed.get(next).filter(|c| c.seq == row.seq) {
                if checkpoint.hash != hex::encode(&row.hash) {
                    at_row.push(checkpoint_mismatch(checkpoint, Some(row.id)));
                }
                next += 1;
            }
            if !at_row.is_empty() && intact_through.is_none() {
                intact_through = Some(expected_seq - 1);
            }
            at_row.into_iter().for_each(|p| findings.push(p));
            checked += 1;
            expected_seq = row.seq + 1;
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

/// Signs the current end of the chain and appends it to the checkpoint file, unless it is
/// already the latest checkpoint. Refuses ([`CheckpointWriteError::Diverged`]) when the event
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
        let at_latest: Option<Vec<u8>> = audit_events::table
            .filter(audit_events::seq.eq(latest.seq))
            .select(audit_events::hash)
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
    let (seq, hash) = chain_tail(conn)?;
    if seq == 0 || latest.is_some_and(|c| c.seq == seq) {
        return Ok(None);
    }
    let checkpoint = Checkpoint::sign(key, seq, &hash, now);
    file.append(&checkpoint)?;
    Ok(Some(checkpoint))
}
