//! `trygg retention run [--dry-run]`: retention (*gallring*) of cases past their keeping time.
//!
//! **The last entry in a case** is the latest day of: the child's record changed
//! (`children.updated_at`); a placement's start, end or change, and a decision on it
//! (`placement_reviews`); a visit (when it happened or was recorded); a contact schedule's start,
//! end or change; anything written in the age-out plan (the plan, its versions, goals, goal
//! versions, progress notes and reviews); a decision on protection or age; a secretary assigned;
//! and every successful audit event that records a *change* about her (`create`, `update`,
//! `cancel`, `reassess_age`, `change_protection`). Reads, lists, exports and refusals are no
//! entries: looking at a case does not keep it longer. Days of instants are Swedish days.
//!
//! **Never due**: a child with a placement that has not ended (nor been cancelled), and a child
//! under the age care may last to (21) whose case is open: a placement not ended, a contact
//! schedule still running, or an age-out plan. The schema has no "case closed" mark, so these
//! are what open means. Otherwise `rules::retention::verdict` decides (the window, the sample).
//!
//! **What a run does**, per due child, in one transaction with the `retention` event (by the
//! system) and the erasure row the database's triggers require: deletes her visits, contact
//! schedules, age-out plans with their versions, goals, notes and reviews, protection changes,
//! age assessments, emergency accesses and secretaries' assignments; pseudonymises her row
//! (names, identity and dossier numbers, guardian, country of origin, languages), keeping its
//! id, date of birth, sex, asylum status and dates; keeps her placements and their reviews; and
//! turns her audit events that are older than the log's own retention period *and* vouched for
//! by a checkpoint signed before it into tombstones (the stored digest keeps the chain
//! verifiable; verify accepts exactly those). Her younger events keep their details; a later run
//! turns them into tombstones when they qualify (a pass that removes nothing else).
//!
//! The command works as the database role `trygg_retention` (migration `*_retention`), never as
//! the service's `trygg_app`, which may not delete case records.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{Connection, PgConnection};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::checkpoint::{CheckpointFile, CheckpointKey};
use crate::audit::verify::RETENTION;
use crate::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use crate::cli::RetentionArgs;
use crate::rules::retention::{verdict, Case, Verdict};
use crate::rules::Rules;

/// The tables a removal deletes from, in an order their foreign keys allow; each has `child_id`.
pub const TABLES: [&str; 12] = [
    "visits",
    "age_out_progress_notes",
    "age_out_goal_versions",
    "age_out_goals",
    "age_out_reviews",
    "age_out_plan_versions",
    "age_out_plans",
    "contact_schedules",
    "emergency_accesses",
    "protection_changes",
    "age_assessments",
    "child_secretaries",
];

/// The child's fields a removal pseudonymises or blanks.
pub const PSEUDONYMISED: [&str; 8] = [
    "given_name",
    "family_name",
    "personal_identity_number",
    "dossier_number",
    "guardian_name",
    "guardian_phone",
    "country_of_origin",
    "languages",
];

/// The audit actions that record a change to a child's case (and so are entries in it).
const CHANGES: [AuditAction; 5] = [
    AuditAction::Create,
    AuditAction::Update,
    AuditAction::Cancel,
    AuditAction::ReassessAge,
    AuditAction::ChangeProtection,
];

/// The day a timestamp column falls on in Sweden.
macro_rules! day {
    ($column:expr) => {
        concat!("(", $column, " AT TIME ZONE 'Europe/Stockholm')::date")
    };
}

