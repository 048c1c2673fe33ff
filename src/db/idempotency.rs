//! The Idempotency-Key claim a request holds, seen by the transactions that do its work.
//!
//! The HTTP middleware claims the key and runs the handler inside [`holding`]; every audited
//! transaction the handler commits then names itself on the key's row ([`mark_work_done`]) in
//! that same transaction. So the row can never say "not done" about work that committed: a
//! request killed between its commit and storing its answer, or whose commit was durable but
//! never acknowledged, leaves a row a retry answers from instead of running the work again.
//! The claim travels with the request's task rather than through every handler's arguments,
//! because it belongs to the transport, not to the work.

use std::future::Future;

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::error::{AppError, ConflictKind};

/// A claim on one owner's key, under the token that tells this request's claim from a retry's.
#[derive(Clone, Debug)]
pub struct HeldClaim {
    pub owner: String,
    pub key: String,
    pub token: Uuid,
}

tokio::task_local! {
    static CLAIM: HeldClaim;
}

/// Runs `work` (a handler's future) with `claim` visible to its transactions.
pub async fn holding<F: Future>(claim: HeldClaim, work: F) -> F::Output {
    CLAIM.scope(claim, work).await
}

/// The claim of the request this task serves, if it holds one.
pub fn current() -> Option<HeldClaim> {
    CLAIM.try_with(Clone::clone).ok()
}

/// Names the current transaction on the claimed key's row. Refuses (and so undoes the work)
/// when the claim is no longer this request's: its lease lapsed and a retry took it over, and
/// that retry will do the work.
pub fn mark_work_done(conn: &mut PgConnection, claim: &HeldClaim) -> Result<(), AppError> {
    let marked = diesel::sql_query(
        "UPDATE idempotency_keys SET work_txid = txid_current() \
         WHERE owner = $1 AND key = $2 AND claim = $3 AND status IS NULL",
    )
    .bind::<Text, _>(&claim.owner)
    .bind::<Text, _>(&claim.key)
    .bind::<SqlUuid, _>(claim.token)
    .execute(conn)?;
    if marked == 1 {
        Ok(())
    } else {
        Err(AppError::conflict(
            ConflictKind::IdempotencyInProgress,
            "this request's hold on its Idempotency-Key lapsed and a retry holds it now",
        ))
    }
}
