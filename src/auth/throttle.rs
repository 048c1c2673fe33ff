//! How long someone must wait after failed logins: the policy only, no storage.
//!
//! A few mistakes are free, because people mistype. After that each failure doubles the wait,
//! which costs a person seconds but makes guessing online hopeless. The caller applies the same
//! policy twice, to the account and to the client address, and takes the stricter answer, so
//! spreading guesses over many accounts or many addresses does not help.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Consecutive failures that cost nothing.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; doubles with each further failure.
    pub base_delay_secs: u64,
    pub max_delay_secs: u64,
    /// At this many consecutive failures the account is locked until an administrator unlocks
    /// it: with waits capped at `max_delay_secs`, something has to stop a patient attacker.
    pub lock_after: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 4,
            base_delay_secs: 1,
            max_delay_secs: 900,
            lock_after: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Check the credentials.
    Allow,
    /// Refuse without checking the credentials (429 with `Retry-After`). The refused attempt must
    /// not count as a failure, or a waiting user could never get out.
    Wait { retry_after_secs: u64 },
    /// Refuse without checking the credentials until an administrator unlocks the account.
    Locked,
}

impl ThrottlePolicy {
    /// The wait owed after `failures` consecutive failures, counted from the last of them.
    fn delay_secs(&self, failures: u32) -> u64 {
        let Some(doublings) = failures.checked_sub(self.free_failures.saturating_add(1)) else {
            return 0;
        };
        1u64.checked_shl(doublings)
            .and_then(|factor| factor.checked_mul(self.base_delay_secs))
            .map_or(self.max_delay_secs, |delay| delay.min(self.max_delay_secs))
    }

    /// Decides whether a login attempt may be checked now.
    ///
    /// A counter above the free failures with no time of the last failure is the caller's bug;
    /// it is treated as a failure just now (fail closed). A last failure in the future (clock
    /// moved back) is treated the same, so the wait never exceeds the policy's delay.
    pub fn decide(
        &self,
        consecutive_failures: u32,
        last_failure_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> ThrottleDecision {
        if consecutive_failures >= self.lock_after {
            return ThrottleDecision::Locked;
        }
        let delay_ms = self.delay_secs(consecutive_failures).saturating_mul(1000);
        if delay_ms == 0 {
            return ThrottleDecision::Allow;
        }
        let elapsed_ms = last_failure_at
            .map_or(0, |last| (now - last).num_milliseconds())
            .max(0) as u64;
        if elapsed_ms >= delay_ms {
            ThrottleDecision::Allow
        } else {
            ThrottleDecision::Wait {
                retry_after_secs: (delay_ms - elapsed_ms).div_ceil(1000),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + Duration::seconds(secs)
    }

    fn decide(failures: u32, secs_since_last: i64) -> ThrottleDecision {
        ThrottlePolicy::default().decide(failures, Some(at(0)), at(secs_since_last))
    }

    #[test]
    fn the_first_four_failures_cost_nothing() {
        assert_eq!(
            ThrottlePolicy::default().decide(0, None, at(0)),
            ThrottleDecision::Allow
        );
        for failures in 1..=4 {
            assert_eq!(decide(failures, 0), ThrottleDecision::Allow, "{failures}");
        }
    }

    #[test]
    fn the_fifth_failure_costs_one_second() {
        assert_eq!(
            decide(5, 0),
            ThrottleDecision::Wait {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            ThrottlePolicy::default().decide(5, Some(at(0)), at(0) + Duration::milliseconds(999)),
            ThrottleDecision::Wait {
                retry_after_secs: 1
            }
        );
        assert_eq!(decide(5, 1), ThrottleDecision::Allow);
    }

    #[test]
    fn each_further_failure_doubles_the_wait() {
        assert_eq!(
            decide(6, 0),
            ThrottleDecision::Wait {
                retry_after_secs: 2
            }
        );
        assert_eq!(
            decide(7, 0),
            ThrottleDecision::Wait {
                retry_after_secs: 4
            }
        );
        assert_eq!(
            decide(14, 0),
            ThrottleDecision::Wait {
                retry_after_secs: 512
            }
        );
        assert_eq!(
            decide(14, 500),
            ThrottleDecision::Wait {
                retry_after_secs: 12
            }
        );
        assert_eq!(decide(14, 512), ThrottleDecision::Allow);
    }

    #[test]
    fn the_wait_is_capped_at_fifteen_minutes() {
        // 2^10 = 1024 would exceed the cap.
        assert_eq!(
            decide(15, 0),
            ThrottleDecision::Wait {
                retry_after_secs: 900
            }
        );
        assert_eq!(
            decide(49, 0),
            ThrottleDecision::Wait {
                retry_after_secs: 900
            }
        );
        assert_eq!(
            decide(49, 899),
            ThrottleDecision::Wait {
                retry_after_secs: 1
            }
        );
        assert_eq!(decide(49, 900), ThrottleDecision::Allow);
    }

    #[test]
    fn the_fiftieth_failure_locks_however_long_ago_it_was() {
        assert_eq!(decide(50, 0), ThrottleDecision::Locked);
        assert_eq!(decide(50, 365 * 24 * 3600), ThrottleDecision::Locked);
        assert_eq!(decide(u32::MAX, 0), ThrottleDecision::Locked);
    }

    #[test]
    fn huge_counts_under_a_generous_lock_do_not_overflow() {
        let policy = ThrottlePolicy {
            lock_after: u32::MAX,
            base_delay_secs: u64::MAX,
            ..ThrottlePolicy::default()
        };
        for failures in [5, 6, 64, 65, 1000, u32::MAX - 1] {
            assert_eq!(
                policy.decide(failures, Some(at(0)), at(0)),
                ThrottleDecision::Wait {
                    retry_after_secs: 900
                },
                "{failures}"
            );
        }
    }

    #[test]
    fn a_missing_or_future_last_failure_fails_closed_for_one_delay() {
        let policy = ThrottlePolicy::default();
        assert_eq!(
            policy.decide(7, None, at(0)),
            ThrottleDecision::Wait {
                retry_after_secs: 4
            }
        );
        assert_eq!(
            policy.decide(7, Some(at(3600)), at(0)),
            ThrottleDecision::Wait {
                retry_after_secs: 4
            }
        );
    }
}