/// Every child not erased yet, with what decides whether she is due. `$1` is today, `$2` the
/// audit actions that are changes.
const CASES: &str = concat!(
    "SELECT c.id, c.date_of_birth, GREATEST(",
    day!("c.updated_at"),
    ",
    (SELECT max(GREATEST(p.start_date, p.end_date, ",
    day!("p.updated_at"),
    ")) FROM placements p WHERE p.child_id = c.id),
    (SELECT max(GREATEST(r.decided_on, ",
    day!("r.created_at"),
    ")) FROM placement_reviews r JOIN placements p ON p.id = r.placement_id WHERE p.child_id = c.id),
    (SELECT max(GREATEST(",
    day!("v.occurred_at"),
    ", ",
    day!("v.created_at"),
    ")) FROM visits v WHERE v.child_id = c.id),
    (SELECT max(GREATEST(s.start_date, s.end_date, ",
    day!("s.updated_at"),
    ")) FROM contact_schedules s WHERE s.child_id = c.id),
    (SELECT max(GREATEST(a.opened_on, ",
    day!("a.updated_at"),
    ")) FROM age_out_plans a WHERE a.child_id = c.id),
    (SELECT max(",
    day!("x.changed_at"),
    ") FROM age_out_plan_versions x WHERE x.child_id = c.id),
    (SELECT max(",
    day!("g.updated_at"),
    ") FROM age_out_goals g WHERE g.child_id = c.id),
    (SELECT max(",
    day!("x.changed_at"),
    ") FROM age_out_goal_versions x WHERE x.child_id = c.id),
    (SELECT max(GREATEST(n.noted_on, ",
    day!("n.created_at"),
    ")) FROM age_out_progress_notes n WHERE n.child_id = c.id),
    (SELECT max(GREATEST(r.held_on, ",
    day!("r.created_at"),
    ")) FROM age_out_reviews r WHERE r.child_id = c.id),
    (SELECT max(",
    day!("x.created_at"),
    ") FROM protection_changes x WHERE x.child_id = c.id),
    (SELECT max(",
    day!("x.created_at"),
    ") FROM age_assessments x WHERE x.child_id = c.id),
    (SELECT max(",
    day!("x.assigned_at"),
    ") FROM child_secretaries x WHERE x.child_id = c.id),
    (SELECT max(",
    day!("e.occurred_at"),
    ") FROM audit_events e WHERE e.child_id = c.id AND e.outcome = 'success'
        AND e.action = ANY($2))
  ) AS last_entry,
  EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id AND p.cancelled_at IS NULL
          AND (p.end_date IS NULL OR p.end_date >= $1)) AS active_placement,
  EXISTS (SELECT 1 FROM contact_schedules s WHERE s.child_id = c.id
          AND (s.end_date IS NULL OR s.end_date >= $1))
    OR EXISTS (SELECT 1 FROM age_out_plans a WHERE a.child_id = c.id) AS open
FROM children c
WHERE NOT EXISTS (SELECT 1 FROM retention_erasures r WHERE r.child_id = c.id)
ORDER BY c.id"
);

#[derive(QueryableByName)]
struct CaseRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Date)]
    date_of_birth: NaiveDate,
    #[diesel(sql_type = Date)]
    last_entry: NaiveDate,
    #[diesel(sql_type = Bool)]
    active_placement: bool,
    #[diesel(sql_type = Bool)]
    open: bool,
}

#[derive(QueryableByName)]
struct ErasedRow {
    #[diesel(sql_type = SqlUuid)]
    child_id: Uuid,
    #[diesel(sql_type = Date)]
    last_entry_on: NaiveDate,
    #[diesel(sql_type = Date)]
    due_from: NaiveDate,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A child the run works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub child_id: Uuid,
    pub last_entry: NaiveDate,
    pub due_from: NaiveDate,
    /// Erased by an earlier run: this pass only turns events grown old enough into tombstones.
    pub erased_before: bool,
}

/// What a run removed (or, dry, would remove) of one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOutcome {
    pub due: Due,
    /// Rows per table of [`TABLES`], in that order.
    pub rows: Vec<(&'static str, i64)>,
    /// Whether her row is pseudonymised in this pass.
    pub pseudonymised: bool,
    /// Her audit events turned into tombstones.
    pub events_redacted: i64,
}

impl ChildOutcome {
    fn removes_anything(&self) -> bool {
        self.pseudonymised || self.events_redacted > 0 || self.rows.iter().any(|(_, n)| *n > 0)
    }
}

/// What a run saw and did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    pub today: Option<NaiveDate>,
    pub children: Vec<ChildOutcome>,
    /// Cases past their time that are kept whole as the research sample.
    pub kept_sample: usize,
}

impl Report {
    /// The report as the command prints it: ids and counts, never names or numbers.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run {
            "would remove"
        } else {
            "removed"
        };
        let today = self.today.map(|d| d.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "retention {} on {today}: {} child(ren); {} kept as the research sample",
            if self.dry_run { "dry run" } else { "run" },
            self.children.len(),
            self.kept_sample
        );
        for child in &self.children {
            let rows: Vec<String> = child
                .rows
                .iter()
                .map(|(table, n)| format!("{table}={n}"))
                .collect();
            let _ = writeln!(
                out,
                "child {} (last entry {}, due from {}): {verb} {}; pseudonymise={}; audit_events_redacted={}",
                child.due.child_id,
                child.due.last_entry,
                child.due.due_from,
                rows.join(" "),
                child.pseudonymised,
                child.events_redacted
            );
        }
        out
    }
}

/// The pseudonym that replaces a child's family name: derived from her id alone, so the row
/// still says which record it is without saying whom.
pub fn pseudonym(child_id: Uuid) -> String {
    let digest = Sha256::digest(format!("trygg-retention-v1:{child_id}"));
    format!("gallrad-{}", &hex::encode(digest)[..12])
}

/// The children due on `today` (and erased children with events that may now be tombstones),
/// with how many cases were kept as the sample.
pub fn due(
    conn: &mut PgConnection,
    rules: &Rules,
    today: NaiveDate,
    now: DateTime<Utc>,
    anchored_through: i64,
) -> QueryResult<(Vec<Due>, usize)> {
    let set = rules.on(today);
    let changes: Vec<&str> = CHANGES.iter().map(|a| a.as_str()).collect();
    let cases: Vec<CaseRow> = diesel::sql_query(CASES)
        .bind::<Date, _>(today)
        .bind::<Array<Text>, _>(changes)
        .load(conn)?;
    let mut due = Vec::new();
    let mut kept_sample = 0;
    for row in cases {
        let case = Case {
            date_of_birth: row.date_of_birth,
            last_entry: row.last_entry,
            active_placement: row.active_placement,
            open: row.open,
        };
        match verdict(&set.retention, &case, today, set.placement_end_age) {
            Verdict::Due(window) => due.push(Due {
                child_id: row.id,
                last_entry: row.last_entry,
                due_from: window.due_from,
                erased_before: false,
            }),
            Verdict::Sample
                if set
                    .retention
                    .window(row.last_entry)
                    .is_some_and(|w| w.due_from <= today) =>
            {
                kept_sample += 1
            }
            _ => {}
        }
    }
    // Erased children whose events have grown old enough since.
    let erased: Vec<ErasedRow> = diesel::sql_query(
        "SELECT DISTINCT ON (r.child_id) r.child_id, r.last_entry_on, r.due_from
           FROM retention_erasures r
          WHERE EXISTS (SELECT 1 FROM audit_events e JOIN audit_chain c ON c.event_seq = e.seq
                         WHERE e.child_id = r.child_id AND NOT e.details_removed
                           AND e.occurred_at < $1 AND c.position <= $2)
          ORDER BY r.child_id, r.erased_at",
    )
    .bind::<Timestamptz, _>(now - RETENTION)
    .bind::<BigInt, _>(anchored_through)
    .load(conn)?;
    due.extend(erased.into_iter().map(|row| Due {
        child_id: row.child_id,
        last_entry: row.last_entry_on,
        due_from: row.due_from,
        erased_before: true,
    }));
    Ok((due, kept_sample))
}

/// Her events that may become tombstones: older than the log's retention period at `$2` and
/// vouched for by a checkpoint signed before it (through chain position `$3`).
const REDACTABLE: &str = "e.child_id = $1 AND NOT e.details_removed AND e.occurred_at < $2
     AND c.position <= $3 AND c.event_seq = e.seq";

fn count(conn: &mut PgConnection, sql: &str, child_id: Uuid) -> QueryResult<i64> {
    Ok(diesel::sql_query(sql)
        .bind::<SqlUuid, _>(child_id)
        .get_result::<Count>(conn)?
        .n)
}

fn redactable(
    conn: &mut PgConnection,
    child_id: Uuid,
    now: DateTime<Utc>,
    anchored_through: i64,
) -> QueryResult<i64> {
    let sql = format!("SELECT count(*) AS n FROM audit_events e, audit_chain c WHERE {REDACTABLE}");
    Ok(diesel::sql_query(sql)
        .bind::<SqlUuid, _>(child_id)
        .bind::<Timestamptz, _>(now - RETENTION)
        .bind::<BigInt, _>(anchored_through)
        .get_result::<Count>(conn)?
        .n)
}

/// What removing `due` would take, changing nothing.
pub fn preview(
    conn: &mut PgConnection,
    due: &Due,
    now: DateTime<Utc>,
    anchored_through: i64,
) -> QueryResult<ChildOutcome> {
    let mut rows = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT count(*) AS n FROM {table} WHERE child_id = $1");
        rows.push((table, count(conn, &sql, due.child_id)?));
    }
    Ok(ChildOutcome {
        due: due.clone(),
        rows,
        pseudonymised: !due.erased_before,
        events_redacted: redactable(conn, due.child_id, now, anchored_through)?,
    })
}

/// Removes `due` in one transaction with its audit event and erasure row.
pub fn erase(
    conn: &mut PgConnection,
    due: &Due,
    now: DateTime<Utc>,
    anchored_through: i64,
) -> Result<ChildOutcome, String> {
    conn.transaction(|conn| {
        let event_id = Uuid::now_v7();
        let mut event = AuditEvent::new(
            AuditActor::system(),
            AuditAction::Retention,
            EntityType::Child,
            Some(due.child_id),
            now,
        )
        .child(due.child_id)
        .purpose(format!(
            "retention: last entry on {}, due from {}",
            due.last_entry, due.due_from
        ));
        event.id = event_id;
        if !due.erased_before {
            event = event.changed(PSEUDONYMISED);
        }
        audit::append(conn, &[event]).map_err(|e| Failure(e.to_string()))?;
        diesel::sql_query(
            "INSERT INTO retention_erasures (audit_event_id, child_id, erased_at, last_entry_on, due_from)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind::<SqlUuid, _>(event_id)
        .bind::<SqlUuid, _>(due.child_id)
        .bind::<Timestamptz, _>(now)
        .bind::<Date, _>(due.last_entry)
        .bind::<Date, _>(due.due_from)
        .execute(conn)
        .map_err(db_error)?;
        let mut rows = Vec::new();
        for table in TABLES {
            let n = diesel::sql_query(format!("DELETE FROM {table} WHERE child_id = $1"))
                .bind::<SqlUuid, _>(due.child_id)
                .execute(conn)
                .map_err(db_error)?;
            rows.push((table, i64::try_from(n).unwrap_or(i64::MAX)));
        }
        if !due.erased_before {
            diesel::sql_query(
                "UPDATE children SET given_name = 'Gallrad', family_name = $2,
                        personal_identity_number = NULL, dossier_number = NULL,
                        guardian_name = NULL, guardian_phone = NULL, country_of_origin = NULL,
                        languages = '{}', updated_at = $3, version = version + 1,
                        last_audit_event_id = $4
                  WHERE id = $1",
            )
            .bind::<SqlUuid, _>(due.child_id)
            .bind::<Text, _>(pseudonym(due.child_id))
            .bind::<Timestamptz, _>(now)
            .bind::<SqlUuid, _>(event_id)
            .execute(conn)
            .map_err(db_error)?;
        }
        let redacted = diesel::sql_query(format!(
            "UPDATE audit_events e SET actor_type = 'system', actor_id = NULL, actor_role = NULL,
                    actor_unit_id = NULL, entity_id = NULL, child_id = NULL,
                    child_unit_id = NULL, child_protected = false, request_id = NULL,
                    client_addr = NULL, purpose = NULL, changed_fields = '{{}}',
                    details_removed = true
               FROM audit_chain c WHERE {REDACTABLE}"
        ))
        .bind::<SqlUuid, _>(due.child_id)
        .bind::<Timestamptz, _>(now - RETENTION)
        .bind::<BigInt, _>(anchored_through)
        .execute(conn)
        .map_err(db_error)?;
        Ok(ChildOutcome {
            due: due.clone(),
            rows,
            pseudonymised: !due.erased_before,
            events_redacted: i64::try_from(redacted).unwrap_or(i64::MAX),
        })
    })
    .map_err(|Failure(why)| format!("child {}: {why}", due.child_id))
}

/// Why a removal failed; its transaction is rolled back.
#[derive(Debug)]
pub struct Failure(pub String);

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        db_error(error)
    }
}

/// A database refusal with the database's message (which names tables and rules, never a
/// value of personal data).
fn db_error(error: diesel::result::Error) -> Failure {
    Failure(format!("the database refused the removal: {error}"))
}

/// The highest chain position covered by a validly signed checkpoint from before the audit
/// log's retention cutoff: events up to it may become tombstones.
pub fn anchored_through(
    file: &CheckpointFile,
    key: &CheckpointKey,
    now: DateTime<Utc>,
) -> Result<i64, String> {
    let cutoff = now - RETENTION;
    Ok(file
        .all_valid(&key.verifying_key())
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|c| c.at <= cutoff)
        .map(|c| c.seq)
        .max()
        .unwrap_or(0))
}

/// The whole run over an open connection acting as `trygg_retention`.
pub fn run_on(
    conn: &mut PgConnection,
    rules: &Rules,
    today: NaiveDate,
    now: DateTime<Utc>,
    anchored_through: i64,
    dry_run: bool,
) -> Result<Report, String> {
    let (due, kept_sample) =
        due(conn, rules, today, now, anchored_through).map_err(|e| e.to_string())?;
    let mut report = Report {
        dry_run,
        today: Some(today),
        children: Vec::new(),
        kept_sample,
    };
    for child in &due {
        let outcome = if dry_run {
            preview(conn, child, now, anchored_through).map_err(|e| e.to_string())?
        } else {
            erase(conn, child, now, anchored_through)?
        };
        if outcome.removes_anything() {
            report.children.push(outcome);
        }
    }
    tracing::info!(
        dry_run,
        children = report.children.len(),
        kept_sample,
        "retention run finished"
    );
    Ok(report)
}

/// Opens a connection as the configured login and takes the retention role.
pub fn connect(database_url: &str) -> Result<PgConnection, String> {
    let mut conn = PgConnection::establish(database_url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    conn.batch_execute("SET ROLE trygg_retention")
        .map_err(|e| {
            format!(
                "the database login may not act as trygg_retention (grant it the role, as the \
             retention migration does for the migration owner): {e}"
            )
        })?;
    Ok(conn)
}

pub fn run(args: RetentionArgs) -> Result<(), String> {
    crate::telemetry::init(args.dev);
    let key = CheckpointKey::resolve(
        std::env::var("TRYGG_CHECKPOINT_KEY").ok().as_deref(),
        args.dev,
    )
    .map_err(|e| e.to_string())?;
    let rules = Rules::load().map_err(|e| e.to_string())?;
    if !args.dry_run {
        crate::db::run_migrations(&args.database.database_url).map_err(|e| e.to_string())?;
    }
    let now = Utc::now();
    let today = now
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .date_naive();
    let anchored = anchored_through(
        &CheckpointFile::new(&args.checkpoints.checkpoint_file),
        &key,
        now,
    )?;
    let mut conn = connect(&args.database.database_url)?;
    let report = run_on(&mut conn, &rules, today, now, anchored, args.dry_run)?;
    print!("{}", report.render());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pseudonym_depends_on_the_id_alone_and_fits_the_name_column() {
        let id = Uuid::nil();
        assert_eq!(pseudonym(id), pseudonym(id));
        assert_ne!(pseudonym(id), pseudonym(Uuid::max()));
        assert!(pseudonym(id).starts_with("gallrad-") && pseudonym(id).len() == 20);
    }

    #[test]
    fn the_report_names_children_by_id_and_counts_only() {
        let child_id = Uuid::now_v7();
        let report = Report {
            dry_run: true,
            today: NaiveDate::from_ymd_opt(2026, 12, 4),
            children: vec![ChildOutcome {
                due: Due {
                    child_id,
                    last_entry: NaiveDate::from_ymd_opt(2020, 6, 30).unwrap(),
                    due_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    erased_before: false,
                },
                rows: vec![("visits", 2), ("contact_schedules", 1)],
                pseudonymised: true,
                events_redacted: 3,
            }],
            kept_sample: 1,
        };
        let text = report.render();
        assert!(text.contains(&format!("child {child_id}")), "{text}");
        assert!(
            text.contains("would remove visits=2 contact_schedules=1"),
            "{text}"
        );
        assert!(text.contains("audit_events_redacted=3"), "{text}");
        assert!(text.contains("1 kept as the research sample"), "{text}");
    }
}
