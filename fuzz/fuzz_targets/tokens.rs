//! Access tokens, refresh tokens and the token endpoint's request.
//!
//! The first byte picks the case:
//! * 0: an arbitrary string never verifies against the service key (nothing forges HS256).
//! * 1: a token issued with another key never verifies with ours (`BadSignature`), verifies
//!   with its own key at issue time and is expired once its lifetime and the leeway are over; a
//!   token changed in any byte that still verifies carries the same claims.
//! * 2: arbitrary JSON claims and headers signed *with the service key* (HS256, HS384, HS512):
//!   `verify` may accept only HS256 and only claims that pass every check it promises (issuer,
//!   audience, subject form, validity window, lifetime).
//! * 3: the token endpoint's body, form-encoded (`parse_form`) and as JSON (`parse_json_text`),
//!   into `TokenRequest` and its grant; and the refresh-token hash over arbitrary text.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use trygg::auth::signing_key::SigningKey;
use trygg::auth::tokens::{
    hash_opaque_token, new_refresh_token, AccessClaims, TokenError, TokenKeys, AUDIENCE, ISSUER,
    LEEWAY_SECS, MAX_ACCESS_TTL_SECS,
};
use trygg::sign_in::input::TokenRequest;
use uuid::Uuid;

struct Keys {
    ours: TokenKeys,
    ours_raw: Vec<u8>,
    other: TokenKeys,
    refresh_token: String,
}

fn key(seed: u8) -> SigningKey {
    let bytes: Vec<u8> = (0..48u8)
        .map(|i| i.wrapping_mul(73).wrapping_add(seed).rotate_left(3) ^ 0xA5)
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    SigningKey::parse(&encoded).expect("a strong fixed key")
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (ours, other) = (key(1), key(2));
        Keys {
            ours: TokenKeys::new(&ours),
            ours_raw: ours.as_bytes().to_vec(),
            other: TokenKeys::new(&other),
            refresh_token: new_refresh_token(),
        }
    })
}

/// Reads fixed-size values off the front of the input.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take::<8>())
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
}

/// An instant chrono can hold: between 1970 and about 2106.
fn instant(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds.rem_euclid(1 << 32), 0).unwrap()
}

fn assert_promised(claims: &AccessClaims, now: DateTime<Utc>) {
    let now = now.timestamp();
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    let id = claims
        .sub
        .strip_prefix("user:")
        .or_else(|| claims.sub.strip_prefix("service:"))
        .expect("subject kind");
    assert_eq!(Uuid::parse_str(id).unwrap().hyphenated().to_string(), id);
    assert!(now < claims.exp.saturating_add(LEEWAY_SECS));
    assert!(now.saturating_add(LEEWAY_SECS) >= claims.nbf.max(claims.iat));
    assert!(
        (0..=MAX_ACCESS_TTL_SECS + LEEWAY_SECS).contains(&claims.exp.saturating_sub(claims.iat))
    );
}

fuzz_target!(|data: &[u8]| {
    let keys = keys();
    let Some((&case, rest)) = data.split_first() else {
        return;
    };
    match case % 4 {
        0 => {
            let mut input = Bytes(rest);
            let now = instant(input.i64());
            let token = String::from_utf8_lossy(input.0);
            let verdict = keys.ours.verify(&token, now);
            assert!(verdict.is_err(), "an arbitrary string verified: {token:?}");
            assert!(keys.ours.verify(&keys.refresh_token, now).is_err());
        }
        1 => {
            let mut input = Bytes(rest);
            let now = instant(input.i64());
            let ttl = input.i64() % 2000;
            let kind = input.u8();
            let id = Uuid::from_bytes(input.take::<16>());
            let session = Uuid::from_bytes(input.take::<16>());
            let (position, replacement) = (input.u8() as usize, input.u8());
            let subject = match kind % 3 {
                0 => format!("user:{id}"),
                1 => format!("service:{id}"),
                _ => String::from_utf8_lossy(input.0).into_owned(),
            };
            let Ok(token) = keys.other.issue(&subject, session, now, ttl) else {
                return;
            };
            assert_eq!(keys.ours.verify(&token, now), Err(TokenError::BadSignature));
            let claims = keys
                .other
                .verify(&token, now)
                .expect("verifies with its own key");
            assert_eq!(
                (claims.sub.as_str(), claims.sid),
                (subject.as_str(), session)
            );
            assert_promised(&claims, now);
            let after = instant(now.timestamp() + ttl + LEEWAY_SECS);
            if after.timestamp() == now.timestamp() + ttl + LEEWAY_SECS {
                assert_eq!(keys.other.verify(&token, after), Err(TokenError::Expired));
            }
            let mut changed = token.clone().into_bytes();
            let position = position % changed.len();
            if changed[position] != replacement {
                changed[position] = replacement;
                let changed = String::from_utf8_lossy(&changed);
                if let Ok(accepted) = keys.other.verify(&changed, now) {
                    assert_eq!(accepted, claims, "a changed token {changed:?} verified");
                }
                assert!(keys.ours.verify(&changed, now).is_err());
            }
        }
        2 => {
            let mut input = Bytes(rest);
            let now = instant(input.i64());
            let alg =
                [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512][input.u8() as usize % 3];
            let kid = input.u8();
            let Ok(claims) = serde_json::from_slice::<serde_json::Value>(input.0) else {
                return;
            };
            let mut header = Header::new(alg);
            if kid % 2 == 1 {
                header.kid = Some("k".into());
                header.typ = None;
            }
            let encoding = EncodingKey::from_secret(&keys.ours_raw);
            let Ok(token) = jsonwebtoken::encode(&header, &claims, &encoding) else {
                return;
            };
            if let Ok(accepted) = keys.ours.verify(&token, now) {
                assert_eq!(alg, Algorithm::HS256, "accepted {alg:?}");
                assert_promised(&accepted, now);
            }
        }
        _ => {
            if let Ok(request) = trygg::http::form::parse_form::<TokenRequest>(rest) {
                let _ = request.grant();
            }
            if let Ok(request) = trygg::http::json::parse_json_text::<TokenRequest>(rest) {
                let _ = request.grant();
            }
            let text = String::from_utf8_lossy(rest);
            let hash = hash_opaque_token(&text);
            assert_eq!(hash.len(), 64);
            assert!(hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
    }
});
