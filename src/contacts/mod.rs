//! Contacts: the schedules that say which contact with a child is due (the secretary's visits
//! with a private conversation, the home staff's contact), and the visits that record what
//! happened. Overdue is visible to the secretary, the home's staff and the unit manager.

pub mod decisions;
pub mod input;
pub mod routes;
pub mod store;
pub mod view;
pub mod worklist;
