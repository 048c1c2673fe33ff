//! Every route the service serves. The OpenAPI spec is tested against this table.

use crate::users::{me, routes as users};
use crate::{auth, health};

crate::route_table! {
    "/health/live" => { GET Public => health::live },
    "/health/ready" => { GET Public => health::ready },
    "/api/v1/auth/token" => { POST Public => auth::routes::token },
    "/api/v1/auth/revoke" => { POST Bearer => auth::routes::revoke },
    "/api/v1/me" => { GET Bearer => me::profile },
    "/api/v1/me/password" => { POST Bearer => me::change_password },
    "/api/v1/me/totp" => { POST Bearer => me::start_totp },
    "/api/v1/me/totp/confirm" => { POST Bearer => me::confirm_totp },
    "/api/v1/users" => { GET Bearer => users::list, POST Bearer => users::create },
    "/api/v1/users/{id}" => { GET Bearer => users::get, PATCH Bearer => users::update },
    "/api/v1/users/{id}/unlock" => { POST Bearer => users::unlock },
}
