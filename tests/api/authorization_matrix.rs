//! The authorization matrix, `api-spec/authorization-matrix.yaml`, run through the HTTP API.
//!
//! Every served route has exactly one row, and every cell of every row is called: a social
//! secretary assigned to a child, a colleague in her unit who is not, people of another unit,
//! a child with a protected identity, administrators, auditors, system administrators, and other
//! systems with and without the scope a route needs. Allowed is a 2xx answer with its `success`
//! audit event (the route's action and entity type, about what the path names or the call
//! created, carrying the child with her protected flag and unit, or no child at all); an allowed
//! list holds exactly what the caller may reach, each item audited. Refused is a 403 or 404
//! problem that changes nothing but a `denied` audit event just as specific, and, to someone who
//! may not see the child, is the same answer as for a child that does not exist.
//!
//! Each feature area runs in an app of its own (in parallel); within an app one scenario is
//! shared by the cells that only read, and a cell that would change something gets objects of
//! its own first.

use std::collections::{BTreeSet, HashMap};

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::{sql_query, QueryableByName};
use reqwest::Method;
use serde_json::{json, Value};
use serde_yaml_ng::Value as Yaml;
use trygg::policy::{Profession, Scope};
use trygg::routes::ROUTES;
use uuid::Uuid;

use crate::children::{child_body, register};
use crate::helpers::service_accounts::TestClient;
use crate::helpers::users::{totp_code, Session, PASSWORD};
use crate::helpers::{spawn_app_with, AppOptions, TestApp};

const MATRIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/api-spec/authorization-matrix.yaml"
);
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.yaml");
/// The test clock's day (helpers::spawn_app_with), as the day a decision on a claim was made.
const CLAIMS_TODAY: &str = "2026-03-10";
/// The quarter (and its first day) whose claims the matrix submits and decides: it has ended,
/// and its deadline (30 June 2026) has not passed.
const CLAIMS_SUBMITTED_IN: (&str, &str) = ("2025-Q4", "2025-10-01");
/// The quarter whose draft the matrix reads and changes.
const CLAIMS_DRAFTED_IN: (&str, &str) = ("2025-Q3", "2025-07-01");
/// The row whose cells say who may see a child at all.
const READ_CHILD: &str = "GET /api/v1/children/{id}";

// ---------------------------------------------------------------------------------------------
// The matrix, as data
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allow,
    Forbidden,
    Hidden,
}

impl Outcome {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "allow" => Some(Outcome::Allow),
            "forbidden" => Some(Outcome::Forbidden),
            "hidden" => Some(Outcome::Hidden),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Outcome::Allow => "allow (2xx)",
            Outcome::Forbidden => "forbidden (403)",
            Outcome::Hidden => "hidden (404)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Relation {
    Assigned,
    SameUnit,
    OtherUnit,
    ProtectedIdentity,
}

impl Relation {
    fn name(self) -> &'static str {
        match self {
            Relation::Assigned => "assigned",
            Relation::SameUnit => "same_unit",
            Relation::OtherUnit => "other_unit",
            Relation::ProtectedIdentity => "protected_identity",
        }
    }
}

/// What the caller's relation is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum About {
    Nothing,
    Unit,
    Child,
}

impl About {
    fn relations(self) -> &'static [Relation] {
        match self {
            About::Nothing => &[],
            About::Unit => &[Relation::SameUnit, Relation::OtherUnit],
            About::Child => &[
                Relation::Assigned,
                Relation::SameUnit,
                Relation::OtherUnit,
                Relation::ProtectedIdentity,
            ],
        }
    }
}

/// A relation that cannot exist: every manager of the responsible unit has the direct relation.
fn impossible(profession: Profession, about: About, relation: Relation) -> bool {
    about == About::Child && profession == Profession::UnitManager && relation == Relation::SameUnit
}

#[derive(Debug, Clone)]
enum PersonCell {
    Every(Outcome),
    /// Per relation; `None` is `n/a`.
    PerRelation(Vec<(Relation, Option<Outcome>)>),
}

impl PersonCell {
    fn at(&self, relation: Relation) -> Option<Outcome> {
        match self {
            PersonCell::Every(outcome) => Some(*outcome),
            PersonCell::PerRelation(cells) => cells
                .iter()
                .find(|(r, _)| *r == relation)
                .and_then(|(_, o)| *o),
        }
    }
}

#[derive(Debug, Clone)]
enum ServiceCell {
    Forbidden,
    /// The route takes a credential no system can hold (a person's calendar feed token).
    NotApplicable,
    /// Allowed with any one of `scopes` (`None`: every signed-in system).
    Allow {
        scopes: Option<Vec<Scope>>,
        protected_identity: Option<Outcome>,
    },
}

#[derive(Debug, Clone)]
struct Row {
    method: String,
    path: String,
    public: bool,
    about: About,
    people: Vec<(Profession, PersonCell)>,
    service: Option<ServiceCell>,
}

impl Row {
    fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn person(&self, profession: Profession) -> &PersonCell {
        &self
            .people
            .iter()
            .find(|(p, _)| *p == profession)
            .expect("every profession has a cell")
            .1
    }
}

struct Matrix {
    rows: Vec<Row>,
}

fn is_about_a_child(path: &str) -> bool {
    [
        "/api/v1/children/{id}",
        "/api/v1/placements/{id}",
        "/api/v1/contact-schedules/{id}",
        "/api/v1/visits/{id}",
        "/api/v1/age-out-goals/{id}",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

fn text<'a>(row: &'a Yaml, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Yaml::as_str)
}

fn parse_person(
    route: &str,
    profession: Profession,
    about: About,
    cell: &Yaml,
    faults: &mut Vec<String>,
) -> Option<PersonCell> {
    let here = format!("{route}, {profession}");
    let outcome = |word: &str, faults: &mut Vec<String>| {
        let outcome = Outcome::parse(word);
        match outcome {
            None => faults.push(format!("{here}: `{word}` is not an outcome")),
            Some(Outcome::Hidden) if about != About::Child => {
                faults.push(format!("{here}: only a child can be hidden"))
            }
            _ => {}
        }
        outcome
    };
    if let Some(word) = cell.as_str() {
        return outcome(word, faults).map(PersonCell::Every);
    }
    let Some(map) = cell.as_mapping() else {
        faults.push(format!(
            "{here}: an outcome, or a map of relations to outcomes"
        ));
        return None;
    };
    if !profession.needs_unit() || about == About::Nothing {
        faults.push(format!(
            "{here}: no relation applies here; give one outcome"
        ));
        return None;
    }
    let names: BTreeSet<&str> = map.keys().filter_map(Yaml::as_str).collect();
    let wanted: BTreeSet<&str> = about.relations().iter().map(|r| r.name()).collect();
    if names != wanted || names.len() != map.len() {
        faults.push(format!("{here}: the relations are exactly {wanted:?}"));
        return None;
    }
    let mut cells = Vec::new();
    for relation in about.relations() {
        let word = text(cell, relation.name()).unwrap_or_default();
        let at = if word == "n/a" {
            if !impossible(profession, about, *relation) {
                faults.push(format!(
                    "{here}: {} exists; give its outcome",
                    relation.name()
                ));
            }
            None
        } else {
            if impossible(profession, about, *relation) {
                faults.push(format!(
                    "{here}: {} cannot exist; write n/a",
                    relation.name()
                ));
            }
            Some(outcome(word, faults)?)
        };
        cells.push((*relation, at));
    }
    Some(PersonCell::PerRelation(cells))
}

