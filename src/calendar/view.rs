//! The feed as iCalendar, and the answer that hands out a new feed. An event says what contact
//! is due when, for which case (a short reference, never a name, identity or dossier number),
//! and links into Trygg; a first name only when the municipality allows it, never for a child
//! with a protected identity.

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Class, Component, EventLike, Property};
use serde::Serialize;
use uuid::Uuid;

use super::store::Entry;
use crate::config::CalendarSettings;
use crate::domain::contact::ContactKind;

pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";
/// The path of the feed, under the service's address.
pub const FEED_PATH: &str = "/api/v1/me/calendar.ics";

/// The answer to making a feed: its token, once, and the URL to subscribe to.
#[derive(Debug, Serialize)]
pub struct FeedCreated {
    pub id: Uuid,
    pub token: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// A short reference to a child's case, from the random tail of her id: the same in every feed
/// and in Trygg, and saying nothing about her. Six hex digits keep two children of one
/// caseload apart (a UUIDv7's first digits are its creation time, shared by many).
pub fn case_reference(child_id: Uuid) -> String {
    let hex = child_id.simple().to_string();
    hex[hex.len() - 6..].to_ascii_uppercase()
}

fn kind_label(kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::SecretaryVisit => "Follow-up visit",
        ContactKind::StaffContact => "Staff contact",
    }
}

/// The events' text: the kind and the case, with a first name only where allowed.
fn summary(entry: &Entry, settings: &CalendarSettings) -> String {
    let case = format!("case {}", case_reference(entry.child.id));
    let named = settings.first_names && !entry.child.protection_level.is_protected();
    let who = if named {
        format!("{} ({case})", entry.child.given_name)
    } else {
        case
    };
    let overdue = if entry.due.overdue { "Overdue: " } else { "" };
    format!("{overdue}{} · {who}", kind_label(entry.schedule.kind))
}

/// The feed: one all-day event per contact, on its due date. `base` is the service's address,
/// for the links; `now` stamps the events.
pub fn calendar(
    entries: &[Entry],
    settings: &CalendarSettings,
    base: &str,
    now: DateTime<Utc>,
) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Trygg//Calendar feed//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .name("Trygg: contacts due")
        .ttl(&Duration::hours(2));
    for entry in entries {
        let schedule = &entry.schedule;
        let link = format!("{base}/api/v1/contact-schedules/{}", schedule.id);
        let mut description = format!(
            "{} for case {}: due {}, on time until {}.",
            kind_label(schedule.kind),
            case_reference(entry.child.id),
            entry.due.due_on,
            entry.due.late_after
        );
        if entry.due.overdue {
            description.push_str(" Overdue.");
        }
        description.push_str(&format!(" Open in Trygg: {link}"));
        let mut event = icalendar::Event::new();
        event
            .uid(&format!("{}-{}@trygg", schedule.id, entry.due.due_on))
            .timestamp(now)
            .starts(entry.due.due_on)
            .ends(entry.due.due_on + Duration::days(1))
            .summary(&summary(entry, settings))
            .description(&description)
            .url(&link)
            .class(Class::Private)
            .add_property("TRANSP", "TRANSPARENT");
        if entry.due.overdue {
            event.priority(1).categories(["Overdue"]);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
