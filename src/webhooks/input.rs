//! What a service account sends to register or change a webhook, and its checks.

use serde::Deserialize;

use super::target;
use crate::audit::feed::ENTITIES;
use crate::audit::EntityType;
use crate::error::{AppError, FieldError, Rule};

/// The entity types a subscription follows: at least one, each one the change feed reports;
/// duplicates collapse and the order is fixed.
fn validate_entity_types(mut types: Vec<EntityType>) -> Result<Vec<EntityType>, FieldError> {
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    if types.is_empty() {
        return Err(FieldError::new(
            "entity_types",
            "name at least one entity type",
        ));
    }
    if let Some(other) = types.iter().find(|t| !ENTITIES.contains(t)) {
        return Err(FieldError::new(
            "entity_types",
            format!("{} is not in the change feed", other.as_str()),
        ));
    }
    Ok(types)
}

fn validate_url(url: &str, private_targets: bool) -> Result<String, FieldError> {
    target::check(url.trim(), private_targets)
        .map(|url| url.to_string())
        .map_err(|why| FieldError::new("url", why).because(Rule::WebhookTargetRefused))
}

/// A checked subscription: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub entity_types: Vec<EntityType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    url: String,
    /// Unknown names are refused while parsing (400 naming `entity_types[i]`).
    entity_types: Vec<EntityType>,
}

impl CreateWebhook {
    pub fn validate(self, private_targets: bool) -> Result<Target, AppError> {
        let url = validate_url(&self.url, private_targets);
        let entity_types = validate_entity_types(self.entity_types);
        match (url, entity_types) {
            (Ok(url), Ok(entity_types)) => Ok(Target { url, entity_types }),
            (url, types) => Err(AppError::unprocessable(
                [url.err(), types.err()].into_iter().flatten().collect(),
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    url: Option<String>,
    entity_types: Option<Vec<EntityType>>,
    /// `false` pauses it; `true` also turns on again one that repeated failure disabled.
    active: Option<bool>,
}

/// A checked change: each field `None` stays as it is.
pub struct WebhookChange {
    pub url: Option<String>,
    pub entity_types: Option<Vec<EntityType>>,
    pub active: Option<bool>,
}

impl WebhookChange {
    /// The target and on-switch after the change, and the fields it changed. `disabled`: the
    /// dispatcher has it off after repeated failure, which `"active": true` also ends.
    pub fn applied_to(
        self,
        was: &Target,
        active: bool,
        disabled: bool,
    ) -> (Target, bool, Vec<&'static str>) {
        let enables_again = self.enables_again(disabled);
        let target = Target {
            url: self.url.unwrap_or_else(|| was.url.clone()),
            entity_types: self
                .entity_types
                .unwrap_or_else(|| was.entity_types.clone()),
        };
        let now_active = self.active.unwrap_or(active);
        let changed = [
            ("url", target.url != was.url),
            ("entity_types", target.entity_types != was.entity_types),
            ("active", now_active != active || enables_again),
        ];
        let fields = changed
            .iter()
            .filter(|(_, c)| *c)
            .map(|(f, _)| *f)
            .collect();
        (target, now_active, fields)
    }

    /// Whether it turns on again a subscription that repeated failure disabled.
    pub fn enables_again(&self, disabled: bool) -> bool {
        self.active == Some(true) && disabled
    }
}

impl UpdateWebhook {
    pub fn validate(self, private_targets: bool) -> Result<WebhookChange, AppError> {
        let url = self
            .url
            .map(|u| validate_url(&u, private_targets))
            .transpose();
        let entity_types = self.entity_types.map(validate_entity_types).transpose();
        match (url, entity_types) {
            (Ok(url), Ok(entity_types)) => Ok(WebhookChange {
                url,
                entity_types,
                active: self.active,
            }),
            (url, types) => Err(AppError::unprocessable(
                [url.err(), types.err()].into_iter().flatten().collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(url: &str, types: &[EntityType]) -> Result<Target, AppError> {
        CreateWebhook {
            url: url.into(),
            entity_types: types.to_vec(),
        }
        .validate(false)
    }

    #[test]
    fn a_public_https_target_with_feed_entities_is_taken() {
        let target = create(
            "https://ekonomi.example.se/trygg",
            &[
                EntityType::Placement,
                EntityType::Child,
                EntityType::Placement,
            ],
        )
        .unwrap();
        assert_eq!(
            target.entity_types,
            [EntityType::Child, EntityType::Placement]
        );
    }

    #[test]
    fn each_field_at_fault_is_named() {
        let AppError::Unprocessable { errors, .. } = create("http://10.0.0.1/", &[]).unwrap_err()
        else {
            panic!("a 422")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "entity_types"]);
        assert_eq!(errors[0].rule, Rule::WebhookTargetRefused);
    }

    #[test]
    fn records_outside_the_feed_cannot_be_followed() {
        assert!(create("https://a.example.se/", &[EntityType::Session]).is_err());
        assert!(create("https://a.example.se/", &[EntityType::AuditLog]).is_err());
    }
}
