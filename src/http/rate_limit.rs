//! Request rates: each bearer token and each client address gets a steady allowance with a
//! burst, so one runaway client system or a stolen token cannot starve the municipality's staff.
//! Counted in this process (each instance keeps its own counts; with several instances behind a
//! balancer the effective limit is the sum). Login attempts have their own, stricter throttle in
//! the database (`auth::login`), which this does not replace.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::Error;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

pub use crate::config::RateLimitSettings;
use crate::error::AppError;

/// The limiters shared by every worker; registered as app data.
pub struct RateLimits {
    tokens: DefaultKeyedRateLimiter<[u8; 16]>,
    addresses: DefaultKeyedRateLimiter<String>,
    seen: AtomicU64,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> Arc<Self> {
        Arc::new(Self {
            tokens: RateLimiter::keyed(quota(settings.per_token_per_minute)),
            addresses: RateLimiter::keyed(quota(settings.per_address_per_minute)),
            seen: AtomicU64::new(0),
        })
    }

    /// `Some(seconds to wait)` when the request is over either allowance.
    fn check(&self, token: Option<&str>, address: Option<&str>) -> Option<u64> {
        // Forget keys that have their full allowance again, now and then, so memory stays
        // bounded by the clients of the last minute.
        if self.seen.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.tokens.retain_recent();
            self.addresses.retain_recent();
        }
        let now = DefaultClock::default().now();
        if let Some(address) = address {
            if let Err(not_until) = self.addresses.check_key(&address.to_owned()) {
                return Some(not_until.wait_time_from(now).as_secs() + 1);
            }
        }
        if let Some(token) = token {
            // A digest, so no token is kept in memory longer than its request.
            let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            let mut key = [0u8; 16];
            key.copy_from_slice(&digest[..16]);
            if let Err(not_until) = self.tokens.check_key(&key) {
                return Some(not_until.wait_time_from(now).as_secs() + 1);
            }
        }
        None
    }
}

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let wait = req.app_data::<web::Data<RateLimits>>().and_then(|limits| {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let address = req.peer_addr().map(|a| a.ip().to_string());
        limits.check(token, address.as_deref())
    });
    match wait {
        Some(retry_after_secs) => {
            Ok(req.error_response(AppError::TooManyRequests { retry_after_secs }))
        }
        None => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_over_its_allowance_waits_and_another_token_does_not() {
        let limits = RateLimits::new(RateLimitSettings {
            per_token_per_minute: 3,
            per_address_per_minute: 100,
        });
        for _ in 0..3 {
            assert_eq!(limits.check(Some("a"), Some("10.0.0.1")), None);
        }
        assert!(limits
            .check(Some("a"), Some("10.0.0.1"))
            .is_some_and(|s| s >= 1));
        assert_eq!(limits.check(Some("b"), Some("10.0.0.1")), None);
    }

    #[test]
    fn an_address_over_its_allowance_waits_whatever_the_token() {
        let limits = RateLimits::new(RateLimitSettings {
            per_token_per_minute: 100,
            per_address_per_minute: 2,
        });
        assert_eq!(limits.check(Some("a"), Some("10.0.0.2")), None);
        assert_eq!(limits.check(None, Some("10.0.0.2")), None);
        assert!(limits.check(Some("c"), Some("10.0.0.2")).is_some());
        assert_eq!(limits.check(Some("c"), Some("10.0.0.3")), None);
    }
}
