//! People in tests: created straight in the database (as the CLI would), then logging in
//! through the real token endpoint with a real second factor.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::policy::Profession;
use trygg::users::store::{insert, NewUser};
use uuid::Uuid;

use super::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub username: String,
    pub password: String,
    pub profession: Profession,
    pub unit_id: Option<Uuid>,
    pub totp_secret: Option<String>,
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

pub fn totp_code(secret: &str, unix: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes);
    totp.generate(unix as u64)
}

impl TestApp {
    pub fn create_unit(&self, name: &str) -> Uuid {
        let mut conn = self.db.superuser();
        conn.transaction(|conn| {
            let now = Utc::now();
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Create,
                EntityType::Unit,
                None,
                now,
            );
            let id = trygg::units::store::insert(conn, name, event.id, now)?;
            audit::append(
                conn,
                &[AuditEvent {
                    entity_id: Some(id),
                    ..event
                }],
            )?;
            Ok::<_, trygg::error::AppError>(id)
        })
        .expect("create a unit")
    }

    /// A user with a confirmed second factor, as most people have.
    pub fn create_user(&self, profession: Profession, unit_id: Option<Uuid>) -> TestUser {
        let mut user = self.create_user_without_mfa(profession, unit_id);
        let secret = trygg::auth::totp::generate_secret();
        let mut conn = self.db.superuser();
        conn.transaction(|conn| {
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::MfaEnrol,
                EntityType::User,
                Some(user.id),
                Utc::now(),
            );
            diesel::update(trygg::db::schema::users::table.find(user.id))
                .set((
                    trygg::db::schema::users::totp_secret
                        .eq(self.settings.data_key.seal(user.id.as_bytes(), &secret)),
                    trygg::db::schema::users::totp_confirmed_at.eq(Utc::now()),
                    trygg::db::schema::users::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            audit::append(conn, &[event])?;
            Ok::<_, trygg::error::AppError>(())
        })
        .expect("enrol a second factor");
        user.totp_secret = Some(secret);
        user
    }

    pub fn create_user_without_mfa(
        &self,
        profession: Profession,
        unit_id: Option<Uuid>,
    ) -> TestUser {
        let username = format!(
            "{}-{}",
            profession.as_str().replace('_', "-"),
            &Uuid::now_v7().simple().to_string()[20..]
        );
        let hash = password_hash();
        let mut conn = self.db.superuser();
        let row = conn
            .transaction(|conn| {
                let now = Utc::now();
                let event = AuditEvent::new(
                    AuditActor::system(),
                    AuditAction::Create,
                    EntityType::User,
                    None,
                    now,
                );
                let new_user = NewUser {
                    username: username.clone(),
                    display_name: format!("Test {}", profession.as_str()),
                    profession,
                    unit_id,
                };
                let row = insert(conn, &new_user, &hash, event.id, now)?;
                audit::append(
                    conn,
                    &[AuditEvent {
                        entity_id: Some(row.id),
                        ..event
                    }],
                )?;
                Ok::<_, trygg::error::AppError>(row)
            })
            .expect("create a user");
        TestUser {
            id: row.id,
            username,
            password: PASSWORD.to_owned(),
            profession,
            unit_id,
            totp_secret: None,
        }
    }

    /// The current TOTP code for `user`, by the app's clock.
    pub fn totp_for(&self, user: &TestUser) -> String {
        totp_code(
            user.totp_secret
                .as_deref()
                .expect("user has a second factor"),
            self.clock_now().timestamp(),
        )
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use trygg::clock::Clock;
        self.clock.now()
    }

    pub async fn token_request(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/token"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Logs in with password and second factor; panics unless tokens come back.
    pub async fn login(&self, user: &TestUser) -> Session {
        let mut body = json!({
            "grant_type": "password",
            "username": user.username,
            "password": user.password,
        });
        if user.totp_secret.is_some() {
            body["totp_code"] = json!(self.totp_for(user));
        }
        let response = self.token_request(body).await;
        assert_eq!(response.status(), 200, "login of {} failed", user.username);
        let tokens: Value = response.json().await.unwrap();
        Session {
            access_token: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh_token: tokens["refresh_token"].as_str().map(str::to_owned),
        }
    }

    pub fn as_user<'a>(&'a self, session: &'a Session) -> AsUser<'a> {
        AsUser { app: self, session }
    }
}

/// Requests made with one session's access token.
pub struct AsUser<'a> {
    app: &'a TestApp,
    session: &'a Session,
}

impl AsUser<'_> {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.session.access_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

/// Hashing at OWASP cost is slow; every test user shares one hash of the same password.
fn password_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| trygg::auth::password::hash_password(PASSWORD).unwrap())
        .clone()
}
