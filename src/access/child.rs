//! Opening a child for an actor: the one way every child-scoped feature (children, placements,
//! and the contacts, plans and reports to come) reaches a child. It looks up what the caller is
//! to the child, lets the policy decide, writes the `denied` event of a refusal, and hands the
//! feature the child with the view the caller gets.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use uuid::Uuid;

use super::refuse;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::auth::actor::{Actor, Principal, SessionStage};
use crate::clock::Moment;
use crate::db::children::{self, ChildRow};
use crate::db::placement_days::covers;
use crate::db::schema::{child_secretaries, emergency_accesses, facility_staff, placements, users};
use crate::db::Stop;
use crate::error::AppError;
use crate::policy::child::{
    decide, refused_whatever_the_child, Audience, ChildAction, ChildFacts, Decision, Relations,
};
use crate::policy::Profession;

/// A child the caller may work on, and the view of her she gets.
#[derive(Debug, Clone)]
pub struct OpenChild {
    pub child: ChildRow,
    pub audience: Audience,
}

/// What the caller is to the child: the relations the policy decides on.
pub fn relations(
    conn: &mut PgConnection,
    user_id: Uuid,
    child_id: Uuid,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> QueryResult<Relations> {
    let assigned_secretary = diesel::select(exists(
        child_secretaries::table
            .filter(child_secretaries::child_id.eq(child_id))
            .filter(child_secretaries::user_id.eq(user_id)),
    ))
    .get_result(conn)?;
    let facility_staff = diesel::select(exists(
        placements::table
            .inner_join(
                facility_staff::table.on(facility_staff::facility_id.eq(placements::facility_id)),
            )
            .filter(placements::child_id.eq(child_id))
            .filter(facility_staff::user_id.eq(user_id))
            .filter(covers(today)),
    ))
    .get_result(conn)?;
    let emergency_access = diesel::select(exists(
        emergency_accesses::table
            .filter(emergency_accesses::child_id.eq(child_id))
            .filter(emergency_accesses::user_id.eq(user_id))
            .filter(emergency_accesses::expires_at.gt(now)),
    ))
    .get_result(conn)?;
    Ok(Relations {
        assigned_secretary,
        facility_staff,
        emergency_access,
    })
}

/// Everything the policy needs to know about `child` and the caller.
pub fn facts(
    conn: &mut PgConnection,
    actor: &Actor,
    child: &ChildRow,
    at: Moment,
) -> QueryResult<ChildFacts> {
    let relations = match actor.user_id() {
        Some(user_id) => relations(conn, user_id, child.id, at.today, at.now)?,
        None => Relations::default(),
    };
    Ok(ChildFacts {
        id: child.id,
        responsible_unit_id: child.responsible_unit_id,
        protected_identity: child.protection_level.is_protected(),
        relations,
    })
}

/// Whether the person `user_id` may herself do `action` for `child` today: for a system that
/// acts for a named person (a visit a home's staff logged in their own app), so the system can
/// never make someone the author of what she could not have done.
pub fn person_may(
    conn: &mut PgConnection,
    user_id: Uuid,
    child: &ChildRow,
    action: ChildAction,
    at: Moment,
) -> QueryResult<bool> {
    let found: Option<(Profession, Option<Uuid>, bool)> = users::table
        .find(user_id)
        .select((users::profession, users::unit_id, users::active))
        .first(conn)
        .optional()?;
    let Some((profession, unit_id, true)) = found else {
        return Ok(false);
    };
    let person = Actor {
        principal: Principal::User {
            id: user_id,
            profession,
            unit_id,
        },
        session_id: Uuid::nil(),
        stage: SessionStage::Full,
        origin: Default::default(),
    };
    let facts = facts(conn, &person, child, at)?;
    Ok(matches!(
        decide(&person, &facts, action),
        Decision::Allow(_)
    ))
}

/// Opens the child for `action`, inside the caller's [`Db::audited`] transaction. An action that
/// writes first holds the child's row until commit, so changes to one child (her record, her
/// placements) are decided one after the other and on what is really there. A refusal is
/// `Stop::Refuse`, returned after its denied event is written, so the event commits and nothing
/// else happens.
///
/// [`Db::audited`]: crate::db::Db::audited
pub fn open(
    conn: &mut PgConnection,
    actor: &Actor,
    child_id: Uuid,
    action: ChildAction,
    audit_action: AuditAction,
    at: Moment,
) -> Result<OpenChild, Stop> {
    if action.writes() {
        children::lock(conn, child_id)?;
    }
    let Some(child) = children::find(conn, child_id)? else {
        return unknown(
            conn,
            actor,
            action,
            audit_action,
            EntityType::Child,
            child_id,
            at,
        );
    };
    let facts = facts(conn, actor, &child, at)?;
    let refusal = match decide(actor, &facts, action) {
        Decision::Allow(audience) => return Ok(OpenChild { child, audience }),
        Decision::Forbidden => AppError::forbidden(FORBIDDEN),
        Decision::Hidden => AppError::NotFound,
    };
    let event = actor
        .event(audit_action, EntityType::Child, Some(child.id), at.now)
        .about(&child);
    Err(refuse(conn, event, refusal))
}

const FORBIDDEN: &str = "your profession may not do this for this child";

/// The answer for an id that names nothing (a child, or a record of one): 404, except to a
/// caller who could not do `action` to any child. She gets the 403 and the `denied` event that
/// an existing child would give her, so the answer never tells her which ids exist.
pub fn unknown<T>(
    conn: &mut PgConnection,
    actor: &Actor,
    action: ChildAction,
    audit_action: AuditAction,
    entity_type: EntityType,
    id: Uuid,
    at: Moment,
) -> Result<T, Stop> {
    if !refused_whatever_the_child(actor, action) {
        return Err(Stop::Refuse(AppError::NotFound));
    }
    let event = actor.event(audit_action, entity_type, Some(id), at.now);
    Err(refuse(conn, event, AppError::forbidden(FORBIDDEN)))
}

/// Events about a child carry its unit and protection at the time, for the auditor's views.
pub trait AboutChild {
    fn about(self, child: &ChildRow) -> Self;
}

impl AboutChild for AuditEvent {
    fn about(self, child: &ChildRow) -> Self {
        self.about_child(
            child.id,
            Some(child.responsible_unit_id),
            child.protection_level.is_protected(),
        )
    }
}
