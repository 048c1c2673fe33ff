//! A claim as the administrator reads it (JSON), and its lines as CSV for the finance office
//! and Migrationsverket's form.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::derive::Line;
use super::store::{ClaimRow, Status};
use crate::domain::quarter::Quarter;
use crate::error::AppError;
use crate::http::csv::Csv;

#[derive(Debug, Serialize)]
pub struct ClaimView {
    pub id: Uuid,
    pub quarter: Quarter,
    pub supplements: Option<Uuid>,
    pub status: Status,
    pub deadline: NaiveDate,
    pub note: Option<String>,
    pub total_ore: i64,
    pub submitted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub decision_reference: Option<String>,
    pub paid_ore: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<ClaimRow> for ClaimView {
    fn from(row: ClaimRow) -> Self {
        Self {
            id: row.id,
            quarter: row.quarter(),
            supplements: row.supplements,
            status: row.status,
            deadline: row.deadline,
            note: row.note,
            total_ore: row.total_ore,
            submitted_on: row.submitted_on,
            decided_on: row.decided_on,
            decision_reference: row.decision_reference,
            paid_ore: row.paid_ore,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

/// A claim with its lines.
#[derive(Debug, Serialize)]
pub struct ClaimDetail {
    #[serde(flatten)]
    pub claim: ClaimView,
    /// The ordinance the amounts come from.
    pub reference: Option<String>,
    /// `lvu_care` lines whose actual cost is not stated yet (they claim nothing).
    pub missing_actual_costs: usize,
    pub lines: Vec<Line>,
}

pub const LINES_HEADER: [&str; 14] = [
    "claim_id",
    "quarter",
    "child_id",
    "dossier_number",
    "placement_id",
    "category",
    "first_day",
    "last_day",
    "days",
    "rate_ore",
    "actual_cost_ore",
    "amount_ore",
    "amount_kr",
    "rules_from",
];

/// Öre as kronor with two decimals: 135000 → `1350.00`.
fn kronor(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", ore.abs() / 100, ore.abs() % 100)
}

/// One row per line after the header; a withdrawn line's negative figures open as text
/// (`'-1350.00`), as every cell that would begin a formula does.
pub fn lines_csv(detail: &ClaimDetail) -> Result<Vec<u8>, AppError> {
    let mut csv = Csv::with_header(&LINES_HEADER)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for l in &detail.lines {
        csv.row([
            detail.claim.id.to_string(),
            detail.claim.quarter.to_string(),
            l.child_id.to_string(),
            opt(l.dossier_number.clone()),
            opt(l.placement_id.map(|p| p.to_string())),
            l.category.to_string(),
            l.first_day.to_string(),
            l.last_day.to_string(),
            l.days.to_string(),
            l.rate_ore.to_string(),
            opt(l.actual_cost_ore.map(|c| c.to_string())),
            l.amount_ore.to_string(),
            kronor(l.amount_ore),
            l.rules_from.to_string(),
        ])?;
    }
    csv.finish()
}

#[cfg(test)]
mod tests {
    use super::kronor;

    #[test]
    fn ore_are_shown_as_kronor_with_two_decimals() {
        assert_eq!(kronor(135_000), "1350.00");
        assert_eq!(kronor(5), "0.05");
        assert_eq!(kronor(-405_001), "-4050.01");
        assert_eq!(kronor(0), "0.00");
    }
}
