//! How a user account is shown. Never the row itself: no hashes, no second-factor secrets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::UserRow;
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
