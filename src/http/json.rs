//! JSON request bodies: checked content type, a size limit, and errors that name the field.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::config::DEFAULT_BODY_LIMIT;
use crate::error::{AppError, AppResult, FieldError};
pub use crate::state::BodyLimit;

/// A JSON body parsed into `T`. Use in place of `web::Json`, whose errors do not name fields.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

pub(crate) fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<BodyLimit>()
        .map(|limit| limit.0)
        .unwrap_or(DEFAULT_BODY_LIMIT)
}

pub(crate) fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

pub(crate) fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// Reads the whole body, refusing with 413 as soon as it grows past `limit`.
pub(crate) async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> AppResult<BytesMut> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| AppError::bad_request("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            match media_type(&req) {
                Some(media) if is_json_media_type(&media) => {}
                _ => {
                    return Err(AppError::UnsupportedMediaType {
                        detail: "the body must be application/json".into(),
                    })
                }
            }
            let body = read_body(&req, &mut payload, body_limit(&req)).await?;
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Parses JSON, naming the field at fault when the shape is wrong or a string holds a NUL
/// character (which PostgreSQL cannot store).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    let value = parse_json_text(body)?;
    super::text::refuse_nul(body)?;
    Ok(value)
}

/// JSON Schema counts `641.0` as the integer 641; so does Trygg. Numbers with no fraction
/// become integers before a body is read into its type, so an integer field accepts them.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                let whole = float.fract() == 0.0 && float.abs() < 9.0e15;
                if whole {
                    *value = Value::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Parses JSON without refusing NUL characters: for the token endpoint, whose login names are
/// checked (and their failures throttled) by `auth::login`.
pub fn parse_json_text<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        AppError::bad_request(format!(
            "the body is not valid JSON: {}",
            without_location(&error.to_string())
        ))
    })?;
    integral_numbers(&mut value);
    serde_path_to_error::deserialize(value).map_err(json_error)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    use serde_json::error::Category;
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = without_location(&inner.to_string());
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::bad_request(format!("the body is not valid JSON: {message}"))
        }
        Category::Data => {
            let field = field_at_fault(&path, &message);
            AppError::BadRequest {
                detail: format!("{field}: {message}"),
                errors: vec![FieldError::new(field, message)],
            }
        }
    }
}

/// serde reports a missing field at the parent's path; name the field itself.
fn field_at_fault(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_owned(),
        (path, None) => path.to_owned(),
    }
}

fn without_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Child {
        name: String,
        languages: Vec<String>,
        guardian: Guardian,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Guardian {
        phone: String,
    }

    fn fields(error: AppError) -> Vec<String> {
        match error {
            AppError::BadRequest { errors, .. } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_the_nested_field() {
        let error =
            parse_json::<Child>(br#"{"name":"A","languages":["sv", 3],"guardian":{"phone":"1"}}"#)
                .unwrap_err();
        assert_eq!(fields(error), ["languages[1]"]);
    }

    #[test]
    fn a_missing_or_unknown_field_is_named() {
        let missing = parse_json::<Child>(br#"{"name":"A","languages":[],"guardian":{}}"#);
        assert_eq!(fields(missing.unwrap_err()), ["guardian.phone"]);
        let unknown = parse_json::<Child>(
            br#"{"name":"A","languages":[],"guardian":{"phone":"1"},"nmae":"x"}"#,
        );
        assert_eq!(fields(unknown.unwrap_err()), ["nmae"]);
    }

    #[test]
    fn broken_json_is_malformed_without_a_field() {
        let error = parse_json::<Child>(br#"{"name": "#).unwrap_err();
        assert!(matches!(error, AppError::BadRequest { ref errors, .. } if errors.is_empty()));
        let trailing = parse_json::<Guardian>(br#"{"phone":"1"} x"#).unwrap_err();
        assert!(matches!(trailing, AppError::BadRequest { .. }));
    }
}
