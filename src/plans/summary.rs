//! The plan in plain language, for the secretary to go through with the youth: her goals, who
//! does what by when, and the next review. JSON, or a printable HTML page in which every text
//! is escaped. It holds no identity number, and the youth's name only for those who may see it
//! (a protected identity's is withheld as in the child's view).

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::store::{GoalRow, PlanRow};
use super::view::EducationView;
use crate::domain::age_out::{GoalDomain, GoalResponsible, GoalStatus, ReviewDue};
use crate::http::html::escape;

#[derive(Debug, Serialize)]
pub struct SummaryGoal {
    pub domain: GoalDomain,
    /// The domain in plain words.
    pub area: &'static str,
    pub what: String,
    /// Who does it, in plain words ("You", "Your social secretary", or the other party's name).
    pub who: String,
    pub by: NaiveDate,
    pub status: GoalStatus,
    pub status_text: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub child_id: Uuid,
    pub identity_withheld: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    pub opened_on: NaiveDate,
    pub turns_18_on: NaiveDate,
    pub last_placement_day: NaiveDate,
    pub next_review: ReviewDue,
    pub goals: Vec<SummaryGoal>,
    pub education: EducationView,
}

pub struct SummaryFacts {
    /// The youth's given name, when the caller may see it.
    pub given_name: Option<String>,
    pub identity_withheld: bool,
    pub turns_18_on: NaiveDate,
    pub last_placement_day: NaiveDate,
    pub next_review: ReviewDue,
    pub education: EducationView,
}

pub fn area(domain: GoalDomain) -> &'static str {
    match domain {
        GoalDomain::EducationOccupation => "School or work",
        GoalDomain::Economy => "Money",
        GoalDomain::SocialNetwork => "Friends and family",
        GoalDomain::Leisure => "Free time",
        GoalDomain::Housing => "Where you will live",
        GoalDomain::Health => "Health",
        GoalDomain::ResidenceStatus => "Your permit to stay",
    }
}

fn status_text(status: GoalStatus) -> &'static str {
    match status {
        GoalStatus::NotStarted => "Not started yet",
        GoalStatus::InProgress => "Under way",
        GoalStatus::Achieved => "Done",
        GoalStatus::Dropped => "No longer a goal",
    }
}

fn who(goal: &GoalRow) -> String {
    match goal.responsible {
        GoalResponsible::Youth => "You".to_owned(),
        GoalResponsible::Secretary => "Your social secretary".to_owned(),
        GoalResponsible::HomeStaff => "The staff where you live".to_owned(),
        GoalResponsible::Other => goal
            .responsible_other
            .clone()
            .unwrap_or_else(|| "Someone else".to_owned()),
    }
}

pub fn summary(plan: &PlanRow, goals: &[GoalRow], facts: SummaryFacts) -> Summary {
    Summary {
        child_id: plan.child_id,
        identity_withheld: facts.identity_withheld,
        given_name: facts.given_name,
        opened_on: plan.opened_on,
        turns_18_on: facts.turns_18_on,
        last_placement_day: facts.last_placement_day,
        next_review: facts.next_review,
        goals: goals
            .iter()
            .map(|g| SummaryGoal {
                domain: g.domain,
                area: area(g.domain),
                what: g.description.clone(),
                who: who(g),
                by: g.target_date,
                status: g.status,
                status_text: status_text(g.status),
            })
            .collect(),
        education: facts.education,
    }
}

/// The printable page. Styles only (the service's Content-Security-Policy forbids scripts).
pub fn html(summary: &Summary) -> String {
    let title = match &summary.given_name {
        Some(name) => format!("{}'s plan for moving on", escape(name)),
        None => "Your plan for moving on".to_owned(),
    };
    let mut rows = String::new();
    for goal in &summary.goals {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(goal.area),
            escape(&goal.what),
            escape(&goal.who),
            goal.by,
            escape(goal.status_text),
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"5\">No goals yet.</td></tr>\n");
    }
    let education = match (&summary.education.applied_on, &summary.education.wait) {
        (Some(applied), Some(wait)) => {
            let started = match summary.education.started_on {
                Some(day) => format!("You start on {day}."),
                None => format!("You have waited {} days so far.", wait.waiting_days),
            };
            format!(
                "<p>You applied on {applied}. The start should come by {}. {started}{}</p>\n",
                wait.start_due_by,
                if wait.breach {
                    " This is later than it should be: we will follow it up."
                } else {
                    ""
                }
            )
        }
        _ => String::new(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:48em;margin:2em auto}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border:1px solid #999;padding:.4em;text-align:left;vertical-align:top}}@media print{{body{{margin:0}}}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n\
         <p>You turn 18 on {}. Your placement can last until {}.</p>\n\
         <h2>Your goals</h2>\n<table>\n<tr><th>Area</th><th>What</th><th>Who</th><th>By</th><th>How it is going</th></tr>\n{rows}</table>\n\
         <h2>School or SFI</h2>\n{education}\
         <h2>Next time we look at the plan together</h2>\n<p>{}{}</p>\n\
         <p>Plan started on {}.</p>\n</body>\n</html>\n",
        summary.turns_18_on,
        summary.last_placement_day,
        summary.next_review.due_on,
        if summary.next_review.overdue {
            " (this is overdue)"
        } else {
            ""
        },
        summary.opened_on,
    )
}
