//! HTTP plumbing shared by every feature: request context, JSON bodies and query strings, strict
//! dates, CSV and HTML answers, the route table.

pub mod csv;
pub mod date;
pub mod double_option;
pub mod etag;
pub mod form;
pub mod html;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod query;
pub mod rate_limit;
pub mod request_context;
pub mod routes;
pub mod text;

pub use json::ApiJson;
pub use query::ApiQuery;
pub use request_context::RequestId;
