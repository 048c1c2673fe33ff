//! Password hashing and the rules for new passwords.
//!
//! Argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane) stored as a PHC string, so the
//! parameters travel with each hash and can be raised later without breaking old hashes.
//!
//! Hashing and verifying take tens of milliseconds of CPU on purpose: callers must run them on a
//! blocking thread (`actix_web::web::block`), never on the async executor.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB (OWASP Password Storage Cheat Sheet, argon2id option 2).
pub const M_COST_KIB: u32 = 19_456;
/// Number of passes.
pub const T_COST: u32 = 2;
/// Degree of parallelism.
pub const P_COST: u32 = 1;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Bounded so a megabyte "password" cannot be used to burn server CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("could not hash the password: {0}")]
    Hash(String),
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes with a fresh random salt from the operating system. Blocking; see the module docs.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// A hash with our parameters of a password nobody knows, computed once per process. Verifying
/// against it makes "no such user" cost as much as "wrong password", so response time does not
/// reveal which usernames exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        hash_password(&hex::encode(secret)).expect("argon2 with constant, valid parameters")
    })
}

/// True only if `stored_hash` is an argon2id PHC string of `password`.
///
/// An unknown user (`None`) or an unreadable stored hash still pays for one full verification
/// against a dummy hash before answering false, to keep timing uniform. Only argon2id hashes are
/// accepted, so a row holding some weaker or foreign format can never let a login through.
/// Blocking; see the module docs.
pub fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    let (hash, genuine) = checked_against(stored_hash);
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    matches && genuine
}

/// The hash a password is checked against, and whether a match may let it through: the stored
/// hash when it is argon2id, else the dummy. Every path runs exactly one verification, over a
/// hash with the same parameters, so the answer takes as long whichever it is.
fn checked_against(stored_hash: Option<&str>) -> (PasswordHash<'_>, bool) {
    let stored = stored_hash
        .and_then(|stored| PasswordHash::new(stored).ok())
        .filter(|hash| hash.algorithm == Algorithm::Argon2id.ident());
    match stored {
        Some(hash) => (hash, true),
        None => (
            PasswordHash::new(dummy_hash()).expect("the dummy is a PHC string we wrote"),
            false,
        ),
    }
}

/// Checks a password a person is about to set. Returns the message for the field error.
///
/// Length is counted in characters, not bytes, so "åäö" counts as three, as people expect.
/// We follow NIST SP 800-63B: a long minimum, a generous maximum, no composition rules.
pub fn validate_new_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters long"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must be at most {MAX_PASSWORD_CHARS} characters long"
        ));
    }
    let mut all = password.chars();
    let first = all.next();
    if all.all(|c| Some(c) == first) {
        return Err("the password must not be one character repeated".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_with_the_owasp_parameters_and_a_random_salt() {
        let first = hash_password("correct horse battery").unwrap();
        let second = hash_password("correct horse battery").unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("correct horse batterY", Some(&hash)));
        assert!(!verify_password("", Some(&hash)));
    }

    #[test]
    fn an_unknown_user_or_a_broken_hash_never_verifies() {
        assert!(!verify_password("anything at all", None));
        assert!(!verify_password(
            "anything at all",
            Some("not a phc string")
        ));
        assert!(!verify_password("anything at all", Some("")));
    }

    #[test]
    fn an_unknown_user_or_a_foreign_hash_is_checked_against_a_hash_of_the_same_cost() {
        // Not timed (timings belong in benchmarks): every path verifies once, over a hash
        // with the same algorithm and parameters, and only a genuine one can match.
        let hash = hash_password("correct horse battery").unwrap();
        let (real, genuine) = checked_against(Some(&hash));
        assert!(genuine);
        let argon2i =
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
        for stored in [None, Some("$garbage"), Some(""), Some(argon2i)] {
            let (dummy, genuine) = checked_against(stored);
            assert!(!genuine, "{stored:?}");
            assert_eq!(dummy.algorithm, real.algorithm, "{stored:?}");
            assert_eq!(dummy.params, real.params, "{stored:?}");
            assert_eq!(dummy.version, real.version, "{stored:?}");
        }
    }

    #[test]
    fn the_dummy_hash_uses_the_same_parameters_so_it_costs_the_same() {
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn a_hash_of_another_argon2_variant_is_refused() {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let params = Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(!verify_password("correct horse battery", Some(&argon2i)));
    }

    #[test]
    fn new_passwords_need_twelve_characters_counted_as_characters() {
        assert!(validate_new_password("elva tecken").is_err()); // 11
        assert!(validate_new_password("tolv  tecken").is_ok()); // 12
                                                                // 11 characters but 14 bytes: still too short.
        assert!(validate_new_password("åäöåäöabcde").is_err());
        assert!(validate_new_password("åäöåäöabcdef").is_ok());
    }

    #[test]
    fn new_passwords_are_at_most_256_characters() {
        let mut at_limit = "ab".repeat(128);
        assert!(validate_new_password(&at_limit).is_ok());
        at_limit.push('c');
        let message = validate_new_password(&at_limit).unwrap_err();
        assert!(message.contains("256"), "{message}");
        // 256 characters of two bytes each is fine: the limit is on characters.
        assert!(validate_new_password(&"åä".repeat(128)).is_ok());
    }

    #[test]
    fn a_single_repeated_character_is_refused() {
        assert!(validate_new_password("aaaaaaaaaaaaaaaa").is_err());
        assert!(validate_new_password("åååååååååååååå").is_err());
        assert!(validate_new_password("aaaaaaaaaaaaaaab").is_ok());
    }
}
