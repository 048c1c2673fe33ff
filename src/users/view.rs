//! How a user account is shown. Never the row itself: no hashes, no second-factor secrets.

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::UserRow;
use crate::http::etag::tagged;
use crate::policy::Profession;

#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub profession: Profession,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub second_factor_enrolled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            profession: row.profession,
            unit_id: row.unit_id,
            active: row.active,
            second_factor_enrolled: row.totp_confirmed_at.is_some(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A second factor being enrolled: the secret, shown this once.
#[derive(Serialize)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// The one-time recovery codes, shown this once.
#[derive(Serialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// 200 with a secret that no cache on the way may keep.
pub fn not_stored<T: Serialize>(body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// 200 with the account, tagged with its version.
pub fn shown(row: UserRow) -> actix_web::HttpResponse {
    let (id, version) = (row.id, row.version);
    tagged(StatusCode::OK, id, version, &UserView::from(row))
}
