//! Every route the service serves. The OpenAPI spec is tested against this table.

use crate::access_requests::routes as access_requests;
use crate::audit_review::routes as audit;
use crate::calendar::routes as calendar;
use crate::changes::routes as changes;
use crate::children::emergency;
use crate::children::routes as children;
use crate::claims::routes as claims;
use crate::contacts::routes as contacts;
use crate::contacts::worklist;
use crate::facilities::routes as facilities;
use crate::health;
use crate::placements::routes as placements;
use crate::plans::alerts as plan_alerts;
use crate::plans::routes as plans;
use crate::reports::routes as reports;
use crate::service_accounts::routes as service_accounts;
use crate::sign_in::routes as sign_in;
use crate::units::routes as units;
use crate::users::{me, routes as users};
use crate::webhooks::routes as webhooks;

crate::route_table! {
    "/health/live" => { GET Public => health::live },
    "/health/ready" => { GET Public => health::ready },
    "/api/v1/auth/token" => { POST Public => sign_in::token },
    "/api/v1/auth/revoke" => { POST Bearer => sign_in::revoke },
    "/api/v1/me" => { GET Bearer => me::profile },
    "/api/v1/me/password" => { POST Bearer => me::change_password },
    "/api/v1/me/totp" => { POST Bearer => me::start_totp },
    "/api/v1/me/totp/confirm" => { POST Bearer => me::confirm_totp },
    "/api/v1/me/worklist" => { GET Bearer => worklist::get },
    "/api/v1/me/calendar-feed" => {
        POST Bearer => calendar::create,
        DELETE Bearer => calendar::revoke,
    },
    // Calendar programs send the feed's own token in its URL, never a bearer token.
    "/api/v1/me/calendar.ics" => { GET FeedToken => calendar::get },
    "/api/v1/users" => { GET Bearer => users::list, POST Bearer => users::create },
    "/api/v1/users/{id}" => { GET Bearer => users::get, PATCH Bearer => users::update },
    "/api/v1/users/{id}/unlock" => { POST Bearer => users::unlock },
    "/api/v1/service-accounts" => {
        GET Bearer => service_accounts::list,
        POST Bearer => service_accounts::create,
    },
    "/api/v1/service-accounts/{id}" => {
        GET Bearer => service_accounts::get,
        PATCH Bearer => service_accounts::update,
    },
    "/api/v1/service-accounts/{id}/secret" => { POST Bearer => service_accounts::rotate_secret },
    "/api/v1/units" => { GET Bearer => units::list, POST Bearer => units::create },
    "/api/v1/units/{id}" => { GET Bearer => units::get, PATCH Bearer => units::update },
    "/api/v1/units/{id}/age-out-alerts" => { GET Bearer => plan_alerts::of_unit },
    "/api/v1/facilities" => { GET Bearer => facilities::list, POST Bearer => facilities::create },
    "/api/v1/facilities/{id}" => {
        GET Bearer => facilities::get,
        PATCH Bearer => facilities::update,
    },
    "/api/v1/facilities/{id}/staff" => {
        GET Bearer => facilities::staff,
        PUT Bearer => facilities::replace_staff,
    },
    // Fixed paths before `{id}`: actix matches resources in the order they are registered.
    "/api/v1/audit-events" => { GET Bearer => audit::list },
    "/api/v1/audit-events/emergency-accesses" => { GET Bearer => audit::emergency_accesses },
    "/api/v1/audit-events/protected-identity-accesses" => {
        GET Bearer => audit::protected_identity_accesses,
    },
    "/api/v1/audit-events/outside-unit-accesses" => { GET Bearer => audit::outside_unit_accesses },
    "/api/v1/audit-events/sample" => { GET Bearer => audit::sample },
    "/api/v1/audit-events/verify" => { GET Bearer => audit::verify },
    "/api/v1/audit-events/checkpoints" => { POST Bearer => audit::checkpoint },
    "/api/v1/audit-events/checkpoints/latest" => {
        GET Bearer => audit::latest_checkpoint_for_witness,
    },
    "/api/v1/audit-events/{id}" => { GET Bearer => audit::get },
    "/api/v1/children" => { GET Bearer => children::list, POST Bearer => children::create },
    "/api/v1/children/{id}" => { GET Bearer => children::get, PATCH Bearer => children::update },
    "/api/v1/children/{id}/secretaries" => { PUT Bearer => children::assign_secretaries },
    "/api/v1/children/{id}/emergency-access" => { POST Bearer => emergency::request },
    "/api/v1/children/{id}/protection" => { POST Bearer => children::decide_protection },
    "/api/v1/children/{id}/age-assessments" => { POST Bearer => children::reassess_age },
    "/api/v1/children/{id}/access-export" => { GET Bearer => access_requests::export },
    "/api/v1/children/{id}/placements" => {
        GET Bearer => placements::list,
        POST Bearer => placements::create,
    },
    "/api/v1/children/{id}/moves" => { POST Bearer => placements::move_child },
    "/api/v1/children/{id}/contact-schedules" => {
        GET Bearer => contacts::list_schedules,
        POST Bearer => contacts::create_schedule,
    },
    "/api/v1/contact-schedules/{id}" => {
        GET Bearer => contacts::get_schedule,
        PATCH Bearer => contacts::update_schedule,
    },
    "/api/v1/children/{id}/visits" => {
        GET Bearer => contacts::list_visits,
        POST Bearer => contacts::record_visit,
    },
    "/api/v1/visits/{id}/corrections" => { POST Bearer => contacts::correct_visit },
    "/api/v1/children/{id}/age-out-plan" => {
        GET Bearer => plans::get_plan,
        POST Bearer => plans::open_plan,
        PATCH Bearer => plans::update_plan,
    },
    "/api/v1/children/{id}/age-out-plan/goals" => { POST Bearer => plans::add_goal },
    "/api/v1/children/{id}/age-out-plan/reviews" => { POST Bearer => plans::add_review },
    "/api/v1/children/{id}/age-out-plan/summary" => { GET Bearer => plans::get_summary },
    "/api/v1/children/{id}/age-out-plan/versions" => { GET Bearer => plans::plan_versions },
    "/api/v1/age-out-goals/{id}" => {
        GET Bearer => plans::get_goal,
        PATCH Bearer => plans::update_goal,
    },
    "/api/v1/age-out-goals/{id}/versions" => { GET Bearer => plans::goal_versions },
    "/api/v1/age-out-goals/{id}/progress-notes" => { POST Bearer => plans::add_progress_note },
    "/api/v1/placements/{id}" => { GET Bearer => placements::get, PATCH Bearer => placements::update },
    "/api/v1/placements/{id}/end" => { POST Bearer => placements::end },
    "/api/v1/placements/{id}/cancel" => { POST Bearer => placements::cancel },
    "/api/v1/placements/{id}/reviews" => { POST Bearer => placements::review },
    "/api/v1/reports/capacity" => { GET Bearer => reports::capacity },
    "/api/v1/reports/contact-compliance" => { GET Bearer => reports::compliance },
    "/api/v1/reports/committee" => { GET Bearer => reports::committee },
    "/api/v1/reimbursement-claims" => { GET Bearer => claims::list, POST Bearer => claims::create },
    "/api/v1/reimbursement-claims/{id}" => {
        GET Bearer => claims::get,
        PATCH Bearer => claims::update,
    },
    "/api/v1/reimbursement-claims/{id}/submit" => { POST Bearer => claims::submit },
    "/api/v1/reimbursement-claims/{id}/decision" => { POST Bearer => claims::decide },
    "/api/v1/changes" => { GET Bearer => changes::list },
    "/api/v1/webhooks" => { GET Bearer => webhooks::list, POST Bearer => webhooks::create },
    "/api/v1/webhooks/{id}" => { GET Bearer => webhooks::get, PATCH Bearer => webhooks::update },
    "/api/v1/webhooks/{id}/secret" => { POST Bearer => webhooks::rotate_secret },
    "/api/v1/webhooks/{id}/deliveries" => { GET Bearer => webhooks::deliveries },
    "/api/v1/webhook-deliveries/{id}/redeliver" => { POST Bearer => webhooks::redeliver },
}
