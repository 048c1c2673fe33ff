//! Secrets the service must read back (second-factor seeds) are stored encrypted with a key
//! kept outside the database (AES-256-GCM), bound to the row they belong to, so a copy of the
//! database alone cannot mint anyone's codes.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use sha2::{Digest, Sha256};

const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DataKeyError {
    #[error("TRYGG_DATA_KEY is not set; generate one with `openssl rand -base64 32` (or set TRYGG_DEV=1 for local development only)")]
    Missing,
    #[error(
        "TRYGG_DATA_KEY must be base64 of exactly 32 random bytes (`openssl rand -base64 32`)"
    )]
    Malformed,
}

impl DataKey {
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        Self(key.into())
    }

    pub fn parse(encoded: &str) -> Result<Self, DataKeyError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| DataKeyError::Malformed)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| DataKeyError::Malformed)?;
        if key.iter().all(|b| *b == key[0]) {
            return Err(DataKeyError::Malformed);
        }
        Ok(Self(key))
    }

    /// The configured key; in development mode without one, a key derived from the database
    /// URL, so a local database stays readable across restarts (it protects nothing: never
    /// with real data).
    pub fn resolve(
        configured: Option<&str>,
        dev_mode: bool,
        database_url: &str,
    ) -> Result<Self, DataKeyError> {
        match configured {
            Some(value) if !value.trim().is_empty() => Self::parse(value),
            _ if dev_mode => Ok(Self(
                Sha256::digest(format!("trygg-development-data-key:{database_url}")).into(),
            )),
            _ => Err(DataKeyError::Missing),
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(self.0))
    }

    /// Encrypts `plaintext`; `bound_to` (e.g. the user's id) must be given again to open it.
    pub fn seal(&self, bound_to: &[u8], plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: bound_to,
                },
            )
            .expect("AES-GCM encryption of a short secret cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// The plaintext, or `None` when the value was not sealed by this key for `bound_to`.
    pub fn open(&self, bound_to: &[u8], sealed: &str) -> Option<String> {
        let encoded = sealed.strip_prefix(PREFIX)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        if bytes.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let plain = self
            .cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: bound_to,
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_its_owner() {
        let key = DataKey::generate();
        let sealed = key.seal(b"user-1", "JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open(b"user-1", &sealed).as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert_eq!(
            key.open(b"user-2", &sealed),
            None,
            "moved to another user's row"
        );
        assert_eq!(
            DataKey::generate().open(b"user-1", &sealed),
            None,
            "another key"
        );
        assert_eq!(
            key.open(b"user-1", "JBSWY3DPEHPK3PXP"),
            None,
            "never stored in clear"
        );
    }

    #[test]
    fn keys_are_32_random_bytes_and_required_outside_development() {
        let encoded = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        assert_eq!(
            DataKey::parse(&encoded).unwrap_err(),
            DataKeyError::Malformed
        );
        assert_eq!(
            DataKey::parse("c2hvcnQ=").unwrap_err(),
            DataKeyError::Malformed
        );
        assert_eq!(
            DataKey::resolve(None, false, "postgres://x").unwrap_err(),
            DataKeyError::Missing
        );
        let dev = DataKey::resolve(None, true, "postgres://x").unwrap();
        let again = DataKey::resolve(None, true, "postgres://x").unwrap();
        assert_eq!(again.open(b"u", &dev.seal(b"u", "s")).as_deref(), Some("s"));
        assert!(!format!("{dev:?}").contains("postgres"));
    }
}
