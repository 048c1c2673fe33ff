//! HTTP plumbing shared by every feature: request context, JSON bodies, CSV and HTML answers,
//! the route table.

pub mod csv;
pub mod double_option;
pub mod etag;
pub mod form;
pub mod html;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod rate_limit;
pub mod request_context;
pub mod routes;
pub mod text;

pub use json::ApiJson;
pub use request_context::RequestId;
