//! `reimbursement-claims`: the administrator drafts a quarter's state reimbursement claim,
//! states the actual costs of LVU-level care, submits it (frozen from then on), and records
//! Migrationsverket's decision. A correction is a supplementary claim. Each handler: parse →
//! check the action → derive and store → events → view.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use serde::Deserialize;
use uuid::Uuid;

use super::derive::{self, Line};
use super::input::{CreateClaim, DecideClaim, NewClaim, SubmitClaim, UpdateClaim};
use super::store::{self, ClaimRow, ShownLine, Status};
use super::view::{lines_csv, ClaimDetail, ClaimView};
use crate::access::work::{allowed, Work};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::db::Stop;
use crate::domain::quarter::Quarter;
use crate::error::{claim_frozen, AppError, AppResult, ConflictKind, FieldError, Rule};
use crate::http::csv::{attachment, Format};
use crate::http::etag::{created, required_version, tagged};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::{ApiJson, ApiQuery};
use crate::policy::Action;
use crate::rules::reimbursement::Reimbursement;
use crate::state::AppState;

const CLAIM: EntityType = EntityType::ReimbursementClaim;

fn location(id: Uuid) -> String {
    format!("/api/v1/reimbursement-claims/{id}")
}

/// The reimbursement rules in force on the quarter's last day (the deadline's and the claim's
/// reference); a quarter without them has nothing to claim.
fn rules_of(work: &Work, quarter: Quarter) -> Result<Reimbursement, AppError> {
    work.settings
        .rules
        .on(quarter.last_day())
        .reimbursement
        .clone()
        .ok_or_else(|| AppError::rule("quarter", "no reimbursement rules are in force for it"))
}

/// Every stated cost names a placement with LVU-level care in the quarter: one that has an
/// `lvu_care` line among `lines`.
fn check_costs(lines: &[Line], costs: &HashMap<Uuid, i64>) -> Result<(), Stop> {
    let lvu: HashSet<Uuid> = lines
        .iter()
        .filter(|l| l.category == derive::Category::LvuCare)
        .filter_map(|l| l.placement_id)
        .collect();
    let mut unused: Vec<&Uuid> = costs.keys().filter(|p| !lvu.contains(p)).collect();
    unused.sort();
    if unused.is_empty() {
        return Ok(());
    }
    let errors = unused
        .into_iter()
        .map(|id| {
            FieldError::new(
                "actual_costs",
                format!("placement {id} has no LVU-level care claimable in the quarter"),
            )
        })
        .collect();
    Err(AppError::unprocessable(errors).into())
}

/// A supplementary claim's lines are what the records hold now less what the quarter's
/// submitted claims (not rejected ones) claimed; an original claim's are what they hold.
fn derived(
    conn: &mut PgConnection,
    work: &Work,
    claim: (Quarter, Option<Uuid>),
    actual_costs: &HashMap<Uuid, i64>,
) -> Result<Vec<Line>, Stop> {
    let (quarter, supplements) = claim;
    let (children, placements) = store::facts(conn, quarter)?;
    let now = derive::lines(
        &work.settings.rules,
        quarter,
        &children,
        &placements,
        actual_costs,
    );
    check_costs(&now, actual_costs)?;
    if supplements.is_none() {
        return Ok(now);
    }
    let earlier: Vec<Uuid> = store::of_quarter(conn, quarter)?
        .into_iter()
        .filter(|c| matches!(c.status, Status::Submitted | Status::Paid))
        .map(|c| c.id)
        .collect();
    let earlier: Vec<Line> = store::lines(conn, &earlier)?
        .into_iter()
        .map(|s| s.line)
        .collect();
    Ok(derive::supplement(&now, &earlier))
}

/// One event per child a claim's lines show: each is a read of her days in care.
fn child_events(work: &Work, lines: &[ShownLine]) -> Vec<AuditEvent> {
    let mut seen = HashSet::new();
    lines
        .iter()
        .filter(|l| seen.insert(l.line.child_id))
        .map(|l| {
            work.event(AuditAction::Read, EntityType::Child, Some(l.line.child_id))
                .about_child(l.line.child_id, Some(l.unit_id), l.protected)
                .purpose("state reimbursement claim")
        })
        .collect()
}

/// The answer: the claim with its stored lines, after writing `event` and a read of each child
/// the lines show.
fn answered(
    conn: &mut PgConnection,
    work: &Work,
    row: ClaimRow,
    event: AuditEvent,
) -> Result<ClaimDetail, Stop> {
    let shown = store::lines(conn, &[row.id])?;
    let mut events = vec![event];
    events.extend(child_events(work, &shown));
    audit::append(conn, &events)?;
    let reference = rules_of(work, row.quarter()).ok().map(|r| r.reference);
    let lines: Vec<Line> = shown.into_iter().map(|s| s.line).collect();
    Ok(ClaimDetail {
        claim: ClaimView::from(row),
        reference,
        missing_actual_costs: lines.iter().filter(|l| l.lacks_actual_cost()).count(),
        lines,
    })
}

