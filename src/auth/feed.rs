//! Calendar feed tokens: the credential a calendar program presents (in the feed's URL) instead
//! of a bearer token. 256 random bits, shown once, stored only as SHA-256 (looked up by that
//! hash, so the lookup's time tells nothing about a near miss), revocable, one live feed per
//! person. A password change, deactivation or a new profession or unit ends the feed, as it
//! ends sessions; a deactivated owner is refused at every fetch too.

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use uuid::Uuid;

use super::actor::{Principal, RequestOrigin};
use super::profession::Profession;
use super::session::RevokeReason;
use super::tokens::hash_opaque_token;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::db::schema::{calendar_feeds, users};

/// Marks a feed token for people and log scanners; it can never parse as a JWT.
const FEED_TOKEN_PREFIX: &str = "cal_";
const FEED_TOKEN_BYTES: usize = 32;

crate::text_enum! {
    /// Why a feed ended.
    pub enum FeedEnd {
        /// Its owner revoked it.
        Revoked = "revoked",
        /// Its owner made a new one.
        Replaced = "replaced",
        PasswordChanged = "password_changed",
        Deactivated = "deactivated",
        ProfessionChanged = "profession_changed",
    }
}

impl From<RevokeReason> for FeedEnd {
    /// A change of the account that ends its sessions ends its feed for the same reason.
    fn from(reason: RevokeReason) -> Self {
        match reason {
            RevokeReason::PasswordChanged => FeedEnd::PasswordChanged,
            RevokeReason::Deactivated => FeedEnd::Deactivated,
            RevokeReason::ProfessionChanged => FeedEnd::ProfessionChanged,
            RevokeReason::Logout | RevokeReason::RefreshReuse | RevokeReason::Administrator => {
                FeedEnd::Revoked
            }
        }
    }
}

/// A new feed token: 256 bits from the OS, base64url without padding.
pub fn new_feed_token() -> String {
    let mut bytes = [0u8; FEED_TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{FEED_TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A new feed of `user_id` with `token`, named by `event_id`. The caller ends the live one
/// first ([`end_live`]); the database keeps one live feed per person.
pub fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::id.eq(id),
            calendar_feeds::user_id.eq(user_id),
            calendar_feeds::token_hash.eq(hash_opaque_token(token)),
            calendar_feeds::created_at.eq(now),
            calendar_feeds::last_audit_event_id.eq(event_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends the live feed of `user_id`, if she has one; returns its id.
pub fn end_live(
    conn: &mut PgConnection,
    user_id: Uuid,
    why: FeedEnd,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<Option<Uuid>> {
    diesel::update(calendar_feeds::table)
        .filter(calendar_feeds::user_id.eq(user_id))
        .filter(calendar_feeds::revoked_at.is_null())
        .set((
            calendar_feeds::revoked_at.eq(now),
            calendar_feeds::revoked_reason.eq(why.as_str()),
            calendar_feeds::last_audit_event_id.eq(event_id),
        ))
        .returning(calendar_feeds::id)
        .get_result(conn)
        .optional()
}

/// The live feed of `user_id`, if any (the event of ending it names it).
pub fn live_of(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Option<Uuid>> {
    calendar_feeds::table
        .filter(calendar_feeds::user_id.eq(user_id))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(calendar_feeds::id)
        .first(conn)
        .optional()
}

/// Whose feed a token opens.
#[derive(Debug, Clone)]
pub struct FeedHolder {
    pub feed_id: Uuid,
    /// The owner as she is now (profession and unit of today, not of when the feed was made).
    pub principal: Principal,
}

impl FeedHolder {
    /// An audit event by the feed's owner, carrying the request's id and origin.
    pub fn event(
        &self,
        origin: &RequestOrigin,
        action: AuditAction,
        entity_type: EntityType,
        entity_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> AuditEvent {
        AuditEvent::new(
            self.principal.audit_actor(),
            action,
            entity_type,
            entity_id,
            now,
        )
        .request(origin.request_id.clone(), origin.client_addr.clone())
    }
}

/// The live feed `token` opens and its active owner; `None` for an unknown, revoked or
/// malformed token, or an owner who has been deactivated.
pub fn holder(conn: &mut PgConnection, token: &str) -> QueryResult<Option<FeedHolder>> {
    if !token.starts_with(FEED_TOKEN_PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    let found = calendar_feeds::table
        .inner_join(users::table)
        .filter(calendar_feeds::token_hash.eq(hash_opaque_token(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .filter(users::active.eq(true))
        .select((
            calendar_feeds::id,
            users::id,
            users::profession,
            users::unit_id,
        ))
        .first::<(Uuid, Uuid, Profession, Option<Uuid>)>(conn)
        .optional()?;
    Ok(found.map(|(feed_id, id, profession, unit_id)| FeedHolder {
        feed_id,
        principal: Principal::User {
            id,
            profession,
            unit_id,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_tokens_are_long_random_and_marked() {
        let (a, b) = (new_feed_token(), new_feed_token());
        assert_ne!(a, b);
        assert!(a.starts_with(FEED_TOKEN_PREFIX));
        // 32 bytes in unpadded base64url.
        assert_eq!(a.len(), FEED_TOKEN_PREFIX.len() + 43);
        assert!(a[FEED_TOKEN_PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
