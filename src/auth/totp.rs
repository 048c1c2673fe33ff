//! The second factor: time-based one-time codes (RFC 6238) and single-use recovery codes.
//!
//! Codes are the common authenticator-app kind (SHA-1, 6 digits, 30-second steps), because that is
//! what every app on a social secretary's work phone supports. Time is passed in from the app's
//! clock, never read here, so tests can stand at any instant.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Rfc6238, Secret, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECS: i64 = 30;
/// Steps accepted on either side of the current one, for phones whose clocks drift a little.
pub const SKEW_STEPS: i64 = 1;
/// RFC 4226 recommends 160 bits.
pub const SECRET_BYTES: usize = 20;

/// Crockford's base32 in lower case: no i, l, o or u, so 0 and 1 cannot be misread as letters on
/// paper. 32 symbols, 5 bits each.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_GROUP_LEN: usize = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    #[error("the secret is not base32 of at least 128 bits")]
    InvalidSecret,
    #[error("the issuer and account must be non-empty and must not contain ':'")]
    InvalidLabel,
}

/// A fresh 160-bit secret from the operating system, as unpadded upper-case base32 (what
/// authenticator apps expect when typed in by hand).
pub fn generate_secret() -> String {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::Raw(bytes).to_encoded().to_string()
}

fn decode_secret(secret_b32: &str) -> Result<Vec<u8>, TotpError> {
    let normalized: String = secret_b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Secret::Encoded(normalized)
        .to_bytes()
        .map_err(|_| TotpError::InvalidSecret)
}

fn totp(secret_b32: &str) -> Result<TOTP, TotpError> {
    // `Rfc6238` builds the same SHA-1/6/30 generator whether or not totp-rs's `otpauth` feature is
    // on, and refuses secrets shorter than 128 bits.
    let rfc =
        Rfc6238::with_defaults(decode_secret(secret_b32)?).map_err(|_| TotpError::InvalidSecret)?;
    TOTP::from_rfc6238(rfc).map_err(|_| TotpError::InvalidSecret)
}

/// The `otpauth://` URI that an authenticator app reads from a QR code
/// (<https://github.com/google/google-authenticator/wiki/Key-Uri-Format>).
///
/// A ':' in the issuer or account would make the label ambiguous, so it is refused.
pub fn provisioning_uri(
    secret_b32: &str,
    account: &str,
    issuer: &str,
) -> Result<String, TotpError> {
    totp(secret_b32)?;
    if issuer.trim().is_empty()
        || account.trim().is_empty()
        || issuer.contains(':')
        || account.contains(':')
    {
        return Err(TotpError::InvalidLabel);
    }
    let secret = Secret::Raw(decode_secret(secret_b32)?)
        .to_encoded()
        .to_string();
    let issuer = percent_encode(issuer);
    Ok(format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account),
    ))
}

/// RFC 3986: everything but the unreserved characters is %-encoded, byte by byte.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Checks `code` at `at_unix` (from the app's clock) and returns the time step it matched.
///
/// The current step and one on either side are tried. A step at or before `last_used_step` is
/// never accepted, so a code seen over someone's shoulder cannot be replayed, nor an older one;
/// the caller stores the returned step as the new `last_used_step`. Every candidate is compared
/// in constant time and all are tried, so timing does not tell which one matched.
pub fn verify_code(
    secret_b32: &str,
    code: &str,
    at_unix: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    // Apps show "123 456"; people type what they see.
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) || at_unix < 0 {
        return None;
    }
    let generator = totp(secret_b32).ok()?;
    let current = at_unix / STEP_SECS;
    let mut matched = None;
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        if step < 0 || last_used_step.is_some_and(|last| step <= last) {
            continue;
        }
        let expected = generator.generate((step * STEP_SECS) as u64);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            // The latest match wins, so the stored step shuts out as much as possible.
            matched = Some(step);
        }
    }
    matched
}

/// Single-use codes for when the phone is lost, shown to the person once, stored only hashed.
///
/// Each is 12 symbols of 5 bits from the OS random source (60 bits), as `xxxx-xxxx-xxxx`.
pub fn generate_recovery_codes(count: usize) -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..count)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_GROUPS * RECOVERY_GROUP_LEN];
            rng.fill_bytes(&mut bytes);
            // 256 is a multiple of 32, so masking to 5 bits keeps every symbol equally likely.
            let symbols: Vec<char> = bytes
                .iter()
                .map(|b| RECOVERY_ALPHABET[(b & 0x1f) as usize] as char)
                .collect();
            symbols
                .chunks(RECOVERY_GROUP_LEN)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// SHA-256 hex of the code as typed, minus case, hyphens and spaces.