/// The draft `id` at `expected_version`, locked: a submitted claim is frozen.
fn draft_at(conn: &mut PgConnection, id: Uuid, expected_version: i32) -> Result<ClaimRow, Stop> {
    let current = store::find(conn, id, true)?.ok_or(AppError::NotFound)?;
    if current.status != Status::Draft {
        return Err(claim_frozen().into());
    }
    if current.version != expected_version {
        return Err(AppError::stale_version().into());
    }
    Ok(current)
}

/// A quarter is claimed once it has ended.
fn check_quarter(work: &Work, claim: &NewClaim) -> Result<Reimbursement, Stop> {
    if claim.quarter.last_day() >= work.at.today {
        return Err(AppError::rule_of(
            Rule::ClaimQuarterOpen,
            "quarter",
            "has not ended; a quarter is claimed after its last day",
        )
        .into());
    }
    Ok(rules_of(work, claim.quarter)?)
}

/// What a supplementary claim adds to: a submitted claim of the same quarter.
fn check_supplements(conn: &mut PgConnection, claim: &NewClaim) -> Result<(), Stop> {
    let Some(id) = claim.supplements else {
        return Ok(());
    };
    match store::find(conn, id, false)? {
        Some(c) if c.quarter() == claim.quarter && c.status != Status::Draft => Ok(()),
        _ => Err(AppError::Conflict {
            kind: ConflictKind::ClaimNotSubmitted,
            detail: "a supplementary claim adds to a submitted claim of the same quarter".into(),
            errors: vec![FieldError::new(
                "supplements",
                "is not a submitted claim of this quarter",
            )],
        }
        .into()),
    }
}

fn one(work: &Work, action: AuditAction, id: Uuid) -> AuditEvent {
    work.event(action, CLAIM, Some(id))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    quarter: Option<Quarter>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<HttpResponse> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse();
    let paged = allowed(
        &state,
        actor,
        Action::ManageReimbursementClaims,
        AuditAction::List,
        CLAIM,
        None,
        move |conn, work| {
            let page = page?;
            let rows = store::list(conn, query.quarter, page)?;
            let paged = Paged::from_rows(rows, page, |c| c.id);
            let events: Vec<_> = paged
                .items
                .iter()
                .map(|c| one(&work, AuditAction::Read, c.id))
                .collect();
            audit::append(conn, &events)?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(ClaimView::from)))
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateClaim>,
) -> AppResult<HttpResponse> {
    let detail = allowed(
        &state,
        actor,
        Action::ManageReimbursementClaims,
        AuditAction::Create,
        CLAIM,
        None,
        move |conn, work| {
            let claim = body.validate()?;
            let rules = check_quarter(&work, &claim)?;
            check_supplements(conn, &claim)?;
            let lines = derived(
                conn,
                &work,
                (claim.quarter, claim.supplements),
                &claim.actual_costs,
            )?;
            let id = Uuid::now_v7();
            let event = one(&work, AuditAction::Create, id).changed(["quarter", "lines"]);
            let new = store::NewClaim {
                id,
                quarter: claim.quarter,
                supplements: claim.supplements,
                deadline: claim.quarter.deadline(rules.deadline_months_after_quarter),
                note: claim.note.as_deref(),
                total_ore: derive::total(&lines),
            };
            let row = store::insert(conn, &new, event.id, work.at.now)?;
            store::write_actual_costs(conn, (id, row.version), &claim.actual_costs)?;
            store::write_lines(conn, (id, row.version), &lines)?;
            answered(conn, &work, row, event)
        },
    )
    .await?;
    let id = detail.claim.id;
    Ok(created(location(id), id, &detail))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetQuery {
    #[serde(default)]
    format: Format,
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiQuery(query): ApiQuery<GetQuery>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let detail = allowed(
        &state,
        actor,
        Action::ManageReimbursementClaims,
        AuditAction::Read,
        CLAIM,
        Some(id),
        move |conn, work| {
            let row = store::find(conn, id, false)?.ok_or(AppError::NotFound)?;
            answered(conn, &work, row, one(&work, AuditAction::Read, id))
        },
    )
    .await?;
    match query.format {
        Format::Json => Ok(tagged(StatusCode::OK, id, detail.claim.version, &detail)),
        Format::Csv => {
            let name = format!("reimbursement-claim-{}-{}.csv", detail.claim.quarter, id);
            Ok(attachment(HttpResponse::Ok(), &name, lines_csv(&detail)?))
        }
    }
}

/// A draft's note or stated costs change, and its lines are derived again from the records as
/// they are now (an empty change only derives them again).
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateClaim>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let expected_version = required_version(&req, id);
    let detail = allowed(
        &state,
        actor,
        Action::ManageReimbursementClaims,
        AuditAction::Update,
        CLAIM,
        Some(id),
        move |conn, work| {
            let (expected_version, change) = (expected_version?, body.validate()?);
            let current = draft_at(conn, id, expected_version)?;
            let lines = derive_next(conn, &work, &current, change.actual_costs)?;
            let note = change.note.unwrap_or(current.note);
            let event =
                one(&work, AuditAction::Update, id).changed(["note", "actual_costs", "lines"]);
            let total = derive::total(&lines);
            let row = store::update_draft(
                conn,
                id,
                expected_version,
                (note.as_deref(), total),
                event.id,
                work.at.now,
            )?
            .ok_or_else(AppError::stale_version)?;
            answered(conn, &work, row, event)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, id, detail.claim.version, &detail))
}

