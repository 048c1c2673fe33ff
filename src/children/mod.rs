//! Children: the people a case is about, up to 21. Registration with a duplicate search,
//! views shaped per audience, assignment of social secretaries, and emergency access.

pub mod age_assessment;
pub mod duplicates;
pub mod emergency;
pub mod input;
pub mod protection;
pub mod record;
pub mod routes;
pub mod store;
pub mod view;

pub use crate::domain::child::{AsylumStatus, ProtectionLevel, Sex};
