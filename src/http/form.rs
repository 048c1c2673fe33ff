//! Bodies that may come form-encoded or as JSON, as OAuth 2.0 clients send either.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::json::{body_limit, is_json_media_type, media_type, parse_json_text, read_body};
use crate::error::{AppError, FieldError};

pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for FormOrJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let media = media_type(&req).unwrap_or_default();
            let form = media == "application/x-www-form-urlencoded";
            if !form && !is_json_media_type(&media) {
                return Err(AppError::UnsupportedMediaType {
                    detail: "send application/x-www-form-urlencoded or application/json".into(),
                });
            }
            let body = read_body(&req, &mut payload, body_limit(&req)).await?;
            if form {
                parse_form(&body).map(FormOrJson)
            } else {
                parse_json_text(&body).map(FormOrJson)
            }
        })
    }
}

pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_urlencoded::from_bytes(body).map_err(|error| {
        let message = error.to_string();
        let field = message
            .strip_prefix("missing field `")
            .or_else(|| message.strip_prefix("unknown field `"))
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("body")
            .to_owned();
        AppError::BadRequest {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    })
}
