//! How a facility is shown. Never the row itself: the address is sensitive (where children
//! live) and is part of the view only for the audience that needs it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::{FacilityRow, StaffRow};
use super::FacilityKind;
use crate::policy::facility::FacilityAudience;
use crate::policy::Profession;

#[derive(Debug, Serialize)]
pub struct FacilityView {
    pub id: Uuid,
    pub kind: FacilityKind,
    pub name: String,
    pub unit_id: Uuid,
    pub capacity: i32,
    pub agreed_places: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Present (possibly `null`) only for those who may see the address; absent for the rest.
    #[serde(flatten)]
    pub address: Option<AddressView>,
}

#[derive(Debug, Serialize)]
pub struct AddressView {
    pub address: Option<String>,
}

impl FacilityView {
    pub fn new(row: FacilityRow, audience: FacilityAudience) -> Self {
        let address = match audience {
            FacilityAudience::WithAddress => Some(AddressView {
                address: row.address,
            }),
            FacilityAudience::General => None,
        };
        Self {
            id: row.id,
            kind: row.kind,
            name: row.name,
            unit_id: row.unit_id,
            capacity: row.capacity,
            agreed_places: row.agreed_places,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
            address,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StaffMemberView {
    pub user_id: Uuid,
    pub display_name: String,
    pub profession: Profession,
    pub active: bool,
}

impl From<StaffRow> for StaffMemberView {
    fn from(row: StaffRow) -> Self {
        Self {
            user_id: row.user_id,
            display_name: row.display_name,
            profession: row.profession,
            active: row.active,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> FacilityRow {
        FacilityRow {
            id: Uuid::now_v7(),
            kind: FacilityKind::Hvb,
            name: "Solrosen".into(),
            unit_id: Uuid::now_v7(),
            address: Some("Storgatan 1".into()),
            capacity: 8,
            agreed_places: 6,
            active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn the_address_is_left_out_for_the_general_audience() {
        let general = serde_json::to_value(FacilityView::new(row(), FacilityAudience::General));
        let general = general.unwrap();
        assert!(general.get("address").is_none(), "{general}");
        assert_eq!(general["kind"], "hvb");
        assert!(general.get("version").is_none());
        let full = serde_json::to_value(FacilityView::new(row(), FacilityAudience::WithAddress));
        assert_eq!(full.unwrap()["address"], "Storgatan 1");
        let mut without = row();
        without.address = None;
        let full = serde_json::to_value(FacilityView::new(without, FacilityAudience::WithAddress));
        assert_eq!(full.unwrap().get("address"), Some(&serde_json::Value::Null));
    }
}
