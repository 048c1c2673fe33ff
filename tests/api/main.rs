//! Integration tests: each test starts the real service in-process on a database of its own,
//! cloned from a migrated template, and talks to it over HTTP.

#[allow(dead_code)] // Not every test uses every helper.
mod helpers;

mod auth;
mod errors;
mod health;
mod openapi;