fn parse_service(
    route: &str,
    about: About,
    cell: &Yaml,
    faults: &mut Vec<String>,
) -> Option<ServiceCell> {
    let here = format!("{route}, service_account");
    if cell.as_str() == Some("forbidden") {
        return Some(ServiceCell::Forbidden);
    }
    if cell.as_str() == Some("n/a") {
        return Some(ServiceCell::NotApplicable);
    }
    let Some(map) = cell.as_mapping() else {
        faults.push(format!("{here}: `forbidden` or `allow: SCOPE`"));
        return None;
    };
    for key in map.keys() {
        if !matches!(key.as_str(), Some("allow" | "protected_identity")) {
            faults.push(format!("{here}: unknown key {key:?}"));
        }
    }
    let scope = |name: &str, faults: &mut Vec<String>| {
        let scope = Scope::parse(name);
        if scope.is_none() {
            faults.push(format!("{here}: `{name}` is not a scope"));
        }
        scope
    };
    let scopes = match cell.get("allow") {
        Some(Yaml::String(name)) if name == "any" => None,
        Some(Yaml::String(name)) => Some(vec![scope(name, faults)?]),
        Some(Yaml::Sequence(names)) if !names.is_empty() => Some(
            names
                .iter()
                .map(|n| scope(n.as_str().unwrap_or_default(), faults))
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => {
            faults.push(format!(
                "{here}: `allow:` a scope, a list of scopes, or `any`"
            ));
            return None;
        }
    };
    let protected_identity = match text(cell, "protected_identity") {
        Some(word) => Some(Outcome::parse(word).or_else(|| {
            faults.push(format!("{here}: `{word}` is not an outcome"));
            None
        })?),
        None => None,
    };
    if (about == About::Child) != protected_identity.is_some() {
        faults.push(format!(
            "{here}: `protected_identity` is given exactly for rows about a child"
        ));
    }
    Some(ServiceCell::Allow {
        scopes,
        protected_identity,
    })
}

fn parse_row(row: &Yaml, faults: &mut Vec<String>) -> Option<Row> {
    let Some((method, path)) = text(row, "route").and_then(|r| r.split_once(' ')) else {
        faults.push(format!("a row without `route: METHOD /path`: {row:?}"));
        return None;
    };
    let route = format!("{method} {path}");
    for key in row.as_mapping().into_iter().flat_map(|m| m.keys()) {
        if !matches!(
            key.as_str(),
            Some("route" | "public" | "about" | "need" | "risk" | "cells")
        ) {
            faults.push(format!("{route}: unknown key {key:?}"));
        }
    }
    for key in ["need", "risk"] {
        if text(row, key).is_none_or(|t| t.trim().is_empty()) {
            faults.push(format!("{route}: say in one line `{key}`"));
        }
    }
    let public = row.get("public").and_then(Yaml::as_bool).unwrap_or(false);
    let about = match (text(row, "about"), is_about_a_child(path)) {
        (None | Some("child"), true) => About::Child,
        (Some("unit"), false) => About::Unit,
        (None, false) => About::Nothing,
        (other, _) => {
            faults.push(format!(
                "{route}: `about: {other:?}` does not fit the path (child paths are about the child)"
            ));
            return None;
        }
    };
    let cells = row.get("cells");
    if public {
        if cells.is_some() {
            faults.push(format!("{route}: a public route has no cells"));
        }
        return Some(Row {
            method: method.to_owned(),
            path: path.to_owned(),
            public,
            about,
            people: Vec::new(),
            service: None,
        });
    }
    let Some(cells) = cells.and_then(Yaml::as_mapping) else {
        faults.push(format!("{route}: no cells"));
        return None;
    };
    let mut people = Vec::new();
    for profession in Profession::ALL {
        match cells.get(profession.as_str()) {
            Some(cell) => {
                people.push((
                    *profession,
                    parse_person(&route, *profession, about, cell, faults)?,
                ));
            }
            None => faults.push(format!("{route}: no cell for {profession}")),
        }
    }
    let service = match cells.get("service_account") {
        Some(cell) => Some(parse_service(&route, about, cell, faults)?),
        None => {
            faults.push(format!("{route}: no cell for service_account"));
            None
        }
    };
    for key in cells.keys().filter_map(Yaml::as_str) {
        if key != "service_account" && Profession::parse(key).is_none() {
            faults.push(format!(
                "{route}: `{key}` is neither a profession nor service_account"
            ));
        }
    }
    Some(Row {
        method: method.to_owned(),
        path: path.to_owned(),
        public,
        about,
        people,
        service,
    })
}

impl Matrix {
    fn load() -> Matrix {
        let source = std::fs::read_to_string(MATRIX).expect("read the authorization matrix");
        let document: Yaml =
            serde_yaml_ng::from_str(&source).expect("the authorization matrix is valid YAML");
        let mut faults = Vec::new();
        let rows: Vec<Row> = document["routes"]
            .as_sequence()
            .expect("the matrix has `routes:`, a list of rows")
            .iter()
            .filter_map(|row| parse_row(row, &mut faults))
            .collect();
        assert!(
            faults.is_empty(),
            "the authorization matrix is malformed:\n{}",
            faults.join("\n")
        );
        Matrix { rows }
    }

    fn row(&self, route: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.route() == route)
    }

    /// Whether the caller of `case` may see the child at all, by the matrix.
    fn may_read_child(&self, case: &Case) -> bool {
        let row = self
            .row(READ_CHILD)
            .expect("the matrix has a row for reading a child");
        match &case.who {
            Who::Person { profession, .. } => {
                let cell = row.person(*profession);
                let outcome = match case.relation {
                    Some(relation) => cell.at(relation),
                    None => cell.at(Relation::Assigned),
                };
                outcome == Some(Outcome::Allow)
            }
            Who::System(held) => match row.service.as_ref() {
                Some(ServiceCell::Allow {
                    scopes,
                    protected_identity,
                }) => {
                    let holds = scopes
                        .as_ref()
                        .is_none_or(|s| s.iter().any(|s| held.contains(s)));
                    let outcome = if case.child.protected {
                        protected_identity.unwrap_or(Outcome::Allow)
                    } else {
                        Outcome::Allow
                    };
                    holds && outcome == Outcome::Allow
                }
                _ => false,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cells, as calls to make
// ---------------------------------------------------------------------------------------------

/// Which of the scenario's people: of unit A with the direct relation, of unit A without it,
/// of unit B, or of no unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Direct,
    SameUnit,
    OtherUnit,
    NoUnit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    Person {
        profession: Profession,
        slot: Slot,
    },
    /// A system holding exactly these scopes.
    System(Vec<Scope>),
}

/// A child of unit A, registered by its assigned secretary and living today in an HVB home or
/// in supported housing of unit A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ChildKind {
    housing: bool,
    protected: bool,
}

const CHILD_KINDS: [ChildKind; 4] = [
    ChildKind {
        housing: false,
        protected: false,
    },
    ChildKind {
        housing: true,
        protected: false,
    },
    ChildKind {
        housing: false,
        protected: true,
    },
    ChildKind {
        housing: true,
        protected: true,
    },
];

#[derive(Debug, Clone)]
struct Case {
    who: Who,
    relation: Option<Relation>,
    child: ChildKind,
    expected: Outcome,
    label: String,
}

fn scope_names(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    format!("[{}]", names.join(", "))
}

fn all_scopes_but(excluded: &[Scope]) -> Vec<Scope> {
    Scope::ALL
        .iter()
        .copied()
        .filter(|s| !excluded.contains(s))
        .collect()
}

/// Every cell of `row`, as the calls that test it.
fn cases(row: &Row) -> Vec<Case> {
    let route = row.route();
    let plain = ChildKind {
        housing: false,
        protected: false,
    };
    let mut cases = Vec::new();
    for (profession, cell) in &row.people {
        let profession = *profession;
        let housing = profession == Profession::HousingStaff;
        if !profession.needs_unit() {
            let outcome = cell.at(Relation::Assigned).expect("one outcome");
            let slot = Slot::NoUnit;
            cases.push(Case {
                who: Who::Person { profession, slot },
                relation: None,
                child: plain,
                expected: outcome,
                label: format!("{route} as {profession}"),
            });
            if row.about == About::Child {
                cases.push(Case {
                    who: Who::Person { profession, slot },
                    relation: None,
                    child: ChildKind {
                        housing: false,
                        protected: true,
                    },
                    expected: outcome,
                    label: format!("{route} as {profession} (a protected identity)"),
                });
            }
            continue;
        }
        if row.about == About::Nothing {
            cases.push(Case {
                who: Who::Person {
                    profession,
                    slot: Slot::Direct,
                },
                relation: None,
                child: plain,
                expected: cell.at(Relation::Assigned).expect("one outcome"),
                label: format!("{route} as {profession}"),
            });
            continue;
        }
        for relation in row.about.relations() {
            if impossible(profession, row.about, *relation) {
                continue;
            }
            let Some(expected) = cell.at(*relation) else {
                continue;
            };
            let slot = match (row.about, relation) {
                (About::Child, Relation::SameUnit) => Slot::SameUnit,
                (_, Relation::OtherUnit) => Slot::OtherUnit,
                _ => Slot::Direct,
            };
            cases.push(Case {
                who: Who::Person { profession, slot },
                relation: Some(*relation),
                child: ChildKind {
                    housing,
                    protected: *relation == Relation::ProtectedIdentity,
                },
                expected,
                label: format!("{route} as {profession} ({})", relation.name()),
            });
        }
    }
    let system = |scopes: Vec<Scope>, child: ChildKind, expected: Outcome, note: &str| Case {
        label: format!("{route} as a system with {}{note}", scope_names(&scopes)),
        who: Who::System(scopes),
        relation: None,
        child,
        expected,
    };
    match &row.service {
        None | Some(ServiceCell::NotApplicable) => {}
        Some(ServiceCell::Forbidden) => {
            cases.push(system(
                Scope::ALL.to_vec(),
                plain,
                Outcome::Forbidden,
                " (every scope)",
            ));
        }
        Some(ServiceCell::Allow {
            scopes: None,
            protected_identity: _,
        }) => {
            cases.push(system(vec![Scope::VisitsRead], plain, Outcome::Allow, ""));
            cases.push(system(Scope::ALL.to_vec(), plain, Outcome::Allow, ""));
        }
        Some(ServiceCell::Allow {
            scopes: Some(scopes),
            protected_identity,
        }) => {
            for scope in scopes {
                cases.push(system(vec![*scope], plain, Outcome::Allow, ""));
                if let Some(outcome) = protected_identity {
                    let protected = ChildKind {
                        housing: false,
                        protected: true,
                    };
                    cases.push(system(
                        vec![*scope],
                        protected,
                        *outcome,
                        " (a protected identity)",
                    ));
                }
            }
            cases.push(system(
                all_scopes_but(scopes),
                plain,
                Outcome::Forbidden,
                " (every other scope)",
            ));
        }
    }
    cases
}

// ---------------------------------------------------------------------------------------------
// How to call each route
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Public,
    OwnAccount,
    Administration,
    Organisation,
    AuditLog,
    Children,
    Placements,
    Plans,
    Claims,
}

/// What a call needs that must not be shared with other cells, made just before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    Nothing,
    /// A new child of the cell's kind, placed like the shared one.
    Child,
    /// A new HVB home in unit A.
    Facility,
    Unit,
    User,
    ServiceAccount,
    /// A new person of the cell's profession (or a new session of the system).
    Caller,
    /// As `Caller`, but a person with no second factor yet: her session is at enrolment.
    EnrollingCaller,
}

/// The ids a call is made with.
#[derive(Debug, Clone)]
struct Target {
    tag: String,
    unit: Uuid,
    child: Uuid,
    placement: Uuid,
    /// The child's first contact schedule (a placement starts them).
    schedule: Uuid,
    /// A visit to the child, recorded by her secretary (for routes about one visit).
    visit: Uuid,
    /// The child's age-out plan and a goal of it that the home's staff see to (for the plan's
    /// routes but opening one).
    plan: Uuid,
    goal: Uuid,
    child_kind: ChildKind,
    /// The child's home, or the facility a path names.
    facility: Uuid,
    /// Another home of the same kind in unit A, to move to.
    move_to: Uuid,
    secretary: Uuid,
    user: Uuid,
    service_account: Uuid,
    /// A webhook subscription of the calling system (or, for a caller that may not make one,
    /// of another system) and a delivery of it.
    webhook: Uuid,
    delivery: Uuid,
    /// A reimbursement claim in the state the route needs (a draft to read, change or submit;
    /// a submitted one to decide), and a quarter that has ended and has no claim yet.
    claim: Uuid,
    quarter: String,
    /// Whether a system calls (it names the person it acts for, where it acts for one).
    system_caller: bool,
    audit_event: Uuid,
    client_id: String,
    client_secret: String,
    totp_code: String,
    if_match: Option<String>,
    /// The caller's calendar feed token, for routes that take one.
    feed_token: Option<String>,
}

type Build = fn(&Target) -> Value;

#[derive(Clone, Copy)]
struct Recipe {
    area: Area,
    fresh: Fresh,
    if_match: bool,
    body: Option<Build>,
    query: Option<fn(&Target) -> String>,
    /// `POST /api/v1/me/totp` first, for the code to confirm.
    start_totp: bool,
    /// Called with the caller's calendar feed token (`?token=`) instead of a bearer token; the
    /// feed is arranged in the database, as if made while her profession had a worklist.
    feed: bool,
}

impl Recipe {
    fn new(area: Area) -> Self {
        Recipe {
            area,
            fresh: Fresh::Nothing,
            if_match: false,
            body: None,
            query: None,
            start_totp: false,
            feed: false,
        }
    }

    fn fresh(self, fresh: Fresh) -> Self {
        Recipe { fresh, ..self }
    }

