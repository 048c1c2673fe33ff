//! Claims, their lines and stated costs, and the facts a claim is derived from.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date};
use uuid::Uuid;

use super::derive::{Category, ChildFacts, Line, PlacementFacts};
use crate::db::schema::{
    children, placements, reimbursement_actual_costs, reimbursement_claim_lines,
    reimbursement_claims,
};
use crate::domain::child::{AsylumStatus, ProtectionLevel};
use crate::domain::quarter::Quarter;
use crate::error::AppResult;
use crate::http::pagination::Page;

crate::text_enum! {
    /// Where a claim stands: worked on, sent to Migrationsverket, decided.
    pub enum Status {
        Draft = "draft",
        Submitted = "submitted",
        Paid = "paid",
        Rejected = "rejected",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reimbursement_claims)]
pub struct ClaimRow {
    pub id: Uuid,
    pub quarter_start: NaiveDate,
    pub supplements: Option<Uuid>,
    pub status: Status,
    pub deadline: NaiveDate,
    pub note: Option<String>,
    pub total_ore: i64,
    pub lines_version: i32,
    pub submitted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub decision_reference: Option<String>,
    pub paid_ore: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl ClaimRow {
    pub fn quarter(&self) -> Quarter {
        Quarter::of(self.quarter_start)
    }
}

/// A stored line with what the audit event of reading it carries about the child (her unit
/// and protection).
#[derive(Debug, Clone)]
pub struct ShownLine {
    pub line: Line,
    pub unit_id: Uuid,
    pub protected: bool,
}

/// The facts `quarter` is derived from: the placements holding a place on one of its days (not
/// cancelled), and their children together with every child assigned in it.
pub fn facts(
    conn: &mut PgConnection,
    quarter: Quarter,
) -> AppResult<(Vec<ChildFacts>, Vec<PlacementFacts>)> {
    let (first, last) = (quarter.first_day(), quarter.last_day());
    let placed: Vec<(Uuid, Uuid, NaiveDate, NaiveDate, String)> = placements::table
        .filter(placements::cancelled_at.is_null())
        .filter(
            sql::<Bool>("placements.period && daterange(")
                .bind::<Date, _>(first)
                .sql(", ")
                .bind::<Date, _>(last)
                .sql(", '[]')"),
        )
        .select((
            placements::id,
            placements::child_id,
            placements::start_date,
            sql::<Date>("COALESCE(placements.end_date, placements.planned_end)"),
            placements::legal_basis,
        ))
        .order(placements::id)
        .load(conn)?;
    let placed_children: Vec<Uuid> = placed.iter().map(|p| p.1).collect();
    type Kid = (
        Uuid,
        Option<String>,
        NaiveDate,
        AsylumStatus,
        Option<NaiveDate>,
    );
    let kids: Vec<Kid> = children::table
        .filter(
            children::id
                .eq_any(&placed_children)
                .or(children::assigned_on.between(first, last)),
        )
        .select((
            children::id,
            children::dossier_number,
            children::date_of_birth,
            children::asylum_status,
            children::assigned_on,
        ))
        .order(children::id)
        .load(conn)?;
    let children = kids
        .into_iter()
        .map(
            |(id, dossier_number, date_of_birth, asylum_status, assigned_on)| ChildFacts {
                id,
                dossier_number,
                date_of_birth,
                asylum_status,
                assigned_on,
            },
        )
        .collect();
    let placements = placed
        .into_iter()
        .map(|(id, child_id, start, last, legal_basis)| PlacementFacts {
            id,
            child_id,
            start,
            last,
            legal_basis,
        })
        .collect();
    Ok((children, placements))
}

pub fn find(conn: &mut PgConnection, id: Uuid, lock: bool) -> AppResult<Option<ClaimRow>> {
    let query = reimbursement_claims::table
        .find(id)
        .select(ClaimRow::as_select());
    Ok(if lock {
        query.for_update().first(conn).optional()?
    } else {
        query.first(conn).optional()?
    })
}

pub fn list(
    conn: &mut PgConnection,
    quarter: Option<Quarter>,
    page: Page,
) -> AppResult<Vec<ClaimRow>> {
    let mut query = reimbursement_claims::table
        .select(ClaimRow::as_select())
        .order(reimbursement_claims::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(quarter) = quarter {
        query = query.filter(reimbursement_claims::quarter_start.eq(quarter.first_day()));
    }
    if let Some(after) = page.after {
        query = query.filter(reimbursement_claims::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// The claims of `quarter` other than `except`.
pub fn of_quarter(conn: &mut PgConnection, quarter: Quarter) -> AppResult<Vec<ClaimRow>> {
    Ok(reimbursement_claims::table
        .filter(reimbursement_claims::quarter_start.eq(quarter.first_day()))
        .select(ClaimRow::as_select())
        .order(reimbursement_claims::id)
        .load(conn)?)
}

pub struct NewClaim<'a> {
    pub id: Uuid,
    pub quarter: Quarter,
    pub supplements: Option<Uuid>,
    pub deadline: NaiveDate,
    pub note: Option<&'a str>,
    pub total_ore: i64,
}

pub fn insert(
    conn: &mut PgConnection,
    claim: &NewClaim,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<ClaimRow> {
    Ok(diesel::insert_into(reimbursement_claims::table)
        .values((
            reimbursement_claims::id.eq(claim.id),
            reimbursement_claims::quarter_start.eq(claim.quarter.first_day()),
            reimbursement_claims::supplements.eq(claim.supplements),
            reimbursement_claims::deadline.eq(claim.deadline),
            reimbursement_claims::note.eq(claim.note),
            reimbursement_claims::total_ore.eq(claim.total_ore),
            reimbursement_claims::created_at.eq(now),
            reimbursement_claims::updated_at.eq(now),
            reimbursement_claims::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(ClaimRow::as_returning())
        .get_result(conn)?)
}

/// A draft's note and total, if it is still at `expected_version`.
pub fn update_draft(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    (note, total_ore): (Option<&str>, i64),
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<ClaimRow>> {
    Ok(diesel::update(
        reimbursement_claims::table
            .find(id)
            .filter(reimbursement_claims::version.eq(expected_version))
            .filter(reimbursement_claims::status.eq(Status::Draft)),
    )
    .set((
        reimbursement_claims::note.eq(note),
        reimbursement_claims::total_ore.eq(total_ore),
        reimbursement_claims::lines_version.eq(expected_version + 1),
        reimbursement_claims::updated_at.eq(now),
        reimbursement_claims::version.eq(reimbursement_claims::version + 1),
        reimbursement_claims::last_audit_event_id.eq(audit_event_id),
    ))
    .returning(ClaimRow::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Submitted on `day`, if still the draft at `expected_version`.
pub fn submit(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    day: NaiveDate,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<ClaimRow>> {
    Ok(diesel::update(
        reimbursement_claims::table
            .find(id)
            .filter(reimbursement_claims::version.eq(expected_version))
            .filter(reimbursement_claims::status.eq(Status::Draft)),
    )
    .set((
        reimbursement_claims::status.eq(Status::Submitted),
        reimbursement_claims::submitted_on.eq(day),
        reimbursement_claims::updated_at.eq(now),
        reimbursement_claims::version.eq(reimbursement_claims::version + 1),
        reimbursement_claims::last_audit_event_id.eq(audit_event_id),
    ))
    .returning(ClaimRow::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Migrationsverket's decision on a submitted claim.
pub struct Decided {
    pub status: Status,
    pub decided_on: NaiveDate,
    pub decision_reference: String,
    pub paid_ore: Option<i64>,
}

pub fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    decision: &Decided,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<ClaimRow>> {
    Ok(diesel::update(
        reimbursement_claims::table
            .find(id)
            .filter(reimbursement_claims::version.eq(expected_version))
            .filter(reimbursement_claims::status.eq(Status::Submitted)),
    )
    .set((
        reimbursement_claims::status.eq(decision.status),
        reimbursement_claims::decided_on.eq(decision.decided_on),
        reimbursement_claims::decision_reference.eq(&decision.decision_reference),
        reimbursement_claims::paid_ore.eq(decision.paid_ore),
        reimbursement_claims::updated_at.eq(now),
        reimbursement_claims::version.eq(reimbursement_claims::version + 1),
        reimbursement_claims::last_audit_event_id.eq(audit_event_id),
    ))
    .returning(ClaimRow::as_returning())
    .get_result(conn)
    .optional()?)
}

/// The costs stated on version `version` of a claim.
pub fn actual_costs(
    conn: &mut PgConnection,
    (claim, version): (Uuid, i32),
) -> AppResult<HashMap<Uuid, i64>> {
    Ok(reimbursement_actual_costs::table
        .filter(reimbursement_actual_costs::claim_id.eq(claim))
        .filter(reimbursement_actual_costs::claim_version.eq(version))
        .select((
            reimbursement_actual_costs::placement_id,
            reimbursement_actual_costs::amount_ore,
        ))
        .load::<(Uuid, i64)>(conn)?
        .into_iter()
        .collect())
}

/// The costs of version `version` of a draft.
pub fn write_actual_costs(
    conn: &mut PgConnection,
    (claim, version): (Uuid, i32),
    costs: &HashMap<Uuid, i64>,
) -> AppResult<()> {
    let rows: Vec<_> = costs
        .iter()
        .map(|(placement, amount)| {
            (
                reimbursement_actual_costs::claim_id.eq(claim),
                reimbursement_actual_costs::claim_version.eq(version),
                reimbursement_actual_costs::placement_id.eq(*placement),
                reimbursement_actual_costs::amount_ore.eq(*amount),
            )
        })
        .collect();
    diesel::insert_into(reimbursement_actual_costs::table)
        .values(rows)
        .execute(conn)?;
    Ok(())
}

/// The lines of version `version` of a draft.
pub fn write_lines(
    conn: &mut PgConnection,
    (claim, version): (Uuid, i32),
    lines: &[Line],
) -> AppResult<()> {
    for chunk in lines.chunks(2000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|l| {
                (
                    reimbursement_claim_lines::id.eq(Uuid::now_v7()),
                    reimbursement_claim_lines::claim_id.eq(claim),
                    reimbursement_claim_lines::claim_version.eq(version),
                    reimbursement_claim_lines::child_id.eq(l.child_id),
                    reimbursement_claim_lines::dossier_number.eq(&l.dossier_number),
                    reimbursement_claim_lines::placement_id.eq(l.placement_id),
                    reimbursement_claim_lines::category.eq(l.category),
                    reimbursement_claim_lines::first_day.eq(l.first_day),
                    reimbursement_claim_lines::last_day.eq(l.last_day),
                    reimbursement_claim_lines::days.eq(l.days),
                    reimbursement_claim_lines::rate_ore.eq(l.rate_ore),
                    reimbursement_claim_lines::actual_cost_ore.eq(l.actual_cost_ore),
                    reimbursement_claim_lines::amount_ore.eq(l.amount_ore),
                    reimbursement_claim_lines::rules_from.eq(l.rules_from),
                )
            })
            .collect();
        diesel::insert_into(reimbursement_claim_lines::table)
            .values(rows)
            .execute(conn)?;
    }
    Ok(())
}

type LineTuple = (
    (
        Uuid,
        Option<Uuid>,
        Category,
        NaiveDate,
        NaiveDate,
        i32,
        i64,
        Option<i64>,
        i64,
        NaiveDate,
    ),
    (Option<String>, Uuid, ProtectionLevel),
);

/// The lines of `claims` (of each claim's `lines_version`), in the order they were derived
/// (child, day, category), with what their reader sees of each child.
pub fn lines(conn: &mut PgConnection, claims: &[Uuid]) -> AppResult<Vec<ShownLine>> {
    let rows: Vec<LineTuple> = reimbursement_claim_lines::table
        .inner_join(children::table)
        .inner_join(reimbursement_claims::table)
        .filter(reimbursement_claim_lines::claim_id.eq_any(claims))
        .filter(reimbursement_claim_lines::claim_version.eq(reimbursement_claims::lines_version))
        .select((
            (
                reimbursement_claim_lines::child_id,
                reimbursement_claim_lines::placement_id,
                reimbursement_claim_lines::category,
                reimbursement_claim_lines::first_day,
                reimbursement_claim_lines::last_day,
                reimbursement_claim_lines::days,
                reimbursement_claim_lines::rate_ore,
                reimbursement_claim_lines::actual_cost_ore,
                reimbursement_claim_lines::amount_ore,
                reimbursement_claim_lines::rules_from,
            ),
            (
                reimbursement_claim_lines::dossier_number,
                children::responsible_unit_id,
                children::protection_level,
            ),
        ))
        .order((
            reimbursement_claim_lines::child_id,
            reimbursement_claim_lines::first_day,
            reimbursement_claim_lines::category,
            reimbursement_claim_lines::placement_id,
            reimbursement_claim_lines::days,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(l, (dossier_number, unit_id, protection))| ShownLine {
            line: Line {
                child_id: l.0,
                dossier_number,
                placement_id: l.1,
                category: l.2,
                first_day: l.3,
                last_day: l.4,
                days: l.5,
                rate_ore: l.6,
                actual_cost_ore: l.7,
                amount_ore: l.8,
                rules_from: l.9,
            },
            unit_id,
            protected: protection.is_protected(),
        })
        .collect())
}
