//! Reading and writing service accounts. Every write names the audit event of its change; the
//! secret hash is written here and never read back out (only the token endpoint verifies it).

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use uuid::Uuid;

use super::input::{AccountFields, NewServiceAccount};
use crate::db::schema::service_accounts;
use crate::error::{AppError, AppResult};
use crate::http::pagination::Page;
use crate::policy::Scope;

/// Random bytes in a client secret: 256 bits, far beyond guessing.
pub const SECRET_BYTES: usize = 32;
/// Marks a string as a Trygg client secret, so a leaked one is easy to recognise in a scan.
pub const SECRET_PREFIX: &str = "cs_";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = service_accounts)]
pub struct ServiceAccountRow {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub unit_ids: Option<Vec<Uuid>>,
}

impl ServiceAccountRow {
    /// The scopes granted, as the token endpoint and the policy read them: a name this build
    /// does not know grants nothing.
    pub fn granted(&self) -> Vec<Scope> {
        self.scopes.iter().filter_map(|s| Scope::parse(s)).collect()
    }

    /// Its editable fields as they are.
    pub fn fields(&self) -> AccountFields {
        AccountFields {
            name: self.name.clone(),
            scopes: self.granted(),
            active: self.active,
            units: self.unit_ids.clone(),
        }
    }
}

/// A fresh client secret: `cs_` and 32 random bytes from the operating system, base64url.
pub fn new_client_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn scope_names(scopes: &[Scope]) -> Vec<&'static str> {
    scopes.iter().map(|s| s.as_str()).collect()
}

pub fn insert(
    conn: &mut PgConnection,
    account: &NewServiceAccount,
    secret_hash: &str,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<ServiceAccountRow> {
    diesel::insert_into(service_accounts::table)
        .values((
            service_accounts::id.eq(Uuid::now_v7()),
            service_accounts::client_id.eq(&account.client_id),
            service_accounts::name.eq(&account.name),
            service_accounts::secret_hash.eq(secret_hash),
            service_accounts::scopes.eq(scope_names(&account.scopes)),
            service_accounts::unit_ids.eq(&account.units),
            service_accounts::created_at.eq(now),
            service_accounts::updated_at.eq(now),
            service_accounts::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(ServiceAccountRow::as_returning())
        .get_result(conn)
        // `service_accounts_client_id_key`, mapped by name in `AppError` to `name-taken`.
        .map_err(AppError::from)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<ServiceAccountRow>> {
    Ok(service_accounts::table
        .find(id)
        .select(ServiceAccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// One page, in id (creation) order; `page.limit + 1` rows, so the caller sees if more follow.
/// The account, locked against other writers, so a change is worked out from the row it
/// replaces (sessions that refer to the account may still be opened meanwhile).
pub fn lock(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<ServiceAccountRow>> {
    Ok(service_accounts::table
        .find(id)
        .select(ServiceAccountRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut PgConnection, page: Page) -> AppResult<Vec<ServiceAccountRow>> {
    let mut query = service_accounts::table
        .select(ServiceAccountRow::as_select())
        .order(service_accounts::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(service_accounts::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Writes `fields` if the row is still at `expected_version`; `None` when someone else got
/// there first.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    fields: &AccountFields,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<ServiceAccountRow>> {
    Ok(diesel::update(
        service_accounts::table
            .find(id)
            .filter(service_accounts::version.eq(expected_version)),
    )
    .set((
        service_accounts::name.eq(&fields.name),
        service_accounts::scopes.eq(scope_names(&fields.scopes)),
        service_accounts::active.eq(fields.active),
        service_accounts::unit_ids.eq(&fields.units),
        service_accounts::updated_at.eq(now),
        service_accounts::version.eq(service_accounts::version + 1),
        service_accounts::last_audit_event_id.eq(audit_event_id),
    ))
    .returning(ServiceAccountRow::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Replaces the secret: from now on only the new one verifies.
pub fn set_secret(
    conn: &mut PgConnection,
    id: Uuid,
    secret_hash: &str,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<ServiceAccountRow>> {
    Ok(diesel::update(service_accounts::table.find(id))
        .set((
            service_accounts::secret_hash.eq(secret_hash),
            service_accounts::updated_at.eq(now),
            service_accounts::version.eq(service_accounts::version + 1),
            service_accounts::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(ServiceAccountRow::as_returning())
        .get_result(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_prefixed_base64url_of_32_random_bytes() {
        let secret = new_client_secret();
        let encoded = secret.strip_prefix(SECRET_PREFIX).expect("prefixed");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .expect("base64url without padding");
        assert_eq!(bytes.len(), SECRET_BYTES);
        assert_ne!(secret, new_client_secret());
    }
}
