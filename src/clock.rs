//! Time comes from a clock the app is given, so tests can move through months of schedules and
//! birthdays without waiting.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date where the social services work: birthdays, due dates and placement days
    /// follow the Swedish calendar, not UTC.
    fn today(&self) -> NaiveDate {
        self.now()
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .date_naive()
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// One reading of the clock, taken once per request so that every date and instant a request
/// writes agree with each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// The municipality's date (Europe/Stockholm).
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

impl Moment {
    pub fn of(clock: &dyn Clock) -> Self {
        let now = clock.now();
        Self {
            today: now
                .with_timezone(&chrono_tz::Europe::Stockholm)
                .date_naive(),
            now,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move. For tests and demos.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = instant;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
