//! Stories about logging in, staying logged in and being thrown out.

use serde_json::{json, Value};
use trygg::auth::throttle::ThrottlePolicy;
use trygg::policy::Profession;

use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, spawn_app_with, AppOptions};

#[actix_web::test]
async fn a_social_secretary_logs_in_with_password_and_code_and_sees_her_profile() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));

    let session = app.login(&anna).await;
    let me = app.as_user(&session).get("/api/v1/me").await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], anna.username);
    assert_eq!(me["profession"], "social_secretary");
    assert_eq!(me["second_factor_enrolled"], true);
    assert!(me.get("password_hash").is_none() && me.get("totp_secret").is_none());
}

#[actix_web::test]
async fn the_token_endpoint_takes_a_form_as_well_as_json() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let code = app.totp_for(&anna);
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", anna.username.as_str()),
            ("password", anna.password.as_str()),
            ("totp_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_i64().unwrap() <= 900);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("rt_"));
}

#[actix_web::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));

    let wrong = app
        .token_request(json!({"grant_type": "password", "username": anna.username, "password": "not her password"}))
        .await;
    let unknown = app
        .token_request(json!({"grant_type": "password", "username": "nobody-here", "password": "not her password"}))
        .await;
    let wrong = problem(wrong, 401).await;
    let unknown = problem(unknown, 401).await;
    assert_eq!(wrong, unknown);
}

#[actix_web::test]
async fn a_person_with_a_second_factor_cannot_log_in_without_it_or_with_a_wrong_code() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));

    let without = app
        .token_request(
            json!({"grant_type": "password", "username": anna.username, "password": anna.password}),
        )
        .await;
    let body = problem(without, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("second factor"));

    let wrong_code = app
        .token_request(json!({"grant_type": "password", "username": anna.username, "password": anna.password, "totp_code": "000000"}))
        .await;
    problem(wrong_code, 401).await;
}

#[actix_web::test]
async fn a_used_totp_code_cannot_be_replayed() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let code = app.totp_for(&anna);
    let body = json!({"grant_type": "password", "username": anna.username, "password": anna.password, "totp_code": code});
    assert_eq!(app.token_request(body.clone()).await.status(), 200);
    problem(app.token_request(body).await, 401).await;
}

