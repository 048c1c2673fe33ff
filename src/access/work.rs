//! The two shapes of a handler's database work, built on [`Db::audited`] and [`Stop`]: work on
//! one child (opened through [`child::open`]) and work that needs an action the policy allows.
//! Either way the work, its audit events and a refusal's `denied` event commit together.
//!
//! [`Db::audited`]: crate::db::Db::audited

use std::sync::Arc;

use diesel::pg::PgConnection;
use uuid::Uuid;

use super::child::{self, AboutChild, OpenChild};
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::config::Settings;
use crate::db::children::ChildRow;
use crate::db::Stop;
use crate::error::AppResult;
use crate::policy::child::{Audience, ChildAction};
use crate::policy::Action;
use crate::rules::RuleSet;
use crate::state::AppState;

/// What work on one child has at hand.
pub struct ChildWork {
    pub actor: Actor,
    pub child: ChildRow,
    pub audience: Audience,
    pub at: Moment,
    pub settings: Arc<Settings>,
}

impl ChildWork {
    /// An event by the caller about this child.
    pub fn event(
        &self,
        action: AuditAction,
        entity_type: EntityType,
        id: Option<Uuid>,
    ) -> AuditEvent {
        self.actor
            .event(action, entity_type, id, self.at.now)
            .about(&self.child)
    }

    /// The rules in force today.
    pub fn rules(&self) -> &RuleSet {
        self.settings.rules.on(self.at.today)
    }
}

/// What work that needs no child has at hand.
pub struct Work {
    pub actor: Actor,
    pub at: Moment,
    pub settings: Arc<Settings>,
}

impl Work {
    /// An event by the caller, at the moment of the work.
    pub fn event(
        &self,
        action: AuditAction,
        entity_type: EntityType,
        id: Option<Uuid>,
    ) -> AuditEvent {
        self.actor.event(action, entity_type, id, self.at.now)
    }
}

/// Opens `child_id` for `action` and runs `work` on her, in one audited transaction.
pub async fn on_child<T, F>(
    state: &AppState,
    actor: Actor,
    child_id: Uuid,
    action: ChildAction,
    audit_action: AuditAction,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, ChildWork) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    state
        .db
        .audited(move |conn| {
            let OpenChild { child, audience } =
                child::open(conn, &actor, child_id, action, audit_action, at)?;
            work(
                conn,
                ChildWork {
                    actor,
                    child,
                    audience,
                    at,
                    settings,
                },
            )
        })
        .await
}

/// Checks that the policy allows `action` (else a `denied` event about `entity_type`/`entity_id`
/// and 403) and runs `work`, in one audited transaction.
pub async fn allowed<T, F>(
    state: &AppState,
    actor: Actor,
    action: Action,
    audit_action: AuditAction,
    entity_type: EntityType,
    entity_id: Option<Uuid>,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, Work) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    state
        .db
        .audited(move |conn| {
            super::require(
                conn,
                &actor,
                action,
                audit_action,
                entity_type,
                entity_id,
                at,
            )?;
            work(
                conn,
                Work {
                    actor,
                    at,
                    settings,
                },
            )
        })
        .await
}
