//! Every route the service serves. The OpenAPI spec is tested against this table.

use crate::health;

crate::route_table! {
    "/health/live" => { GET Public => health::live },
    "/health/ready" => { GET Public => health::ready },
}
