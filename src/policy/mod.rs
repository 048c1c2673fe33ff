//! The one place that decides who may do what. Deny by default: an action is allowed only when
//! a rule below says so. Handlers ask; they never decide themselves.

pub mod enforce;
pub mod profession;

pub use profession::{Profession, Scope};

use crate::auth::actor::{Actor, Principal};
use crate::error::AppError;

/// Actions that need no relation to a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageUsers,
    ManageServiceAccounts,
    ReadAuditLog,
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
        (Principal::Service { .. }, _) => false,
    }
}

/// `Ok` when allowed, else 403 (these actions concern no child, so existence is no secret).
pub fn require(actor: &Actor, action: Action) -> Result<(), AppError> {
    if allows(actor, action) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "your profession or scope does not allow this",
        ))
    }
}
