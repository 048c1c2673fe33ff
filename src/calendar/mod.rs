//! The calendar feed: a person's due and overdue contacts (her worklist) as an iCalendar feed
//! (RFC 5545) that calendar programs subscribe to. Those programs and the services behind them
//! are third parties, so an event names no child: a short case reference and a link into Trygg,
//! and a first name only where the municipality allows it and never for a protected identity.
//! The feed is opened by a token of its own in its URL, not by a bearer token.

pub mod input;
pub mod routes;
pub mod store;
pub mod view;
