//! Integration tests: each test starts the real service in-process on a database of its own,
//! cloned from a migrated template, and talks to it over HTTP.

#[allow(dead_code)] // Not every test uses every helper.
mod helpers;

mod access_export;
mod age_assessment;
mod alerts;
mod audit;
mod audit_sequencer;
mod audit_triggers;
mod auth;
mod authorization_matrix;
mod calendar;
mod changes;
mod children;
mod claims;
mod cli;
mod committee_report;
mod compliance;
mod concurrency;
mod contacts;
mod errors;
mod facilities;
mod health;
mod hostile_input;
mod idempotency;
mod openapi;
mod placement_rules;
mod placements;
mod plans;
mod problem_codes;
mod protection;
mod query_counts;
mod races;
mod relations;
mod reports;
mod retention;
mod scoping;
mod service_accounts;
mod units;
mod webhooks;
