//! A login for a username nobody has costs the same time as a login with a wrong password for a
//! real one, so response times do not reveal who has an account (issue 3).
//!
//! A test binary of its own: cargo runs test binaries one after another, so the API tests, which
//! run many apps in parallel, do not compete with these measurements for the CPU.

#![allow(dead_code)] // The harness has more than this test needs.

#[path = "api/helpers/mod.rs"]
mod helpers;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use trygg::auth::throttle::ThrottlePolicy;
use trygg::policy::Profession;

use helpers::{spawn_app_with, AppOptions, TestApp};

/// Pairs of measured attempts (one of each kind per pair) in one measurement.
const ROUNDS: usize = 50;
/// Unmeasured attempts of each kind first: connections, the pool, the dummy hash, caches.
const WARM_UP: usize = 5;
/// The largest difference of the two medians we accept, as a fraction of the smaller one.
/// Issue 3 asks for "within 10 %"; one argon2id verification (tens of milliseconds) dominates
/// both paths, and the database work around it is the same in shape. On a quiet machine the
/// medians come out about 0-5 % apart.
const TOLERANCE: f64 = 0.10;
/// Measurements before giving up; the test passes on the first within the tolerance. A real
/// difference (say, a path that skips the hash) shows in every one, while a burst of other work
/// on a small machine (another test suite, a build) can push one measurement past 10 % but
/// seldom several in a row: on 2 cores, next to a full parallel API test run, about a third of
/// single measurements failed and no test run failed.
const MEASUREMENTS: usize = 5;

/// What one attempt answered, and how long the whole round trip took.
struct Attempt {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
    elapsed: Duration,
}

async fn attempt(app: &TestApp, username: &str, password: &str) -> Attempt {
    let request = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"grant_type": "password", "username": username, "password": password}));
    let started = Instant::now();
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    // Everything but what differs per request by design.
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body: Value = response.json().await.expect("a JSON body");
    let elapsed = started.elapsed();
    Attempt {
        status,
        headers,
        body,
        elapsed,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let mid = times.len() / 2;
    if times.len() % 2 == 0 {
        (times[mid - 1] + times[mid]) / 2
    } else {
        times[mid]
    }
}

/// A fresh name for each attempt, as someone probing for accounts would send.
fn unknown_name(i: usize) -> String {
    format!(
        "nobody-{i}-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
}

#[actix_web::test]
async fn an_unknown_username_and_a_wrong_password_take_the_same_time_and_get_the_same_answer() {
    // Throttling would answer 429 before checking any password; keep it out of the way.
    let app = spawn_app_with(AppOptions {
        throttle: Some(ThrottlePolicy {
            free_failures: 10_000,
            lock_after: 1_000_000,
            ..ThrottlePolicy::default()
        }),
        ..AppOptions::default()
    })
    .await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let wrong_password = "not anna's password at all";

    for i in 0..WARM_UP {
        attempt(&app, &unknown_name(i), wrong_password).await;
        attempt(&app, &anna.username, wrong_password).await;
    }

    let mut results = Vec::new();
    for _ in 0..MEASUREMENTS {
        let (unknown, known, difference) = measure(&app, &anna.username, wrong_password).await;
        eprintln!(
            "median login time: unknown user {unknown:?}, wrong password {known:?} ({:.1} % apart)",
            difference * 100.0
        );
        results.push(format!(
            "unknown user {unknown:?} vs wrong password {known:?}: {:.1} % apart",
            difference * 100.0
        ));
        if difference <= TOLERANCE {
            return;
        }
    }
    panic!(
        "an unknown user and a wrong password differ in time by more than {:.0} % in every measurement: {results:#?}",
        TOLERANCE * 100.0
    );
}

/// One measurement: `ROUNDS` pairs, alternating which kind goes first. Checks that every answer
/// is the same, and returns the two medians and the median pair's difference.
async fn measure(app: &TestApp, username: &str, password: &str) -> (Duration, Duration, f64) {
    let mut unknown = Vec::with_capacity(ROUNDS);
    let mut known = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        // Alternate which goes first, so a slow drift in the machine hits both alike.
        if i % 2 == 0 {
            unknown.push(attempt(app, &unknown_name(i), password).await);
            known.push(attempt(app, username, password).await);
        } else {
            known.push(attempt(app, username, password).await);
            unknown.push(attempt(app, &unknown_name(i), password).await);
        }
    }

    // The same answer, to the byte of the body.
    let reference = &known[0];
    assert_eq!(reference.status, 401);
    for other in known.iter().chain(&unknown) {
        assert_eq!(other.status, reference.status);
        assert_eq!(other.headers, reference.headers);
        assert_eq!(other.body, reference.body);
    }

    // Each pair ran back to back, so it met the same load: the median of the pairs' ratios is
    // robust both to a stray slow request and to the machine getting busier or quieter.
    let mut ratios: Vec<f64> = unknown
        .iter()
        .zip(&known)
        .map(|(u, k)| k.elapsed.as_secs_f64() / u.elapsed.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let difference = (ratio - 1.0).abs().max((1.0 / ratio - 1.0).abs());
    let unknown = median(unknown.into_iter().map(|a| a.elapsed).collect());
    let known = median(known.into_iter().map(|a| a.elapsed).collect());
    (unknown, known, difference)
}
