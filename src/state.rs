//! What every request handler may reach, and the plain values the layers below the features
//! share. It imports no feature and no assembly, so the layers that use it (auth, http, the
//! features) never reach back up into `startup` or `routes`.

use std::sync::Arc;

use crate::auth::tokens::TokenKeys;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;

/// Shared by every handler through `web::Data`.
pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    pub tokens: Arc<TokenKeys>,
}

/// The largest body the app accepts; registered as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The id of the current request, for logs and audit events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);
