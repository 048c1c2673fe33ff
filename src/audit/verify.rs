//! Recomputing the chain: the first event whose content, link or position does not match, and a
//! tail cut off behind the latest signed checkpoint.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::chain::{content_digest, link_hash, Content, GENESIS};
use super::checkpoint::{Checkpoint, CheckpointFile, CheckpointKey};
use super::writer::chain_tail;
use crate::db::schema::audit_events;

const BATCH: i64 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// A sequence number is missing.
    Gap,
    /// The stored content no longer matches its digest: the row was altered.
    ContentMismatch,
    /// The event does not link to its predecessor: altered, reordered or inserted.
    ChainBreak,
    /// The chain ends before the latest signed checkpoint: newest events were removed.
    Truncated,
    /// The event at the checkpoint's position is not the one that was signed.
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
    pub checkpoint: Option<CheckpointSummary>,
    pub problem: Option<Problem>,
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

/// Checks one stored event against its predecessor's hash.
fn check_row(row: &Row, expected_seq: i64, prev_hash: &[u8]) -> Option<Problem> {
    if row.seq != expected_seq {
        return Some(problem(
            Finding::Gap,
            expected_seq,
            None,
            format!("event {expected_seq} is missing; the next is {}", row.seq),
        ));
    }
    if !row.details_removed && content_digest(&row.content()).as_slice() != row.content_digest {
        return Some(problem(
            Finding::ContentMismatch,
            row.seq,
            Some(row.id),
            "the event's content does not match its digest".into(),
        ));
    }
    let expected_hash = link_hash(row.seq, prev_hash, &row.content_digest);
    if row.prev_hash != prev_hash || row.hash != expected_hash {
        return Some(problem(
            Finding::ChainBreak,
            row.seq,
            Some(row.id),
            "the event does not link to its predecessor".into(),
        ));
    }
    None
}

/// Walks the whole chain in batches, then compares its end with the latest checkpoint.
pub fn verify_chain(
    conn: &mut PgConnection,
    checkpoint: Option<&Checkpoint>,
) -> QueryResult<VerifyReport> {
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_vec();
    let mut checked = 0i64;
    let mut found: Option<Problem> = None;
    let mut hash_at_checkpoint: Option<Vec<u8>> = None;
    'batches: loop {
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
            if let Some(p) = check_row(row, expected_seq, &prev_hash) {
                found = Some(p);
                break 'batches;
            }
            if checkpoint.is_some_and(|c| c.seq == row.seq) {
                hash_at_checkpoint = Some(row.hash.clone());
            }
            checked += 1;
            expected_seq = row.seq + 1;
            prev_hash.clone_from(&row.hash);
        }
    }
    let last_seq = expected_seq - 1;
    if found.is_none() {
        found = checkpoint.and_then(|c| compare_with_checkpoint(c, last_seq, hash_at_checkpoint));
    }
    Ok(VerifyReport {
        intact: found.is_none(),
        events_checked: checked,
        last_seq,
        checkpoint: checkpoint.map(|c| CheckpointSummary {
            seq: c.seq,
            at: c.at,
        }),
        problem: found,
    })
}

fn compare_with_checkpoint(
    checkpoint: &Checkpoint,
    last_seq: i64,
    hash_at_checkpoint: Option<Vec<u8>>,
) -> Option<Problem> {
    if last_seq < checkpoint.seq {
        return Some(problem(
            Finding::Truncated,
            last_seq + 1,
            None,
            format!(
                "the chain ends at {last_seq}, but event {} was signed at {}",
                checkpoint.seq, checkpoint.at
            ),
        ));
    }
    match hash_at_checkpoint {
        Some(hash) if hex::encode(&hash) == checkpoint.hash => None,
        _ => Some(problem(
            Finding::CheckpointMismatch,
            checkpoint.seq,
            None,
            "the event at the checkpoint is not the one that was signed".into(),
        )),
    }
}

/// Signs the current end of the chain and appends it to the checkpoint file, unless it is
/// already the latest checkpoint.
pub fn write_checkpoint(
    conn: &mut PgConnection,
    key: &CheckpointKey,
    file: &CheckpointFile,
    now: DateTime<Utc>,
) -> Result<Option<Checkpoint>, String> {
    let (seq, hash) = chain_tail(conn).map_err(|e| e.to_string())?;
    if seq == 0 {
        return Ok(None);
    }
    let latest = file
        .latest_valid(&key.verifying_key())
        .map_err(|e| e.to_string())?;
    if latest.is_some_and(|c| c.seq == seq) {
        return Ok(None);
    }
    let checkpoint = Checkpoint::sign(key, seq, &hash, now);
    file.append(&checkpoint).map_err(|e| e.to_string())?;
    Ok(Some(checkpoint))
}
