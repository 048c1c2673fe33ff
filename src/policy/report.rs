//! Reports: which units a caller may see figures for. Whether she may read a report at all is
//! an `Action` (`ReadCapacity`, `ReadCompliance`, `ReadCommitteeReport`); this is the relation
//! on top. Unit managers see their own unit; administrators (statistics) and systems with the
//! report's scope see every unit, or a system granted some units one of those.

use uuid::Uuid;

use super::Profession;
use crate::auth::actor::{Actor, Principal};

/// The units a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportScope {
    Unit(Uuid),
    AllUnits,
}

/// The scope of a report by unit (capacity, compliance, committee) for `actor`, who asked for
/// `requested` (or every unit she may see); `None` when she may not see the unit she asked
/// for. Call after the report's action (`ReadCapacity`, `ReadCompliance`) is allowed.
pub fn unit_scope(actor: &Actor, requested: Option<Uuid>) -> Option<ReportScope> {
    match actor.principal {
        Principal::User {
            profession: Profession::UnitManager,
            unit_id: Some(own),
            ..
        } => match requested {
            None => Some(ReportScope::Unit(own)),
            Some(unit) if unit == own => Some(ReportScope::Unit(own)),
            Some(_) => None,
        },
        Principal::User {
            profession: Profession::UnitManager,
            unit_id: None,
            ..
        } => None,
        // A system granted some units sees one of them at a time: the one it names, or its
        // only one.
        Principal::Service {
            units: Some(ref units),
            ..
        } => match (requested, units.as_slice()) {
            (Some(unit), _) if units.contains(&unit) => Some(ReportScope::Unit(unit)),
            (None, [only]) => Some(ReportScope::Unit(*only)),
            _ => None,
        },
        _ => Some(requested.map_or(ReportScope::AllUnits, ReportScope::Unit)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::actor::{RequestOrigin, SessionStage};
    use crate::policy::{allows, Action, Scope};

    fn actor(principal: Principal) -> Actor {
        Actor {
            principal,
            session_id: Uuid::now_v7(),
            stage: SessionStage::Full,
            origin: RequestOrigin::default(),
        }
    }

    fn user(profession: Profession, unit_id: Option<Uuid>) -> Actor {
        actor(Principal::User {
            id: Uuid::now_v7(),
            profession,
            unit_id,
        })
    }

    /// A system of every unit with `scopes`.
    fn system(scopes: Vec<Scope>) -> Actor {
        actor(Principal::Service {
            id: Uuid::now_v7(),
            scopes,
            units: None,
        })
    }

    #[test]
    fn unit_managers_administrators_and_capacity_systems_read_capacity() {
        let unit = Some(Uuid::now_v7());
        assert!(allows(
            &user(Profession::UnitManager, unit),
            Action::ReadCapacity
        ));
        assert!(allows(
            &user(Profession::Administrator, None),
            Action::ReadCapacity
        ));
        for profession in [
            Profession::SocialSecretary,
            Profession::HvbStaff,
            Profession::HousingStaff,
            Profession::Auditor,
            Profession::SystemAdmin,
        ] {
            assert!(
                !allows(&user(profession, unit), Action::ReadCapacity),
                "{profession}"
            );
        }
        assert!(allows(
            &system(vec![Scope::CapacityRead]),
            Action::ReadCapacity
        ));
        assert!(!allows(
            &system(vec![Scope::PlacementsRead, Scope::ReportsRead]),
            Action::ReadCapacity
        ));
    }

    #[test]
    fn the_committee_report_is_read_by_the_readers_of_the_compliance_report() {
        let unit = Some(Uuid::now_v7());
        for profession in [
            Profession::UnitManager,
            Profession::Administrator,
            Profession::SocialSecretary,
            Profession::HvbStaff,
            Profession::HousingStaff,
            Profession::Auditor,
            Profession::SystemAdmin,
        ] {
            let someone = user(profession, unit);
            assert_eq!(
                allows(&someone, Action::ReadCommitteeReport),
                allows(&someone, Action::ReadCompliance),
                "{profession}"
            );
        }
        assert!(allows(
            &system(vec![Scope::ReportsRead]),
            Action::ReadCommitteeReport
        ));
        assert!(!allows(
            &system(vec![Scope::CapacityRead, Scope::PlacementsRead]),
            Action::ReadCommitteeReport
        ));
        assert!(allows(
            &user(Profession::Administrator, None),
            Action::ReadCommitteeReport
        ));
        assert!(!allows(
            &user(Profession::SocialSecretary, unit),
            Action::ReadCommitteeReport
        ));
    }

    #[test]
    fn a_unit_manager_sees_her_own_unit_only() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let manager = user(Profession::UnitManager, Some(own));
        assert_eq!(unit_scope(&manager, None), Some(ReportScope::Unit(own)));
        assert_eq!(
            unit_scope(&manager, Some(own)),
            Some(ReportScope::Unit(own))
        );
        assert_eq!(unit_scope(&manager, Some(other)), None);
        assert_eq!(unit_scope(&user(Profession::UnitManager, None), None), None);
    }

    #[test]
    fn administrators_and_systems_see_every_unit_or_the_one_they_ask_for() {
        let unit = Uuid::now_v7();
        let admin = user(Profession::Administrator, None);
        assert_eq!(unit_scope(&admin, None), Some(ReportScope::AllUnits));
        assert_eq!(
            unit_scope(&admin, Some(unit)),
            Some(ReportScope::Unit(unit))
        );
        let system = actor(Principal::Service {
            id: Uuid::now_v7(),
            scopes: vec![Scope::CapacityRead],
            units: None,
        });
        assert_eq!(unit_scope(&system, None), Some(ReportScope::AllUnits));
        let (north, south) = (Uuid::now_v7(), Uuid::now_v7());
        let limited = |units: Vec<Uuid>| {
            actor(Principal::Service {
                id: Uuid::now_v7(),
                scopes: vec![Scope::CapacityRead],
                units: Some(units),
            })
        };
        assert_eq!(
            unit_scope(&limited(vec![north]), None),
            Some(ReportScope::Unit(north))
        );
        assert_eq!(
            unit_scope(&limited(vec![north, south]), Some(south)),
            Some(ReportScope::Unit(south))
        );
        assert_eq!(unit_scope(&limited(vec![north, south]), None), None);
        assert_eq!(unit_scope(&limited(vec![north]), Some(south)), None);
    }
}
