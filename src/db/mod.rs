//! PostgreSQL access: the pool, embedded migrations, and running diesel off the actix workers.

pub mod age_out_alerts;
pub mod children;
pub mod claim_deadlines;
pub mod contact_schedules;
pub mod durability;
pub mod idempotency;
pub mod migrations;
pub mod occupancy;
pub mod placement_days;
pub mod placement_reviews;
mod pool;
pub mod reach;
pub mod rule_sets;
pub mod running_placements;
pub mod schema;
pub mod text_enum;
pub mod tls;
pub mod units;

pub use migrations::run_migrations;
pub use pool::{build_pool, DatabaseSettings, Db, PgPool, Stop, SERVICE_ROLE};
