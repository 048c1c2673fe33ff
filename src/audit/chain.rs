//! The hash chain. Each event's hash covers its sequence number, the previous hash and a digest
//! of its content; chaining over the digest (not the content) lets the details of an old event be
//! removed under a retention rule while the chain still verifies.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash before the first event.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// The content of one event, borrowed from either a new event or a stored row.
pub struct Content<'a> {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: &'a str,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<&'a str>,
    pub actor_unit_id: Option<Uuid>,
    pub action: &'a str,
    pub outcome: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<Uuid>,
    pub child_id: Option<Uuid>,
    pub child_unit_id: Option<Uuid>,
    pub child_protected: bool,
    pub request_id: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub changed_fields: &'a [String],
}

/// Length-prefixed fields in a fixed order: no two different contents encode alike.
///
/// The child's review context (`child_unit_id`, `child_protected`) came later than the rest.
/// It is appended after the changed fields, each line only when it differs from its default
/// (no unit, not protected), so events written before it existed keep their digest. The
/// encoding stays unambiguous: `changed_fields_count` says how many `changed_field` lines
/// follow, and every line after them is named, so a present line cannot be mistaken for
/// another field and an absent one means exactly the default.
fn canonical(content: &Content<'_>) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
        out.extend_from_slice(name.as_bytes());
        match value {
            Some(value) => {
                out.extend_from_slice(format!("={}:", value.len()).as_bytes());
                out.extend_from_slice(value.as_bytes());
            }
            None => out.extend_from_slice(b"=~"),
        }
        out.push(b'\n');
    }
    let uuid = |id: Option<Uuid>| id.map(|id| id.to_string());
    let mut out = b"trygg-audit-v1\n".to_vec();
    field(&mut out, "id", Some(&content.id.to_string()));
    field(
        &mut out,
        "occurred_at",
        Some(
            &content
                .occurred_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
        ),
    );
    field(&mut out, "actor_type", Some(content.actor_type));
    field(&mut out, "actor_id", uuid(content.actor_id).as_deref());
    field(&mut out, "actor_role", content.actor_role);
    field(
        &mut out,
        "actor_unit_id",
        uuid(content.actor_unit_id).as_deref(),
    );
    field(&mut out, "action", Some(content.action));
    field(&mut out, "outcome", Some(content.outcome));
    field(&mut out, "entity_type", Some(content.entity_type));
    field(&mut out, "entity_id", uuid(content.entity_id).as_deref());
    field(&mut out, "child_id", uuid(content.child_id).as_deref());
    field(&mut out, "request_id", content.request_id);
    field(&mut out, "client_addr", content.client_addr);
    field(&mut out, "purpose", content.purpose);
    field(
        &mut out,
        "changed_fields_count",
        Some(&content.changed_fields.len().to_string()),
    );
    for name in content.changed_fields {
        field(&mut out, "changed_field", Some(name));
    }
    if let Some(unit_id) = content.child_unit_id {
        field(&mut out, "child_unit_id", Some(&unit_id.to_string()));
    }
    if content.child_protected {
        field(&mut out, "child_protected", Some("true"));
    }
    out
}

pub fn content_digest(content: &Content<'_>) -> [u8; 32] {
    Sha256::digest(canonical(content)).into()
}

pub fn link_hash(seq: i64, prev_hash: &[u8], content_digest: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"trygg-chain-v1");
    hasher.update(seq.to_be_bytes());
    hasher.update(prev_hash);
    hasher.update(content_digest);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(fields: &[String]) -> Content<'_> {
        Content {
            id: Uuid::nil(),
            occurred_at: DateTime::from_timestamp(0, 0).unwrap(),
            actor_type: "user",
            actor_id: Some(Uuid::nil()),
            actor_role: Some("social_secretary"),
            actor_unit_id: None,
            action: "read",
            outcome: "success",
            entity_type: "child",
            entity_id: None,
            child_id: None,
            child_unit_id: None,
            child_protected: false,
            request_id: None,
            client_addr: None,
            purpose: None,
            changed_fields: fields,
        }
    }

    #[test]
    fn every_field_changes_the_digest() {
        let none: Vec<String> = vec![];
        let base = content_digest(&content(&none));
        let mut other = content(&none);
        other.purpose = Some("");
        assert_ne!(base, content_digest(&other), "absent and empty differ");
        let split = vec!["ab".to_owned(), "c".to_owned()];
        let joined = vec!["a".to_owned(), "bc".to_owned()];
        assert_ne!(
            content_digest(&content(&split)),
            content_digest(&content(&joined))
        );
    }

    #[test]
    fn the_child_context_changes_the_digest_and_its_defaults_keep_old_digests() {
        let none: Vec<String> = vec![];
        let base = content(&none);
        // The digest of an event without context, as written before the context existed.
        let before: [u8; 32] = Sha256::digest(
            b"trygg-audit-v1\nid=36:00000000-0000-0000-0000-000000000000\n\
              occurred_at=27:1970-01-01T00:00:00.000000Z\nactor_type=4:user\n\
              actor_id=36:00000000-0000-0000-0000-000000000000\n\
              actor_role=16:social_secretary\nactor_unit_id=~\naction=4:read\n\
              outcome=7:success\nentity_type=5:child\nentity_id=~\nchild_id=~\n\
              request_id=~\nclient_addr=~\npurpose=~\nchanged_fields_count=1:0\n",
        )
        .into();
        assert_eq!(content_digest(&base), before);
        let mut unit = content(&none);
        unit.child_id = Some(Uuid::nil());
        let plain = content_digest(&unit);
        unit.child_unit_id = Some(Uuid::max());
        let with_unit = content_digest(&unit);
        unit.child_protected = true;
        let protected = content_digest(&unit);
        assert!(plain != with_unit && with_unit != protected && plain != protected);
        // A changed field that looks like a context line is still a changed field.
        let lookalike_fields = vec!["child_protected=4:true".to_owned()];
        let mut lookalike = content(&lookalike_fields);
        lookalike.child_id = Some(Uuid::nil());
        let mut real = content(&none);
        real.child_id = Some(Uuid::nil());
        real.child_protected = true;
        assert_ne!(content_digest(&lookalike), content_digest(&real));
    }

    #[test]
    fn the_link_depends_on_position_and_predecessor() {
        let digest = [1u8; 32];
        assert_ne!(
            link_hash(1, &GENESIS, &digest),
            link_hash(2, &GENESIS, &digest)
        );
        assert_ne!(
            link_hash(1, &GENESIS, &digest),
            link_hash(1, &[2u8; 32], &digest)
        );
    }
}
