//! People who use Trygg: their accounts (managed by system administrators) and their own
//! profile, password and second factor (`me`).

pub mod input;
pub mod me;
pub mod routes;
pub mod store;
pub mod view;
