//! A child's record between its three shapes: the row, the shape a client sends (so a change
//! is a JSON merge patch checked by exactly the rules of registration), and the fields an audit
//! event names as changed.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::input::ValidChild;
use crate::db::children::ChildRow;

/// The row a checked child becomes, as version 1 written by event `event_id`.
pub fn row_from(valid: ValidChild, id: Uuid, event_id: Uuid, now: DateTime<Utc>) -> ChildRow {
    ChildRow {
        id,
        given_name: valid.given_name,
        family_name: valid.family_name,
        date_of_birth: valid.date_of_birth,
        date_of_birth_assessed: valid.date_of_birth_assessed,
        sex: valid.sex,
        country_of_origin: valid.country_of_origin,
        languages: valid.languages,
        interpreter_needed: valid.interpreter_needed,
        dossier_number: valid.dossier_number.map(|d| d.as_str().to_owned()),
        personal_identity_number: valid
            .personal_identity_number
            .map(|p| p.as_str().to_owned()),
        asylum_status: valid.asylum_status,
        arrival_date: valid.arrival_date,
        assigned_on: valid.assigned_on,
        guardian_name: valid.guardian_name,
        guardian_phone: valid.guardian_phone,
        guardian_appointed_on: valid.guardian_appointed_on,
        guardian_ended_on: valid.guardian_ended_on,
        guardian_special_follows: valid.guardian_special_follows,
        protection_level: valid.protection_level,
        responsible_unit_id: valid.responsible_unit_id,
        created_at: now,
        updated_at: now,
        version: 1,
        last_audit_event_id: event_id,
    }
}

/// The fields a registration sets, for its audit event.
pub fn changed_fields_of_new(row: &ChildRow) -> Vec<&'static str> {
    let mut fields = vec![
        "given_name",
        "family_name",
        "date_of_birth",
        "date_of_birth_assessed",
        "sex",
        "languages",
        "interpreter_needed",
        "asylum_status",
        "protection_level",
        "responsible_unit_id",
    ];
    for (present, name) in [
        (row.country_of_origin.is_some(), "country_of_origin"),
        (row.dossier_number.is_some(), "dossier_number"),
        (
            row.personal_identity_number.is_some(),
            "personal_identity_number",
        ),
        (row.arrival_date.is_some(), "arrival_date"),
        (row.assigned_on.is_some(), "assigned_on"),
        (row.guardian_name.is_some(), "guardian"),
    ] {
        if present {
            fields.push(name);
        }
    }
    fields
}

/// The row in the shape a client sends, so a change can be applied as a JSON merge patch and
/// checked by exactly the rules of registration.
pub fn as_input(row: &ChildRow) -> Value {
    json!({
        "given_name": row.given_name,
        "family_name": row.family_name,
        "date_of_birth": row.date_of_birth,
        "date_of_birth_assessed": row.date_of_birth_assessed,
        "sex": row.sex,
        "country_of_origin": row.country_of_origin,
        "languages": row.languages,
        "interpreter_needed": row.interpreter_needed,
        "dossier_number": row.dossier_number,
        "personal_identity_number": row.personal_identity_number,
        "asylum_status": row.asylum_status,
        "arrival_date": row.arrival_date,
        "assigned_on": row.assigned_on,
        "guardian": row.guardian_name.as_ref().map(|name| json!({"name": name, "phone": row.guardian_phone, "appointed_on": row.guardian_appointed_on, "ended_on": row.guardian_ended_on, "special_guardian_follows": row.guardian_special_follows})),
        "protection_level": row.protection_level,
        "responsible_unit_id": row.responsible_unit_id,
    })
}

/// RFC 7396: objects merge key by key, `null` removes. An object patch over anything but an
/// object merges into an empty object, so its `null`s are dropped rather than copied.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// The top-level fields whose values differ between two client-shaped records.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    before
        .as_object()
        .map(|b| {
            b.keys()
                .filter(|k| b.get(*k) != after.get(*k))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_replaces_merges_and_removes() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]});
        merge(
            &mut target,
            &json!({"a": 5, "b": {"c": null, "x": 1}, "e": [3]}),
        );
        assert_eq!(target, json!({"a": 5, "b": {"d": 3, "x": 1}, "e": [3]}));
        // RFC 7396 appendix A: nulls inside an object patch over nothing are dropped, so the
        // same patch applied twice gives the same record (found by fuzz/merge_patch).
        let mut target = json!({"c": 1});
        merge(
            &mut target,
            &json!({"a": {"bb": {"ccc": null}}, "c": {"d": null}}),
        );
        assert_eq!(target, json!({"a": {"bb": {}}, "c": {}}));
        assert_eq!(
            changed_fields(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 3})),
            ["b"]
        );
    }
}
