//! How an event is shown to an auditor, as JSON and as CSV: what happened, by whom, about whom,
//! never any case data (the log holds none) and no chain internals beyond the event's hash.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::query::Listed;
use crate::error::AppError;
use crate::http::csv::Csv;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEventView {
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub actor_unit_id: Option<Uuid>,
    pub action: String,
    pub outcome: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub child_id: Option<Uuid>,
    pub child_unit_id: Option<Uuid>,
    pub child_protected: bool,
    /// The child's unit is known and is not the actor's unit.
    pub outside_actor_unit: bool,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub purpose: Option<String>,
    pub changed_fields: Vec<String>,
    /// The details were removed under a retention rule; the event still verifies.
    pub details_removed: bool,
    /// The event's link in the hash chain, hex; `None` for the moment (under a second) between
    /// its commit and its sealing.
    pub hash: Option<String>,
}

impl From<Listed> for AuditEventView {
    fn from((row, hash): Listed) -> Self {
        Self {
            seq: row.seq,
            id: row.id,
            occurred_at: row.occurred_at,
            outside_actor_unit: row.child_unit_id.is_some()
                && row.child_unit_id != row.actor_unit_id,
            actor_type: row.actor_type,
            actor_id: row.actor_id,
            actor_role: row.actor_role,
            actor_unit_id: row.actor_unit_id,
            action: row.action,
            outcome: row.outcome,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            child_id: row.child_id,
            child_unit_id: row.child_unit_id,
            child_protected: row.child_protected,
            request_id: row.request_id,
            client_addr: row.client_addr,
            purpose: row.purpose,
            changed_fields: row.changed_fields,
            details_removed: row.details_removed,
            hash: hash.map(hex::encode),
        }
    }
}

/// The CSV columns, in order; the first line of every CSV answer.
pub const CSV_HEADER: [&str; 21] = [
    "seq",
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_role",
    "actor_unit_id",
    "action",
    "outcome",
    "entity_type",
    "entity_id",
    "child_id",
    "child_unit_id",
    "child_protected",
    "outside_actor_unit",
    "request_id",
    "client_addr",
    "purpose",
    "changed_fields",
    "details_removed",
    "hash",
];

/// The events as CSV with a header row, written by the shared [`Csv`] writer (byte-order mark,
/// RFC 4180 quoting, CRLF, no cell that starts a formula: a stated purpose such as
/// `=HYPERLINK(...)` stays text). Lists inside a cell (changed fields) are joined by `;`.
pub fn to_csv(events: &[AuditEventView]) -> Result<Vec<u8>, AppError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let id = |v: &Option<Uuid>| v.map(|id| id.to_string()).unwrap_or_default();
    let mut csv = Csv::with_header(&CSV_HEADER)?;
    for e in events {
        csv.row([
            e.seq.to_string(),
            e.id.to_string(),
            e.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            e.actor_type.clone(),
            id(&e.actor_id),
            text(&e.actor_role),
            id(&e.actor_unit_id),
            e.action.clone(),
            e.outcome.clone(),
            e.entity_type.clone(),
            id(&e.entity_id),
            id(&e.child_id),
            id(&e.child_unit_id),
            e.child_protected.to_string(),
            e.outside_actor_unit.to_string(),
            text(&e.request_id),
            text(&e.client_addr),
            text(&e.purpose),
            e.changed_fields.join(";"),
            e.details_removed.to_string(),
            e.hash.clone().unwrap_or_default(),
        ])?;
    }
    csv.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::csv::BOM;

    fn event(purpose: &str) -> AuditEventView {
        AuditEventView {
            seq: 7,
            id: Uuid::nil(),
            occurred_at: DateTime::<Utc>::UNIX_EPOCH,
            actor_type: "user".into(),
            actor_id: None,
            actor_role: Some("social_secretary".into()),
            actor_unit_id: None,
            action: "read".into(),
            outcome: "success".into(),
            entity_type: "child".into(),
            entity_id: None,
            child_id: None,
            child_unit_id: None,
            child_protected: false,
            outside_actor_unit: false,
            request_id: None,
            client_addr: None,
            purpose: Some(purpose.into()),
            changed_fields: vec!["given_name".into(), "family_name".into()],
            details_removed: false,
            hash: None,
        }
    }

    #[test]
    fn cells_are_quoted_only_when_needed_and_formulas_stay_text() {
        let csv = to_csv(&[event("=1+1"), event("say \"hi\", then go")]).unwrap();
        let text = String::from_utf8(csv[BOM.len()..].to_vec()).unwrap();
        let rows: Vec<&str> = text.split("\r\n").collect();
        assert!(
            rows[1].contains(",'=1+1,given_name;family_name,"),
            "{}",
            rows[1]
        );
        assert!(
            rows[2].contains(",\"say \"\"hi\"\", then go\","),
            "{}",
            rows[2]
        );
    }

    #[test]
    fn the_csv_starts_with_the_byte_order_mark_and_its_header() {
        let csv = to_csv(&[]).unwrap();
        assert_eq!(
            csv,
            [BOM, format!("{}\r\n", CSV_HEADER.join(",")).as_bytes()].concat()
        );
    }
}