#[actix_web::test]
async fn a_new_user_must_enrol_a_second_factor_before_anything_else() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let mut erik = app.create_user_without_mfa(Profession::HvbStaff, Some(unit));

    let response = app
        .token_request(
            json!({"grant_type": "password", "username": erik.username, "password": erik.password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["mfa_enrolment_required"], true);
    assert!(tokens.get("refresh_token").is_none());
    let session = Session {
        access_token: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh_token: None,
    };
    let as_erik = app.as_user(&session);
    problem(as_erik.get("/api/v1/me").await, 403).await;

    let enrolment: Value = as_erik
        .post("/api/v1/me/totp", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    // The database keeps the secret sealed, never in clear.
    let stored: Option<String> = {
        use diesel::prelude::*;
        use trygg::db::schema::users;
        users::table
            .find(erik.id)
            .select(users::totp_secret)
            .first(&mut app.db.superuser())
            .unwrap()
    };
    let stored = stored.expect("a pending secret is stored");
    assert!(stored.starts_with("v1:") && !stored.contains(&secret));
    assert!(enrolment["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let wrong = as_erik
        .post("/api/v1/me/totp/confirm", json!({"code": "123456"}))
        .await;
    problem(wrong, 422).await;
    let code = crate::helpers::users::totp_code(&secret, app.clock_now().timestamp());
    let confirmed = as_erik
        .post("/api/v1/me/totp/confirm", json!({"code": code}))
        .await;
    assert_eq!(confirmed.status(), 200);
    let codes: Value = confirmed.json().await.unwrap();
    let recovery: Vec<String> = serde_json::from_value(codes["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        as_erik.get("/api/v1/me").await.status(),
        200,
        "the session is now full"
    );

    // A recovery code works once, in place of the code.
    erik.totp_secret = Some(secret);
    let with_recovery = json!({"grant_type": "password", "username": erik.username, "password": erik.password, "recovery_code": recovery[0]});
    assert_eq!(app.token_request(with_recovery.clone()).await.status(), 200);
    problem(app.token_request(with_recovery).await, 401).await;
}

#[actix_web::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let session = app.login(&anna).await;
    app.clock.advance(chrono::Duration::minutes(16));
    problem(app.as_user(&session).get("/api/v1/me").await, 401).await;
}

#[actix_web::test]
async fn a_refresh_token_is_not_accepted_as_an_access_token() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let session = app.login(&anna).await;
    let misuse = Session {
        access_token: session.refresh_token.clone().unwrap(),
        refresh_token: None,
    };
    problem(app.as_user(&misuse).get("/api/v1/me").await, 401).await;
}

#[actix_web::test]
async fn a_tampered_or_unsigned_token_is_refused() {
    use base64::Engine;
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let session = app.login(&anna).await;
    let parts: Vec<&str> = session.access_token.split('.').collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    let payload = engine.encode(serde_json::to_vec(&claims).unwrap());

    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    let none_header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{payload}.");
    for token in [tampered, unsigned] {
        let forged = Session {
            access_token: token,
            refresh_token: None,
        };
        problem(app.as_user(&forged).get("/api/v1/me").await, 401).await;
    }
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_whole_session() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let first = app.login(&anna).await;
    let old_refresh = first.refresh_token.clone().unwrap();

    let rotated = app
        .token_request(json!({"grant_type": "refresh_token", "refresh_token": old_refresh}))
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let second = Session {
        access_token: rotated["access_token"].as_str().unwrap().to_owned(),
        refresh_token: rotated["refresh_token"].as_str().map(str::to_owned),
    };
    assert_ne!(second.refresh_token.as_deref(), Some(old_refresh.as_str()));
    assert_eq!(app.as_user(&second).get("/api/v1/me").await.status(), 200);

    // Someone replays the old refresh token: the whole session family is revoked.
    let replay = app
        .token_request(json!({"grant_type": "refresh_token", "refresh_token": old_refresh}))
        .await;
    problem(replay, 401).await;
    problem(app.as_user(&second).get("/api/v1/me").await, 401).await;
    let newest = app
        .token_request(
            json!({"grant_type": "refresh_token", "refresh_token": second.refresh_token.unwrap()}),
        )
        .await;
    problem(newest, 401).await;
}

#[actix_web::test]
async fn logging_out_ends_the_session_at_once() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let session = app.login(&anna).await;
    let as_anna = app.as_user(&session);
    assert_eq!(
        as_anna
            .post("/api/v1/auth/revoke", json!({}))
            .await
            .status(),
        204
    );
    problem(as_anna.get("/api/v1/me").await, 401).await;
    let refresh = app
        .token_request(
            json!({"grant_type": "refresh_token", "refresh_token": session.refresh_token.unwrap()}),
        )
        .await;
    problem(refresh, 401).await;
}

#[actix_web::test]
async fn changing_the_password_ends_her_other_sessions() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let laptop = app.login(&anna).await;
    app.clock.advance(chrono::Duration::seconds(31));
    let phone = app.login(&anna).await;

    let changed = app
        .as_user(&laptop)
        .post("/api/v1/me/password", json!({"current_password": anna.password, "new_password": "a much longer new passphrase"}))
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.as_user(&laptop).get("/api/v1/me").await.status(), 200);
    problem(app.as_user(&phone).get("/api/v1/me").await, 401).await;
}

