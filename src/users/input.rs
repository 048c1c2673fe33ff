//! What a client sends to create or change a user account, and its checks: parsed once here,
//! then trusted.

use serde::Deserialize;
use uuid::Uuid;

use crate::auth::password::validate_new_password;
use crate::auth::session::RevokeReason;
pub use crate::domain::username::validate_username;
use crate::error::{AppError, FieldError};
use crate::policy::Profession;

pub fn validate_display_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if (1..=200).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new("display_name", "1 to 200 characters"))
    }
}

/// A profession that works in a unit must name one; the others must not.
pub fn check_unit_rule(profession: Profession, unit_id: Option<Uuid>) -> Result<(), FieldError> {
    match (profession.needs_unit(), unit_id) {
        (true, None) => Err(FieldError::new(
            "unit_id",
            format!("a {profession} must belong to a unit"),
        )),
        _ => Ok(()),
    }
}

/// A validated request to create a user.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub profession: Profession,
    pub unit_id: Option<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    display_name: String,
    profession: Profession,
    unit_id: Option<Uuid>,
    password: String,
}

impl CreateUser {
    /// The new account and its password, or every field at fault (422).
    pub fn validate(self) -> Result<(NewUser, String), AppError> {
        let mut errors = Vec::new();
        let username = validate_username(&self.username)
            .map_err(|e| errors.push(e))
            .ok();
        let display_name = validate_display_name(&self.display_name)
            .map_err(|e| errors.push(e))
            .ok();
        if let Err(message) = validate_new_password(&self.password) {
            errors.push(FieldError::new("password", message));
        }
        if let Err(e) = check_unit_rule(self.profession, self.unit_id) {
            errors.push(e);
        }
        let (Some(username), Some(display_name), true) =
            (username, display_name, errors.is_empty())
        else {
            return Err(AppError::unprocessable(errors));
        };
        let user = NewUser {
            username,
            display_name,
            profession: self.profession,
            unit_id: self.unit_id,
        };
        Ok((user, self.password))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    display_name: Option<String>,
    profession: Option<Profession>,
    #[serde(default, with = "crate::http::double_option")]
    unit_id: Option<Option<Uuid>>,
    active: Option<bool>,
}

/// A checked update: what to change, the rest left as it is.
pub struct UserChange {
    display_name: Option<String>,
    profession: Option<Profession>,
    unit_id: Option<Option<Uuid>>,
    active: Option<bool>,
}

impl UpdateUser {
    pub fn validate(self) -> Result<UserChange, AppError> {
        let display_name = self
            .display_name
            .as_deref()
            .map(validate_display_name)
            .transpose()
            .map_err(|e| AppError::unprocessable(vec![e]))?;
        Ok(UserChange {
            display_name,
            profession: self.profession,
            unit_id: self.unit_id,
            active: self.active,
        })
    }
}

/// The editable fields of an account after a change.
pub struct UserFields {
    pub display_name: String,
    pub profession: Profession,
    pub unit_id: Option<Uuid>,
    pub active: bool,
}

impl UserChange {
    /// `current` with this change applied; the unit rule checked on the result (422).
    pub fn applied_to(self, current: &UserFields) -> Result<UserFields, AppError> {
        let next = UserFields {
            display_name: self
                .display_name
                .unwrap_or_else(|| current.display_name.clone()),
            profession: self.profession.unwrap_or(current.profession),
            unit_id: self.unit_id.unwrap_or(current.unit_id),
            active: self.active.unwrap_or(current.active),
        };
        check_unit_rule(next.profession, next.unit_id)
            .map_err(|e| AppError::unprocessable(vec![e]))?;
        Ok(next)
    }
}

impl UserFields {
    /// The fields that differ from `current`, for the audit event.
    pub fn changed_from(&self, current: &UserFields) -> Vec<&'static str> {
        [
            ("display_name", self.display_name != current.display_name),
            ("profession", self.profession != current.profession),
            ("unit_id", self.unit_id != current.unit_id),
            ("active", self.active != current.active),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect()
    }

    /// A new profession or unit: access follows them, so what was given for the old ones ends.
    pub fn moves(&self, current: &UserFields) -> bool {
        self.profession != current.profession || self.unit_id != current.unit_id
    }

    /// A change of profession or unit ends her sessions at once, as does deactivation.
    pub fn ends_sessions(&self, current: &UserFields) -> Option<RevokeReason> {
        if !self.active {
            Some(RevokeReason::Deactivated)
        } else if self.moves(current) {
            Some(RevokeReason::ProfessionChanged)
        } else {
            None
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

impl ChangePassword {
    /// The new password must be strong enough and differ from the current one (422).
    pub fn validate(&self) -> Result<(), AppError> {
        validate_new_password(&self.new_password).map_err(|m| AppError::rule("new_password", m))?;
        if self.new_password == self.current_password {
            return Err(AppError::rule(
                "new_password",
                "must differ from the current password",
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotp {
    pub code: String,
}
