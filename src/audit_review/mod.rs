//! The auditor's review of the audit log (loggkontroll): filtered lists, CSV export, spot
//! checks, verification and checkpoints. Reading the log is itself logged.

pub mod query;
pub mod routes;
pub mod view;
