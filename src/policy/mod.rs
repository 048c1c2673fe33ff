//! The one place that decides who may do what. Deny by default: an action is allowed only when
//! a rule below says so. Handlers ask; they never decide themselves.

pub mod child;
pub mod facility;
pub mod report;
pub mod worklist;

pub use crate::auth::profession::{Profession, Scope};

use crate::auth::actor::{Actor, Principal};

/// Actions that need no relation to a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageUsers,
    ManageServiceAccounts,
    ReadAuditLog,
    /// See the organisational units: anyone signed in, person or system.
    ReadUnits,
    /// Create and change units: system administrators.
    ManageUnits,
    /// See facilities and their free places: case work, administration, and systems with
    /// `capacity:read` or `placements:read`. Not auditors or system administrators (no case data).
    ReadFacilities,
    /// See who works at a facility: the people who may read facilities, not systems.
    ReadFacilityStaff,
    /// Open and change facilities and their staff: unit managers, and only in their own unit
    /// (`facility::may_manage`).
    ManageFacilities,
    /// See capacity figures (occupancy, forecast, turnover; counts only): unit managers (their
    /// own unit, `report::unit_scope`), administrators (statistics, every unit) and systems
    /// with `capacity:read`.
    ReadCapacity,
    /// See contact compliance figures (per unit, secretary and facility; counts and shares
    /// only): unit managers (their own unit, `report::unit_scope`), administrators, and systems
    /// with `reports:read`.
    ReadCompliance,
    /// See the committee report (children placed, admissions and discharges, place-days,
    /// age-outs, visit compliance; counts with small ones suppressed): the same people and
    /// systems as `ReadCompliance`, since it holds the compliance figures and nothing finer.
    ReadCommitteeReport,
    /// See which youths of a unit risk leaving care unprepared (age-out alerts): the unit's
    /// managers (`child::is_unit_manager_of`).
    ReadAgeOutAlerts,
    /// Follow the change feed (ids and kinds of change, no data): systems with `changes:read`.
    ReadChanges,
    /// Register and manage its own webhooks and read their deliveries: the change feed pushed,
    /// so for systems with `changes:read`.
    ManageWebhooks,
    /// Draft, read, submit and record the decisions on the state reimbursement claims
    /// (*återsökning*): administrators, who do the municipality's finance administration.
    /// A claim names children by dossier number and their days in care, nothing more.
    ManageReimbursementClaims,
}

/// Whether `actor` may do `action`.
pub fn allows(actor: &Actor, action: Action) -> bool {
    match (&actor.principal, action) {
        (Principal::User { profession, .. }, Action::ManageUsers)
        | (Principal::User { profession, .. }, Action::ManageServiceAccounts) => {
            *profession == Profession::SystemAdmin
        }
        (Principal::User { profession, .. }, Action::ReadAuditLog) => {
            *profession == Profession::Auditor
        }
        (_, Action::ReadUnits) => true,
        (Principal::User { profession, .. }, Action::ManageUnits) => {
            *profession == Profession::SystemAdmin
        }
        (Principal::User { profession, .. }, Action::ReadFacilities)
        | (Principal::User { profession, .. }, Action::ReadFacilityStaff) => matches!(
            profession,
            Profession::SocialSecretary
                | Profession::UnitManager
                | Profession::HvbStaff
                | Profession::HousingStaff
                | Profession::Administrator
        ),
        (Principal::User { profession, .. }, Action::ManageFacilities) => {
            *profession == Profession::UnitManager
        }
        (Principal::Service { scopes, .. }, Action::ReadFacilities) => {
            scopes.contains(&Scope::CapacityRead) || scopes.contains(&Scope::PlacementsRead)
        }
        (Principal::User { profession, .. }, Action::ReadCapacity) => {
            matches!(
                profession,
                Profession::UnitManager | Profession::Administrator
            )
        }
        (Principal::Service { scopes, .. }, Action::ReadCapacity) => {
            scopes.contains(&Scope::CapacityRead)
        }
        (
            Principal::User { profession, .. },
            Action::ReadCompliance | Action::ReadCommitteeReport,
        ) => {
            matches!(
                profession,
                Profession::UnitManager | Profession::Administrator
            )
        }
        (Principal::User { profession, .. }, Action::ReadAgeOutAlerts) => {
            *profession == Profession::UnitManager
        }
        (
            Principal::Service { scopes, .. },
            Action::ReadCompliance | Action::ReadCommitteeReport,
        ) => scopes.contains(&Scope::ReportsRead),
        (Principal::Service { scopes, .. }, Action::ReadChanges) => {
            scopes.contains(&Scope::ChangesRead)
        }
        (Principal::Service { scopes, .. }, Action::ManageWebhooks) => {
            scopes.contains(&Scope::ChangesRead)
        }
        (Principal::User { .. }, Action::ReadChanges | Action::ManageWebhooks) => false,
        (Principal::User { profession, .. }, Action::ManageReimbursementClaims) => {
            *profession == Profession::Administrator
        }
        (Principal::Service { .. }, _) => false,
    }
}
