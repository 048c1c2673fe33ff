//! What a client sends to the token endpoint, parsed into one grant.

use serde::Deserialize;

use crate::auth::login::{ClientGrant, PasswordGrant};
use crate::error::{AppError, FieldError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    grant_type: String,
    username: Option<String>,
    password: Option<String>,
    totp_code: Option<String>,
    recovery_code: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// One of the three grants, with the fields it needs.
pub enum Grant {
    Password(PasswordGrant),
    RefreshToken(String),
    ClientCredentials(ClientGrant),
}

impl TokenRequest {
    /// The grant asked for: 400 for an unknown `grant_type` or a field it needs left out.
    pub fn grant(self) -> Result<Grant, AppError> {
        let mut missing = Vec::new();
        let grant = match self.grant_type.as_str() {
            "password" => Grant::Password(PasswordGrant {
                username: required(self.username, "username", &mut missing),
                password: required(self.password, "password", &mut missing),
                totp_code: self.totp_code,
                recovery_code: self.recovery_code,
            }),
            "refresh_token" => {
                Grant::RefreshToken(required(self.refresh_token, "refresh_token", &mut missing))
            }
            "client_credentials" => Grant::ClientCredentials(ClientGrant {
                client_id: required(self.client_id, "client_id", &mut missing),
                client_secret: required(self.client_secret, "client_secret", &mut missing),
                scope: self.scope,
            }),
            _ => {
                return Err(AppError::invalid_field(
                    "grant_type",
                    "must be password, refresh_token or client_credentials",
                ))
            }
        };
        if missing.is_empty() {
            Ok(grant)
        } else {
            Err(AppError::BadRequest {
                detail: "required fields are missing".into(),
                errors: missing,
            })
        }
    }
}

fn required(value: Option<String>, field: &str, missing: &mut Vec<FieldError>) -> String {
    match value {
        Some(value) if !value.is_empty() => value,
        _ => {
            missing.push(FieldError::new(field, "is required for this grant_type"));
            String::new()
        }
    }
}
