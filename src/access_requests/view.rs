//! The export as the caller receives it: one JSON document, or the same document as a plain
//! HTML page to print or send. The HTML is built from the JSON document itself, so the two
//! never say different things, and every value and key in it is escaped.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::store::{Held, Section};
use crate::http::html::escape;

/// The JSON document: when and for whom it was made, the child's own record, and each kind
/// of record under its key (always present; an empty list when she has none).
pub fn document(child_id: Uuid, at: DateTime<Utc>, held: Held) -> Value {
    let Held { child, sections } = held;
    let mut records = Map::new();
    for (section, rows) in sections {
        records.insert(section.key.to_owned(), rows);
    }
    json!({
        "child_id": child_id,
        "exported_at": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "legal_basis": "GDPR article 15 (right of access)",
        "child": child,
        "records": records,
    })
}

/// A value as text in a table cell: strings as they are, nothing as a dash, lists and
/// objects nested.
fn value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push('—'),
        Value::String(s) => out.push_str(&escape(s)),
        Value::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
        Value::Number(n) => out.push_str(&escape(&n.to_string())),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| {
                    let mut s = String::new();
                    value(&mut s, i);
                    s
                })
                .collect();
            out.push_str(&parts.join(", "));
        }
        Value::Array(items) => {
            out.push_str("<ol>");
            for item in items {
                out.push_str("<li>");
                value(out, item);
                out.push_str("</li>");
            }
            out.push_str("</ol>");
        }
        Value::Object(fields) => record(out, fields),
    }
}

/// One record as a table of its fields.
fn record(out: &mut String, fields: &Map<String, Value>) {
    out.push_str("<table>");
    for (key, v) in fields {
        out.push_str("<tr><th>");
        out.push_str(&escape(key));
        out.push_str("</th><td>");
        value(out, v);
        out.push_str("</td></tr>");
    }
    out.push_str("</table>");
}

/// The document as a plain HTML page, section by section in `order`.
pub fn html(document: &Value, order: &[Section]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"sv\"><head><meta charset=\"utf-8\">\
         <title>Registerutdrag</title></head><body>",
    );
    out.push_str("<h1>Registerutdrag (GDPR article 15)</h1><p>Child ");
    value(&mut out, &document["child_id"]);
    out.push_str(", exported ");
    value(&mut out, &document["exported_at"]);
    out.push_str("</p><h2>The child's record</h2>");
    value(&mut out, &document["child"]);
    for section in order {
        out.push_str("<h2>");
        out.push_str(&escape(section.title));
        out.push_str("</h2>");
        match document["records"][section.key].as_array() {
            Some(rows) if !rows.is_empty() => {
                for row in rows {
                    value(&mut out, row);
                }
            }
            _ => out.push_str("<p>None.</p>"),
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_requests::store::SECTIONS;

    #[test]
    fn markup_in_any_value_or_key_is_escaped() {
        let child =
            json!({"given_name": "<script>alert(1)</script>", "<b>": "ok", "languages": ["<i>"]});
        let sections = vec![(
            SECTIONS[0],
            json!([{"reason": "<img src=x onerror=alert(1)>"}]),
        )];
        let doc = document(
            Uuid::nil(),
            DateTime::<Utc>::UNIX_EPOCH,
            Held { child, sections },
        );
        let page = html(&doc, &SECTIONS);
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("<th>&lt;b&gt;</th>"));
        assert!(page.contains("&lt;i&gt;"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        for raw in ["<script", "<img", "<b>", "<i>"] {
            assert!(!page.contains(raw), "{raw} came out raw");
        }
    }

    #[test]
    fn every_section_has_its_key_and_heading_even_when_empty() {
        let sections = SECTIONS.iter().map(|s| (*s, json!([]))).collect();
        let held = Held {
            child: json!({}),
            sections,
        };
        let doc = document(Uuid::nil(), DateTime::<Utc>::UNIX_EPOCH, held);
        let page = html(&doc, &SECTIONS);
        for section in SECTIONS {
            assert_eq!(doc["records"][section.key], json!([]));
            assert!(page.contains(&format!("<h2>{}</h2>", escape(section.title))));
        }
        assert_eq!(doc["exported_at"], "1970-01-01T00:00:00Z");
    }
}
