//! `POST /api/v1/me/calendar-feed` makes the caller's feed (replacing the one she had),
//! `DELETE` ends it, and `GET /api/v1/me/calendar.ics?token=…` is the feed itself, fetched by
//! calendar programs with the feed's token instead of a bearer token.
//!
//! The token travels in the query, so it must never reach a log: the request log names the
//! route pattern only (`http::request_context`), never the path or query, and nothing here logs
//! the request. Its rate is limited per client address like every request's.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use super::input::feed_token;
use super::store;
use super::view::{self, FeedCreated, FEED_PATH};
use crate::access::child::AboutChild;
use crate::access::refuse;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::{Actor, RequestOrigin};
use crate::auth::feed::{self, FeedEnd};
use crate::clock::Moment;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::policy::worklist::reach_of;
use crate::state::AppState;

const NO_FEED: &str = "only the people of a case have a worklist, and so a calendar feed";
const BAD_FEED_TOKEN: &str = "the feed token is unknown or revoked; make a new feed";

/// The address links and the feed's URL start with: the configured one, else this request's.
fn base_url(settings: &Settings, req: &HttpRequest) -> String {
    settings.calendar.public_url.clone().unwrap_or_else(|| {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    })
}

/// Makes a new feed for the caller, ending the one she had; answers its token, once.
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let at = Moment::of(state.clock.as_ref());
    let base = base_url(&state.settings, &req);
    let created = state
        .db
        .audited(move |conn| {
            let user = actor
                .user_id()
                .filter(|_| reach_of(&actor.principal).is_some());
            let Some(user) = user else {
                let event =
                    actor.event(AuditAction::Create, EntityType::CalendarFeed, None, at.now);
                return Err(refuse(conn, event, AppError::forbidden(NO_FEED)));
            };
            let id = uuid::Uuid::now_v7();
            let mut events = Vec::new();
            if let Some(old) = feed::live_of(conn, user)? {
                let ended = actor.event(
                    AuditAction::Revoke,
                    EntityType::CalendarFeed,
                    Some(old),
                    at.now,
                );
                feed::end_live(conn, user, FeedEnd::Replaced, at.now, ended.id)?;
                events.push(ended);
            }
            let event = actor.event(
                AuditAction::Create,
                EntityType::CalendarFeed,
                Some(id),
                at.now,
            );
            let token = feed::new_feed_token();
            feed::insert(conn, id, user, &token, at.now, event.id)?;
            events.push(event);
            audit::append(conn, &events)?;
            let url = format!("{base}{FEED_PATH}?token={token}");
            Ok(FeedCreated {
                id,
                token,
                url,
                created_at: at.now,
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(created))
}

/// Ends the caller's feed, if she has one: its URL answers 401 from now on.
pub async fn revoke(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let at = Moment::of(state.clock.as_ref());
    state
        .db
        .audited(move |conn| {
            let Some(user) = actor.user_id() else {
                let event =
                    actor.event(AuditAction::Revoke, EntityType::CalendarFeed, None, at.now);
                let message = "only people have a calendar feed";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            };
            let live = feed::live_of(conn, user)?;
            let event = actor.event(AuditAction::Revoke, EntityType::CalendarFeed, live, at.now);
            if live.is_some() {
                feed::end_live(conn, user, FeedEnd::Revoked, at.now, event.id)?;
            }
            Ok(audit::append(conn, &[event])?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The feed: the owner's due and overdue contacts. Each fetch is her look at her worklist (a
/// `list` event and a `read` of each schedule shown), by her as she is today.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let token =
        feed_token(req.query_string()).ok_or_else(|| AppError::unauthorized(BAD_FEED_TOKEN))?;
    let at = Moment::of(state.clock.as_ref());
    let origin = RequestOrigin::of(&req);
    let base = base_url(&state.settings, &req);
    let settings = state.settings.clone();
    let body = state
        .db
        .audited(move |conn| {
            let holder = feed::holder(conn, &token)?
                .ok_or_else(|| AppError::unauthorized(BAD_FEED_TOKEN))?;
            let event =
                |action, id| holder.event(&origin, action, EntityType::ContactSchedule, id, at.now);
            let Some(reach) = reach_of(&holder.principal) else {
                return Err(refuse(
                    conn,
                    event(AuditAction::List, None),
                    AppError::forbidden(NO_FEED),
                ));
            };
            let entries = store::entries(conn, reach, at.today)?;
            let mut events = vec![event(AuditAction::List, None)];
            events.extend(entries.iter().map(|entry| {
                event(AuditAction::Read, Some(entry.schedule.id)).about(&entry.child)
            }));
            audit::append(conn, &events)?;
            Ok(view::calendar(&entries, &settings.calendar, &base, at.now))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(view::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
