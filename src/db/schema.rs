//! Diesel table definitions, kept in step with `migrations/`.
