//! Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed).
//!
//! Access tokens are HS256 only, signed and checked with the one service key: there is no other
//! party that needs to verify them, so no public-key algorithm is accepted and the `alg` header
//! cannot steer verification. Every token names its session (`sid`), so revoking a session in the
//! database can end its access tokens before they expire.
//!
//! Time is always the app's injected clock: jsonwebtoken reads the system clock, so its `exp` and
//! `nbf` checks are switched off and done here instead.

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::signing_key::SigningKey;

pub const ISSUER: &str = "trygg";
pub const AUDIENCE: &str = "trygg-api";
/// Short, because an access token cannot be recalled once it has left; the refresh token,
/// checked against the database each time, carries the session beyond that.
pub const MAX_ACCESS_TTL_SECS: i64 = 900;
/// Tolerated clock difference between the issuing and the checking instance.
pub const LEEWAY_SECS: i64 = 10;

const REFRESH_TOKEN_PREFIX: &str = "rt_";
const REFRESH_TOKEN_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// `user:<uuid>` or `service:<uuid>`.
    pub sub: String,
    /// The session this token belongs to; required so every token can be revoked with it.
    pub sid: Uuid,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
}

/// Why a token was not issued or not accepted. Handlers answer every verification failure with
/// the same 401; the variants exist for the log and for tests.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("an access token lives between 1 and {MAX_ACCESS_TTL_SECS} seconds, not {0}")]
    InvalidTtl(i64),
    #[error("the subject must be user:<uuid> or service:<uuid>")]
    InvalidSubject,
    #[error("could not sign the token: {0}")]
    Signing(String),
    #[error("the token is not a well-formed access token")]
    Malformed,
    #[error("the token's signature or algorithm is not accepted")]
    BadSignature,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token is meant for someone else")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token claims a lifetime longer than an access token may have")]
    LifetimeTooLong,
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidAlgorithm
            | ErrorKind::MissingAlgorithm => Self::BadSignature,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            // Bad base64 or JSON, unknown `alg` (such as "none"), missing or mistyped claims.
            _ => Self::Malformed,
        }
    }
}

/// The signing key in the forms jsonwebtoken wants, with the validation rules fixed once.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

impl TokenKeys {
    pub fn new(key: &SigningKey) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_aud = true;
        // jsonwebtoken would compare with the system clock; `verify` checks against `now`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(key.as_bytes()),
            decoding: DecodingKey::from_secret(key.as_bytes()),
            validation,
        }
    }

    /// Signs an access token for `subject` in `session_id`, valid from `now` for `ttl_secs`.
    pub fn issue(
        &self,
        subject: &str,
        session_id: Uuid,
        now: DateTime<Utc>,
        ttl_secs: i64,
    ) -> Result<String, TokenError> {
        if !(1..=MAX_ACCESS_TTL_SECS).contains(&ttl_secs) {
            return Err(TokenError::InvalidTtl(ttl_secs));
        }
        if !is_valid_subject(subject) {
            return Err(TokenError::InvalidSubject);
        }
        let iat = now.timestamp();
        let jti_time = uuid::Timestamp::from_unix(
            uuid::NoContext,
            iat.max(0) as u64,
            now.timestamp_subsec_nanos(),
        );
        let claims = AccessClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: subject.to_owned(),
            sid: session_id,
            exp: iat + ttl_secs,
            nbf: iat,
            iat,
            jti: Uuid::new_v7(jti_time),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// Checks signature, algorithm, issuer, audience, required claims and, against `now` with
    /// [`LEEWAY_SECS`], the validity window. A lifetime longer than an access token may have is
    /// refused even if signed by us: it can only come from a bug or a leaked key.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let claims =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)?.claims;
        // jsonwebtoken checked these; checking again costs nothing and survives a config slip.
        if claims.iss != ISSUER {
            return Err(TokenError::WrongIssuer);
        }
        if claims.aud != AUDIENCE {
            return Err(TokenError::WrongAudience);
        }
        if !is_valid_subject(&claims.sub) {
            return Err(TokenError::InvalidSubject);
        }
        let now = now.timestamp();
        if now >= claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::Expired);
        }
        if now.saturating_add(LEEWAY_SECS) < claims.nbf.max(claims.iat) {
            return Err(TokenError::NotYetValid);
        }
        let lifetime = claims.exp.saturating_sub(claims.iat);
        if !(0..=MAX_ACCESS_TTL_SECS + LEEWAY_SECS).contains(&lifetime) {
            return Err(TokenError::LifetimeTooLong);
        }
        Ok(claims)
    }
}

