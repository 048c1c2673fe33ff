//! What each subcommand of the binary does.

pub mod audit;
pub mod create_user;
pub mod retention;
pub mod serve;
