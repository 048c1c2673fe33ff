//! Reading the log for review (loggkontroll): filters parsed once at the boundary, paging over
//! the sequence number, the auditors' views, and random samples for spot checks (stickprov).

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{AuditAction, Outcome};
use crate::db::schema::{audit_chain, audit_events};
use crate::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;
/// A CSV answer is an export for a spreadsheet: larger pages.
pub const CSV_DEFAULT_LIMIT: i64 = 1_000;
pub const CSV_MAX_LIMIT: i64 = 10_000;
pub const DEFAULT_SAMPLE: i64 = 20;
pub const MAX_SAMPLE: i64 = 200;

/// An event as the review sees it: what happened, never a hash chain's internals beyond the
/// event's own hash, and never any case data (the log holds none).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct EventRow {
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub actor_unit_id: Option<Uuid>,
    pub action: String,
    pub outcome: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub child_id: Option<Uuid>,
    pub child_unit_id: Option<Uuid>,
    pub child_protected: bool,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub purpose: Option<String>,
    pub changed_fields: Vec<String>,
    pub details_removed: bool,
}

/// An event and its hash in the chain (`None` until the sequencer has sealed it).
pub type Listed = (EventRow, Option<Vec<u8>>);

/// The chain hashes of `rows`, one query for the page.
fn with_hashes(conn: &mut PgConnection, rows: Vec<EventRow>) -> QueryResult<Vec<Listed>> {
    let numbers: Vec<i64> = rows.iter().map(|row| row.seq).collect();
    let mut hashes: std::collections::HashMap<i64, Vec<u8>> = audit_chain::table
        .filter(audit_chain::event_seq.eq_any(&numbers))
        .select((audit_chain::event_seq, audit_chain::hash))
        .load::<(i64, Vec<u8>)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let hash = hashes.remove(&row.seq);
            (row, hash)
        })
        .collect())
}

/// The auditors' views of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    All,
    /// `emergency_access` events.
    EmergencyAccesses,
    /// Events about a child who had a protected identity at the time.
    ProtectedIdentities,
    /// Events about a child whose responsible unit is not the actor's unit (also when the actor
    /// has no unit, such as an administrator or another system).
    OutsideUnit,
}

/// What the filters ask for, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub child_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// The actor's unit.
    pub unit_id: Option<Uuid>,
    pub action: Option<AuditAction>,
    pub outcome: Option<Outcome>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// A parsed listing request: filters, paging or sample size, and the answer's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub filter: Filter,
    pub format: Format,
    pub limit: i64,
    /// Items come after this sequence number.
    pub after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sampling {
    pub filter: Filter,
    pub format: Format,
    pub size: i64,
}

/// The query string as sent; every value is checked and turned into a type below.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    child_id: Option<String>,
    actor_id: Option<String>,
    unit_id: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    size: Option<String>,
}

fn parse_raw(query: &str) -> Result<RawQuery, AppError> {
    serde_urlencoded::from_str(query).map_err(|error| {
        let message = error.to_string();
        let field = crate::http::query::named_in(&message)
            .unwrap_or("query")
            .to_owned();
        let message = if message.starts_with("unknown field") {
            "is not a filter of this list".to_owned()
        } else {
            message
        };
        AppError::BadRequest {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    })
}

/// Collects every bad value, so one answer names them all.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn check<T>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = value?;
        if value.is_empty() {
            // `?unit_id=` asks for no unit at all; taking it as "no filter" would widen the
            // answer to the whole log.
            self.0.push(FieldError::new(field, "must not be empty"));
            return None;
        }
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    fn refuse(&mut self, field: &str, value: Option<&str>, message: &str) {
        if value.is_some() {
            self.0.push(FieldError::new(field, message));
        }
    }

    fn finish<T>(self, value: T) -> Result<T, AppError> {
        if self.0.is_empty() {
            return Ok(value);
        }
        let detail = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AppError::BadRequest {
            detail,
            errors: self.0,
        })
    }
}

fn uuid(value: &str) -> Result<Uuid, String> {
    Uuid::parse_str(value).map_err(|_| "is not a UUID".to_owned())
}

fn instant(value: &str) -> Result<DateTime<Utc>, String> {
    let parse = crate::http::date::parse_instant;
    parse(value)
        .or_else(|error| {
            // A `+01:00` offset sent unencoded arrives as ` 01:00`.
            match value.rsplit_once(' ') {
                Some((instant, offset)) if instant.len() > 10 && offset.len() == 5 => {
                    parse(&format!("{instant}+{offset}"))
                }
                _ => Err(error),
            }
        })
        .map_err(|_| "is not an RFC 3339 instant, e.g. 2026-03-01T00:00:00Z".to_owned())
}

/// A value of a text enum; the error lists the values there are.
fn one_of<T: 'static>(
    parse: fn(&str) -> Option<T>,
    all: &'static [T],
    name: fn(&T) -> &'static str,
) -> impl Fn(&str) -> Result<T, String> {
    move |value| {
        parse(value).ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(name).collect();
            format!("must be one of: {}", names.join(", "))
        })
    }
}

