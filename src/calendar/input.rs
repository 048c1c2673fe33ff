//! What a calendar program sends: the feed's URL with its token in the query.

/// The `token` of a feed's query string. Calendar programs may add parameters of their own, so
/// others are ignored rather than refused; a token given twice is no token.
pub fn feed_token(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let mut tokens = pairs.into_iter().filter(|(name, _)| name == "token");
    match (tokens.next(), tokens.next()) {
        (Some((_, token)), None) if !token.is_empty() => Some(token),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::feed_token;

    #[test]
    fn the_token_is_read_from_the_query_and_only_once() {
        assert_eq!(feed_token("token=cal_abc").as_deref(), Some("cal_abc"));
        assert_eq!(feed_token("x=1&token=cal_abc").as_deref(), Some("cal_abc"));
        assert_eq!(feed_token("token=cal_a&token=cal_b"), None);
        assert_eq!(feed_token("token="), None);
        assert_eq!(feed_token(""), None);
    }
}
