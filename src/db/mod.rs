//! PostgreSQL access: the pool, embedded migrations, and running diesel off the actix workers.

pub mod durability;
pub mod migrations;
pub mod rule_sets;
mod pool;
pub mod schema;
pub mod text_enum;
pub mod tls;

pub use migrations::run_migrations;
pub use pool::{build_pool, DatabaseSettings, Db, PgPool, Stop, SERVICE_ROLE};
