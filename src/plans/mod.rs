//! The age-out plan (the plan for leaving care at 21): one per child, with goals in seven
//! domains whose every version is kept, dated progress notes, reviews at the rules' interval,
//! the milestones that follow from the date of birth, the three-month rule for school or SFI,
//! and a plain-language summary for the youth. Her secretaries write it; the unit manager reads
//! it; the staff of her home read it and note progress on the goals that are theirs.

pub mod alerts;
pub mod input;
pub mod opening;
pub mod routes;
pub mod store;
pub mod summary;
pub mod view;