///
/// Following Crockford, an `o` typed for `0` or an `i`/`l` typed for `1` is read as the digit:
/// those letters never occur in a code, so this forgives misreading without adding guesses.
///
/// A fast hash is enough: 60 random bits cannot be guessed offline the way a password can, and
/// the lookup must not cost an argon2 run per stored code.
pub fn hash_recovery_code(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the ASCII secret "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn the_rfc_6238_sha1_vectors_verify_as_six_digits() {
        // 8-digit values from the RFC; authenticator apps show the last six.
        for (at, eight, step) in [
            (59, "94287082", 1),
            (1_111_111_109, "07081804", 37_037_036),
            (1_234_567_890, "89005924", 41_152_263),
            (2_000_000_000, "69279037", 66_666_666),
        ] {
            assert_eq!(
                verify_code(RFC_SECRET, &eight[2..], at, None),
                Some(step),
                "T={at}"
            );
        }
    }

    #[test]
    fn a_wrong_code_or_a_code_of_the_wrong_shape_is_refused() {
        assert_eq!(verify_code(RFC_SECRET, "287083", 59, None), None);
        assert_eq!(verify_code(RFC_SECRET, "94287082", 59, None), None);
        assert_eq!(verify_code(RFC_SECRET, "28708", 59, None), None);
        assert_eq!(verify_code(RFC_SECRET, "", 59, None), None);
        assert_eq!(verify_code(RFC_SECRET, "２８７０８２", 59, None), None);
        assert_eq!(verify_code("not base32!", "287082", 59, None), None);
    }

    #[test]
    fn spaces_typed_inside_the_code_are_ignored() {
        assert_eq!(verify_code(RFC_SECRET, "287 082", 59, None), Some(1));
    }

    #[test]
    fn a_code_is_accepted_one_step_early_or_late_but_not_two() {
        // T=59 is step 1; its code is valid while the clock reads steps 0..=2.
        assert_eq!(verify_code(RFC_SECRET, "287082", 0, None), Some(1));
        assert_eq!(verify_code(RFC_SECRET, "287082", 89, None), Some(1));
        assert_eq!(verify_code(RFC_SECRET, "287082", 90, None), None);
        // Step 37_037_036 spans 1_111_111_080..=1_111_111_109; its code is valid from the
        // start of the step before to the end of the step after.
        let step = 37_037_036;
        for (at, expected) in [
            (1_111_111_049, None),
            (1_111_111_050, Some(step)),
            (1_111_111_139, Some(step)),
            (1_111_111_140, None),
        ] {
            assert_eq!(
                verify_code(RFC_SECRET, "081804", at, None),
                expected,
                "T={at}"
            );
        }
    }

    #[test]
    fn a_code_cannot_be_used_twice_nor_an_older_one_after_it() {
        let step = verify_code(RFC_SECRET, "081804", 1_111_111_109, None).unwrap();
        assert_eq!(
            verify_code(RFC_SECRET, "081804", 1_111_111_109, Some(step)),
            None
        );
        assert_eq!(
            verify_code(RFC_SECRET, "081804", 1_111_111_109, Some(step + 1)),
            None
        );
        assert_eq!(
            verify_code(RFC_SECRET, "081804", 1_111_111_109, Some(step - 1)),
            Some(step)
        );
    }

    #[test]
    fn a_generated_secret_is_160_bits_of_base32_and_its_codes_verify() {
        let secret = generate_secret();
        assert_eq!(decode_secret(&secret).unwrap().len(), 20);
        assert_ne!(secret, generate_secret());
        let at = 1_700_000_000;
        let code = totp(&secret).unwrap().generate(at as u64);
        assert_eq!(verify_code(&secret, &code, at, None), Some(at / STEP_SECS));
    }

    #[test]
    fn a_secret_shorter_than_128_bits_is_refused() {
        let short = Secret::Raw(vec![7u8; 10]).to_encoded().to_string();
        assert_eq!(
            provisioning_uri(&short, "anna", "Trygg"),
            Err(TotpError::InvalidSecret)
        );
    }

    #[test]
    fn the_provisioning_uri_names_issuer_and_account_encoded() {
        let uri = provisioning_uri(RFC_SECRET, "anna.öberg@kommun.se", "Trygg Malmö").unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/Trygg%20Malm%C3%B6:anna.%C3%B6berg%40kommun.se\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Trygg%20Malm%C3%B6\
             &algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            provisioning_uri(RFC_SECRET, "a:b", "Trygg"),
            Err(TotpError::InvalidLabel)
        );
        assert_eq!(
            provisioning_uri(RFC_SECRET, "anna", ""),
            Err(TotpError::InvalidLabel)
        );
    }

    #[test]
    fn recovery_codes_are_unambiguous_groups_of_four() {
        let codes = generate_recovery_codes(10);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3, "{code}");
            for group in groups {
                assert_eq!(group.len(), 4, "{code}");
                assert!(
                    group.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)),
                    "{code}"
                );
                assert!(!group.contains(['o', 'i', 'l', 'u']), "{code}");
            }
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn recovery_codes_carry_at_least_60_bits() {
        let bits = RECOVERY_GROUPS as f64
            * RECOVERY_GROUP_LEN as f64
            * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 60.0, "{bits}");
        let mut distinct = RECOVERY_ALPHABET.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 32);
    }

    #[test]
    fn a_recovery_code_hashes_the_same_however_it_is_typed() {
        let hash = hash_recovery_code("abcd-efgh-jkmn");
        assert_eq!(hash, hash_recovery_code("ABCD EFGH JKMN"));
        assert_eq!(hash, hash_recovery_code(" abcdefghjkmn "));
        assert_eq!(hash, hex::encode(Sha256::digest(b"abcdefghjkmn")));
        assert_ne!(hash, hash_recovery_code("abcd-efgh-jkmp"));
    }

    #[test]
    fn letters_misread_for_zero_and_one_hash_as_the_digits() {
        let hash = hash_recovery_code("a0b1-c1d0-2345");
        assert_eq!(hash, hash_recovery_code("aOb1-cLdo-2345"));
        assert_eq!(hash, hash_recovery_code("a0bI-cld0-2345"));
    }
}
