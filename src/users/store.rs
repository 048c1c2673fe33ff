//! Reading and writing user accounts. Every write names the audit event of its change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

// The `create-user` command and the demo build accounts with these.
use super::input::UserFields;
pub use super::input::{check_unit_rule, validate_display_name, validate_username, NewUser};
use crate::auth::actor::SessionStage;
use crate::db::schema::{child_secretaries, facility_staff, recovery_codes, sessions, users};
use crate::error::{AppError, AppResult};
use crate::http::pagination::Page;
use crate::policy::Profession;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub profession: Profession,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub totp_confirmed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl UserRow {
    /// Her editable fields as they are.
    pub fn fields(&self) -> UserFields {
        UserFields {
            display_name: self.display_name.clone(),
            profession: self.profession,
            unit_id: self.unit_id,
            active: self.active,
        }
    }
}

pub fn insert(
    conn: &mut PgConnection,
    user: &NewUser,
    password_hash: &str,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<UserRow> {
    let id = Uuid::now_v7();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id),
            users::username.eq(&user.username),
            users::display_name.eq(&user.display_name),
            users::profession.eq(user.profession),
            users::unit_id.eq(user.unit_id),
            users::password_hash.eq(password_hash),
            users::password_changed_at.eq(now),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        // `users_username_key`, mapped by name in `AppError` to `name-taken`.
        .map_err(AppError::from)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_username(conn: &mut PgConnection, username: &str) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    password_hash: &str,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::password_changed_at.eq(now),
            users::updated_at.eq(now),
            users::last_audit_event_id.eq(audit_event_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// One page of accounts in id order, one more than the page to tell whether another follows.
pub fn list(conn: &mut PgConnection, page: Page) -> AppResult<Vec<UserRow>> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        q = q.filter(users::id.gt(after));
    }
    Ok(q.load(conn)?)
}

/// The account, locked against other writers (not against the key-share locks of rows that
/// refer to her), so a change is worked out from the row it replaces.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()?)
}

/// Writes `fields` over version `version`; `None` when someone changed the account meanwhile.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    fields: &UserFields,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<UserRow>> {
    Ok(
        diesel::update(users::table.find(id).filter(users::version.eq(version)))
            .set((
                users::display_name.eq(&fields.display_name),
                users::profession.eq(fields.profession),
                users::unit_id.eq(fields.unit_id),
                users::active.eq(fields.active),
                users::updated_at.eq(now),
                users::version.eq(users::version + 1),
                users::last_audit_event_id.eq(audit_event_id),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)
            .optional()?,
    )
}

/// Removes her from every child's caseload and every facility's staff list; returns how many
/// assignments ended.
pub fn end_assignments(conn: &mut PgConnection, user_id: Uuid) -> AppResult<usize> {
    let caseload =
        diesel::delete(child_secretaries::table.filter(child_secretaries::user_id.eq(user_id)))
            .execute(conn)?;
    let staff = diesel::delete(facility_staff::table.filter(facility_staff::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(caseload + staff)
}

/// Her username and password hash.
pub fn credentials(conn: &mut PgConnection, id: Uuid) -> AppResult<(String, String)> {
    Ok(users::table
        .find(id)
        .select((users::username, users::password_hash))
        .first(conn)?)
}

/// Her username and when her second factor was confirmed, if it was.
pub fn enrolment(conn: &mut PgConnection, id: Uuid) -> AppResult<(String, Option<DateTime<Utc>>)> {
    Ok(users::table
        .find(id)
        .select((users::username, users::totp_confirmed_at))
        .first(conn)?)
}

/// Her sealed pending second-factor secret, and when it was confirmed, if it was.
pub fn pending_totp(
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<(Option<String>, Option<DateTime<Utc>>)> {
    Ok(users::table
        .find(id)
        .select((users::totp_secret, users::totp_confirmed_at))
        .first(conn)?)
}

pub fn set_totp_secret(
    conn: &mut PgConnection,
    id: Uuid,
    sealed_secret: &str,
    audit_event_id: Uuid,
) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::totp_secret.eq(sealed_secret),
            users::last_audit_event_id.eq(audit_event_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Confirms her second factor at `step`, replaces her recovery codes with `code_hashes`, and
/// lifts `session_id` to full access.
pub fn confirm_totp(
    conn: &mut PgConnection,
    id: Uuid,
    step: i64,
    code_hashes: Vec<String>,
    session_id: Uuid,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::totp_confirmed_at.eq(now),
            users::totp_last_step.eq(step),
            users::last_audit_event_id.eq(audit_event_id),
        ))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id))).execute(conn)?;
    let rows: Vec<_> = code_hashes
        .into_iter()
        .map(|hash| {
            (
                recovery_codes::user_id.eq(id),
                recovery_codes::code_hash.eq(hash),
            )
        })
        .collect();
    diesel::insert_into(recovery_codes::table)
        .values(rows)
        .execute(conn)?;
    diesel::update(sessions::table.find(session_id))
        .set(sessions::stage.eq(SessionStage::Full))
        .execute(conn)?;
    Ok(())
}