    fn body(self, body: Build) -> Self {
        Recipe {
            body: Some(body),
            ..self
        }
    }

    fn if_match(self) -> Self {
        Recipe {
            if_match: true,
            ..self
        }
    }
}

fn special_reasons(t: &Target) -> Value {
    if t.child_kind.housing {
        json!("Mature and stable; school nearby")
    } else {
        Value::Null
    }
}

/// How to call each route with a valid request. A route without a recipe fails
/// `the_matrix_has_one_row_for_every_served_route`.
fn recipe(route: &str) -> Option<Recipe> {
    use Area::*;
    let r = Recipe::new;
    Some(match route {
        "GET /health/live" | "GET /health/ready" => r(Public),
        "POST /api/v1/auth/token" => r(Public).body(|t| {
            json!({"grant_type": "client_credentials", "client_id": t.client_id, "client_secret": t.client_secret})
        }),
        "POST /api/v1/auth/revoke" => r(OwnAccount).fresh(Fresh::Caller),
        "GET /api/v1/me" => r(OwnAccount),
        "GET /api/v1/me/worklist" => r(OwnAccount),
        "POST /api/v1/me/calendar-feed" | "DELETE /api/v1/me/calendar-feed" => {
            r(OwnAccount).fresh(Fresh::Caller)
        }
        "GET /api/v1/me/calendar.ics" => Recipe {
            feed: true,
            ..r(OwnAccount)
        },
        "POST /api/v1/me/password" => r(OwnAccount).fresh(Fresh::Caller).body(|_| {
            json!({"current_password": PASSWORD, "new_password": "a quite different passphrase 42"})
        }),
        "POST /api/v1/me/totp" => r(OwnAccount).fresh(Fresh::EnrollingCaller),
        "POST /api/v1/me/totp/confirm" => Recipe {
            start_totp: true,
            ..r(OwnAccount)
                .fresh(Fresh::EnrollingCaller)
                .body(|t| json!({"code": t.totp_code}))
        },

        "GET /api/v1/users" | "GET /api/v1/users/{id}" => r(Administration),
        "POST /api/v1/users" => r(Administration).body(|t| {
            json!({"username": format!("new-{}", t.tag), "display_name": "New Colleague", "profession": "hvb_staff", "unit_id": t.unit, "password": "a long enough password"})
        }),
        "PATCH /api/v1/users/{id}" => r(Administration)
            .fresh(Fresh::User)
            .if_match()
            .body(|_| json!({"display_name": "Renamed Colleague"})),
        "POST /api/v1/users/{id}/unlock" => r(Administration).fresh(Fresh::User),
        "GET /api/v1/service-accounts" | "GET /api/v1/service-accounts/{id}" => {
            r(Administration)
        }
        "POST /api/v1/service-accounts" => r(Administration).body(|t| {
            json!({"client_id": format!("new-{}", t.tag), "name": "A new system", "scopes": ["visits:read"]})
        }),
        "PATCH /api/v1/service-accounts/{id}" => r(Administration)
            .fresh(Fresh::ServiceAccount)
            .if_match()
            .body(|_| json!({"name": "A renamed system"})),
        "POST /api/v1/service-accounts/{id}/secret" => {
            r(Administration).fresh(Fresh::ServiceAccount)
        }

        "GET /api/v1/units" | "GET /api/v1/units/{id}" => r(Organisation),
        "GET /api/v1/units/{id}/age-out-alerts" => r(Organisation),
        "POST /api/v1/units" => {
            r(Organisation).body(|t| json!({"name": format!("Unit {}", t.tag)}))
        }
        "PATCH /api/v1/units/{id}" => r(Organisation)
            .fresh(Fresh::Unit)
            .if_match()
            .body(|t| json!({"name": format!("Renamed {}", t.tag)})),
        "GET /api/v1/facilities"
        | "GET /api/v1/facilities/{id}"
        | "GET /api/v1/facilities/{id}/staff" => r(Organisation),
        "POST /api/v1/facilities" => r(Organisation).body(|t| {
            json!({"kind": "hvb", "name": format!("Home {}", t.tag), "unit_id": t.unit, "address": "Storgatan 2, 123 45 Småstad", "capacity": 5})
        }),
        "PATCH /api/v1/facilities/{id}" => r(Organisation)
            .fresh(Fresh::Facility)
            .if_match()
            .body(|t| json!({"name": format!("Renamed {}", t.tag)})),
        "PUT /api/v1/facilities/{id}/staff" => r(Organisation)
            .fresh(Fresh::Facility)
            .body(|_| json!({"user_ids": []})),
        "GET /api/v1/reports/capacity" => Recipe {
            query: Some(|t| format!("unit_id={}", t.unit)),
            ..r(Organisation)
        },
        "GET /api/v1/reports/contact-compliance" => Recipe {
            query: Some(|t| format!("unit_id={}&from=2026-01-01&to=2026-03-31", t.unit)),
            ..r(Organisation)
        },
        "GET /api/v1/reports/committee" => Recipe {
            query: Some(|t| format!("unit_id={}&from=2026-01-01&to=2026-02-28", t.unit)),
            ..r(Organisation)
        },
        "GET /api/v1/changes" => r(Organisation),
        "GET /api/v1/webhooks"
        | "GET /api/v1/webhooks/{id}"
        | "GET /api/v1/webhooks/{id}/deliveries"
        | "POST /api/v1/webhooks/{id}/secret"
        | "POST /api/v1/webhook-deliveries/{id}/redeliver" => r(Organisation),
        "POST /api/v1/webhooks" => r(Organisation).body(|t| {
            json!({"url": format!("http://127.0.0.1:9/{}", t.tag), "entity_types": ["placement"]})
        }),
        "PATCH /api/v1/webhooks/{id}" => r(Organisation)
            .if_match()
            .body(|_| json!({"entity_types": ["placement", "child"]})),

        "GET /api/v1/audit-events"
        | "GET /api/v1/audit-events/emergency-accesses"
        | "GET /api/v1/audit-events/protected-identity-accesses"
        | "GET /api/v1/audit-events/outside-unit-accesses"
        | "GET /api/v1/audit-events/sample"
        | "GET /api/v1/audit-events/verify"
        | "GET /api/v1/audit-events/{id}"
        | "POST /api/v1/audit-events/checkpoints"
        | "GET /api/v1/audit-events/checkpoints/latest" => r(AuditLog),

        "GET /api/v1/children" | "GET /api/v1/children/{id}" => r(Children),
        "POST /api/v1/children" => {
            r(Children).body(|t| child_body(t.unit, "Newcomer", "2010-05-20"))
        }
        "PATCH /api/v1/children/{id}" => r(Children)
            .fresh(Fresh::Child)
            .if_match()
            .body(|_| json!({"languages": ["dari"]})),
        "PUT /api/v1/children/{id}/secretaries" => r(Children)
            .fresh(Fresh::Child)
            .body(|t| json!({"user_ids": [t.secretary]})),
        "POST /api/v1/children/{id}/age-assessments" => r(Children).fresh(Fresh::Child).body(|_| {
            json!({"date_of_birth": "2009-09-01", "reason": "The medical age assessment came back", "decision_reference": "SN-2026-78"})
        }),
        "GET /api/v1/children/{id}/access-export" => r(Children),
        "POST /api/v1/children/{id}/protection" => r(Children).fresh(Fresh::Child).body(|t| {
            // Lifted from a protected child, raised for one who is not: a change either way.
            let level = if t.child_kind.protected { "none" } else { "confidentiality_marking" };
            json!({"protection_level": level, "reason": "Skatteverket's decision came today", "decision_reference": "SN-2026-77"})
        }),
        "POST /api/v1/children/{id}/emergency-access" => r(Children)
            .fresh(Fresh::Child)
            .body(|_| json!({"reason": "Police called at night: the child was found alone"})),

        "GET /api/v1/children/{id}/placements" | "GET /api/v1/placements/{id}" => r(Placements),
        "GET /api/v1/children/{id}/contact-schedules"
        | "GET /api/v1/contact-schedules/{id}"
        | "GET /api/v1/children/{id}/visits" => r(Placements),
        "POST /api/v1/children/{id}/contact-schedules" => r(Placements).fresh(Fresh::Child).body(|t| {
            json!({"kind": "secretary_visit", "responsible": "secretary", "secretary_id": t.secretary, "recurrence": "1 per month", "tolerance_days": 7, "start_date": "2026-03-01", "reason": "Needs closer follow-up"})
        }),
        "PATCH /api/v1/contact-schedules/{id}" => r(Placements)
            .fresh(Fresh::Child)
            .if_match()
            .body(|_| json!({"tolerance_days": 10, "reason": "Summer holidays"})),
        "POST /api/v1/children/{id}/visits" => r(Placements).body(|t| {
            let mut visit = json!({"occurred_at": "2026-03-09T15:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true});
            if t.system_caller {
                // For her assigned secretary, who may record it herself.
                visit["performed_by"] = json!(t.secretary);
            }
            visit
        }),
        "POST /api/v1/visits/{id}/corrections" => r(Placements).body(|_| {
            json!({"occurred_at": "2026-03-09T11:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true, "reason": "The visit began an hour later"})
        }),
        "GET /api/v1/children/{id}/age-out-plan"
        | "GET /api/v1/children/{id}/age-out-plan/summary"
        | "GET /api/v1/children/{id}/age-out-plan/versions"
        | "GET /api/v1/age-out-goals/{id}"
        | "GET /api/v1/age-out-goals/{id}/versions" => r(Plans),
        "POST /api/v1/children/{id}/age-out-plan" => {
            r(Plans).fresh(Fresh::Child).body(|_| json!({}))
        }
        "PATCH /api/v1/children/{id}/age-out-plan" => r(Plans)
            .if_match()
            .body(|_| json!({"education_kind": "sfi", "education_applied_on": "2026-03-02"})),
        "POST /api/v1/children/{id}/age-out-plan/goals" => r(Plans).body(|_| {
            json!({"domain": "health", "description": "Find a doctor and a dentist of her own", "target_date": "2026-12-01", "responsible": "youth"})
        }),
        "PATCH /api/v1/age-out-goals/{id}" => r(Plans)
            .if_match()
            .body(|_| json!({"status": "in_progress"})),
        "POST /api/v1/children/{id}/age-out-plan/reviews" => r(Plans).body(|_| {
            json!({"held_on": "2026-03-10", "participants": ["The youth", "Her social secretary"], "youth_view": "I want to study to become a nurse."})
        }),
        "POST /api/v1/age-out-goals/{id}/progress-notes" => r(Plans)
            .body(|_| json!({"note": "She booked a viewing of a flat."})),
        "POST /api/v1/children/{id}/placements" => {
            r(Placements).fresh(Fresh::Child).body(|t| {
                json!({"facility_id": t.facility, "start_date": "2026-05-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-50", "special_reasons": special_reasons(t)})
            })
        }
        "POST /api/v1/children/{id}/moves" => r(Placements).fresh(Fresh::Child).body(|t| {
            json!({"facility_id": t.move_to, "move_date": "2026-04-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-51", "special_reasons": special_reasons(t)})
        }),
        "PATCH /api/v1/placements/{id}" => r(Placements)
            .fresh(Fresh::Child)
            .if_match()
            .body(|_| json!({"planned_end": "2027-01-31", "decision_reference": "BN-2026-53"})),
        "POST /api/v1/placements/{id}/end" => r(Placements)
            .fresh(Fresh::Child)
            .body(|_| json!({"end_date": "2026-04-15", "end_reason": "returned_home"})),
        "POST /api/v1/placements/{id}/cancel" => r(Placements)
            .fresh(Fresh::Child)
            .body(|_| json!({"reason": "Registered by mistake"})),
        "POST /api/v1/placements/{id}/reviews" => {
            r(Placements).fresh(Fresh::Child).body(|_| {
                json!({"kind": "reconsideration", "decided_on": "2026-03-05", "decision_reference": "BN-2026-52", "continued_need": true})
            })
        }

        "GET /api/v1/reimbursement-claims" | "GET /api/v1/reimbursement-claims/{id}" => r(Claims),
        "POST /api/v1/reimbursement-claims" => {
            r(Claims).body(|t| json!({"quarter": t.quarter, "note": "Quarter claimed in the matrix"}))
        }
        "PATCH /api/v1/reimbursement-claims/{id}" => r(Claims)
            .if_match()
            .body(|_| json!({"note": "Checked against the invoices", "actual_costs": []})),
        "POST /api/v1/reimbursement-claims/{id}/submit" => {
            r(Claims).if_match().body(|_| json!({}))
        }
        "POST /api/v1/reimbursement-claims/{id}/decision" => r(Claims).if_match().body(|_| {
            json!({"outcome": "paid", "decided_on": CLAIMS_TODAY, "decision_reference": "MIG-2026-4711", "paid_ore": 0})
        }),
        _ => return None,
    })
}

/// The path with `{id}` filled in by what the path names.
fn fill(path: &str, t: &Target) -> String {
    match path_id(path, t) {
        Some(id) => path.replace("{id}", &id.to_string()),
        None => {
            assert!(!path.contains('{'), "no id to fill in {path}");
            path.to_owned()
        }
    }
}

/// The id a path names, if it names one.
fn path_id(path: &str, t: &Target) -> Option<Uuid> {
    if !path.contains("{id}") {
        return None;
    }
    [
        ("/api/v1/children/", t.child),
        ("/api/v1/placements/", t.placement),
        ("/api/v1/contact-schedules/", t.schedule),
        ("/api/v1/visits/", t.visit),
        ("/api/v1/age-out-goals/", t.goal),
        ("/api/v1/facilities/", t.facility),
        ("/api/v1/units/", t.unit),
        ("/api/v1/users/", t.user),
        ("/api/v1/service-accounts/", t.service_account),
        ("/api/v1/audit-events/", t.audit_event),
        ("/api/v1/webhooks/", t.webhook),
        ("/api/v1/webhook-deliveries/", t.delivery),
        ("/api/v1/reimbursement-claims/", t.claim),
    ]
    .into_iter()
    .find(|(prefix, _)| path.starts_with(prefix))
    .map(|(_, id)| id)
}

// ---------------------------------------------------------------------------------------------
// What each call leaves in the audit log
// ---------------------------------------------------------------------------------------------

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// What the path names.
    Path,
    /// The child the path names (refusals on a placement path are about its child).
    Child,
    /// What the call created (the answer's `id`).
    Created,
    /// The caller's own account.
    Caller,
    /// No one thing (a list, a report, a refused creation).
    Nothing,
    /// Each item of the answer, one event per item.
    Listed,
    /// Not checked (a session's id is nowhere in the answer).
    Any,
}

/// The action, entity type and subject of the event a call must leave.
type Expected = (&'static str, &'static str, Subject);

/// What an allowed call and a refused one leave in the log, by route.
fn expected_events(route: &str) -> (Expected, Expected) {
    use Subject::*;
    let (method, path) = route.split_once(' ').unwrap_or_default();
    let entity = [
        ("/api/v1/users", "user"),
        ("/api/v1/service-accounts", "service_account"),
        ("/api/v1/units", "unit"),
        ("/api/v1/facilities", "facility"),
        ("/api/v1/audit-events", "audit_log"),
        ("/api/v1/reports", "report"),
        ("/api/v1/children", "child"),
        ("/api/v1/placements", "placement"),
        ("/api/v1/webhooks", "webhook_subscription"),
        ("/api/v1/reimbursement-claims", "reimbursement_claim"),
    ]
    .into_iter()
    .find(|(prefix, _)| path.starts_with(prefix))
    .map(|(_, e)| e)
    .unwrap_or("user");
    let same = |e: Expected| (e, e);
    let about_child = |ok: Expected, refused: &'static str| (ok, (refused, "child", Child));
    match route {
        "POST /api/v1/auth/revoke" => same(("revoke", "session", Any)),
        "GET /api/v1/me" => (("read", "user", Caller), ("read", "user", Nothing)),
        "GET /api/v1/me/worklist" | "GET /api/v1/me/calendar.ics" => {
            same(("list", "contact_schedule", Nothing))
        }
        "POST /api/v1/me/calendar-feed" => (
            ("create", "calendar_feed", Created),
            ("create", "calendar_feed", Nothing),
        ),
        "DELETE /api/v1/me/calendar-feed" => same(("revoke", "calendar_feed", Any)),
        "POST /api/v1/me/password" => (
            ("password_change", "user", Caller),
            ("password_change", "user", Nothing),
        ),
        "POST /api/v1/me/totp" | "POST /api/v1/me/totp/confirm" => (
            ("mfa_enrol", "user", Caller),
            ("mfa_enrol", "user", Nothing),
        ),
        "GET /api/v1/users" | "GET /api/v1/service-accounts" | "GET /api/v1/children" => {
            (("read", entity, Listed), ("list", entity, Nothing))
        }
        "GET /api/v1/units" | "GET /api/v1/facilities" => same(("list", entity, Nothing)),
        "GET /api/v1/units/{id}/age-out-alerts" => same(("list", "child", Nothing)),
        "GET /api/v1/reports/capacity"
        | "GET /api/v1/reports/contact-compliance"
        | "GET /api/v1/reports/committee" => same(("read", "report", Nothing)),
        "GET /api/v1/changes" => same(("list", "change_feed", Nothing)),
        "GET /api/v1/webhooks" => (("read", entity, Listed), ("list", entity, Nothing)),
        "POST /api/v1/webhooks" => (("create", entity, Created), ("create", entity, Nothing)),
        "GET /api/v1/webhooks/{id}" => same(("read", entity, Path)),
        "PATCH /api/v1/webhooks/{id}" | "POST /api/v1/webhooks/{id}/secret" => {
            same(("update", entity, Path))
        }
        "GET /api/v1/webhooks/{id}/deliveries" => same(("list", entity, Path)),
        "POST /api/v1/webhook-deliveries/{id}/redeliver" => {
            same(("update", "webhook_delivery", Path))
        }
        "GET /api/v1/reimbursement-claims" => (("read", entity, Listed), ("list", entity, Nothing)),
        "POST /api/v1/reimbursement-claims/{id}/submit"
        | "POST /api/v1/reimbursement-claims/{id}/decision" => same(("update", entity, Path)),
        "GET /api/v1/audit-events/verify" => same(("verify", "audit_log", Nothing)),
        "POST /api/v1/audit-events/checkpoints" | "GET /api/v1/audit-events/checkpoints/latest" => {
            same(("checkpoint", "audit_log", Nothing))
        }
        "GET /api/v1/audit-events/{id}" => same(("read", "audit_log", Path)),
        _ if path.starts_with("/api/v1/audit-events") => same(("list", "audit_log", Nothing)),
        "POST /api/v1/users/{id}/unlock" => same(("unlock", "user", Path)),
        "POST /api/v1/service-accounts/{id}/secret" => same(("update", entity, Path)),
        "GET /api/v1/facilities/{id}/staff" => same(("read", entity, Path)),
        "PUT /api/v1/facilities/{id}/staff" => same(("update", entity, Path)),
        "POST /api/v1/children" => (("create", "child", Created), ("create", "child", Nothing)),
        "GET /api/v1/children/{id}" => about_child(("read", "child", Path), "read"),
        "PATCH /api/v1/children/{id}" => about_child(("update", "child", Path), "update"),
        "PUT /api/v1/children/{id}/secretaries" => about_child(("update", "child", Path), "update"),
        "POST /api/v1/children/{id}/emergency-access" => {
            about_child(("emergency_access", "child", Path), "emergency_access")
        }
        "POST /api/v1/children/{id}/protection" => {
            about_child(("change_protection", "child", Path), "change_protection")
        }
        "POST /api/v1/children/{id}/age-assessments" => {
            about_child(("reassess_age", "child", Path), "reassess_age")
        }
        "GET /api/v1/children/{id}/access-export" => {
            about_child(("export", "child", Path), "export")
        }
        "GET /api/v1/children/{id}/placements" => {
            about_child(("read", "placement", Listed), "read")
        }
        "POST /api/v1/children/{id}/placements" => {
            about_child(("create", "placement", Created), "create")
        }
        "POST /api/v1/children/{id}/moves" => {
            about_child(("create", "placement", Created), "update")
        }
        "GET /api/v1/placements/{id}" => about_child(("read", "placement", Path), "read"),
        "GET /api/v1/children/{id}/contact-schedules" => {
            about_child(("read", "contact_schedule", Listed), "read")
        }
        "GET /api/v1/contact-schedules/{id}" => {
            about_child(("read", "contact_schedule", Path), "read")
        }
        "POST /api/v1/children/{id}/contact-schedules" => {
            about_child(("create", "contact_schedule", Created), "create")
        }
        "PATCH /api/v1/contact-schedules/{id}" => {
            about_child(("update", "contact_schedule", Path), "update")
        }
        "GET /api/v1/children/{id}/visits" => about_child(("read", "visit", Listed), "read"),
        "POST /api/v1/children/{id}/visits" | "POST /api/v1/visits/{id}/corrections" => {
            about_child(("create", "visit", Created), "create")
        }
        "PATCH /api/v1/placements/{id}" | "POST /api/v1/placements/{id}/end" => {
            about_child(("update", "placement", Path), "update")
        }
        "POST /api/v1/placements/{id}/cancel" => {
            about_child(("cancel", "placement", Path), "cancel")
        }
        "GET /api/v1/children/{id}/age-out-plan"
        | "GET /api/v1/children/{id}/age-out-plan/summary"
        | "GET /api/v1/children/{id}/age-out-plan/versions" => {
            about_child(("read", "age_out_plan", Any), "read")
        }
        "POST /api/v1/children/{id}/age-out-plan" => {
            about_child(("create", "age_out_plan", Created), "create")
        }
        "PATCH /api/v1/children/{id}/age-out-plan" => {
            about_child(("update", "age_out_plan", Any), "update")
        }
        "POST /api/v1/children/{id}/age-out-plan/goals" => {
            about_child(("create", "age_out_goal", Created), "create")
        }
        "POST /api/v1/children/{id}/age-out-plan/reviews" => {
            about_child(("create", "age_out_review", Created), "create")
        }
        "GET /api/v1/age-out-goals/{id}" | "GET /api/v1/age-out-goals/{id}/versions" => {
            about_child(("read", "age_out_goal", Path), "read")
        }
        "PATCH /api/v1/age-out-goals/{id}" => {
            about_child(("update", "age_out_goal", Path), "update")
        }
        "POST /api/v1/age-out-goals/{id}/progress-notes" => {
            about_child(("create", "age_out_progress_note", Created), "create")
        }
        // A decision about the placement, recorded as an event about the placement.
        "POST /api/v1/placements/{id}/reviews" => {
            about_child(("create", "placement", Path), "create")
        }
        _ => match method {
            "GET" => same(("read", entity, Path)),
            "POST" => (("create", entity, Created), ("create", entity, Nothing)),
            _ => same(("update", entity, Path)),
        },
    }
}

/// Refusals whose `denied` event is known to be incomplete, each with the defect that says so.
/// A gap that closes fails the test until it is taken off this list.
const KNOWN_GAPS: [(&str, &str); 0] = [];

/// Whether `events` hold one with `outcome` that matches `want` and carries the child's context:
/// for a call about a child, the child with its protected flag and unit as they are now; for
/// anything else, no child at all.
fn audited(
    world: &World,
    row: &Row,
    target: &Target,
    body: &Value,
    events: &[EventRow],
    outcome: &str,
    want: Expected,
) -> Option<String> {
    let (action, entity, subject) = want;
    let route = row.route();
    let created = body["id"]
        .as_str()
        .or(body["child"]["id"].as_str())
        .and_then(|id| id.parse::<Uuid>().ok());
    let about = |e: &EventRow| match subject {
        Subject::Path => e.entity_id.is_some() && e.entity_id == path_id(&row.path, target),
        Subject::Child => e.entity_id == Some(target.child),
        Subject::Created => created.is_some() && e.entity_id == created,
        Subject::Caller => e.entity_id.is_some() && e.entity_id == e.actor_id,
        Subject::Nothing => e.entity_id.is_none(),
        Subject::Listed | Subject::Any => true,
    };
    let context = |e: &EventRow| {
        if row.about == About::Child {
            e.child_id == Some(target.child)
                && e.child_protected == target.child_kind.protected
                && e.child_unit_id == Some(world.unit_a)
        } else if route == "GET /api/v1/children" && outcome == "success" {
            !child_context_fault(world, e)
        } else if route == "POST /api/v1/children" && outcome == "success" {
            e.child_id == created && e.child_unit_id == Some(world.unit_a) && !e.child_protected
        } else if route == "GET /api/v1/audit-events/{id}" {
            // A look at one event names the child that event is about.
            true
        } else {
            e.child_id.is_none() && e.child_unit_id.is_none() && !e.child_protected
        }
    };
    let matching =
        |e: &&EventRow| e.outcome == outcome && e.action == action && e.entity_type == entity;
    if events
        .iter()
        .filter(matching)
        .any(|e| about(e) && context(e))
    {
        return None;
    }
    let near: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} entity {:?} child {:?} unit {:?} protected {}",
                e.outcome,
                e.action,
                e.entity_type,
                e.entity_id,
                e.child_id,
                e.child_unit_id,
                e.child_protected
            )
        })
        .collect();
    Some(format!(
        "no `{outcome}` event `{action}` of a {entity} about {subject:?} with the child's context; the call left {near:?}"
    ))
}

