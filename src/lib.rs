//! Trygg: case management for unaccompanied minors placed by municipal social services.
//!
//! Layout: `http/` (request plumbing), `db/` (pool, migrations, schema), one folder per feature,
//! and `startup` that builds the app for the binary, the tests and the benchmarks alike.

pub mod access;
pub mod access_requests;
pub mod audit;
pub mod audit_review;
pub mod auth;
pub mod calendar;
pub mod changes;
pub mod children;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod contacts;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod facilities;
pub mod health;
pub mod http;
pub mod placements;
pub mod plans;
pub mod policy;
pub mod reports;
pub mod routes;
pub mod rules;
pub mod service_accounts;
pub mod sign_in;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod units;
pub mod users;
pub mod webhooks;
