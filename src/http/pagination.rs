//! `?limit=&cursor=` paging over time-ordered (UUIDv7) ids; the cursor is opaque to clients.

use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    /// Items come after this id.
    pub after: Option<Uuid>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<Page, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
                AppError::invalid_field("cursor", "is not a cursor this service gave out")
            })?),
        };
        Ok(Page { limit, after })
    }
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    Uuid::from_slice(&bytes).ok()
}

pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// A position in an ordered log (the audit log's event number, the chain's position) as an
/// opaque cursor.
pub fn encode_position(position: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position.to_be_bytes())
}

/// The position a cursor from [`encode_position`] names, if it is one and not below `least`.
pub fn decode_position(cursor: &str, least: i64) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let position = i64::from_be_bytes(bytes.try_into().ok()?);
    (position >= least).then_some(position)
}

#[derive(Debug, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// `rows` were fetched with `limit + 1`, so a surplus row means there is a next page.
    pub fn from_rows(mut rows: Vec<T>, page: Page, id_of: impl Fn(&T) -> Uuid) -> Self {
        let more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit as usize);
        let next_cursor = if more {
            rows.last().map(|row| encode_cursor(id_of(row)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}