fn whole_number(min: i64, max: i64) -> impl Fn(&str) -> Result<i64, String> {
    move |value| {
        value
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("must be a whole number from {min} to {max}"))
    }
}

fn format_of(value: Option<&str>, accept: Option<&str>, errors: &mut Errors) -> Format {
    let asked = errors.check("format", value, |v| match v {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        _ => Err("must be json or csv".to_owned()),
    });
    asked.unwrap_or_else(|| {
        let wants_csv = accept.is_some_and(|accept| {
            accept.split(',').any(|item| {
                let mut parts = item.split(';');
                let media = parts.next().unwrap_or_default().trim();
                let refused =
                    parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                media.eq_ignore_ascii_case("text/csv") && !refused
            })
        });
        if wants_csv {
            Format::Csv
        } else {
            Format::Json
        }
    })
}

fn filter_of(raw: &RawQuery, errors: &mut Errors) -> Filter {
    let filter = Filter {
        child_id: errors.check("child_id", raw.child_id.as_deref(), uuid),
        actor_id: errors.check("actor_id", raw.actor_id.as_deref(), uuid),
        unit_id: errors.check("unit_id", raw.unit_id.as_deref(), uuid),
        action: errors.check(
            "action",
            raw.action.as_deref(),
            one_of(AuditAction::parse, AuditAction::ALL, |a| a.as_str()),
        ),
        outcome: errors.check(
            "outcome",
            raw.outcome.as_deref(),
            one_of(Outcome::parse, Outcome::ALL, |o| o.as_str()),
        ),
        from: errors.check("from", raw.from.as_deref(), instant),
        to: errors.check("to", raw.to.as_deref(), instant),
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if to < from {
            errors
                .0
                .push(FieldError::new("to", "must not be before from"));
        }
    }
    filter
}

impl Listing {
    /// From the query string and the `Accept` header.
    pub fn parse(query: &str, accept: Option<&str>) -> Result<Self, AppError> {
        let raw = parse_raw(query)?;
        let mut errors = Errors::default();
        let filter = filter_of(&raw, &mut errors);
        let format = format_of(raw.format.as_deref(), accept, &mut errors);
        let (default, max) = match format {
            Format::Json => (DEFAULT_LIMIT, MAX_LIMIT),
            Format::Csv => (CSV_DEFAULT_LIMIT, CSV_MAX_LIMIT),
        };
        let limit = errors
            .check("limit", raw.limit.as_deref(), whole_number(1, max))
            .unwrap_or(default);
        let after = errors.check("cursor", raw.cursor.as_deref(), |c| {
            decode_cursor(c).ok_or_else(|| "is not a cursor this service gave out".to_owned())
        });
        errors.refuse("size", raw.size.as_deref(), "only the sample takes a size");
        errors.finish(Self {
            filter,
            format,
            limit,
            after,
        })
    }
}

impl Sampling {
    pub fn parse(query: &str, accept: Option<&str>) -> Result<Self, AppError> {
        let raw = parse_raw(query)?;
        let mut errors = Errors::default();
        let filter = filter_of(&raw, &mut errors);
        let format = format_of(raw.format.as_deref(), accept, &mut errors);
        let size = errors
            .check("size", raw.size.as_deref(), whole_number(1, MAX_SAMPLE))
            .unwrap_or(DEFAULT_SAMPLE);
        let no_paging = "a sample is one draw; it has no pages";
        errors.refuse("limit", raw.limit.as_deref(), no_paging);
        errors.refuse("cursor", raw.cursor.as_deref(), no_paging);
        errors.finish(Self {
            filter,
            format,
            size,
        })
    }
}

/// Cursors are opaque to clients: the last event number of the page, encoded.
pub fn encode_cursor(seq: i64) -> String {
    crate::http::pagination::encode_position(seq)
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    crate::http::pagination::decode_position(cursor, 1)
}

/// Applies the filters and the view to any boxed query over the log.
fn narrowed<'a, ST: 'a>(
    mut query: audit_events::BoxedQuery<'a, Pg, ST>,
    filter: &Filter,
    review: Review,
) -> audit_events::BoxedQuery<'a, Pg, ST> {
    if let Some(child_id) = filter.child_id {
        query = query.filter(audit_events::child_id.eq(child_id));
    }
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(audit_events::actor_id.eq(actor_id));
    }
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(audit_events::actor_unit_id.eq(unit_id));
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_events::action.eq(action.as_str()));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(audit_events::outcome.eq(outcome.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::occurred_at.lt(to));
    }
    match review {
        Review::All => query,
        Review::EmergencyAccesses => {
            query.filter(audit_events::action.eq(AuditAction::EmergencyAccess.as_str()))
        }
        Review::ProtectedIdentities => query.filter(audit_events::child_protected.eq(true)),
        Review::OutsideUnit => query.filter(
            audit_events::child_unit_id
                .is_not_null()
                .and(audit_events::child_unit_id.is_distinct_from(audit_events::actor_unit_id)),
        ),
    }
}

