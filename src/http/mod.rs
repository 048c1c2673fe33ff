//! HTTP plumbing shared by every feature: request context, JSON bodies, the route table.

pub mod json;
pub mod request_context;
pub mod routes;

pub use json::ApiJson;
pub use request_context::RequestId;