#[actix_web::test]
async fn a_deactivated_user_is_out_on_her_next_request() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let admin = app.create_user(Profession::SystemAdmin, None);
    let anna_session = app.login(&anna).await;
    let admin_session = app.login(&admin).await;
    let as_admin = app.as_user(&admin_session);

    let read = as_admin.get(&format!("/api/v1/users/{}", anna.id)).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let deactivate = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", anna.id)))
        .bearer_auth(&admin_session.access_token)
        .header("if-match", etag)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), 200);
    problem(app.as_user(&anna_session).get("/api/v1/me").await, 401).await;
}

fn quick_throttle() -> ThrottlePolicy {
    ThrottlePolicy {
        lock_after: 8,
        ..ThrottlePolicy::default()
    }
}

#[actix_web::test]
async fn repeated_failures_slow_down_then_lock_the_account_until_an_administrator_unlocks_it() {
    let app = spawn_app_with(AppOptions {
        throttle: Some(quick_throttle()),
        ..AppOptions::default()
    })
    .await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let wrong =
        json!({"grant_type": "password", "username": anna.username, "password": "wrong guess"});

    for _ in 0..4 {
        problem(app.token_request(wrong.clone()).await, 401).await;
    }
    // The fifth failure is answered as usual; the next attempt must wait.
    problem(app.token_request(wrong.clone()).await, 401).await;
    let throttled = app.token_request(wrong.clone()).await;
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    problem(throttled, 429).await;

    // Waiting out each delay, failures go on until the hard lock.
    for _ in 5..8 {
        app.clock.advance(chrono::Duration::minutes(16));
        problem(app.token_request(wrong.clone()).await, 401).await;
    }
    app.clock.advance(chrono::Duration::hours(24));
    let right = || async {
        app.token_request(json!({"grant_type": "password", "username": anna.username, "password": anna.password, "totp_code": app.totp_for(&anna)})).await
    };
    problem(right().await, 429).await;

    let admin = app.create_user(Profession::SystemAdmin, None);
    let admin_session = app.login(&admin).await;
    let unlock = app
        .as_user(&admin_session)
        .post(&format!("/api/v1/users/{}/unlock", anna.id), json!({}))
        .await;
    assert_eq!(unlock.status(), 204);
    assert_eq!(
        right().await.status(),
        200,
        "unlocked, and the counter is reset"
    );
}

#[actix_web::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let wrong =
        json!({"grant_type": "password", "username": anna.username, "password": "wrong guess"});
    for _ in 0..4 {
        problem(app.token_request(wrong.clone()).await, 401).await;
    }
    app.login(&anna).await;
    // The address keeps its count, so each further failure waits out the address's delay (at
    // most 30 seconds); the account's counter starts again from zero.
    for _ in 0..7 {
        app.clock.advance(chrono::Duration::seconds(31));
        problem(app.token_request(wrong.clone()).await, 401).await;
    }
    // Without the reset this would be the account's eleventh failure in a row, a 64-second wait.
    app.clock.advance(chrono::Duration::seconds(31));
    app.login(&anna).await;
}

fn throttle_failures(app: &crate::helpers::TestApp, key: &str) -> Option<i32> {
    use diesel::prelude::*;
    use trygg::db::schema::login_throttle::dsl as t;
    t::login_throttle
        .find(key)
        .select(t::failures)
        .first(&mut app.db.superuser())
        .optional()
        .unwrap()
}

#[actix_web::test]
async fn a_successful_login_clears_the_account_counter_but_never_the_address_counter() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let insider = app.create_user(Profession::SocialSecretary, Some(unit));
    let victim = app.create_user(Profession::SocialSecretary, Some(unit));
    let wrong =
        json!({"grant_type": "password", "username": victim.username, "password": "wrong guess"});
    for _ in 0..4 {
        problem(app.token_request(wrong.clone()).await, 401).await;
    }
    // The insider logs in with her own working account from the same address.
    app.login(&insider).await;
    assert_eq!(
        throttle_failures(&app, &format!("account:{}", insider.username)),
        Some(0)
    );
    assert_eq!(throttle_failures(&app, "address:127.0.0.1"), Some(4));
    assert_eq!(
        throttle_failures(&app, &format!("account:{}", victim.username)),
        Some(4)
    );
    // So the fifth guess at anyone from this address still costs a wait.
    problem(app.token_request(wrong.clone()).await, 401).await;
    let other = json!({"grant_type": "password", "username": "someone-else", "password": "guess"});
    let throttled = app.token_request(other).await;
    problem(throttled, 429).await;
}

