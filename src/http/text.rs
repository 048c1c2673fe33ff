//! Text that PostgreSQL can store. It refuses the NUL character in `text`, so a string holding
//! one must never get past the boundary: every JSON body is checked here once, and the answer
//! names each field that holds one (422), instead of the database refusing it later (500).

use serde_json::Value;

use crate::error::{AppError, FieldError, Rule};

/// The paths (`guardian.name`, `languages[1]`) of every string in `value`, keys included, that
/// holds a NUL character.
pub fn fields_with_nul(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, String::new(), &mut found);
    found
}

fn walk(value: &Value, path: String, found: &mut Vec<String>) {
    match value {
        Value::String(text) if text.contains('\0') => found.push(name(path)),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{index}]"), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let inner = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    found.push(name(inner.clone()));
                }
                walk(item, inner, found);
            }
        }
        _ => {}
    }
}

fn name(path: String) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        path.replace('\0', "\\u0000")
    }
}

/// 422 naming every field of `body` that holds a NUL character; `Ok` when none does.
pub fn refuse_nul(body: &[u8]) -> Result<(), AppError> {
    // Only a body that mentions the escape can hold one: JSON has no raw NUL in strings.
    if !body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(()); // the typed parse reports the syntax error
    };
    refuse_nul_in(&value)
}

/// As [`refuse_nul`], for a parsed value.
pub fn refuse_nul_in(value: &Value) -> Result<(), AppError> {
    let fields = fields_with_nul(value);
    if fields.is_empty() {
        return Ok(());
    }
    Err(AppError::unprocessable(
        fields
            .into_iter()
            .map(|field| {
                FieldError::new(field, "holds a NUL character, which no text may hold")
                    .because(Rule::InvalidCharacter)
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_string_holding_nul_is_named_by_its_path() {
        let value = json!({
            "given_name": "A\u{0}li",
            "languages": ["dari", "x\u{0}"],
            "guardian": {"name": "\u{0}"},
            "ok": "fine",
            "n\u{0}": 1,
        });
        let mut found = fields_with_nul(&value);
        found.sort();
        assert_eq!(
            found,
            ["given_name", "guardian.name", "languages[1]", "n\\u0000"]
        );
        assert!(fields_with_nul(&json!({"a": "b", "c": [1, "d"]})).is_empty());
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_no_nul() {
        assert!(refuse_nul(br#"{"a": "\\u0000"}"#).is_ok());
        assert!(refuse_nul(br#"{"a": "\u0000"}"#).is_err());
        assert!(
            refuse_nul(br#"{"a": "\U0000"}"#).is_ok(),
            "not a JSON escape: the parse refuses it"
        );
    }
}