/// An allowed list holds exactly what the caller may reach, and each item was audited.
#[allow(clippy::too_many_arguments)]
fn listed_exactly(
    world: &mut World,
    matrix: &Matrix,
    row: &Row,
    case: &Case,
    target: &Target,
    body: &Value,
    events: &[EventRow],
    want: Expected,
) -> Vec<String> {
    let (action, entity, _) = want;
    let mut faults = Vec::new();
    if !body["next_cursor"].is_null() {
        faults.push("the list does not fit one page; compare fewer items".to_owned());
    }
    let listed: BTreeSet<Uuid> = body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let audited: BTreeSet<Uuid> = events
        .iter()
        .filter(|e| e.outcome == "success" && e.action == action && e.entity_type == entity)
        .filter_map(|e| e.entity_id)
        .collect();
    if listed != audited {
        faults.push(format!(
            "listed {listed:?} but audited reads of {audited:?}"
        ));
    }
    for e in events
        .iter()
        .filter(|e| e.outcome == "success" && e.action == action)
    {
        if audited_context_fault(world, row, target, e) {
            faults.push(format!(
                "the read of {:?} lacks the child's context",
                e.entity_id
            ));
        }
    }
    let wanted: Option<BTreeSet<Uuid>> = match row.route().as_str() {
        "GET /api/v1/children" => {
            let scenario: BTreeSet<Uuid> = world.known_children().map(|(_, id)| id).collect();
            let seen: BTreeSet<Uuid> = listed.intersection(&scenario).copied().collect();
            let reach: BTreeSet<Uuid> = world
                .known_children()
                .filter(|(kind, _)| sees_in_list(matrix, case, *kind))
                .map(|(_, id)| id)
                .collect();
            if seen != reach {
                faults.push(format!(
                    "of the scenario's children, listed {seen:?}, may reach {reach:?}"
                ));
            }
            None
        }
        "GET /api/v1/children/{id}/placements" => Some([target.placement].into()),
        "GET /api/v1/users" => Some(world.ids_of("users")),
        "GET /api/v1/service-accounts" => Some(world.ids_of("service_accounts")),
        _ => None,
    };
    if let Some(wanted) = wanted {
        if listed != wanted {
            faults.push(format!("listed {listed:?}, wanted {wanted:?}"));
        }
    }
    faults
}

