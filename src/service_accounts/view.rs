//! How a service account is shown. Never the row's secret hash; the secret itself only in the
//! one answer that creates it.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::ServiceAccountRow;
use crate::http::etag::{created, not_stored, tagged};
use crate::policy::Scope;

#[derive(Debug, Serialize)]
pub struct ServiceAccountView {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The units it sees; `null`: every unit.
    pub unit_ids: Option<Vec<Uuid>>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ServiceAccountRow> for ServiceAccountView {
    fn from(row: ServiceAccountRow) -> Self {
        Self {
            id: row.id,
            scopes: row.granted(),
            unit_ids: row.unit_ids,
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

/// 200 with the account, tagged with its version.
pub fn shown(row: ServiceAccountRow) -> HttpResponse {
    let (id, version) = (row.id, row.version);
    tagged(StatusCode::OK, id, version, &ServiceAccountView::from(row))
}

/// 201 for a registered account, with its secret.
pub fn registered(row: ServiceAccountRow, secret: String) -> HttpResponse {
    let (id, location) = (row.id, format!("/api/v1/service-accounts/{}", row.id));
    not_stored(created(location, id, &WithSecretView::of(row, secret)))
}

/// 200 for an account with a new secret, shown this once.
pub fn rotated(row: ServiceAccountRow, secret: String) -> HttpResponse {
    let (id, version) = (row.id, row.version);
    not_stored(tagged(
        StatusCode::OK,
        id,
        version,
        &WithSecretView::of(row, secret),
    ))
}

impl WithSecretView {
    fn of(row: ServiceAccountRow, client_secret: String) -> Self {
        Self {
            account: ServiceAccountView::from(row),
            client_secret,
        }
    }
}
