//! Pure domain types parsed once at the boundary, then trusted: identity numbers, dossier
//! numbers, ages and birthdays; and the small-count suppression of published figures.

pub mod age;
pub mod age_limits;
pub mod age_out;
pub mod child;
pub mod contact;
pub mod contact_due;
pub mod decisions;
pub mod dossier_number;
pub mod facility_kind;
pub mod personal_identity_number;
pub mod quarter;
pub mod recurrence;
pub mod suppression;
pub mod username;
