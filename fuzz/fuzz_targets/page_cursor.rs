//! `?limit=&cursor=` paging: the query string as actix decodes it (`serde_urlencoded` into
//! `PageQuery`), then `PageQuery::parse` and its cursor decoder.
//!
//! Besides never panicking: an accepted limit is 1 to 500; an accepted cursor is exactly what
//! `encode_cursor` gives for the id it decodes to (one id, one cursor); and every id's cursor
//! decodes to that id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trygg::http::pagination::{encode_cursor, PageQuery, MAX_LIMIT};
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let id = Uuid::from_slice(&data[..16]).unwrap();
        let query = PageQuery {
            limit: None,
            cursor: Some(encode_cursor(id)),
        };
        assert_eq!(query.parse().expect("own cursor").after, Some(id));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = serde_urlencoded::from_str::<PageQuery>(text) else {
        return;
    };
    if let Ok(page) = query.parse() {
        assert!((1..=MAX_LIMIT).contains(&page.limit));
        match (query.cursor.as_deref(), page.after) {
            (None | Some(""), None) => {}
            (Some(cursor), Some(after)) => assert_eq!(encode_cursor(after), cursor),
            (cursor, after) => panic!("cursor {cursor:?} gave {after:?}"),
        }
    }
});