/// One page in chain order, and the cursor of the next page if there is one.
pub fn page(
    conn: &mut PgConnection,
    review: Review,
    listing: &Listing,
) -> QueryResult<(Vec<Listed>, Option<String>)> {
    let mut query = narrowed(
        audit_events::table
            .select(EventRow::as_select())
            .into_boxed(),
        &listing.filter,
        review,
    );
    if let Some(after) = listing.after {
        query = query.filter(audit_events::seq.gt(after));
    }
    let mut rows: Vec<EventRow> = query
        .order(audit_events::seq.asc())
        .limit(listing.limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > listing.limit;
    rows.truncate(listing.limit as usize);
    let next = if more {
        rows.last().map(|row| encode_cursor(row.seq))
    } else {
        None
    };
    Ok((with_hashes(conn, rows)?, next))
}

/// A uniform random sample of the events that match, in chain order, and how many matched.
pub fn sample(conn: &mut PgConnection, sampling: &Sampling) -> QueryResult<(Vec<Listed>, i64)> {
    let population: i64 = narrowed(
        audit_events::table.select(count_star()).into_boxed(),
        &sampling.filter,
        Review::All,
    )
    .get_result(conn)?;
    let mut rows: Vec<EventRow> = narrowed(
        audit_events::table
            .select(EventRow::as_select())
            .into_boxed(),
        &sampling.filter,
        Review::All,
    )
    .order(sql::<diesel::sql_types::Double>("random()"))
    .limit(sampling.size)
    .load(conn)?;
    rows.sort_by_key(|row| row.seq);
    Ok((with_hashes(conn, rows)?, population))
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Listed>> {
    let row = audit_events::table
        .filter(audit_events::id.eq(id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?;
    Ok(with_hashes(conn, row.into_iter().collect())?.pop())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(error: AppError) -> Vec<String> {
        match error {
            AppError::BadRequest { errors, .. } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn filters_are_parsed_into_types() {
        let child = Uuid::now_v7();
        let listing = Listing::parse(
            &format!("child_id={child}&action=read&outcome=denied&from=2026-03-01T00:00:00%2B01:00&limit=10"),
            None,
        )
        .unwrap();
        assert_eq!(listing.filter.child_id, Some(child));
        assert_eq!(listing.filter.action, Some(AuditAction::Read));
        assert_eq!(listing.filter.outcome, Some(Outcome::Denied));
        assert_eq!(
            listing.filter.from.unwrap().to_rfc3339(),
            "2026-02-28T23:00:00+00:00"
        );
        assert_eq!((listing.limit, listing.format), (10, Format::Json));
        let unencoded = Listing::parse("to=2026-03-01T00:00:00+01:00", None).unwrap();
        assert_eq!(unencoded.filter.to, listing.filter.from);
    }

    #[test]
    fn every_bad_value_is_named() {
        let error = Listing::parse(
            "child_id=nope&action=peek&outcome=maybe&from=yesterday&limit=0&cursor=%21",
            None,
        )
        .unwrap_err();
        assert_eq!(
            fields(error),
            ["child_id", "action", "outcome", "from", "limit", "cursor"]
        );
        assert_eq!(
            fields(Listing::parse("childid=1", None).unwrap_err()),
            ["childid"]
        );
        assert_eq!(
            fields(
                Listing::parse("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", None)
                    .unwrap_err()
            ),
            ["to"]
        );
        assert_eq!(
            fields(Sampling::parse("size=201", None).unwrap_err()),
            ["size"]
        );
        assert_eq!(
            fields(Sampling::parse("cursor=x", None).unwrap_err()),
            ["cursor"]
        );
    }

    #[test]
    fn an_empty_value_is_refused_rather_than_ignored() {
        for field in [
            "child_id", "actor_id", "unit_id", "action", "outcome", "from", "to", "format",
            "limit", "cursor",
        ] {
            let error = Listing::parse(&format!("{field}="), None).unwrap_err();
            assert_eq!(fields(error), [field]);
        }
        assert_eq!(
            fields(Sampling::parse("size=&unit_id=", None).unwrap_err()),
            ["unit_id", "size"]
        );
    }

    #[test]
    fn csv_is_chosen_by_format_or_accept() {
        let csv = |q: &str, accept: Option<&str>| Listing::parse(q, accept).unwrap().format;
        assert_eq!(csv("format=csv", None), Format::Csv);
        assert_eq!(csv("", Some("text/csv")), Format::Csv);
        assert_eq!(
            csv("", Some("application/json, text/csv;q=0")),
            Format::Json
        );
        assert_eq!(csv("format=json", Some("text/csv")), Format::Json);
        let listing = Listing::parse("format=csv", None).unwrap();
        assert_eq!(listing.limit, CSV_DEFAULT_LIMIT);
    }

    #[test]
    fn a_cursor_round_trips_and_others_are_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor(&encode_cursor(0)), None);
        assert_eq!(decode_cursor("AAAA"), None);
    }
}
