//! Which quarters' state reimbursement claims are near their deadline and not yet sent: what
//! the administrator's worklist shows. Here, below the features, because the worklist
//! (`contacts`) and the claims (`claims`) are features of their own.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::reimbursement_claims;
use crate::domain::quarter::Quarter;
use crate::rules::Rules;

/// How far back a quarter can still be open: no deadline is set more than 24 months on.
const QUARTERS_BACK: usize = 9;

/// A quarter whose claim is due soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimDue {
    pub quarter: Quarter,
    pub deadline: NaiveDate,
    pub days_left: i64,
    /// The draft being worked on, if there is one.
    pub draft_id: Option<Uuid>,
}

/// The ended quarters whose deadline is from `today` to the warning days after it (by the rules
/// in force on each quarter's last day) and that have no submitted claim: none at all, or only
/// a draft. Nearest deadline first.
pub fn near(
    conn: &mut PgConnection,
    rules: &Rules,
    today: NaiveDate,
) -> QueryResult<Vec<ClaimDue>> {
    let mut quarters = Vec::new();
    let mut quarter = Quarter::of(today).previous();
    for _ in 0..QUARTERS_BACK {
        if let Some(r) = &rules.on(quarter.last_day()).reimbursement {
            let deadline = quarter.deadline(r.deadline_months_after_quarter);
            let days_left = (deadline - today).num_days();
            if (0..=i64::from(r.deadline_warning_days)).contains(&days_left) {
                quarters.push((quarter, deadline, days_left));
            }
        }
        quarter = quarter.previous();
    }
    let starts: Vec<NaiveDate> = quarters.iter().map(|(q, _, _)| q.first_day()).collect();
    let claims: Vec<(NaiveDate, Uuid, String)> = reimbursement_claims::table
        .filter(reimbursement_claims::quarter_start.eq_any(&starts))
        .filter(reimbursement_claims::supplements.is_null())
        .select((
            reimbursement_claims::quarter_start,
            reimbursement_claims::id,
            reimbursement_claims::status,
        ))
        .load(conn)?;
    let mut out: Vec<ClaimDue> = quarters
        .into_iter()
        .filter_map(|(quarter, deadline, days_left)| {
            let original = claims.iter().find(|c| c.0 == quarter.first_day());
            match original {
                Some((_, _, status)) if status != "draft" => None,
                _ => Some(ClaimDue {
                    quarter,
                    deadline,
                    days_left,
                    draft_id: original.map(|c| c.1),
                }),
            }
        })
        .collect();
    out.sort_by_key(|c| (c.deadline, c.quarter));
    Ok(out)
}