#[actix_web::test]
async fn an_address_waits_at_most_thirty_seconds_while_an_account_waits_longer() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let wrong = |username: &str| json!({"grant_type": "password", "username": username, "password": "wrong guess"});
    // Twelve failures in a row from one address, each at another name: the policy's delay
    // would be 2^7 = 128 seconds, but an address waits at most 30.
    for n in 0..12 {
        problem(app.token_request(wrong(&format!("stranger{n}"))).await, 401).await;
        app.clock.advance(chrono::Duration::seconds(31));
    }
    problem(app.token_request(wrong("stranger12")).await, 401).await;
    let throttled = app.token_request(wrong("stranger13")).await;
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry_after, trygg::auth::login::ADDRESS_MAX_WAIT_SECS);
    problem(throttled, 429).await;
    app.clock.advance(chrono::Duration::seconds(30));
    app.login(&anna).await;

    // One account guessed at as often waits the policy's full delay.
    app.clock.advance(chrono::Duration::seconds(31));
    for _ in 0..12 {
        app.clock.advance(chrono::Duration::minutes(16));
        problem(app.token_request(wrong("stranger0")).await, 401).await;
    }
    app.clock.advance(chrono::Duration::seconds(31));
    let throttled = app.token_request(wrong("stranger0")).await;
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 60, "{retry_after}");
    problem(throttled, 429).await;
}

#[actix_web::test]
async fn rotating_a_client_secret_lifts_the_lock_a_stranger_put_on_it() {
    let app = spawn_app_with(AppOptions {
        throttle: Some(quick_throttle()),
        ..AppOptions::default()
    })
    .await;
    let admin = app.system_admin_session().await;
    let client = app
        .register_client(&admin, "placeringar", &["placements:read"])
        .await;
    // A stranger guesses until the client is locked (8 failures under this policy).
    for _ in 0..8 {
        problem(
            app.client_token_request("Placeringar", "cs_wrong", None)
                .await,
            401,
        )
        .await;
        app.clock.advance(chrono::Duration::minutes(16));
    }
    assert_eq!(
        throttle_failures(&app, "account:client:placeringar"),
        Some(8)
    );
    problem(
        app.client_token_request(&client.client_id, &client.client_secret, None)
            .await,
        429,
    )
    .await;

    let admin = app.system_admin_session().await;
    let rotated = app
        .as_user(&admin)
        .post(
            &format!("/api/v1/service-accounts/{}/secret", client.id),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(
        throttle_failures(&app, "account:client:placeringar"),
        Some(0)
    );
    let login = app
        .client_token_request(&client.client_id, secret, None)
        .await;
    assert_eq!(login.status(), 200);
}

#[actix_web::test]
async fn guessing_the_current_password_through_a_session_is_throttled_like_a_login() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let session = app.login(&anna).await;
    let guess =
        json!({"current_password": "a wrong guess here", "new_password": "a brand new passphrase"});
    for _ in 0..5 {
        let wrong = app
            .as_user(&session)
            .post("/api/v1/me/password", guess.clone())
            .await;
        assert_eq!(
            problem(wrong, 422).await["errors"][0]["field"],
            "current_password"
        );
    }
    let throttled = app
        .as_user(&session)
        .post("/api/v1/me/password", guess)
        .await;
    assert!(throttled.headers().contains_key("retry-after"));
    problem(throttled, 429).await;
    // The same counter guards the login.
    let login = app
        .token_request(json!({"grant_type": "password", "username": anna.username, "password": anna.password, "totp_code": app.totp_for(&anna)}))
        .await;
    problem(login, 429).await;
}
