//! Whose contact schedules a person's worklist and calendar feed take in: a secretary the
//! schedules she keeps, home staff those of the children living where they work today, a unit
//! manager every schedule of her unit. Other professions and systems have no worklist.

use crate::auth::actor::Principal;
use crate::db::reach::Reach;
use crate::policy::Profession;

/// `None` for a profession with no worklist (and for a unit manager without a unit).
pub fn reach_of(principal: &Principal) -> Option<Reach> {
    match principal {
        Principal::User {
            id,
            profession: Profession::SocialSecretary,
            ..
        } => Some(Reach::Secretary(*id)),
        Principal::User {
            id,
            profession: Profession::HvbStaff | Profession::HousingStaff,
            ..
        } => Some(Reach::Staff(*id)),
        Principal::User {
            profession: Profession::UnitManager,
            unit_id: Some(unit),
            ..
        } => Some(Reach::Unit(*unit)),
        _ => None,
    }
}
