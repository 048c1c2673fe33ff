//! What an access export is asked for with: only the format, `?format=json|html` or, without
//! it, `Accept: text/html` for the page.

use actix_web::http::header::HeaderMap;

use crate::error::AppError;
use crate::http::html::wants_html;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

/// The format the query string and the headers ask for; 400 for any other parameter or an
/// unknown format.
pub fn format(query: &str, headers: &HeaderMap) -> Result<Format, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| AppError::bad_request("the query string is not form-encoded"))?;
    let mut format = None;
    for (name, value) in pairs {
        match (name.as_str(), value.as_str()) {
            ("format", _) if format.is_some() => {
                return Err(AppError::invalid_field("format", "give it once"))
            }
            ("format", "json") => format = Some(Format::Json),
            ("format", "html") => format = Some(Format::Html),
            ("format", _) => return Err(AppError::invalid_field("format", "json or html")),
            _ => return Err(AppError::invalid_field(name.as_str(), "unknown parameter")),
        }
    }
    Ok(format.unwrap_or(if wants_html(headers) {
        Format::Html
    } else {
        Format::Json
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderValue, ACCEPT};

    fn accepting(accept: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
        }
        headers
    }

    #[test]
    fn the_query_wins_over_accept_and_accept_picks_the_page() {
        let browser = accepting(Some("text/html,application/xhtml+xml,*/*;q=0.8"));
        assert_eq!(format("", &browser).unwrap(), Format::Html);
        assert_eq!(format("format=json", &browser).unwrap(), Format::Json);
        assert_eq!(format("", &accepting(None)).unwrap(), Format::Json);
        assert_eq!(
            format("format=html", &accepting(Some("application/json"))).unwrap(),
            Format::Html
        );
    }

    #[test]
    fn anything_else_is_a_malformed_request() {
        for bad in [
            "format=csv",
            "format=json&format=html",
            "child_id=1",
            "%zz=1",
        ] {
            let error = format(bad, &accepting(None)).unwrap_err();
            assert_eq!(error.code(), "malformed-request", "{bad}");
        }
    }
}
