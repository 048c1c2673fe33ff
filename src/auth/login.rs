//! The grants of the token endpoint. Each runs in one transaction that also records its audit
//! events and throttle counters; a refused login still commits those, and the handler answers
//! with the refusal afterwards.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::actor::{RequestOrigin, SessionStage};
use super::password::verify_password;
use super::profession::{Profession, Scope};
use super::session::{self, RevokeReason, SessionOwner, TokenResponse};
use super::throttle::{ThrottleDecision, ThrottlePolicy};
use super::tokens::{hash_opaque_token, TokenKeys};
use super::totp;
use crate::audit::{
    self, event::ActorType, AuditAction, AuditActor, AuditEvent, EntityType, Outcome,
};
use crate::db::schema::{
    login_throttle, recovery_codes, refresh_tokens, service_accounts, sessions, users,
};
use crate::domain::username::MAX_USERNAME_BYTES;
use crate::error::{AppError, AppResult};

/// What a grant needs besides the request.
#[derive(Clone)]
pub struct LoginContext {
    pub keys: std::sync::Arc<TokenKeys>,
    /// Opens the sealed second-factor secrets.
    pub data_key: super::secret_box::DataKey,
    pub throttle: ThrottlePolicy,
    pub mfa_required: bool,
    pub origin: RequestOrigin,
    pub now: DateTime<Utc>,
}

/// Either tokens, or the refusal to send once the transaction (with its audit events and
/// throttle counters) has committed.
pub enum GrantOutcome {
    Issued(TokenResponse),
    Refused(AppError),
}

