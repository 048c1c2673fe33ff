//! Query strings parsed into `T`, with the parameter at fault named. Use in place of
//! `web::Query`, whose errors name none: `?until=2026-1-5` is refused as
//! `{"errors": [{"field": "until", ...}]}`, like a bad field of a JSON body.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, FieldError};

#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> AppResult<T> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = if path == "." {
            named_in(&message).unwrap_or("query").to_owned()
        } else {
            path
        };
        AppError::BadRequest {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    })
}

/// The parameter a missing- or unknown-field error names (in backticks): serde reports those
/// at the top, not at the parameter's path.
pub fn named_in(message: &str) -> Option<&str> {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains(" field `"))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde::Deserialize;

    use super::parse_query;
    use crate::error::AppError;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Query {
        #[serde(default, with = "crate::http::date::option")]
        until: Option<NaiveDate>,
        limit: Option<i64>,
    }

    fn field(query: &str) -> String {
        match parse_query::<Query>(query) {
            Err(AppError::BadRequest { errors, .. }) => errors[0].field.clone(),
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn a_bad_parameter_is_named() {
        let query: Query = parse_query("until=2026-01-05&limit=3").unwrap();
        assert_eq!(query.until, NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(query.limit, Some(3));
        assert!(parse_query::<Query>("").unwrap().until.is_none());
        assert_eq!(field("until=2026-1-5"), "until");
        assert_eq!(field("until=%202026-01-05"), "until");
        assert_eq!(field("until="), "until");
        assert_eq!(field("limit=many"), "limit");
        assert_eq!(field("since=2026-01-05"), "since");
    }
}
