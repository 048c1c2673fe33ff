//! Reading and writing user accounts. Every write names the audit event of its change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::users;
pub use crate::domain::username::validate_username;
use crate::error::{AppError, AppResult, FieldError};
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

/// A validated request to create a user.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub profession: Profession,
    pub unit_id: Option<Uuid>,
}

pub fn validate_display_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if (1..=200).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new("display_name", "1 to 200 characters"))
    }
}

/// A profession that works in a unit must name one; the others must not.
pub fn check_unit_rule(profession: Profession, unit_id: Option<Uuid>) -> Result<(), FieldError> {
    match (profession.needs_unit(), unit_id) {
        (true, None) => Err(FieldError::new(
            "unit_id",
            format!("a {profession} must belong to a unit"),
        )),
        _ => Ok(()),
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