fn audited_context_fault(world: &World, row: &Row, target: &Target, e: &EventRow) -> bool {
    if row.about == About::Child {
        e.child_id != Some(target.child)
            || e.child_protected != target.child_kind.protected
            || e.child_unit_id != Some(world.unit_a)
    } else if e.entity_type == "child" {
        child_context_fault(world, e)
    } else {
        e.child_id.is_some()
    }
}

/// An event about one child of unit A that does not carry her, her unit and (for the
/// scenario's children, whose kind is known) her protected flag.
fn child_context_fault(world: &World, e: &EventRow) -> bool {
    let protected = world
        .known_children()
        .find(|(_, id)| Some(*id) == e.child_id)
        .map(|(kind, _)| kind.protected);
    e.child_id.is_none()
        || e.child_id != e.entity_id
        || e.child_unit_id != Some(world.unit_a)
        || protected.is_some_and(|p| p != e.child_protected)
}

/// Whether the caller of a list cell may reach a scenario child of `kind`, by the matrix's row
/// for reading one child.
fn sees_in_list(matrix: &Matrix, case: &Case, kind: ChildKind) -> bool {
    match &case.who {
        Who::Person { profession, slot } => {
            let row = matrix
                .row(READ_CHILD)
                .expect("the matrix has a row for reading a child");
            let works_elsewhere = match profession {
                Profession::HvbStaff => kind.housing,
                Profession::HousingStaff => !kind.housing,
                _ => false,
            };
            let relation = match slot {
                Slot::Direct if works_elsewhere => Relation::SameUnit,
                Slot::Direct if kind.protected => Relation::ProtectedIdentity,
                Slot::Direct => Relation::Assigned,
                Slot::SameUnit => Relation::SameUnit,
                Slot::OtherUnit => Relation::OtherUnit,
                Slot::NoUnit => return false,
            };
            row.person(*profession).at(relation) == Some(Outcome::Allow)
        }
        Who::System(_) => matrix.may_read_child(&Case {
            child: kind,
            ..case.clone()
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct DigestRow {
    #[diesel(sql_type = Text)]
    digest: String,
}

#[derive(QueryableByName)]
struct SeqRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    version: i32,
}

#[derive(QueryableByName, Debug)]
struct EventRow {
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    actor_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    entity_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    child_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    child_unit_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    child_protected: bool,
}

/// What the database holds, to tell that a refusal changed nothing.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    digest: String,
    last_event: i64,
}

struct World {
    unit_a: Uuid,
    people: HashMap<(Profession, Slot), (Uuid, Session)>,
    hvb_a: Uuid,
    housing_a: Uuid,
    hvb_a2: Uuid,
    housing_a2: Uuid,
    children: HashMap<ChildKind, (Uuid, Uuid)>,
    systems: HashMap<Vec<Scope>, (TestClient, Session)>,
    target_client: TestClient,
    audit_event: Uuid,
    conn: PgConnection,
    digest_sql: String,
    counter: u32,
    /// The calendar feed token of each person who has one, by user id.
    feeds: HashMap<Uuid, String>,
    /// Each child's age-out plan and its home staff's goal, once a route needed them.
    plans: HashMap<Uuid, (Uuid, Uuid)>,
}

impl World {
    async fn build(app: &TestApp) -> World {
        let unit_a = app.create_unit("Unit A");
        let unit_b = app.create_unit("Unit B");
        let mut people = HashMap::new();
        let in_units = [
            (Profession::SocialSecretary, Slot::Direct, Some(unit_a)),
            (Profession::SocialSecretary, Slot::SameUnit, Some(unit_a)),
            (Profession::SocialSecretary, Slot::OtherUnit, Some(unit_b)),
            (Profession::UnitManager, Slot::Direct, Some(unit_a)),
            (Profession::UnitManager, Slot::OtherUnit, Some(unit_b)),
            (Profession::HvbStaff, Slot::Direct, Some(unit_a)),
            (Profession::HvbStaff, Slot::SameUnit, Some(unit_a)),
            (Profession::HvbStaff, Slot::OtherUnit, Some(unit_b)),
            (Profession::HousingStaff, Slot::Direct, Some(unit_a)),
            (Profession::HousingStaff, Slot::SameUnit, Some(unit_a)),
            (Profession::HousingStaff, Slot::OtherUnit, Some(unit_b)),
            (Profession::Administrator, Slot::NoUnit, None),
            (Profession::Auditor, Slot::NoUnit, None),
            (Profession::SystemAdmin, Slot::NoUnit, None),
        ];
        for (profession, slot, unit) in in_units {
            let user = app.create_user(profession, unit);
            let session = app.login(&user).await;
            people.insert((profession, slot), (user.id, session));
        }
        let id = |profession, slot| people[&(profession, slot)].0;
        let home = |unit, kind, staff: Uuid| app.arrange_facility(unit, kind, 1000, &[staff]);
        let hvb_a = home(unit_a, "hvb", id(Profession::HvbStaff, Slot::Direct));
        let housing_a = home(
            unit_a,
            "supported_housing",
            id(Profession::HousingStaff, Slot::Direct),
        );
        let hvb_a2 = home(unit_a, "hvb", id(Profession::HvbStaff, Slot::SameUnit));
        let housing_a2 = home(
            unit_a,
            "supported_housing",
            id(Profession::HousingStaff, Slot::SameUnit),
        );
        home(unit_b, "hvb", id(Profession::HvbStaff, Slot::OtherUnit));
        home(
            unit_b,
            "supported_housing",
            id(Profession::HousingStaff, Slot::OtherUnit),
        );
        let admin = people[&(Profession::SystemAdmin, Slot::NoUnit)].1.clone();
        let target_client = app
            .register_client(&admin, "matrix-target", &["visits:read"])
            .await;
        let mut conn = app.db.superuser();
        let tables: Vec<NameRow> = sql_query(
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
             AND tablename NOT IN ('audit_events', 'audit_chain', 'audit_queue', '__diesel_schema_migrations') \
             ORDER BY 1",
        )
        .load(&mut conn)
        .expect("list the tables");
        let parts: Vec<String> = tables
            .iter()
            .map(|t| {
                format!(
                    "SELECT '{0}' AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS d FROM \"{0}\" t",
                    t.name
                )
            })
            .collect();
        let digest_sql = format!(
            "SELECT md5(string_agg(n || ':' || d, ',' ORDER BY n)) AS digest FROM ({}) x",
            parts.join(" UNION ALL ")
        );
        let mut world = World {
            unit_a,
            people,
            hvb_a,
            housing_a,
            hvb_a2,
            housing_a2,
            children: HashMap::new(),
            systems: HashMap::new(),
            target_client,
            audit_event: Uuid::nil(),
            conn,
            digest_sql,
            counter: 0,
            feeds: HashMap::new(),
            plans: HashMap::new(),
        };
        for kind in CHILD_KINDS {
            let child = world.new_child(app, kind).await;
            world.children.insert(kind, child);
        }
        use trygg::db::schema::audit_events::dsl as a;
        world.audit_event = a::audit_events
            .select(a::id)
            .order(a::seq.desc())
            .first(&mut world.conn)
            .expect("the scenario left audit events");
        world
    }

    /// The scenario's children, one of each kind.
    fn known_children(&self) -> impl Iterator<Item = (ChildKind, Uuid)> + '_ {
        self.children
            .iter()
            .map(|(kind, (child, _))| (*kind, *child))
    }

    /// Every id in `table`.
    fn ids_of(&mut self, table: &str) -> BTreeSet<Uuid> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        sql_query(format!("SELECT id FROM {table}"))
            .load::<Id>(&mut self.conn)
            .expect("read ids")
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    fn session(&self, profession: Profession, slot: Slot) -> Session {
        self.people[&(profession, slot)].1.clone()
    }

    fn tag(&mut self) -> String {
        self.counter += 1;
        format!(
            "{}-{}",
            self.counter,
            &Uuid::now_v7().simple().to_string()[24..]
        )
    }

    /// Registers a child of unit A as its secretary and places it from 2026-03-01 to
    /// 2026-04-30 in the HVB home or supported housing of unit A; returns child and placement.
    async fn new_child(&mut self, app: &TestApp, kind: ChildKind) -> (Uuid, Uuid) {
        let secretary = self.session(Profession::SocialSecretary, Slot::Direct);
        let mut body = child_body(self.unit_a, "Matrix", "2009-06-01");
        if kind.protected {
            body["protection_level"] = json!("protected_registration");
        }
        let child = register(app, &secretary, body).await;
        let mut placement = json!({
            "start_date": "2026-03-01",
            "planned_end": "2026-04-30",
            "legal_basis": "SoL2025-insats",
            "decision_reference": "BN-2026-1",
        });
        let placed_by = if kind.housing {
            placement["facility_id"] = json!(self.housing_a);
            placement["special_reasons"] = json!("Mature and stable; school nearby");
            placement["deviation_reason"] = json!("Investigated in another municipality");
            // Only a unit manager may start in supported housing.
            self.session(Profession::UnitManager, Slot::Direct)
        } else {
            placement["facility_id"] = json!(self.hvb_a);
            secretary
        };
        let response = app
            .as_user(&placed_by)
            .post(&format!("/api/v1/children/{child}/placements"), placement)
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            status, 201,
            "placing a child of the scenario failed: {body}"
        );
        (child, body["id"].as_str().unwrap().parse().unwrap())
    }

    async fn system(&mut self, app: &TestApp, scopes: &[Scope]) -> Session {
        if let Some((_, session)) = self.systems.get(scopes) {
            return session.clone();
        }
        let admin = self.session(Profession::SystemAdmin, Slot::NoUnit);
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let client_id = format!("matrix-{}", self.tag());
        let client = app.register_client(&admin, &client_id, &names).await;
        let session = app.client_login(&client).await;
        self.systems
            .insert(scopes.to_vec(), (client, session.clone()));
        session
    }

    /// A webhook of `caller` with one delivery, made just before the call: a system that may
    /// have webhooks registers one of its own; for anyone else (who will be refused before
    /// any lookup) one of a following system's.
    async fn webhook_of(&mut self, app: &TestApp, caller: &Session) -> (Uuid, Uuid) {
        let body = json!({"url": "http://127.0.0.1:9/hook", "entity_types": ["child"]});
        let mut made = app
            .as_user(caller)
            .post("/api/v1/webhooks", body.clone())
            .await;
        if made.status() != 201 {
            let admin = self.session(Profession::SystemAdmin, Slot::NoUnit);
            let tag = self.tag();
            let client = app
                .register_client(&admin, &format!("hook-{tag}"), &["changes:read"])
                .await;
            let owner = app.client_login(&client).await;
            made = app.as_user(&owner).post("/api/v1/webhooks", body).await;
        }
        assert_eq!(made.status(), 201, "a webhook for the matrix");
        let made: Value = made.json().await.unwrap();
        let webhook: Uuid = made["id"].as_str().unwrap().parse().unwrap();
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        trygg::audit::sequencer::seal_all(&mut self.conn).expect("seal");
        // A delivery as the dispatcher (off in the matrix's app) would have queued it.
        let delivery = sql_query(
            "INSERT INTO webhook_deliveries (id, subscription_id, position, body, state, attempts, next_attempt_at, created_at) \
             SELECT $1, $2, max(position), '{}', 'failed', 12, now(), now() FROM audit_chain RETURNING id",
        )
        .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
        .bind::<diesel::sql_types::Uuid, _>(webhook)
        .get_result::<Id>(&mut self.conn)
        .expect("a delivery")
        .id;
        (webhook, delivery)
    }

    /// The claim of `quarter` (its first day) in `status`, the newest if several.
    fn claim_in(&mut self, quarter_start: &str, status: &str) -> Option<Uuid> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        sql_query(
            "SELECT id FROM reimbursement_claims WHERE quarter_start = $1::date \
             AND ($2 = 'decided' AND status <> 'draft' OR status = $2) ORDER BY id DESC LIMIT 1",
        )
        .bind::<Text, _>(quarter_start)
        .bind::<Text, _>(status)
        .get_result::<Id>(&mut self.conn)
        .optional()
        .expect("read a claim")
        .map(|row| row.id)
    }

    /// The quarter's draft claim, drafted by the administrator through the API when it has
    /// none: the original, or a supplementary claim to its newest submitted one.
    async fn draft_of(&mut self, app: &TestApp, quarter: &str, quarter_start: &str) -> Uuid {
        if let Some(draft) = self.claim_in(quarter_start, "draft") {
            return draft;
        }
        let supplements = self.claim_in(quarter_start, "decided");
        let admin = self.session(Profession::Administrator, Slot::NoUnit);
        let made = app
            .as_user(&admin)
            .post(
                "/api/v1/reimbursement-claims",
                json!({"quarter": quarter, "supplements": supplements}),
            )
            .await;
        let (status, _, body) = read(made).await;
        assert_eq!(status, 201, "a draft claim for the matrix: {body}");
        body["id"].as_str().unwrap().parse().unwrap()
    }

    /// A submitted claim of the quarter the matrix submits in, submitted through the API when
    /// there is none.
    async fn submitted_claim(&mut self, app: &TestApp) -> Uuid {
        let (quarter, start) = CLAIMS_SUBMITTED_IN;
        if let Some(claim) = self.claim_in(start, "submitted") {
            return claim;
        }
        let draft = self.draft_of(app, quarter, start).await;
        let version = self.version_of("reimbursement_claims", draft);
        let admin = self.session(Profession::Administrator, Slot::NoUnit);
        let submitted = app
            .client
            .post(app.url(&format!("/api/v1/reimbursement-claims/{draft}/submit")))
            .bearer_auth(&admin.access_token)
            .header("if-match", trygg::http::etag::etag(draft, version))
            .json(&json!({}))
            .send()
            .await
            .expect("request sent");
        let (status, _, body) = read(submitted).await;
        assert_eq!(status, 200, "a submitted claim for the matrix: {body}");
        draft
    }

    /// The claim a route about claims is called with: a draft of a quarter whose deadline has
    /// passed for reading and changing, a draft of the last quarter to submit, a submitted
    /// claim of it to decide.
    async fn claim_for(&mut self, app: &TestApp, route: &str) -> Uuid {
        if route.ends_with("/submit") {
            let (quarter, start) = CLAIMS_SUBMITTED_IN;
            self.draft_of(app, quarter, start).await
        } else if route.ends_with("/decision") {
            self.submitted_claim(app).await
        } else {
            let (quarter, start) = CLAIMS_DRAFTED_IN;
            self.draft_of(app, quarter, start).await
        }
    }

    /// The latest quarter before the two above that has no claim yet (all have ended and have
    /// reimbursement rules), so a creation succeeds however often it is called.
    fn free_quarter(&mut self) -> String {
        sql_query(
            "SELECT to_char(q, 'YYYY') || '-Q' || to_char(q, 'Q') AS name \
             FROM generate_series(date '2025-04-01', date '2016-01-01', interval '-3 months') q \
             WHERE NOT EXISTS (SELECT 1 FROM reimbursement_claims c WHERE c.quarter_start = q::date) \
             ORDER BY q DESC LIMIT 1",
        )
        .get_result::<NameRow>(&mut self.conn)
        .expect("a quarter without a claim")
        .name
    }

    /// The session a cell calls with.
    async fn caller(&mut self, app: &TestApp, who: &Who, fresh: Fresh) -> Session {
        match (who, fresh) {
            (Who::Person { profession, .. }, Fresh::Caller | Fresh::EnrollingCaller) => {
                let unit = profession.needs_unit().then_some(self.unit_a);
                let user = if fresh == Fresh::Caller {
                    app.create_user(*profession, unit)
                } else {
                    app.create_user_without_mfa(*profession, unit)
                };
                app.login(&user).await
            }
            (Who::Person { profession, slot }, _) => self.session(*profession, *slot),
            (Who::System(scopes), Fresh::Caller | Fresh::EnrollingCaller) => {
                self.system(app, scopes).await;
                let client = self.systems[scopes].0.clone();
                app.client_login(&client).await
            }
            (Who::System(scopes), _) => self.system(app, scopes).await,
        }
    }

    fn version_of(&mut self, table: &str, id: Uuid) -> i32 {
        sql_query(format!("SELECT version FROM {table} WHERE id = $1"))
            .bind::<diesel::sql_types::Uuid, _>(id)
            .get_result::<VersionRow>(&mut self.conn)
            .expect("read a version")
            .version
    }

    /// The first contact schedule of `child` (placing her started it).
    fn first_schedule(&mut self, child: Uuid) -> Uuid {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        sql_query("SELECT id FROM contact_schedules WHERE child_id = $1 ORDER BY id LIMIT 1")
            .bind::<diesel::sql_types::Uuid, _>(child)
            .get_result::<Id>(&mut self.conn)
            .map(|row| row.id)
            .unwrap_or(Uuid::nil())
    }

    /// A visit to `child` by her secretary yesterday, recorded in the database with its event.
    fn arrange_visit(&mut self, child: Uuid, schedule: Uuid) -> Uuid {
        let id = Uuid::now_v7();
        let secretary = self.people[&(Profession::SocialSecretary, Slot::Direct)].0;
        let event = Uuid::now_v7();
        let statements = format!(
            "BEGIN; \
             INSERT INTO visits (id, child_id, schedule_id, performed_by, occurred_at, mode, \
               at_placement, completed, spoke_alone, planned, interpreter_used, notes, created_at, \
               last_audit_event_id) VALUES ('{id}', '{child}', '{schedule}', '{secretary}', \
               '2026-03-09T10:00:00Z', 'home_visit', true, true, true, true, false, \
               'Talked about school', now(), '{event}');"
        );
        use diesel::connection::SimpleConnection;
        self.conn
            .batch_execute(&statements)
            .expect("arrange a visit");
        let audit_event = trygg::audit::AuditEvent {
            id: event,
            ..trygg::audit::AuditEvent::new(
                trygg::audit::AuditActor::system(),
                trygg::audit::AuditAction::Create,
                trygg::audit::EntityType::Visit,
                Some(id),
                chrono::Utc::now(),
            )
        };
        trygg::audit::append(&mut self.conn, &[audit_event]).expect("its event");
        self.conn.batch_execute("COMMIT").expect("commit the visit");
        id
    }

    /// The calendar feed token of `user`, arranged in the database with its event the first time.
    fn feed_of(&mut self, user: Uuid) -> String {
        if let Some(token) = self.feeds.get(&user) {
            return token.clone();
        }
        let token = trygg::auth::feed::new_feed_token();
        let event = trygg::audit::AuditEvent::new(
            trygg::audit::AuditActor::system(),
            trygg::audit::AuditAction::Create,
            trygg::audit::EntityType::CalendarFeed,
            None,
            chrono::Utc::now(),
        );
        self.conn
            .transaction::<_, trygg::error::AppError, _>(|conn| {
                trygg::auth::feed::insert(
                    conn,
                    Uuid::now_v7(),
                    user,
                    &token,
                    event.occurred_at,
                    event.id,
                )?;
                trygg::audit::append(conn, std::slice::from_ref(&event))
            })
            .expect("arrange a calendar feed");
        self.feeds.insert(user, token.clone());
        token
    }

    /// The age-out plan of `child` with a goal the home's staff see to, opened by her secretary
    /// through the API the first time.
    async fn plan_of(&mut self, app: &TestApp, child: Uuid) -> (Uuid, Uuid) {
        if let Some(ids) = self.plans.get(&child) {
            return *ids;
        }
        let secretary = self.session(Profession::SocialSecretary, Slot::Direct);
        let path = format!("/api/v1/children/{child}/age-out-plan");
        let plan: Value = app
            .as_user(&secretary)
            .post(&path, json!({}))
            .await
            .json()
            .await
            .unwrap();
        let goal: Value = app
            .as_user(&secretary)
            .post(
                &format!("{path}/goals"),
                json!({"domain": "housing", "description": "A flat of her own", "target_date": "2027-06-01", "responsible": "home_staff"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = |v: &Value| {
            v["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .unwrap_or(Uuid::nil())
        };
        let ids = (id(&plan), id(&goal));
        self.plans.insert(child, ids);
        ids
    }

    /// The ids for `case`, with fresh objects where `recipe` asks for them.
    async fn target(
        &mut self,
        app: &TestApp,
        route: &str,
        recipe: &Recipe,
        kind: ChildKind,
        caller: Option<&Session>,
    ) -> Target {
        let (child, placement) = if recipe.fresh == Fresh::Child {
            self.new_child(app, kind).await
        } else {
            self.children[&kind]
        };
        let (home, move_to) = if kind.housing {
            (self.housing_a, self.housing_a2)
        } else {
            (self.hvb_a, self.hvb_a2)
        };
        let tag = self.tag();
        let facility = match recipe.fresh {
            Fresh::Facility => app.arrange_facility(self.unit_a, "hvb", 5, &[]),
            _ => home,
        };
        let unit = match recipe.fresh {
            Fresh::Unit => app.create_unit(&format!("Fresh unit {tag}")),
            _ => self.unit_a,
        };
        let user = match recipe.fresh {
            Fresh::User => {
                app.create_user_without_mfa(Profession::HvbStaff, Some(self.unit_a))
                    .id
            }
            _ => self.people[&(Profession::SocialSecretary, Slot::Direct)].0,
        };
        let mut if_match = None;
        let service_account = match recipe.fresh {
            Fresh::ServiceAccount => {
                let admin = self.session(Profession::SystemAdmin, Slot::NoUnit);
                let client = app
                    .register_client(&admin, &format!("fresh-{tag}"), &["visits:read"])
                    .await;
                if_match = Some(client.etag.clone());
                client.id
            }
            _ => self.target_client.id,
        };
        let (webhook, delivery) =
            if let Some(caller) = caller.filter(|_| route.contains("/webhook")) {
                self.webhook_of(app, caller).await
            } else {
                (Uuid::nil(), Uuid::nil())
            };
        let schedule = self.first_schedule(child);
        let visit = if route.contains("/visits") {
            self.arrange_visit(child, schedule)
        } else {
            Uuid::nil()
        };
        let (plan, goal) = if route.contains("age-out") && recipe.fresh != Fresh::Child {
            self.plan_of(app, child).await
        } else {
            (Uuid::nil(), Uuid::nil())
        };
        let (claim, quarter) = if route.contains("/api/v1/reimbursement-claims") {
            (self.claim_for(app, route).await, self.free_quarter())
        } else {
            (Uuid::nil(), String::new())
        };
        let mut target = Target {
            tag,
            unit,
            child,
            placement,
            schedule,
            visit,
            plan,
            goal,
            child_kind: kind,
            facility,
            move_to,
            secretary: self.people[&(Profession::SocialSecretary, Slot::Direct)].0,
            user,
            service_account,
            webhook,
            delivery,
            claim,
            quarter,
            system_caller: false,
            audit_event: self.audit_event,
            client_id: self.target_client.client_id.clone(),
            client_secret: self.target_client.client_secret.clone(),
            totp_code: "000000".to_owned(),
            if_match: None,
            feed_token: None,
        };
        if recipe.if_match {
            let path = route.split_once(' ').map(|(_, p)| p).unwrap_or_default();
            let plan = [("age_out_plans", target.plan)]
                .into_iter()
                .filter(|_| path.ends_with("/age-out-plan"));
            let (table, id) = plan
                .chain(
                    [
                        ("/api/v1/children/", "children", target.child),
                        ("/api/v1/placements/", "placements", target.placement),
                        (
                            "/api/v1/contact-schedules/",
                            "contact_schedules",
                            target.schedule,
                        ),
                        ("/api/v1/facilities/", "facilities", target.facility),
                        ("/api/v1/units/", "units", target.unit),
                        ("/api/v1/users/", "users", target.user),
                        (
                            "/api/v1/service-accounts/",
                            "service_accounts",
                            target.service_account,
                        ),
                        ("/api/v1/age-out-goals/", "age_out_goals", target.goal),
                        ("/api/v1/webhooks/", "webhook_subscriptions", target.webhook),
                        (
                            "/api/v1/reimbursement-claims/",
                            "reimbursement_claims",
                            target.claim,
                        ),
                    ]
                    .into_iter()
                    .filter(|(prefix, _, _)| path.starts_with(prefix))
                    .map(|(_, table, id)| (table, id)),
                )
                .next()
                .unwrap_or_else(|| panic!("no version to match for {route}"));
            target.if_match =
                if_match.or_else(|| Some(trygg::http::etag::etag(id, self.version_of(table, id))));
        }
        target
    }

    fn snapshot(&mut self) -> Snapshot {
        let digest = sql_query(&self.digest_sql)
            .get_result::<DigestRow>(&mut self.conn)
            .expect("digest the tables")
            .digest;
        let last_event = sql_query("SELECT coalesce(max(seq), 0) AS seq FROM audit_events")
            .get_result::<SeqRow>(&mut self.conn)
            .expect("the last audit event")
            .seq;
        Snapshot { digest, last_event }
    }

    fn events_since(&mut self, seq: i64) -> Vec<EventRow> {
        sql_query(
            "SELECT outcome, action, entity_type, actor_id, entity_id, child_id, child_unit_id, child_protected \
             FROM audit_events WHERE seq > $1 ORDER BY seq",
        )
        .bind::<BigInt, _>(seq)
        .load(&mut self.conn)
        .expect("read new audit events")
    }
}

// ---------------------------------------------------------------------------------------------
// Calling a cell
// ---------------------------------------------------------------------------------------------

async fn send(
    app: &TestApp,
    row: &Row,
    recipe: &Recipe,
    token: Option<&str>,
    target: &Target,
) -> reqwest::Response {
    let method = Method::from_bytes(row.method.as_bytes()).expect("an HTTP method");
    let mut url = app.url(&fill(&row.path, target));
    if let Some(query) = recipe.query {
        url = format!("{url}?{}", query(target));
    }
    if recipe.feed {
        url = format!(
            "{url}?token={}",
            target.feed_token.as_deref().unwrap_or_default()
        );
    }
    let mut request = app.client.request(method, url);
    if let (Some(token), false) = (token, recipe.feed) {
        request = request.bearer_auth(token);
    }
    if let (true, Some(tag)) = (recipe.if_match, target.if_match.as_deref()) {
        request = request.header("if-match", tag);
    }
    if let Some(body) = recipe.body {
        request = request.json(&body(target));
    }
    request.send().await.expect("request sent")
}

/// Status, content type and body of an answer.
async fn read(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, content_type, body)
}

fn short(body: &Value) -> String {
    let detail = body.get("detail").and_then(Value::as_str);
    let text = detail
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    text.chars().take(160).collect()
}

/// Calls one cell; `Err` says how the service disagrees with the matrix.
async fn check(
    app: &TestApp,
    world: &mut World,
    matrix: &Matrix,
    row: &Row,
    case: &Case,
) -> Result<(), String> {
    let route = row.route();
    let recipe = recipe(&route).expect("a recipe for every row");
    let label = &case.label;
    let session = world.caller(app, &case.who, recipe.fresh).await;
    let mut target = world
        .target(app, &route, &recipe, case.child, Some(&session))
        .await;
    target.system_caller = matches!(case.who, Who::System(_));
    if recipe.start_totp && matches!(case.who, Who::Person { .. }) {
        let started = app
            .as_user(&session)
            .post("/api/v1/me/totp", json!({}))
            .await;
        let (status, _, body) = read(started).await;
        if status == 200 {
            let secret = body["secret"].as_str().unwrap_or_default();
            target.totp_code = totp_code(secret, app.clock_now().timestamp());
        }
    }
    if let (true, Who::Person { profession, slot }) = (recipe.feed, &case.who) {
        let user = world.people[&(*profession, *slot)].0;
        target.feed_token = Some(world.feed_of(user));
    }
    let before = world.snapshot();
    let (status, content_type, body) =
        read(send(app, row, &recipe, Some(&session.access_token), &target).await).await;
    let wanted = match case.expected {
        Outcome::Allow => {
            if !(200..300).contains(&status) {
                return Err(format!(
                    "{label}: expected {}, got {status}: {}",
                    case.expected.word(),
                    short(&body)
                ));
            }
            let events = world.events_since(before.last_event);
            let mut faults = Vec::new();
            let (ok, _) = expected_events(&route);
            faults.extend(audited(world, row, &target, &body, &events, "success", ok));
            if ok.2 == Subject::Listed {
                faults.extend(listed_exactly(
                    world, matrix, row, case, &target, &body, &events, ok,
                ));
            }
            return if faults.is_empty() {
                Ok(())
            } else {
                Err(format!("{label}: {}", faults.join("; ")))
            };
        }
        Outcome::Forbidden => 403,
        Outcome::Hidden => 404,
    };
    let mut faults = Vec::new();
    if status != wanted {
        faults.push(format!(
            "expected {}, got {status}: {}",
            case.expected.word(),
            short(&body)
        ));
    } else if content_type != "application/problem+json" || body["status"] != wanted {
        faults.push(format!(
            "the refusal is not a problem+json {wanted}: {content_type} {}",
            short(&body)
        ));
    }
    // Someone who may not see the child learns nothing from the answer: an id that does not
    // exist is answered the same way.
    if row.about == About::Child && !matrix.may_read_child(case) {
        let (child, placement, goal) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        // A matching If-Match, so the request differs in nothing but the id.
        let if_match = target.if_match.as_ref().map(|tag| {
            tag.replace(
                &target.child.simple().to_string(),
                &child.simple().to_string(),
            )
            .replace(
                &target.placement.simple().to_string(),
                &placement.simple().to_string(),
            )
            .replace(
                &target.goal.simple().to_string(),
                &goal.simple().to_string(),
            )
        });
        let unknown = Target {
            child,
            placement,
            goal,
            if_match,
            ..target.clone()
        };
        let (probe, _, probe_body) =
            read(send(app, row, &recipe, Some(&session.access_token), &unknown).await).await;
        if probe != status || probe_body.get("type") != body.get("type") {
            faults.push(format!(
                "tells that the child exists: {status} for it, {probe} for an unknown id"
            ));
        }
    }
    let after = world.snapshot();
    if after.digest != before.digest {
        faults.push("the refusal changed data".to_owned());
    }
    let events = world.events_since(before.last_event);
    let others: Vec<String> = events
        .iter()
        .filter(|e| e.outcome != "denied")
        .map(|e| format!("{} {} {}", e.outcome, e.action, e.entity_type))
        .collect();
    if !others.is_empty() {
        faults.push(format!("the refusal left audit events: {others:?}"));
    }
    if !events.iter().any(|e| e.outcome == "denied") {
        faults.push("the refusal left no `denied` audit event".to_owned());
    } else {
        let (_, denied) = expected_events(&route);
        let known = KNOWN_GAPS.iter().find(|(r, _)| *r == route);
        match (
            audited(world, row, &target, &body, &events, "denied", denied),
            known,
        ) {
            (Some(fault), None) => faults.push(fault),
            (None, Some((_, gap))) => faults.push(format!(
                "the denied event is right now: remove `{gap}` from KNOWN_GAPS"
            )),
            _ => {}
        }
    }
    if faults.is_empty() {
        Ok(())
    } else {
        Err(format!("{label}: {}", faults.join("; ")))
    }
}

/// Public routes answer without a token.
async fn check_public(app: &TestApp, world: &mut World, row: &Row) -> Result<(), String> {
    let route = row.route();
    let recipe = recipe(&route).expect("a recipe for every row");
    let kind = ChildKind {
        housing: false,
        protected: false,
    };
    let target = world.target(app, &route, &recipe, kind, None).await;
    let (status, _, body) = read(send(app, row, &recipe, None, &target).await).await;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!(
            "{route} without a token: got {status}: {}",
            short(&body)
        ))
    }
}

