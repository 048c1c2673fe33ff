//! The token endpoint (`POST /api/v1/auth/token`, in the shape of OAuth 2.0) and revocation:
//! the HTTP face of `auth::login` and `auth::session`.

pub mod input;
pub mod routes;
