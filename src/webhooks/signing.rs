//! Signatures as the Standard Webhooks convention has them, so a receiver can use any of its
//! libraries: the headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature`, which is `v1,` and the base64 of HMAC-SHA256 over
//! `{id}.{timestamp}.{body}`, keyed with the bytes of the secret after its `whsec_` prefix.
//! While a rotated secret still overlaps, the signature header holds one signature for each,
//! separated by a space, and a receiver accepts the message if any of them verifies.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Marks a webhook signing secret, as the convention's libraries expect it.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret: 256 bits, the size of the hash.
pub const SECRET_BYTES: usize = 32;

/// A fresh secret: `whsec_` and the base64 of 32 random bytes from the operating system.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a secret this service made; `None` for anything else.
fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// `v1,<signature>` of one message under one secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_of(secret)?).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature for each secret that signs now.
pub fn signature_header(secrets: &[String], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|secret| signature(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convention's own published example (standard-webhooks spec, "Verifying").
    #[test]
    fn signs_the_conventions_published_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn signs_with_every_overlapping_secret() {
        let (old, new) = (new_secret(), new_secret());
        let header = signature_header(&[new.clone(), old.clone()], "msg_1", 1, "{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature(&new, "msg_1", 1, "{}").unwrap());
        assert_eq!(parts[1], signature(&old, "msg_1", 1, "{}").unwrap());
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn a_secret_it_did_not_make_signs_nothing() {
        assert_eq!(signature("not-a-secret", "msg_1", 1, "{}"), None);
        assert_eq!(signature("whsec_%%%", "msg_1", 1, "{}"), None);
    }

    #[test]
    fn secrets_are_fresh_and_of_full_length() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(key_of(&a).unwrap().len(), SECRET_BYTES);
    }
}