/// The draft derived again with `stated` costs (or those it has), written with them under its
/// next version.
fn derive_next(
    conn: &mut PgConnection,
    work: &Work,
    current: &ClaimRow,
    stated: Option<HashMap<Uuid, i64>>,
) -> Result<Vec<Line>, Stop> {
    let costs = match stated {
        Some(costs) => costs,
        None => store::actual_costs(conn, (current.id, current.lines_version))?,
    };
    let lines = derived(conn, work, (current.quarter(), current.supplements), &costs)?;
    let next = (current.id, current.version + 1);
    store::write_actual_costs(conn, next, &costs)?;
    store::write_lines(conn, next, &lines)?;
    Ok(lines)
}

/// The draft is sent: it must still be what the records say, and in time.
fn check_submission(
    conn: &mut PgConnection,
    work: &Work,
    current: &ClaimRow,
    day: chrono::NaiveDate,
) -> Result<(), Stop> {
    if day <= current.quarter().last_day() {
        return Err(AppError::rule("submitted_on", "is not after the quarter ended").into());
    }
    if day > current.deadline {
        return Err(AppError::rule_of(
            Rule::ClaimDeadlinePassed,
            "submitted_on",
            format!("is after the quarter's deadline, {}", current.deadline),
        )
        .into());
    }
    let costs = store::actual_costs(conn, (current.id, current.lines_version))?;
    let mut now = derived(conn, work, (current.quarter(), current.supplements), &costs)?;
    let mut stored: Vec<Line> = store::lines(conn, &[current.id])?
        .into_iter()
        .map(|s| s.line)
        .collect();
    derive::in_order(&mut now);
    derive::in_order(&mut stored);
    if now != stored {
        return Err(AppError::conflict(
            ConflictKind::ClaimOutOfDate,
            "the records behind the draft changed since it was derived; derive it again (PATCH) and review it",
        )
        .into());
    }
    Ok(())
}

pub async fn submit(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<SubmitClaim>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let expected_version = required_version(&req, id);
    let detail = allowed(
        &state,
        actor,
        Action::ManageReimbursementClaims,
        AuditAction::Update,
        CLAIM,
        Some(id),
        move |conn, work| {
            let expected_version = expected_version?;
            let day = body.day(work.at.today)?;
            let current = draft_at(conn, id, expected_version)?;
            check_submission(conn, &work, &current, day)?;
            let event = one(&work, AuditAction::Update, id).changed(["status", "submitted_on"]);
            let row = store::submit(conn, id, expected_version, day, event.id, work.at.now)?
                .ok_or_else(AppError::stale_version)?;
            answered(conn, &work, row, event)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, id, detail.claim.version, &detail))
}

/// Migrationsverket's decision on a submitted claim: paid (with the amount) or rejected, with
/// its reference. Recorded once.
pub async fn decide(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<DecideClaim>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let expected_version = required_version(&req, id);
    let detail = allowed(
        &state,
        actor,
        Action::ManageReimbursementClaims,
        AuditAction::Update,
        CLAIM,
        Some(id),
        move |conn, work| {
            let expected_version = expected_version?;
            let current = store::find(conn, id, true)?.ok_or(AppError::NotFound)?;
            let submitted_on = match (current.status, current.submitted_on) {
                (Status::Submitted, Some(day)) => day,
                (Status::Draft, _) => {
                    return Err(AppError::conflict(
                        ConflictKind::ClaimNotSubmitted,
                        "a decision is recorded on a submitted claim; submit it first",
                    )
                    .into())
                }
                _ => return Err(claim_frozen().into()),
            };
            if current.version != expected_version {
                return Err(AppError::stale_version().into());
            }
            let decision = body.validate((submitted_on, current.total_ore), work.at.today)?;
            let event = one(&work, AuditAction::Update, id).changed([
                "status",
                "decided_on",
                "decision_reference",
                "paid_ore",
            ]);
            let row = store::decide(conn, id, expected_version, &decision, event.id, work.at.now)?
                .ok_or_else(AppError::stale_version)?;
            answered(conn, &work, row, event)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, id, detail.claim.version, &detail))
}
