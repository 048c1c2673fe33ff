//! Other systems in tests: registered by a system administrator through the real API, then
//! logging in with `client_credentials`.

use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use super::users::Session;
use super::TestApp;

/// A registered client system and the secret it was shown once.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: Uuid,
    pub client_id: String,
    pub client_secret: String,
    pub etag: String,
}

impl TestApp {
    /// A new system administrator, logged in.
    pub async fn system_admin_session(&self) -> Session {
        let admin = self.create_user(Profession::SystemAdmin, None);
        self.login(&admin).await
    }

    /// Registers a client system as `admin`; panics unless it is created.
    pub async fn register_client(
        &self,
        admin: &Session,
        client_id: &str,
        scopes: &[&str],
    ) -> TestClient {
        let response = self
            .as_user(admin)
            .post(
                "/api/v1/service-accounts",
                json!({"client_id": client_id, "name": format!("System {client_id}"), "scopes": scopes}),
            )
            .await;
        assert_eq!(response.status(), 201, "registering {client_id} failed");
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        TestClient {
            id: body["id"].as_str().unwrap().parse().unwrap(),
            client_id: body["client_id"].as_str().unwrap().to_owned(),
            client_secret: body["client_secret"].as_str().unwrap().to_owned(),
            etag,
        }
    }

    /// A `client_credentials` token request in JSON.
    pub async fn client_token_request(
        &self,
        client_id: &str,
        client_secret: &str,
        scope: Option<&str>,
    ) -> reqwest::Response {
        let mut body = json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        });
        if let Some(scope) = scope {
            body["scope"] = json!(scope);
        }
        self.token_request(body).await
    }

    /// Logs a client system in; panics unless a token comes back.
    pub async fn client_login(&self, client: &TestClient) -> Session {
        let response = self
            .client_token_request(&client.client_id, &client.client_secret, None)
            .await;
        assert_eq!(
            response.status(),
            200,
            "login of {} failed",
            client.client_id
        );
        let tokens: Value = response.json().await.unwrap();
        Session {
            access_token: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh_token: None,
        }
    }

    /// `PATCH path` as `session`, with `If-Match` when given.
    pub async fn patch_if_match(
        &self,
        session: &Session,
        path: &str,
        if_match: Option<&str>,
        body: Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .patch(self.url(path))
            .bearer_auth(&session.access_token)
            .json(&body);
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        request.send().await.unwrap()
    }
}