/// `user:<uuid>` or `service:<uuid>`, the uuid in its canonical hyphenated lower-case form so one
/// principal has exactly one spelling.
fn is_valid_subject(subject: &str) -> bool {
    let id = subject
        .strip_prefix("user:")
        .or_else(|| subject.strip_prefix("service:"));
    id.and_then(|id| {
        Uuid::try_parse(id)
            .ok()
            .map(|uuid| uuid.hyphenated().to_string() == id)
    })
    .unwrap_or(false)
}

/// 256 random bits from the OS, base64url without padding. The `rt_` prefix makes it plain to
/// people and log scanners that this is not a JWT, and it can never parse as one.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{REFRESH_TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// SHA-256 hex, the form in which refresh tokens are stored and looked up (also the lookup key
/// of service-account secrets, which are additionally argon2-hashed elsewhere). A fast hash is
/// enough for 256 random bits, and a stolen table of hashes cannot be presented as tokens.
pub fn hash_opaque_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use serde_json::{json, Value};

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn key() -> SigningKey {
        SigningKey::generate()
    }

    /// A fixed instant years in the past: round trips only pass if the injected time is used.
    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap()
    }

    fn subject() -> String {
        format!("user:{}", Uuid::now_v7())
    }

    fn valid_claims() -> Value {
        let iat = t0().timestamp();
        json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": subject(), "sid": Uuid::now_v7(),
            "exp": iat + 600, "nbf": iat, "iat": iat, "jti": Uuid::now_v7(),
        })
    }

    fn sign(key: &SigningKey, alg: Algorithm, claims: &Value) -> String {
        jsonwebtoken::encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    }

    fn with(mut claims: Value, field: &str, value: Value) -> Value {
        claims[field] = value;
        claims
    }

    fn without(mut claims: Value, field: &str) -> Value {
        claims.as_object_mut().unwrap().remove(field);
        claims
    }

    #[test]
    fn a_valid_token_round_trips() {
        let key = key();
        let keys = TokenKeys::new(&key);
        let (sub, sid) = (subject(), Uuid::now_v7());
        let token = keys.issue(&sub, sid, t0(), 600).unwrap();
        let claims = keys.verify(&token, t0() + Duration::seconds(30)).unwrap();
        assert_eq!(claims.sub, sub);
        assert_eq!(claims.sid, sid);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert_eq!(
            (claims.iat, claims.nbf, claims.exp),
            (t0().timestamp(), t0().timestamp(), t0().timestamp() + 600)
        );
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert!(keys
            .verify(&sign(&key, Algorithm::HS256, &valid_claims()), t0())
            .is_ok());
    }

    #[test]
    fn service_subjects_are_accepted_and_odd_ones_are_not() {
        let keys = TokenKeys::new(&key());
        let service = format!("service:{}", Uuid::now_v7());
        assert!(keys.issue(&service, Uuid::now_v7(), t0(), 60).is_ok());
        for bad in [
            "",
            "user:",
            "admin:0190a4c6-0000-7000-8000-000000000000",
            "user:not-a-uuid",
        ] {
            assert_eq!(
                keys.issue(bad, Uuid::now_v7(), t0(), 60),
                Err(TokenError::InvalidSubject),
                "{bad}"
            );
        }
        let upper = format!(
            "user:{}",
            Uuid::now_v7().hyphenated().to_string().to_uppercase()
        );
        assert_eq!(
            keys.issue(&upper, Uuid::now_v7(), t0(), 60),
            Err(TokenError::InvalidSubject)
        );
    }

    #[test]
    fn issue_refuses_a_lifetime_beyond_fifteen_minutes() {
        let keys = TokenKeys::new(&key());
        assert!(keys
            .issue(&subject(), Uuid::now_v7(), t0(), MAX_ACCESS_TTL_SECS)
            .is_ok());
        for ttl in [0, -1, MAX_ACCESS_TTL_SECS + 1] {
            assert_eq!(
                keys.issue(&subject(), Uuid::now_v7(), t0(), ttl),
                Err(TokenError::InvalidTtl(ttl))
            );
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let keys = TokenKeys::new(&key());
        let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = B64.encode(valid_claims().to_string());
        assert!(keys.verify(&format!("{header}.{payload}."), t0()).is_err());
        let header = B64.encode(br#"{"alg":"None","typ":"JWT"}"#);
        assert!(keys.verify(&format!("{header}.{payload}."), t0()).is_err());
    }

    #[test]
    fn hs384_and_hs512_with_the_same_key_are_refused() {
        let key = key();
        let keys = TokenKeys::new(&key);
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let token = sign(&key, alg, &valid_claims());
            assert_eq!(
                keys.verify(&token, t0()),
                Err(TokenError::BadSignature),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let token = sign(&key(), Algorithm::HS256, &valid_claims());
        assert_eq!(
            TokenKeys::new(&key()).verify(&token, t0()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let keys = TokenKeys::new(&key());
        let token = keys.issue(&subject(), Uuid::now_v7(), t0(), 600).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = json!(format!("user:{}", Uuid::now_v7()));
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(claims.to_string()),
            parts[2]
        );
        assert_eq!(keys.verify(&forged, t0()), Err(TokenError::BadSignature));
    }

    #[test]
    fn an_expired_token_is_refused_beyond_the_leeway() {
        let keys = TokenKeys::new(&key());
        let token = keys.issue(&subject(), Uuid::now_v7(), t0(), 60).unwrap();
        let exp = t0() + Duration::seconds(60);
        assert!(keys
            .verify(&token, exp + Duration::seconds(LEEWAY_SECS - 1))
            .is_ok());
        assert_eq!(
            keys.verify(&token, exp + Duration::seconds(LEEWAY_SECS)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            keys.verify(&token, exp + Duration::days(400)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_not_yet_valid_is_refused_beyond_the_leeway() {
        let keys = TokenKeys::new(&key());
        let token = keys.issue(&subject(), Uuid::now_v7(), t0(), 600).unwrap();
        assert!(keys
            .verify(&token, t0() - Duration::seconds(LEEWAY_SECS))
            .is_ok());
        assert_eq!(
            keys.verify(&token, t0() - Duration::seconds(LEEWAY_SECS + 1)),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn a_token_for_another_audience_or_from_another_issuer_is_refused() {
        let key = key();
        let keys = TokenKeys::new(&key);
        let token = sign(
            &key,
            Algorithm::HS256,
            &with(valid_claims(), "aud", json!("other-api")),
        );
        assert_eq!(keys.verify(&token, t0()), Err(TokenError::WrongAudience));
        let token = sign(
            &key,
            Algorithm::HS256,
            &with(valid_claims(), "iss", json!("evil")),
        );
        assert_eq!(keys.verify(&token, t0()), Err(TokenError::WrongIssuer));
    }

    #[test]
    fn a_token_without_a_session_is_refused() {
        let key = key();
        let token = sign(&key, Algorithm::HS256, &without(valid_claims(), "sid"));
        assert_eq!(
            TokenKeys::new(&key).verify(&token, t0()),
            Err(TokenError::Malformed)
        );
        let token = sign(
            &key,
            Algorithm::HS256,
            &with(valid_claims(), "sid", Value::Null),
        );
        assert_eq!(
            TokenKeys::new(&key).verify(&token, t0()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_token_missing_a_required_claim_is_refused() {
        let key = key();
        let keys = TokenKeys::new(&key);
        for claim in ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"] {
            let token = sign(&key, Algorithm::HS256, &without(valid_claims(), claim));
            assert_eq!(
                keys.verify(&token, t0()),
                Err(TokenError::Malformed),
                "{claim}"
            );
        }
    }

    #[test]
    fn a_string_typed_exp_is_refused() {
        let key = key();
        let token = sign(
            &key,
            Algorithm::HS256,
            &with(valid_claims(), "exp", json!("9999999999")),
        );
        assert_eq!(
            TokenKeys::new(&key).verify(&token, t0()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_token_claiming_a_long_lifetime_is_refused_even_if_signed_by_us() {
        let key = key();
        let keys = TokenKeys::new(&key);
        let iat = t0().timestamp();
        let long = with(
            valid_claims(),
            "exp",
            json!(iat + MAX_ACCESS_TTL_SECS + LEEWAY_SECS + 1),
        );
        assert_eq!(
            keys.verify(&sign(&key, Algorithm::HS256, &long), t0()),
            Err(TokenError::LifetimeTooLong)
        );
        let at_limit = with(
            valid_claims(),
            "exp",
            json!(iat + MAX_ACCESS_TTL_SECS + LEEWAY_SECS),
        );
        assert!(keys
            .verify(&sign(&key, Algorithm::HS256, &at_limit), t0())
            .is_ok());
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token() {
        let keys = TokenKeys::new(&key());
        assert_eq!(
            keys.verify(&new_refresh_token(), t0()),
            Err(TokenError::Malformed)
        );
        assert_eq!(keys.verify("", t0()), Err(TokenError::Malformed));
    }

    #[test]
    fn refresh_tokens_are_prefixed_random_and_256_bits() {
        let token = new_refresh_token();
        let body = token.strip_prefix("rt_").expect("prefix");
        assert_eq!(B64.decode(body).unwrap().len(), 32);
        assert_ne!(token, new_refresh_token());
        assert!(!token.contains('='));
    }

    #[test]
    fn opaque_tokens_hash_to_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hash_opaque_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hash_opaque_token("rt_a"), hash_opaque_token("rt_b"));
    }

    #[test]
    fn the_keys_never_print_the_secret() {
        assert_eq!(
            format!("{:?}", TokenKeys::new(&key())),
            "TokenKeys(<redacted>)"
        );
    }
}
