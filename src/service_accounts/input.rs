//! What a client sends to register or change a service account, and its checks: parsed once
//! here, then trusted.

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::username::validate_username;
use crate::error::{AppError, FieldError};
use crate::policy::Scope;

/// Client ids follow the rule for usernames (and the table's CHECK): lowercased and trimmed.
pub fn validate_client_id(client_id: &str) -> Result<String, FieldError> {
    validate_username(client_id).map_err(|e| FieldError::new("client_id", e.message))
}

pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if (1..=200).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new("name", "1 to 200 characters"))
    }
}

/// At least one scope; duplicates collapse, and the order is fixed so changes compare simply.
pub fn validate_scopes(mut scopes: Vec<Scope>) -> Result<Vec<Scope>, FieldError> {
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        Err(FieldError::new("scopes", "grant at least one scope"))
    } else {
        Ok(scopes)
    }
}

/// The units granted: `None` for every unit, else at least one, duplicates collapsed, in a
/// fixed order. Whether each exists is checked against the database (`unit_ids` at fault).
pub fn validate_units(units: Option<Vec<Uuid>>) -> Result<Option<Vec<Uuid>>, FieldError> {
    let Some(mut units) = units else {
        return Ok(None);
    };
    units.sort();
    units.dedup();
    if units.is_empty() {
        return Err(FieldError::new(
            "unit_ids",
            "grant at least one unit, or null for every unit",
        ));
    }
    Ok(Some(units))
}

/// A validated request to register a client system.
pub struct NewServiceAccount {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub units: Option<Vec<Uuid>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccount {
    client_id: String,
    name: String,
    /// Unknown scope names are refused while parsing (400 naming `scopes[i]`).
    scopes: Vec<Scope>,
    /// The units whose children, facilities, reports and changes it sees; absent or `null`:
    /// every unit.
    #[serde(default)]
    unit_ids: Option<Vec<Uuid>>,
}

impl CreateServiceAccount {
    /// The account to register, or every field at fault (422).
    pub fn validate(self) -> Result<NewServiceAccount, AppError> {
        let mut errors = Vec::new();
        let client_id = validate_client_id(&self.client_id)
            .map_err(|e| errors.push(e))
            .ok();
        let name = validate_name(&self.name).map_err(|e| errors.push(e)).ok();
        let scopes = validate_scopes(self.scopes)
            .map_err(|e| errors.push(e))
            .ok();
        let units = validate_units(self.unit_ids)
            .map_err(|e| errors.push(e))
            .ok();
        let (Some(client_id), Some(name), Some(scopes), Some(units)) =
            (client_id, name, scopes, units)
        else {
            return Err(AppError::unprocessable(errors));
        };
        Ok(NewServiceAccount {
            client_id,
            name,
            scopes,
            units,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceAccount {
    name: Option<String>,
    scopes: Option<Vec<Scope>>,
    active: Option<bool>,
    /// Absent: as it is; `null`: every unit; a list: those units.
    #[serde(default, with = "crate::http::double_option")]
    unit_ids: Option<Option<Vec<Uuid>>>,
}

/// A checked update: what to change, the rest left as it is.
pub struct AccountChange {
    name: Option<String>,
    scopes: Option<Vec<Scope>>,
    active: Option<bool>,
    units: Option<Option<Vec<Uuid>>>,
}

impl UpdateServiceAccount {
    /// The change, or every field at fault (422).
    pub fn validate(self) -> Result<AccountChange, AppError> {
        let mut errors = Vec::new();
        let name = self
            .name
            .as_deref()
            .map(validate_name)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let scopes = self
            .scopes
            .map(validate_scopes)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let units = self
            .unit_ids
            .map(validate_units)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(AppError::unprocessable(errors));
        }
        Ok(AccountChange {
            name,
            scopes,
            active: self.active,
            units,
        })
    }
}

/// The editable fields of an account after a change.
pub struct AccountFields {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub active: bool,
    pub units: Option<Vec<Uuid>>,
}

impl AccountChange {
    pub fn applied_to(self, current: &AccountFields) -> AccountFields {
        AccountFields {
            name: self.name.unwrap_or_else(|| current.name.clone()),
            scopes: self.scopes.unwrap_or_else(|| current.scopes.clone()),
            active: self.active.unwrap_or(current.active),
            units: self.units.unwrap_or_else(|| current.units.clone()),
        }
    }
}

impl AccountFields {
    /// The fields that differ from `current`, for the audit event.
    pub fn changed_from(&self, current: &AccountFields) -> Vec<&'static str> {
        [
            ("name", self.name != current.name),
            ("scopes", self.scopes != current.scopes),
            ("active", self.active != current.active),
            ("unit_ids", self.units != current.units),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect()
    }

    /// Why the account's live sessions end, if they do. Sessions read the scopes on every
    /// request, but a token's `scope` would still promise the old ones: a system that lost a
    /// scope, or was switched off, starts over.
    pub fn ends_sessions(&self, current: &AccountFields) -> Option<&'static str> {
        let narrowed = current.scopes.iter().any(|s| !self.scopes.contains(s));
        if !self.active {
            Some("deactivated")
        } else if narrowed {
            Some("scopes narrowed")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_follow_the_username_rule_and_name_their_field() {
        assert_eq!(
            validate_client_id(" Ekonomi-System ").unwrap(),
            "ekonomi-system"
        );
        let error = validate_client_id("x").unwrap_err();
        assert_eq!(error.field, "client_id");
        assert!(validate_client_id("-leading").is_err());
        assert!(validate_client_id("has space").is_err());
    }

    #[test]
    fn scopes_must_be_granted_and_collapse_duplicates() {
        assert_eq!(validate_scopes(vec![]).unwrap_err().field, "scopes");
        assert_eq!(
            validate_scopes(vec![
                Scope::VisitsWrite,
                Scope::CapacityRead,
                Scope::VisitsWrite
            ])
            .unwrap(),
            [Scope::CapacityRead, Scope::VisitsWrite]
        );
    }
}
