//! Requests about facilities, parsed once at the boundary: after this, names are trimmed and in
//! range, numbers fit, and every fault is named by its field, all of them at once.

use serde::Deserialize;
use uuid::Uuid;

use super::FacilityKind;
use crate::error::FieldError;

pub const MAX_NAME: usize = 200;
pub const MAX_ADDRESS: usize = 500;
pub const MAX_PLACES: i64 = 1000;
/// The most people one staff list may name.
pub const MAX_STAFF: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFacility {
    pub kind: FacilityKind,
    pub name: String,
    pub unit_id: Uuid,
    #[serde(default)]
    pub address: Option<String>,
    /// Wider than the column, so an out-of-range number is a rule (422), not a malformed body.
    pub capacity: i64,
    #[serde(default)]
    pub agreed_places: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateFacility {
    pub name: Option<String>,
    /// Absent: unchanged; `null` or blank: removed.
    #[serde(default, with = "crate::http::double_option")]
    pub address: Option<Option<String>>,
    pub capacity: Option<i64>,
    pub agreed_places: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffList {
    pub user_ids: Vec<Uuid>,
}

/// A facility to open, checked field by field (whether its unit exists is the store's to say).
#[derive(Debug, Clone)]
pub struct NewFacility {
    pub kind: FacilityKind,
    pub name: String,
    pub unit_id: Uuid,
    pub address: Option<String>,
    pub capacity: i32,
    pub agreed_places: i32,
}

/// What an update asks to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct FacilityChanges {
    pub name: Option<String>,
    pub address: Option<Option<String>>,
    pub capacity: Option<i32>,
    pub agreed_places: Option<i32>,
    pub active: Option<bool>,
}

fn name(text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if (1..=MAX_NAME).contains(&text.chars().count()) {
        Ok(text.to_owned())
    } else {
        Err(FieldError::new(
            "name",
            format!("1 to {MAX_NAME} characters"),
        ))
    }
}

/// Trimmed; blank means no address.
fn address(text: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() <= MAX_ADDRESS {
        Ok(Some(text.to_owned()))
    } else {
        Err(FieldError::new(
            "address",
            format!("at most {MAX_ADDRESS} characters"),
        ))
    }
}

fn places(field: &str, value: i64) -> Result<i32, FieldError> {
    if (0..=MAX_PLACES).contains(&value) {
        Ok(value as i32)
    } else {
        Err(FieldError::new(field, format!("0 to {MAX_PLACES}")))
    }
}

/// Keeps the value, or the fault in `errors`.
fn check<T>(result: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

impl CreateFacility {
    pub fn parse(self) -> Result<NewFacility, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = check(name(&self.name), &mut errors);
        let address = check(address(self.address.as_deref()), &mut errors);
        let capacity = check(places("capacity", self.capacity), &mut errors);
        let agreed_places = check(
            places("agreed_places", self.agreed_places.unwrap_or(0)),
            &mut errors,
        );
        match (name, address, capacity, agreed_places) {
            (Some(name), Some(address), Some(capacity), Some(agreed_places)) => Ok(NewFacility {
                kind: self.kind,
                name,
                unit_id: self.unit_id,
                address,
                capacity,
                agreed_places,
            }),
            _ => Err(errors),
        }
    }
}

impl UpdateFacility {
    pub fn parse(self) -> Result<FacilityChanges, Vec<FieldError>> {
        let mut errors = Vec::new();
        let changes = FacilityChanges {
            name: self
                .name
                .as_deref()
                .and_then(|n| check(name(n), &mut errors)),
            address: self
                .address
                .map(|a| check(address(a.as_deref()), &mut errors))
                .and_then(|checked| checked),
            capacity: self
                .capacity
                .and_then(|c| check(places("capacity", c), &mut errors)),
            agreed_places: self
                .agreed_places
                .and_then(|a| check(places("agreed_places", a), &mut errors)),
            active: self.active,
        };
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(errors)
        }
    }
}

impl StaffList {
    /// The distinct people named, in the order given, each with its position for error messages.
    pub fn parse(self) -> Result<Vec<(usize, Uuid)>, Vec<FieldError>> {
        if self.user_ids.len() > MAX_STAFF {
            return Err(vec![FieldError::new(
                "user_ids",
                format!("at most {MAX_STAFF} people"),
            )]);
        }
        let mut seen = std::collections::HashSet::new();
        Ok(self
            .user_ids
            .into_iter()
            .enumerate()
            .filter(|(_, id)| seen.insert(*id))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    fn create(name: &str, capacity: i64) -> CreateFacility {
        CreateFacility {
            kind: FacilityKind::Hvb,
            name: name.into(),
            unit_id: Uuid::now_v7(),
            address: Some("  Storgatan 1, Malmö ".into()),
            capacity,
            agreed_places: None,
        }
    }

    #[test]
    fn a_new_facility_is_trimmed_and_defaults_to_no_agreed_places() {
        let new = create(" Solrosen ", 8).parse().unwrap();
        assert_eq!(new.name, "Solrosen");
        assert_eq!(new.address.as_deref(), Some("Storgatan 1, Malmö"));
        assert_eq!((new.capacity, new.agreed_places), (8, 0));
    }

    #[test]
    fn every_fault_is_named_at_once() {
        let mut body = create("  ", 1001);
        body.agreed_places = Some(-1);
        body.address = Some("x".repeat(501));
        assert_eq!(
            fields(body.parse().unwrap_err()),
            ["name", "address", "capacity", "agreed_places"]
        );
    }

    #[test]
    fn an_update_tells_absent_from_cleared() {
        let body: UpdateFacility = serde_json::from_str(r#"{"address": null}"#).unwrap();
        assert_eq!(body.parse().unwrap().address, Some(None));
        let body: UpdateFacility = serde_json::from_str(r#"{"capacity": 3}"#).unwrap();
        let changes = body.parse().unwrap();
        assert_eq!((changes.address, changes.capacity), (None, Some(3)));
        let body: UpdateFacility = serde_json::from_str(r#"{"capacity": -3}"#).unwrap();
        assert_eq!(fields(body.parse().unwrap_err()), ["capacity"]);
    }

    #[test]
    fn a_staff_list_keeps_the_first_of_duplicates() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let list = StaffList {
            user_ids: vec![a, b, a],
        };
        assert_eq!(list.parse().unwrap(), vec![(0, a), (1, b)]);
    }
}