/// (key, failures, last failure, locked at)
type ThrottleRow = (String, i32, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
/// (user, expires at, revoked at)
type SessionState = (Option<Uuid>, DateTime<Utc>, Option<DateTime<Utc>>);

/// The longest an address ever waits, in seconds. One office behind a NAT shares an address,
/// so a stranger's failures there must never hold its people for long; accounts keep the
/// policy's longer delays and the hard lock, which is what stops guessing at one account.
pub const ADDRESS_MAX_WAIT_SECS: u64 = 30;

const WRONG_CREDENTIALS: &str = "the username or password is wrong";

fn wrong_credentials() -> AppError {
    AppError::unauthorized(WRONG_CREDENTIALS)
}

#[derive(Queryable)]
struct LoginUser {
    id: Uuid,
    profession: Profession,
    unit_id: Option<Uuid>,
    active: bool,
    password_hash: String,
    totp_secret: Option<String>,
    totp_confirmed_at: Option<DateTime<Utc>>,
    totp_last_step: Option<i64>,
}

impl LoginUser {
    fn audit_actor(&self) -> AuditActor {
        AuditActor {
            actor_type: ActorType::User,
            id: Some(self.id),
            role: Some(self.profession.as_str().to_owned()),
            unit_id: self.unit_id,
        }
    }
}

pub struct PasswordGrant {
    pub username: String,
    pub password: String,
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
}

fn event(
    ctx: &LoginContext,
    actor: AuditActor,
    action: AuditAction,
    entity: EntityType,
    id: Option<Uuid>,
) -> AuditEvent {
    AuditEvent::new(actor, action, entity, id, ctx.now).request(
        ctx.origin.request_id.clone(),
        ctx.origin.client_addr.clone(),
    )
}

pub fn password_grant(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    grant: PasswordGrant,
) -> AppResult<GrantOutcome> {
    let username = grant.username.trim().to_lowercase();
    if impossible_name(&username) {
        return refuse_impossible_name(conn, ctx, "username", EntityType::Session);
    }
    let account_key = format!("account:{username}");
    let keys = throttle_keys(&account_key, &ctx.origin);
    if let Some(refusal) = throttled(conn, ctx, &keys)? {
        audit::append(
            conn,
            &[event(
                ctx,
                AuditActor::anonymous(),
                AuditAction::LoginFailed,
                EntityType::Session,
                None,
            )
            .outcome(Outcome::Denied)],
        )?;
        return Ok(GrantOutcome::Refused(refusal));
    }
    let user: Option<LoginUser> = users::table
        .filter(users::username.eq(&username))
        .select((
            users::id,
            users::profession,
            users::unit_id,
            users::active,
            users::password_hash,
            users::totp_secret,
            users::totp_confirmed_at,
            users::totp_last_step,
        ))
        .first(conn)
        .optional()?;
    // Always verify, against a dummy hash for an unknown name: the same cost either way.
    let password_ok = verify_password(
        &grant.password,
        user.as_ref().map(|u| u.password_hash.as_str()),
    );
    let user = match user {
        Some(user) if password_ok && user.active => user,
        known => {
            let actor = known
                .as_ref()
                .map_or_else(AuditActor::anonymous, LoginUser::audit_actor);
            let entity = known.as_ref().map(|u| u.id);
            return record_failure(conn, ctx, &keys, actor, entity);
        }
    };

    let login_event = event(
        ctx,
        user.audit_actor(),
        AuditAction::Login,
        EntityType::Session,
        None,
    );
    let enrolled = user.totp_confirmed_at.is_some();
    if enrolled {
        match second_factor(conn, ctx, &user, &grant, login_event.id)? {
            SecondFactor::Passed => {}
            SecondFactor::Missing => {
                audit::append(conn, &[login_event.outcome(Outcome::Denied)])?;
                return Ok(GrantOutcome::Refused(AppError::Unauthorized {
                    detail: "a second factor is required: send totp_code or recovery_code".into(),
                }));
            }
            SecondFactor::Wrong => {
                return record_failure(conn, ctx, &keys, user.audit_actor(), Some(user.id));
            }
        }
    }
    reset_throttle(conn, &account_key)?;
    let stage = if enrolled || !ctx.mfa_required {
        SessionStage::Full
    } else {
        SessionStage::Enrolment
    };
    let started = session::start(conn, &ctx.keys, SessionOwner::User(user.id), stage, ctx.now)?;
    let login_event = AuditEvent {
        entity_id: Some(started.id),
        ..login_event
    };
    audit::append(conn, &[login_event])?;
    Ok(GrantOutcome::Issued(started.tokens))
}

enum SecondFactor {
    Passed,
    Missing,
    Wrong,
}

fn second_factor(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    user: &LoginUser,
    grant: &PasswordGrant,
    event_id: Uuid,
) -> AppResult<SecondFactor> {
    let secret = user
        .totp_secret
        .as_deref()
        .and_then(|sealed| ctx.data_key.open(user.id.as_bytes(), sealed));
    if let (Some(code), Some(secret)) = (grant.totp_code.as_deref(), secret.as_deref()) {
        let Some(step) = totp::verify_code(secret, code, ctx.now.timestamp(), user.totp_last_step)
        else {
            return Ok(SecondFactor::Wrong);
        };
        // Remember the step so the same code cannot be replayed.
        diesel::update(users::table.find(user.id))
            .set((
                users::totp_last_step.eq(step),
                users::last_audit_event_id.eq(event_id),
            ))
            .execute(conn)?;
        return Ok(SecondFactor::Passed);
    }
    if let Some(code) = grant.recovery_code.as_deref() {
        let used = diesel::update(recovery_codes::table)
            .filter(recovery_codes::user_id.eq(user.id))
            .filter(recovery_codes::code_hash.eq(totp::hash_recovery_code(code)))
            .filter(recovery_codes::used_at.is_null())
            .set(recovery_codes::used_at.eq(ctx.now))
            .execute(conn)?;
        return Ok(if used == 1 {
            SecondFactor::Passed
        } else {
            SecondFactor::Wrong
        });
    }
    Ok(SecondFactor::Missing)
}

/// A login name no account can have (longer than any name allowed, or holding a control
/// character such as NUL): refused before anything is looked up or stored under it.
fn impossible_name(name: &str) -> bool {
    name.len() > MAX_USERNAME_BYTES || name.chars().any(char::is_control)
}

/// The answer to an impossible login name: 422 naming the field, counted as a failure of the
/// caller's address (never stored as an account's key), and audited as a failed login.
fn refuse_impossible_name(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    field: &str,
    entity: EntityType,
) -> AppResult<GrantOutcome> {
    let keys: Vec<String> = address_key(&ctx.origin).into_iter().collect();
    if let Some(refusal) = throttled(conn, ctx, &keys)? {
        let failed = event(
            ctx,
            AuditActor::anonymous(),
            AuditAction::LoginFailed,
            entity,
            None,
        );
        audit::append(conn, &[failed.outcome(Outcome::Denied)])?;
        return Ok(GrantOutcome::Refused(refusal));
    }
    record_failure(conn, ctx, &keys, AuditActor::anonymous(), None)?;
    Ok(GrantOutcome::Refused(AppError::rule(
        field,
        format!("no account has such a name: at most {MAX_USERNAME_BYTES} characters, none a control character"),
    )))
}

fn address_key(origin: &RequestOrigin) -> Option<String> {
    origin
        .client_addr
        .as_ref()
        .map(|addr| format!("address:{addr}"))
}

fn throttle_keys(account_key: &str, origin: &RequestOrigin) -> Vec<String> {
    let mut keys = vec![account_key.to_owned()];
    keys.extend(address_key(origin));
    keys.sort();
    keys
}

/// Locks the counters (in a fixed order, so concurrent logins cannot deadlock) and decides.
fn throttled(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    keys: &[String],
) -> AppResult<Option<AppError>> {
    throttled_by(conn, &ctx.throttle, ctx.now, keys)
}

fn throttled_by(
    conn: &mut PgConnection,
    throttle: &ThrottlePolicy,
    now: DateTime<Utc>,
    keys: &[String],
) -> AppResult<Option<AppError>> {
    for key in keys {
        diesel::insert_into(login_throttle::table)
            .values(login_throttle::key.eq(key))
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    let rows: Vec<ThrottleRow> = login_throttle::table
        .filter(login_throttle::key.eq_any(keys))
        .order(login_throttle::key)
        .select((
            login_throttle::key,
            login_throttle::failures,
            login_throttle::last_failure_at,
            login_throttle::locked_at,
        ))
        .for_update()
        .load(conn)?;
    // Only an account is ever hard-locked: locking an address would lock out a whole office
    // behind one NAT, administrator included. An address only waits, and never for long.
    let address_policy = ThrottlePolicy {
        max_delay_secs: throttle.max_delay_secs.min(ADDRESS_MAX_WAIT_SECS),
        lock_after: u32::MAX,
        ..*throttle
    };
    let mut wait = 0u64;
    for (key, failures, last_failure_at, locked_at) in rows {
        let is_account = key.starts_with("account:");
        if locked_at.is_some() && is_account {
            return Ok(Some(locked()));
        }
        let policy = if is_account {
            throttle
        } else {
            &address_policy
        };
        match policy.decide(failures.max(0) as u32, last_failure_at, now) {
            ThrottleDecision::Allow => {}
            ThrottleDecision::Wait { retry_after_secs } => wait = wait.max(retry_after_secs),
            // Never for an address: its policy has no lock.
            ThrottleDecision::Locked => return Ok(Some(locked())),
        }
    }
    Ok((wait > 0).then_some(AppError::TooManyRequests {
        retry_after_secs: wait,
    }))
}

fn locked() -> AppError {
    // A long Retry-After: only an administrator can lift a hard lock.
    AppError::TooManyRequests {
        retry_after_secs: 3600,
    }
}

fn record_failure(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    keys: &[String],
    actor: AuditActor,
    user_id: Option<Uuid>,
) -> AppResult<GrantOutcome> {
    let mut events = vec![event(
        ctx,
        actor.clone(),
        AuditAction::LoginFailed,
        EntityType::User,
        user_id,
    )
    .outcome(Outcome::Denied)];
    if user_id.is_none() {
        events[0].entity_type = EntityType::Session;
    }
    let counts: Vec<(String, i32)> =
        diesel::update(login_throttle::table.filter(login_throttle::key.eq_any(keys)))
            .set((
                login_throttle::failures.eq(login_throttle::failures + 1),
                login_throttle::last_failure_at.eq(ctx.now),
            ))
            .returning((login_throttle::key, login_throttle::failures))
            .get_results(conn)?;
    for (key, failures) in counts {
        if key.starts_with("account:") && failures.max(0) as u32 >= ctx.throttle.lock_after {
            let newly_locked = diesel::update(login_throttle::table.find(&key))
                .filter(login_throttle::locked_at.is_null())
                .set(login_throttle::locked_at.eq(ctx.now))
                .execute(conn)?;
            if newly_locked == 1 {
                events.push(
                    event(
                        ctx,
                        actor.clone(),
                        AuditAction::Lockout,
                        EntityType::User,
                        user_id,
                    )
                    .outcome(Outcome::Denied),
                );
            }
        }
    }
    audit::append(conn, &events)?;
    Ok(GrantOutcome::Refused(wrong_credentials()))
}

/// A successful login clears the account's counter only. The address keeps its count: whoever
/// holds one working account must not be able to wipe the address's record while guessing at
/// others from it.
fn reset_throttle(conn: &mut PgConnection, account_key: &str) -> AppResult<()> {
    diesel::update(login_throttle::table.find(account_key))
        .filter(login_throttle::locked_at.is_null())
        .set((
            login_throttle::failures.eq(0),
            login_throttle::last_failure_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Checking the current password to change it is a login in all but name: a stolen session
/// must not become an unthrottled way to guess it. `Some` is the refusal to answer.
pub fn guard_reauthentication(
    conn: &mut PgConnection,
    throttle: &ThrottlePolicy,
    username: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<AppError>> {
    throttled_by(conn, throttle, now, &[format!("account:{username}")])
}

/// Counts a wrong current password against the account, locking it at the policy's limit.
pub fn count_reauthentication_failure(
    conn: &mut PgConnection,
    throttle: &ThrottlePolicy,
    username: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let key = format!("account:{username}");
    let failures: i32 = diesel::update(login_throttle::table.find(&key))
        .set((
            login_throttle::failures.eq(login_throttle::failures + 1),
            login_throttle::last_failure_at.eq(now),
        ))
        .returning(login_throttle::failures)
        .get_result(conn)?;
    if failures.max(0) as u32 >= throttle.lock_after {
        diesel::update(login_throttle::table.find(&key))
            .filter(login_throttle::locked_at.is_null())
            .set(login_throttle::locked_at.eq(now))
            .execute(conn)?;
    }
    Ok(())
}

/// A right current password clears the account's counter, as a login does.
pub fn reset_reauthentication(conn: &mut PgConnection, username: &str) -> AppResult<()> {
    reset_throttle(conn, &format!("account:{username}"))
}

/// The account name under which a client system's failed logins are counted, for
/// [`unlock_account`]: `client:<client_id>`.
pub fn client_key(client_id: &str) -> String {
    format!("client:{}", client_id.trim().to_lowercase())
}

/// Lifts a hard lock and clears the counter of an account name (an administrator's action; for
/// a client system, pass [`client_key`]).
pub fn unlock_account(conn: &mut PgConnection, username: &str) -> AppResult<bool> {
    let changed = diesel::update(login_throttle::table.find(format!("account:{username}")))
        .set((
            login_throttle::failures.eq(0),
            login_throttle::last_failure_at.eq(None::<DateTime<Utc>>),
            login_throttle::locked_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)?;
    Ok(changed > 0)
}

pub fn refresh_grant(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    refresh_token: &str,
) -> AppResult<GrantOutcome> {
    let refused = || {
        GrantOutcome::Refused(AppError::unauthorized(
            "the refresh token is invalid, expired or revoked",
        ))
    };
    let found: Option<(Uuid, Option<DateTime<Utc>>, DateTime<Utc>)> = refresh_tokens::table
        .find(hash_opaque_token(refresh_token))
        .select((
            refresh_tokens::session_id,
            refresh_tokens::used_at,
            refresh_tokens::expires_at,
        ))
        .for_update()
        .first(conn)
        .optional()?;
    let Some((session_id, used_at, expires_at)) = found else {
        return Ok(refused());
    };
    let session: Option<SessionState> = sessions::table
        .find(session_id)
        .select((
            sessions::user_id,
            sessions::expires_at,
            sessions::revoked_at,
        ))
        .first(conn)
        .optional()?;
    let Some((Some(user_id), session_expires_at, revoked_at)) = session else {
        return Ok(refused());
    };
    let user: Option<LoginUser> = users::table
        .find(user_id)
        .select((
            users::id,
            users::profession,
            users::unit_id,
            users::active,
            users::password_hash,
            users::totp_secret,
            users::totp_confirmed_at,
            users::totp_last_step,
        ))
        .first(conn)
        .optional()?;
    let actor = user
        .as_ref()
        .map_or_else(AuditActor::anonymous, LoginUser::audit_actor);
    if used_at.is_some() {
        // A used token presented again: someone holds a copy. End the whole session.
        if revoked_at.is_none() {
            session::revoke(conn, session_id, RevokeReason::RefreshReuse, ctx.now)?;
        }
        audit::append(
            conn,
            &[event(
                ctx,
                actor,
                AuditAction::Revoke,
                EntityType::Session,
                Some(session_id),
            )
            .outcome(Outcome::Denied)
            .purpose("refresh token reuse")],
        )?;
        return Ok(refused());
    }
    let live = revoked_at.is_none()
        && session_expires_at > ctx.now
        && expires_at > ctx.now
        && user.as_ref().is_some_and(|u| u.active);
    if !live {
        return Ok(refused());
    }
    diesel::update(refresh_tokens::table.find(hash_opaque_token(refresh_token)))
        .set(refresh_tokens::used_at.eq(ctx.now))
        .execute(conn)?;
    let tokens = session::issue(
        conn,
        &ctx.keys,
        session_id,
        SessionOwner::User(user_id),
        session_expires_at,
        true,
        ctx.now,
    )?;
    audit::append(
        conn,
        &[event(
            ctx,
            actor,
            AuditAction::Refresh,
            EntityType::Session,
            Some(session_id),
        )],
    )?;
    Ok(GrantOutcome::Issued(tokens))
}

pub struct ClientGrant {
    pub client_id: String,
    pub client_secret: String,
    pub scope: Option<String>,
}

pub fn client_credentials_grant(
    conn: &mut PgConnection,
    ctx: &LoginContext,
    grant: ClientGrant,
) -> AppResult<GrantOutcome> {
    let client_id = grant.client_id.trim().to_lowercase();
    if impossible_name(&client_id) {
        return refuse_impossible_name(conn, ctx, "client_id", EntityType::ServiceAccount);
    }
    let account_key = format!("account:{}", client_key(&client_id));
    let keys = throttle_keys(&account_key, &ctx.origin);
    if let Some(refusal) = throttled(conn, ctx, &keys)? {
        audit::append(
            conn,
            &[event(
                ctx,
                AuditActor::anonymous(),
                AuditAction::LoginFailed,
                EntityType::ServiceAccount,
                None,
            )
            .outcome(Outcome::Denied)],
        )?;
        return Ok(GrantOutcome::Refused(refusal));
    }
    let account: Option<(Uuid, String, Vec<String>, bool)> = service_accounts::table
        .filter(service_accounts::client_id.eq(&client_id))
        .select((
            service_accounts::id,
            service_accounts::secret_hash,
            service_accounts::scopes,
            service_accounts::active,
        ))
        .first(conn)
        .optional()?;
    let secret_ok = verify_password(&grant.client_secret, account.as_ref().map(|a| a.1.as_str()));
    let Some((id, _, scopes, true)) = account.filter(|_| secret_ok) else {
        let refusal = record_failure(conn, ctx, &keys, AuditActor::anonymous(), None)?;
        return Ok(match refusal {
            GrantOutcome::Refused(_) => {
                GrantOutcome::Refused(AppError::unauthorized("the client id or secret is wrong"))
            }
            issued => issued,
        });
    };
    let mut narrowed: Option<Vec<String>> = None;
    if let Some(requested) = grant.scope.as_deref() {
        let unknown: Vec<&str> = requested
            .split_whitespace()
            .filter(|s| !scopes.iter().any(|g| g == s))
            .collect();
        if !unknown.is_empty() {
            return Ok(GrantOutcome::Refused(AppError::invalid_field(
                "scope",
                format!("not granted to this client: {}", unknown.join(" ")),
            )));
        }
        let mut asked: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
        asked.sort();
        asked.dedup();
        if !asked.is_empty() {
            narrowed = Some(asked);
        }
    }
    reset_throttle(conn, &account_key)?;
    let started = session::start(
        conn,
        &ctx.keys,
        SessionOwner::Service(id),
        SessionStage::Full,
        ctx.now,
    )?;
    let actor = AuditActor {
        actor_type: ActorType::ServiceAccount,
        id: Some(id),
        role: Some("service_account".into()),
        unit_id: None,
    };
    audit::append(
        conn,
        &[event(
            ctx,
            actor,
            AuditAction::Login,
            EntityType::Session,
            Some(started.id),
        )],
    )?;
    if let Some(narrowed) = &narrowed {
        session::narrow(conn, started.id, narrowed)?;
    }
    let granted: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| Scope::parse(s).is_some())
        .filter(|s| narrowed.as_ref().is_none_or(|n| n.iter().any(|a| a == s)))
        .collect();
    Ok(GrantOutcome::Issued(TokenResponse {
        scope: Some(granted.join(" ")),
        ..started.tokens
    }))
}
