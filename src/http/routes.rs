//! The route table: one place that both registers every route and lists it, so the OpenAPI
//! test can compare what is served with what is documented.

/// What a route needs to be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Bearer,
    /// A calendar feed's token in the query (`?token=`), not a bearer token.
    FeedToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

/// `route_table! { "/path/{id}" => { GET Bearer => handler, PATCH Bearer => other } }` defines
/// `ROUTES` (the list) and `configure` (the actix registration) from the same lines.
#[macro_export]
macro_rules! route_table {
    ($( $path:literal => { $( $method:ident $access:ident => $handler:path ),+ $(,)? } ),* $(,)?) => {
        pub const ROUTES: &[$crate::http::routes::RouteInfo] = &[
            $( $( $crate::http::routes::RouteInfo {
                method: stringify!($method),
                path: $path,
                access: $crate::http::routes::Access::$access,
            }, )+ )*
        ];

        pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
            $(
                cfg.service(
                    actix_web::web::resource($path)
                        $( .route(
                            actix_web::web::method(actix_web::http::Method::$method).to($handler),
                        ) )+
                );
            )*
        }
    };
}
