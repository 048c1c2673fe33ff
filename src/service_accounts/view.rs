//! How a service account is shown. Never the row's secret hash; the secret itself only in the
//! one answer that creates it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::ServiceAccountRow;
use crate::policy::Scope;

#[derive(Debug, Serialize)]
pub struct ServiceAccountView {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ServiceAccountRow> for ServiceAccountView {
    fn from(row: ServiceAccountRow) -> Self {
        Self {
            id: row.id,
            scopes: row.granted(),
            client_id: row.client_id,
            name: row.name,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The answer to creating an account or rotating its secret: the only time the secret is shown.
#[derive(Debug, Serialize)]
pub struct WithSecretView {
    #[serde(flatten)]
    pub account: ServiceAccountView,
    pub client_secret: String,
}
