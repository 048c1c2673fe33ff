//! The children feature's reads and writes beyond finding the child's own row (`db::children`):
//! pages in the caller's reach, where each child lives today and who her secretaries are (loaded
//! for a whole page at once), duplicates, assignments and emergency access. Every write names the
//! audit event of its change.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::ProtectionLevel;
pub use crate::db::children::ChildRow;
use crate::db::placement_days::covers;
use crate::db::schema::{
    child_secretaries, children, emergency_accesses, facilities, facility_staff, placements, users,
};
use crate::error::AppError;
use crate::http::pagination::Page;
use crate::policy::child::ListScope;
use crate::policy::Profession;

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Where a child lives today.
#[derive(Debug, Clone, Queryable)]
pub struct CurrentPlacement {
    pub placement_id: Uuid,
    pub facility_id: Uuid,
    pub facility_name: String,
    pub facility_kind: String,
    pub facility_address: Option<String>,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
}

/// The placement that covers `today` for each of `child_ids` that has one: one query.
pub fn current_placements(
    conn: &mut PgConnection,
    child_ids: &[Uuid],
    today: NaiveDate,
) -> QueryResult<HashMap<Uuid, CurrentPlacement>> {
    let rows: Vec<(Uuid, CurrentPlacement)> = placements::table
        .inner_join(facilities::table)
        .filter(placements::child_id.eq_any(child_ids))
        .filter(covers(today))
        .select((
            placements::child_id,
            (
                placements::id,
                facilities::id,
                facilities::name,
                facilities::kind,
                facilities::address,
                placements::start_date,
                placements::planned_end,
            ),
        ))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The assigned secretaries of each of `child_ids`, in user id order: one query.
pub fn secretaries_of(
    conn: &mut PgConnection,
    child_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Uuid>>> {
    let rows: Vec<(Uuid, Uuid)> = child_secretaries::table
        .filter(child_secretaries::child_id.eq_any(child_ids))
        .select((child_secretaries::child_id, child_secretaries::user_id))
        .order((child_secretaries::child_id, child_secretaries::user_id))
        .load(conn)?;
    let mut by_child: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (child_id, user_id) in rows {
        by_child.entry(child_id).or_default().push(user_id);
    }
    Ok(by_child)
}

/// One page of the children in `scope`, in id order; `page.limit + 1` rows.
pub fn page_in(
    conn: &mut PgConnection,
    scope: ListScope,
    page: Page,
    today: NaiveDate,
) -> QueryResult<Vec<ChildRow>> {
    let mut query = children::table
        .select(ChildRow::as_select())
        .order(children::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(children::id.gt(after));
    }
    query = match scope {
        ListScope::Caseload(user_id) => query.filter(
            children::id.eq_any(
                child_secretaries::table
                    .filter(child_secretaries::user_id.eq(user_id))
                    .select(child_secretaries::child_id),
            ),
        ),
        ListScope::Unit(unit_id) => query.filter(children::responsible_unit_id.eq(unit_id)),
        ListScope::LivingWhereSheWorks(user_id) => query.filter(
            children::id.eq_any(
                placements::table
                    .inner_join(
                        facility_staff::table
                            .on(facility_staff::facility_id.eq(placements::facility_id)),
                    )
                    .filter(facility_staff::user_id.eq(user_id))
                    .filter(covers(today))
                    .select(placements::child_id),
            ),
        ),
        ListScope::Unprotected(None) => {
            query.filter(children::protection_level.eq(ProtectionLevel::None))
        }
        ListScope::Unprotected(Some(units)) => query
            .filter(children::protection_level.eq(ProtectionLevel::None))
            .filter(children::responsible_unit_id.eq_any(units)),
    };
    query.load(conn)
}

/// Another child (not `except`) with this dossier number or personal identity number, and the
/// field it shares.
pub fn holder_of_number(
    conn: &mut PgConnection,
    dossier_number: Option<&str>,
    personal_identity_number: Option<&str>,
    except: Option<Uuid>,
) -> QueryResult<Option<(ChildRow, &'static str)>> {
    let others = || {
        let mut query = children::table.select(ChildRow::as_select()).into_boxed();
        if let Some(id) = except {
            query = query.filter(children::id.ne(id));
        }
        query
    };
    if let Some(dossier) = dossier_number {
        let found = others()
            .filter(children::dossier_number.eq(dossier))
            .first(conn)
            .optional()?;
        if let Some(child) = found {
            return Ok(Some((child, "dossier_number")));
        }
    }
    if let Some(pin) = personal_identity_number {
        let found = others()
            .filter(children::personal_identity_number.eq(pin))
            .first(conn)
            .optional()?;
        if let Some(child) = found {
            return Ok(Some((child, "personal_identity_number")));
        }
    }
    Ok(None)
}

/// Children with this name (in any letter case) and date of birth: likely duplicates.
pub fn same_name_and_birth(
    conn: &mut PgConnection,
    given_name: &str,
    family_name: &str,
    date_of_birth: NaiveDate,
) -> QueryResult<Vec<ChildRow>> {
    children::table
        .filter(lower(children::family_name).eq(lower(family_name)))
        .filter(lower(children::given_name).eq(lower(given_name)))
        .filter(children::date_of_birth.eq(date_of_birth))
        .select(ChildRow::as_select())
        .load(conn)
}

/// Writes a new child. A number another child has is refused by its unique constraint, which
/// `AppError` maps by name to `duplicate-identity` (the race past `holder_of_number`).
pub fn insert(conn: &mut PgConnection, row: &ChildRow) -> Result<(), AppError> {
    diesel::insert_into(children::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Writes the changed child, if it is still the version before `row.version`.
pub fn update(conn: &mut PgConnection, row: &ChildRow) -> Result<bool, AppError> {
    let updated = diesel::update(
        children::table
            .find(row.id)
            .filter(children::version.eq(row.version - 1)),
    )
    .set(row)
    .execute(conn)?;
    Ok(updated == 1)
}

/// Which of `user_ids` are active social secretaries of `unit_id`. Their rows are held until
/// commit, so a move of the same person cannot pass an assignment.
pub fn secretaries_in_unit(
    conn: &mut PgConnection,
    user_ids: &[Uuid],
    unit_id: Uuid,
) -> QueryResult<Vec<Uuid>> {
    users::table
        .filter(users::id.eq_any(user_ids))
        .filter(users::active.eq(true))
        .filter(users::profession.eq(Profession::SocialSecretary))
        .filter(users::unit_id.eq(unit_id))
        .select(users::id)
        .for_share()
        .load(conn)
}

/// Makes `user_ids` the child's secretaries, each assignment naming event `event_id`.
pub fn assign_secretaries(
    conn: &mut PgConnection,
    child_id: Uuid,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<()> {
    diesel::delete(child_secretaries::table.filter(child_secretaries::child_id.eq(child_id)))
        .execute(conn)?;
    let rows: Vec<_> = user_ids
        .iter()
        .map(|user_id| {
            (
                child_secretaries::child_id.eq(child_id),
                child_secretaries::user_id.eq(*user_id),
                child_secretaries::assigned_at.eq(now),
                child_secretaries::last_audit_event_id.eq(event_id),
            )
        })
        .collect();
    diesel::insert_into(child_secretaries::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}

pub struct EmergencyGrant<'a> {
    pub user_id: Uuid,
    pub child_id: Uuid,
    pub reason: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub fn grant_emergency_access(
    conn: &mut PgConnection,
    grant: EmergencyGrant<'_>,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(emergency_accesses::table)
        .values((
            emergency_accesses::id.eq(Uuid::now_v7()),
            emergency_accesses::user_id.eq(grant.user_id),
            emergency_accesses::child_id.eq(grant.child_id),
            emergency_accesses::reason.eq(grant.reason),
            emergency_accesses::granted_at.eq(now),
            emergency_accesses::expires_at.eq(grant.expires_at),
            emergency_accesses::last_audit_event_id.eq(event_id),
        ))
        .execute(conn)?;
    Ok(())
}
