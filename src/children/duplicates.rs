//! Registering a child who may be registered already. The same dossier or personal identity
//! number is refused, and the attempt is a `denied` event about the child who has the number:
//! probing for a registered minor always leaves a trace. The same name and date of birth is
//! allowed, and the likely duplicates the caller may see are named, each a read of that child.

use chrono::NaiveDate;
use diesel::pg::PgConnection;
use serde::Serialize;
use uuid::Uuid;

use super::input::ValidChild;
use super::store;
use crate::access::child::{facts, AboutChild};
use crate::access::refuse;
use crate::audit::{AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::Stop;
use crate::error::duplicate_identity;
use crate::policy::child::{decide, ChildAction, Decision};

/// Refuses a number that another child (not `except`) already has.
pub fn refuse_numbers_in_use(
    conn: &mut PgConnection,
    actor: &Actor,
    action: AuditAction,
    valid: &ValidChild,
    except: Option<Uuid>,
    at: Moment,
) -> Result<(), Stop> {
    let dossier = valid.dossier_number.as_ref().map(|d| d.as_str());
    let pin = valid.personal_identity_number.as_ref().map(|p| p.as_str());
    let Some((holder, field)) = store::holder_of_number(conn, dossier, pin, except)? else {
        return Ok(());
    };
    let event = actor
        .event(action, EntityType::Child, Some(holder.id), at.now)
        .about(&holder)
        .purpose(format!("duplicate {}", field.replace('_', " ")));
    Err(refuse(conn, event, duplicate_identity(field)))
}

/// A child with the same name and date of birth, as far as the caller may see her.
#[derive(Debug, Serialize)]
pub struct Candidate {
    pub id: Uuid,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: NaiveDate,
}

/// The likely duplicates of `valid` that the caller may see, and the read event of each.
pub fn candidates(
    conn: &mut PgConnection,
    actor: &Actor,
    valid: &ValidChild,
    at: Moment,
) -> Result<(Vec<Candidate>, Vec<AuditEvent>), Stop> {
    let same = store::same_name_and_birth(
        conn,
        &valid.given_name,
        &valid.family_name,
        valid.date_of_birth,
    )?;
    let (mut candidates, mut events) = (Vec::new(), Vec::new());
    for other in same {
        let Decision::Allow(audience) =
            decide(actor, &facts(conn, actor, &other, at)?, ChildAction::Read)
        else {
            continue;
        };
        let withheld = other.protection_level.is_protected() && !audience.sees_protected_fields();
        events.push(
            actor
                .event(AuditAction::Read, EntityType::Child, Some(other.id), at.now)
                .about(&other)
                .purpose("duplicate check"),
        );
        candidates.push(Candidate {
            id: other.id,
            given_name: (!withheld).then_some(other.given_name),
            family_name: (!withheld).then_some(other.family_name),
            date_of_birth: other.date_of_birth,
        });
    }
    Ok((candidates, events))
}
