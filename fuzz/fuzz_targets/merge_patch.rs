//! `PATCH /api/v1/children/{id}`: a JSON merge patch (RFC 7396) applied with
//! `trygg::children::record::merge` to the stored child as `as_input` shows it, then parsed
//! with `parse_json` into `ChildInput` and checked with `validate`, exactly as the handler does.
//!
//! The first byte picks the stored child (with or without guardian, identity numbers and
//! protection); the rest is the patch. Besides never panicking:
//! * the stored child in client shape parses and validates (so an empty patch changes nothing);
//! * applying the same patch twice gives what applying it once gave (RFC 7396 is idempotent);
//! * an object patch changes only the top-level fields it names; `null` removes a field;
//! * whatever `parse_json` accepts holds no NUL character.
#![no_main]

use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use trygg::children::input::ChildInput;
use trygg::children::record::{as_input, changed_fields, merge, row_from};
use trygg::db::children::ChildRow;
use trygg::http::json::parse_json;
use trygg::rules::Rules;
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(Rules::built_in)
}

fn stored() -> &'static [ChildRow] {
    static ROWS: OnceLock<Vec<ChildRow>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let unit = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let bodies = [
            json!({
                "given_name": "Amir", "family_name": "Haidari", "date_of_birth": "2010-05-04",
                "sex": "male", "asylum_status": "asylum_seeker", "responsible_unit_id": unit,
            }),
            json!({
                "given_name": "Sara", "family_name": "Ahmadi", "date_of_birth": "2009-11-30",
                "date_of_birth_assessed": true, "sex": "female", "country_of_origin": "AF",
                "languages": ["dari", "sv"], "interpreter_needed": true,
                "dossier_number": "1234567-8", "personal_identity_number": "20091130-1232",
                "asylum_status": "temporary_permit", "arrival_date": "2023-09-01",
                "assigned_on": "2023-09-02",
                "guardian": {"name": "Eva Berg", "phone": "+46 70 123 45 67", "appointed_on": "2023-09-10"},
                "protection_level": "protected_registration", "responsible_unit_id": unit,
            }),
        ];
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let input: ChildInput = parse_json(body.to_string().as_bytes()).expect("base child");
                let valid = input.validate(today(), rules().on(today())).expect("base child valid");
                let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
                row_from(valid, Uuid::from_u128(i as u128 + 1), Uuid::from_u128(99), now)
            })
            .collect()
    })
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let rows = stored();
    let row = &rows[which as usize % rows.len()];
    let before = as_input(row);
    let unchanged: ChildInput =
        parse_json(before.to_string().as_bytes()).expect("stored child parses");
    assert!(unchanged.validate(today(), rules().on(today())).is_ok());

    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut after = before.clone();
    merge(&mut after, &patch);
    let mut twice = after.clone();
    merge(&mut twice, &patch);
    assert_eq!(twice, after, "the patch is not idempotent");

    let changed = changed_fields(&before, &after);
    if let Value::Object(fields) = &patch {
        for field in &changed {
            assert!(
                fields.contains_key(field),
                "{field} changed without being named"
            );
        }
        for (key, value) in fields {
            if value.is_null() {
                assert!(after.get(key).is_none(), "null kept {key}");
            }
        }
        if fields.is_empty() {
            assert_eq!(after, before);
        }
    }

    let text = after.to_string();
    if let Ok(input) = parse_json::<ChildInput>(text.as_bytes()) {
        assert!(!holds_nul(&after));
        let _ = input.validate(today(), rules().on(today()));
    }
});
