//! Webhooks for other systems: each change a subscription follows is sent to its HTTPS
//! endpoint, at least once, signed the Standard Webhooks way, with a delivery log. The outbox is
//! the sealed audit chain (see `outbox`), so no committed change is missed and no rolled-back
//! one is sent.

pub mod dispatcher;
pub mod input;
pub mod outbox;
pub mod routes;
pub mod signing;
pub mod store;
pub mod target;
pub mod view;
