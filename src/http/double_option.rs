//! A field of a merge-style change that may be absent (leave it), `null` (clear it) or a value:
//! `#[serde(default, with = "crate::http::double_option")]` on an `Option<Option<T>>`.

use serde::{Deserialize, Deserializer};

pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Change {
        #[serde(default, with = "super")]
        field: Option<Option<u8>>,
    }

    #[test]
    fn absent_null_and_a_value_are_three_answers() {
        let parse = |json: &str| serde_json::from_str::<Change>(json).unwrap().field;
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"field": null}"#), Some(None));
        assert_eq!(parse(r#"{"field": 7}"#), Some(Some(7)));
    }
}