/// Runs every cell of every row in `areas`, in an app of their own, and lists every cell where
/// the service disagrees with the matrix.
async fn run(areas: &[Area]) {
    let matrix = Matrix::load();
    // No dispatcher: what it writes on its own would look like a change made by a refusal.
    let app = spawn_app_with(AppOptions {
        webhooks: crate::helpers::without_dispatcher(),
        ..AppOptions::default()
    })
    .await;
    let mut world = World::build(&app).await;
    let mut faults = Vec::new();
    let mut cells = 0;
    for row in &matrix.rows {
        let Some(recipe) = recipe(&row.route()) else {
            continue;
        };
        if !areas.contains(&recipe.area) {
            continue;
        }
        if row.public {
            cells += 1;
            if let Err(fault) = check_public(&app, &mut world, row).await {
                faults.push(fault);
            }
            continue;
        }
        for case in cases(row) {
            cells += 1;
            if let Err(fault) = check(&app, &mut world, &matrix, row, &case).await {
                faults.push(fault);
            }
        }
    }
    assert!(cells > 0, "no rows for {areas:?}");
    assert!(
        faults.is_empty(),
        "{} of {cells} cells disagree with api-spec/authorization-matrix.yaml:\n{}",
        faults.len(),
        faults.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

fn spec_operations() -> BTreeSet<String> {
    let spec: Yaml =
        serde_yaml_ng::from_str(&std::fs::read_to_string(SPEC).expect("read the spec"))
            .expect("the spec is valid YAML");
    let mut found = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("the spec has paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.insert(format!(
                    "{} {}",
                    method.to_uppercase(),
                    path.as_str().unwrap_or_default()
                ));
            }
        }
    }
    found
}

