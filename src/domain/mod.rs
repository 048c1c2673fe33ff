//! Pure domain types parsed once at the boundary, then trusted: identity numbers, dossier
//! numbers, ages and birthdays.

pub mod age;
pub mod dossier_number;
pub mod personal_identity_number;
