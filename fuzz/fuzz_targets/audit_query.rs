//! The audit review's query strings: `Listing::parse` (`/audit-events` and its views) and
//! `Sampling::parse` (spot checks), with an `Accept` header; and the boundary NUL check on
//! every query string, `trygg::http::request_context::query_parameter_with_nul`.
//!
//! The input is the query string, then optionally a newline and the `Accept` header. Besides
//! never panicking:
//! * an accepted listing has a limit within its format's bounds (1 to 500 for JSON, 1 to 10,000
//!   for CSV), a cursor after a positive sequence number, `from` not after `to`, and names no
//!   sample size; an accepted sample has a size of 1 to 200 and no paging;
//! * an accepted query holds no empty value (`unit_id=` is refused, never read as "no filter");
//! * an encoded sequence number is accepted back as a cursor;
//! * when the NUL check passes a query that HTTP can carry (no raw control character), no
//!   decoded name or value holds NUL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trygg::audit_review::query::{
    encode_cursor, Format, Listing, Sampling, CSV_MAX_LIMIT, MAX_LIMIT, MAX_SAMPLE,
};
use trygg::http::request_context::query_parameter_with_nul;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, accept) = match text.split_once('\n') {
        Some((query, accept)) => (query, Some(accept)),
        None => (text, None),
    };

    // A raw control character never reaches a handler: the HTTP parser refuses it in a URI.
    // What is left to decode into NUL is a percent escape.
    let transmissible = !query.chars().any(char::is_control);
    if transmissible && query_parameter_with_nul(query).is_none() {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        assert!(
            !pairs
                .iter()
                .any(|(k, v)| k.contains('\0') || v.contains('\0')),
            "a NUL passed the query check"
        );
    }

    let no_empty_value = || {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        assert!(
            pairs.iter().all(|(_, v)| !v.is_empty()),
            "accepted an empty filter value"
        );
    };

    if let Ok(listing) = Listing::parse(query, accept) {
        no_empty_value();
        let max = match listing.format {
            Format::Json => MAX_LIMIT,
            Format::Csv => CSV_MAX_LIMIT,
        };
        assert!((1..=max).contains(&listing.limit));
        assert!(listing.after.is_none_or(|seq| seq > 0));
        if let (Some(from), Some(to)) = (listing.filter.from, listing.filter.to) {
            assert!(from <= to);
        }
        if let Some(seq) = listing.after {
            let again = Listing::parse(&format!("cursor={}", encode_cursor(seq)), None)
                .expect("own cursor");
            assert_eq!(again.after, Some(seq));
        }
    }
    if let Ok(sampling) = Sampling::parse(query, accept) {
        no_empty_value();
        assert!((1..=MAX_SAMPLE).contains(&sampling.size));
        if let (Some(from), Some(to)) = (sampling.filter.from, sampling.filter.to) {
            assert!(from <= to);
        }
    }
});
