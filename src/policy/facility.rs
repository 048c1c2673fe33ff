//! Facilities: a unit manager manages her own unit's facilities, and a facility's address is
//! shown only to those who need it to do their work there (the manager of its unit and the
//! facility's own staff). What anyone may do at all is `Action::ReadFacilities` and
//! `Action::ManageFacilities`; these are the relations on top.

use uuid::Uuid;

use super::child::is_unit_manager_of;
use super::Profession;
use crate::auth::actor::Actor;
use crate::domain::facility_kind::FacilityKind;

/// The profession of the people who work at a facility of this kind.
pub fn staff_profession(kind: FacilityKind) -> Profession {
    match kind {
        FacilityKind::Hvb => Profession::HvbStaff,
        FacilityKind::SupportedHousing => Profession::HousingStaff,
    }
}

/// Which view of a facility the caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilityAudience {
    /// Everything but the address.
    General,
    /// Everything, the address too.
    WithAddress,
}

/// Whether `actor` may open, change and staff facilities of `unit_id`.
pub fn may_manage(actor: &Actor, unit_id: Uuid) -> bool {
    is_unit_manager_of(actor, unit_id)
}

/// `works_there`: the caller is on the facility's staff list.
pub fn audience(actor: &Actor, unit_id: Uuid, works_there: bool) -> FacilityAudience {
    let own_staff = works_there
        && matches!(
            actor.profession(),
            Some(Profession::HvbStaff | Profession::HousingStaff)
        );
    if own_staff || is_unit_manager_of(actor, unit_id) {
        FacilityAudience::WithAddress
    } else {
        FacilityAudience::General
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::actor::{Principal, RequestOrigin, SessionStage};

    fn user(profession: Profession, unit: Uuid) -> Actor {
        Actor {
            principal: Principal::User {
                id: Uuid::now_v7(),
                profession,
                unit_id: Some(unit),
            },
            session_id: Uuid::now_v7(),
            stage: SessionStage::Full,
            origin: RequestOrigin::default(),
        }
    }

    #[test]
    fn only_the_manager_of_the_unit_manages_its_facilities() {
        let unit = Uuid::now_v7();
        assert!(may_manage(&user(Profession::UnitManager, unit), unit));
        assert!(!may_manage(
            &user(Profession::UnitManager, Uuid::now_v7()),
            unit
        ));
        assert!(!may_manage(&user(Profession::SocialSecretary, unit), unit));
    }

    #[test]
    fn the_address_is_for_the_unit_manager_and_the_facility_staff() {
        let unit = Uuid::now_v7();
        let manager = user(Profession::UnitManager, unit);
        assert_eq!(
            audience(&manager, unit, false),
            FacilityAudience::WithAddress
        );
        let staff = user(Profession::HvbStaff, unit);
        assert_eq!(audience(&staff, unit, true), FacilityAudience::WithAddress);
        assert_eq!(audience(&staff, unit, false), FacilityAudience::General);
        let secretary = user(Profession::SocialSecretary, unit);
        assert_eq!(audience(&secretary, unit, true), FacilityAudience::General);
        let other_manager = user(Profession::UnitManager, Uuid::now_v7());
        assert_eq!(
            audience(&other_manager, unit, false),
            FacilityAudience::General
        );
    }
}
