//! How a unit is shown: to everyone alike, since a unit holds no personal data.

use serde::Serialize;
use uuid::Uuid;

use super::store::UnitRow;

#[derive(Debug, Serialize)]
pub struct UnitView {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
}

impl From<UnitRow> for UnitView {
    fn from(row: UnitRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            active: row.active,
        }
    }
}
