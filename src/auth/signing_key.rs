//! The secret that signs access tokens: how strong it must be, and that it never shows.

use std::fmt;

use base64::Engine;
use rand::RngCore;

/// The minimum entropy we accept for the token signing key.
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// Secret bytes that sign access tokens. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "TRYGG_SIGNING_KEY is not set; generate one with `openssl rand -base64 48` \
         (or set TRYGG_DEV=1 for local development only)"
    )]
    MissingSigningKey,
    #[error(
        "TRYGG_SIGNING_KEY is too weak: it must be base64 of at least {MIN_SIGNING_KEY_BYTES} \
         random bytes; generate one with `openssl rand -base64 48`"
    )]
    WeakSigningKey,
}

impl SigningKey {
    /// A fresh random key: development mode and tests only (tokens die with the process).
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 48];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Accepts base64 (standard or URL-safe, padded or not) of at least 32 bytes that do not
    /// look like a placeholder.
    pub fn parse(encoded: &str) -> Result<Self, ConfigError> {
        let encoded = encoded.trim();
        if encoded.is_empty() {
            return Err(ConfigError::MissingSigningKey);
        }
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|engine| engine.decode(encoded).ok())
            .ok_or(ConfigError::WeakSigningKey)?;
        if bytes.len() < MIN_SIGNING_KEY_BYTES || looks_like_placeholder(&bytes) {
            return Err(ConfigError::WeakSigningKey);
        }
        Ok(Self(bytes))
    }

    /// Picks the key for the mode: a configured key must be strong even in development.
    pub fn resolve(configured: Option<&str>, dev_mode: bool) -> Result<Self, ConfigError> {
        match configured {
            Some(value) if !value.trim().is_empty() => Self::parse(value),
            _ if dev_mode => Ok(Self::generate()),
            _ => Err(ConfigError::MissingSigningKey),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Random keys use many distinct byte values; "aaaa…", "changeme" repeated, or all zeros do not.
fn looks_like_placeholder(bytes: &[u8]) -> bool {
    let mut seen = [false; 256];
    for byte in bytes {
        seen[*byte as usize] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    distinct < 16
        || bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() && b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_refused_outside_development() {
        assert_eq!(
            SigningKey::resolve(None, false).unwrap_err(),
            ConfigError::MissingSigningKey
        );
        assert!(SigningKey::resolve(None, true).is_ok());
    }

    #[test]
    fn short_or_placeholder_keys_are_refused() {
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert_eq!(
            SigningKey::parse(&short).unwrap_err(),
            ConfigError::WeakSigningKey
        );
        let repeated = base64::engine::general_purpose::STANDARD.encode([b'a'; 64]);
        assert_eq!(
            SigningKey::parse(&repeated).unwrap_err(),
            ConfigError::WeakSigningKey
        );
        assert_eq!(
            SigningKey::parse("changeme").unwrap_err(),
            ConfigError::WeakSigningKey
        );
    }

    #[test]
    fn a_random_key_is_accepted_and_never_printed() {
        let mut bytes = [0u8; 48];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let key = SigningKey::parse(&encoded).expect("random key");
        assert_eq!(key.as_bytes(), bytes);
        assert!(!format!("{key:?}").contains(&encoded));
    }
}
