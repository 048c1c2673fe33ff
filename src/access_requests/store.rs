//! What the service holds about one child, read table by table. Each record is the row as
//! PostgreSQL holds it (`to_jsonb`), so every column is in the export, and a column added to a
//! table later is exported without anyone remembering to: an access request answered from a
//! hand-kept field list would drift. Every query names the child by `child_id` of the table
//! itself, or, for placement reviews, of the placement reviewed; a join that brings in a name
//! (a facility's, a secretary's) goes from her row to the one thing it names, never wider.

use diesel::prelude::*;
use diesel::sql_types::{Jsonb, Uuid as SqlUuid};
use serde_json::Value;
use uuid::Uuid;

use crate::db::children;

/// One kind of record in the export, in the order a reader meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// The key in the JSON document.
    pub key: &'static str,
    /// The heading in the HTML rendering.
    pub title: &'static str,
    /// The records, as a `jsonb` array, of the child bound as `$1`.
    sql: &'static str,
}

/// The records of the child bound as `$1` in `table`, oldest first (ids are time-ordered).
macro_rules! rows_of {
    ($table:literal) => {
        concat!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]'::jsonb) AS records FROM ",
            $table,
            " t WHERE t.child_id = $1"
        )
    };
}

/// A section whose records are the rows of the table it is named after.
macro_rules! own {
    ($table:literal, $title:literal) => {
        Section {
            key: $table,
            title: $title,
            sql: rows_of!($table),
        }
    };
}

/// Every kind of record held about a child, but her own row (`child`).
pub const SECTIONS: [Section; 16] = [
    own!("age_assessments", "Age assessments"),
    own!("protection_changes", "Protected identity decisions"),
    Section {
        key: "secretaries",
        title: "Assigned social secretaries",
        sql: "SELECT coalesce(jsonb_agg(to_jsonb(t) || jsonb_build_object('display_name', u.display_name) \
              ORDER BY t.assigned_at, t.user_id), '[]'::jsonb) AS records \
              FROM child_secretaries t JOIN users u ON u.id = t.user_id WHERE t.child_id = $1",
    },
    own!("emergency_accesses", "Emergency accesses"),
    Section {
        key: "placements",
        title: "Placements",
        sql: "SELECT coalesce(jsonb_agg(to_jsonb(t) || jsonb_build_object('facility_name', f.name) \
              ORDER BY t.id), '[]'::jsonb) AS records \
              FROM placements t JOIN facilities f ON f.id = t.facility_id WHERE t.child_id = $1",
    },
    Section {
        key: "placement_reviews",
        title: "Placement reviews",
        sql: "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]'::jsonb) AS records \
              FROM placement_reviews t JOIN placements p ON p.id = t.placement_id \
              WHERE p.child_id = $1",
    },
    own!("contact_schedules", "Contact schedules"),
    own!("visits", "Visits and their corrections"),
    own!("age_out_plans", "Age-out plan"),
    own!("age_out_plan_versions", "Age-out plan versions"),
    own!("age_out_goals", "Age-out goals"),
    own!("age_out_goal_versions", "Age-out goal versions"),
    own!("age_out_progress_notes", "Progress notes"),
    own!("age_out_reviews", "Age-out plan reviews"),
    // Her days and amounts in the state reimbursement claims, every derivation of a draft too.
    own!("reimbursement_claim_lines", "State reimbursement claim lines"),
    Section {
        key: "audit_events",
        title: "Who read or changed her record (audit log)",
        // What was done with her data, by whom, in which role and unit, when and why. The
        // workers' network addresses, request ids and the chain's internals are not about her.
        sql: "SELECT coalesce(jsonb_agg(jsonb_build_object(\
              'seq', e.seq, 'id', e.id, 'occurred_at', e.occurred_at, \
              'actor_type', e.actor_type, 'actor_id', e.actor_id, 'actor_role', e.actor_role, \
              'actor_unit_id', e.actor_unit_id, 'action', e.action, 'outcome', e.outcome, \
              'entity_type', e.entity_type, 'entity_id', e.entity_id, 'purpose', e.purpose, \
              'changed_fields', e.changed_fields, 'details_removed', e.details_removed, \
              'child_protected', e.child_protected) ORDER BY e.seq), '[]'::jsonb) AS records \
              FROM audit_events e WHERE e.child_id = $1",
    },
];

#[derive(QueryableByName)]
struct Records {
    #[diesel(sql_type = Jsonb)]
    records: Value,
}

/// Everything held about one child.
pub struct Held {
    /// Her own row.
    pub child: Value,
    /// Each section's records, in [`SECTIONS`]' order.
    pub sections: Vec<(Section, Value)>,
}

/// Everything held about the child. Holds her row until commit first, so no change to her (each takes the same hold)
/// lands between two of the reads and the export is of one moment. `None` when she is gone.
pub fn everything(conn: &mut PgConnection, child_id: Uuid) -> QueryResult<Option<Held>> {
    children::lock(conn, child_id)?;
    let child: Option<Records> =
        diesel::sql_query("SELECT to_jsonb(c) AS records FROM children c WHERE c.id = $1")
            .bind::<SqlUuid, _>(child_id)
            .get_result(conn)
            .optional()?;
    let Some(child) = child else {
        return Ok(None);
    };
    let mut sections = Vec::with_capacity(SECTIONS.len());
    for section in SECTIONS {
        let found: Records = diesel::sql_query(section.sql)
            .bind::<SqlUuid, _>(child_id)
            .get_result(conn)?;
        sections.push((section, found.records));
    }
    Ok(Some(Held {
        child: child.records,
        sections,
    }))
}