#[test]
fn the_matrix_has_one_row_for_every_served_route() {
    let matrix = Matrix::load();
    let served: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let mut rows = BTreeSet::new();
    let mut faults = Vec::new();
    for row in &matrix.rows {
        let route = row.route();
        if !rows.insert(route.clone()) {
            faults.push(format!("{route} has more than one row"));
        }
        match ROUTES
            .iter()
            .find(|r| r.method == row.method && r.path == row.path)
        {
            None => faults.push(format!("{route} has a row but is not served")),
            Some(served) => {
                let feed = served.access == trygg::http::routes::Access::FeedToken;
                if matches!(row.service, Some(ServiceCell::NotApplicable)) != feed {
                    faults.push(format!(
                        "{route}: `service_account: n/a` is for routes that take a feed token, and only those"
                    ));
                }
                let public = served.access == trygg::http::routes::Access::Public;
                if public != row.public {
                    faults.push(format!(
                        "{route}: `public: {}` but it is served {:?}",
                        row.public, served.access
                    ));
                }
            }
        }
        if recipe(&route).is_none() {
            faults.push(format!(
                "{route} has no recipe in tests/api/authorization_matrix.rs: say how to call it"
            ));
        }
    }
    for route in served.union(&spec_operations()) {
        if !rows.contains(route) {
            faults.push(format!(
                "{route} has no row in api-spec/authorization-matrix.yaml"
            ));
        }
    }
    if matrix.row(READ_CHILD).is_none() {
        faults.push(format!("{READ_CHILD} has no row"));
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[actix_web::test]
async fn authorization_of_public_routes_and_ones_own_account() {
    run(&[Area::Public, Area::OwnAccount]).await;
}

#[actix_web::test]
async fn authorization_of_users_and_service_accounts() {
    run(&[Area::Administration]).await;
}

#[actix_web::test]
async fn authorization_of_units_facilities_and_reports() {
    run(&[Area::Organisation]).await;
}

#[actix_web::test]
async fn authorization_of_the_audit_log() {
    run(&[Area::AuditLog]).await;
}

#[actix_web::test]
async fn authorization_of_children() {
    run(&[Area::Children]).await;
}

#[actix_web::test]
async fn authorization_of_placements() {
    run(&[Area::Placements]).await;
}

#[actix_web::test]
async fn authorization_of_age_out_plans() {
    run(&[Area::Plans]).await;
}

#[actix_web::test]
async fn authorization_of_reimbursement_claims() {
    run(&[Area::Claims]).await;
}
