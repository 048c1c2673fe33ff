//! The spec in api-spec/openapi.yaml must describe exactly the routes the service serves, with
//! their authentication and error answers.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;
use trygg::http::routes::Access;
use trygg::routes::ROUTES;

use crate::helpers::{problem, spawn_app};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).expect("read the spec"))
        .expect("the spec is valid YAML")
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    let paths = spec["paths"].as_mapping().expect("spec has paths");
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((
                    method.to_uppercase(),
                    path.as_str().unwrap().to_owned(),
                    operation.clone(),
                ));
            }
        }
    }
    found
}

fn statuses(operation: &Value) -> BTreeSet<String> {
    operation["responses"]
        .as_mapping()
        .map(|m| {
            m.keys()
                .map(|k| match k {
                    Value::Number(n) => n.to_string(),
                    other => other.as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn requires(scheme: &str, operation: &Value, spec: &Value) -> bool {
    let security = operation.get("security").unwrap_or(&spec["security"]);
    security
        .as_sequence()
        .is_some_and(|s| s.iter().any(|req| req.get(scheme).is_some()))
}

fn requires_bearer(operation: &Value, spec: &Value) -> bool {
    requires("bearerAuth", operation, spec)
}

#[test]
fn the_spec_is_openapi_3_1() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["components"]["securitySchemes"]["bearerAuth"].is_mapping());
    assert!(spec["components"]["securitySchemes"]["feedToken"].is_mapping());
    assert!(spec["components"]["schemas"]["Problem"].is_mapping());
}

/// The problem codes the spec documents are exactly those the service can answer with, each
/// with its status.
#[test]
fn the_spec_lists_every_problem_code_with_its_status() {
    let spec = spec();
    let schema = &spec["components"]["schemas"]["ProblemCode"];
    let listed: BTreeSet<String> = schema["enum"]
        .as_sequence()
        .expect("ProblemCode has an enum")
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    let documented: BTreeSet<(String, u16)> = schema["x-problem-codes"]
        .as_mapping()
        .expect("ProblemCode has x-problem-codes")
        .iter()
        .map(|(code, about)| {
            let status = about["status"].as_u64().expect("a status") as u16;
            assert!(
                about["cause"].as_str().is_some_and(|c| !c.is_empty()),
                "{code:?} has no cause"
            );
            (code.as_str().unwrap().to_owned(), status)
        })
        .collect();
    let served: BTreeSet<(String, u16)> = trygg::error::problem_codes()
        .into_iter()
        .map(|(code, status)| (code.to_owned(), status))
        .collect();
    assert_eq!(documented, served, "x-problem-codes differ from error.rs");
    let served_codes: BTreeSet<String> = served.into_iter().map(|(code, _)| code).collect();
    assert_eq!(
        listed, served_codes,
        "the ProblemCode enum differs from error.rs"
    );
}

#[test]
fn the_spec_names_exactly_the_served_routes() {
    let spec = spec();
    let documented: BTreeSet<(String, String)> = operations(&spec)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the spec: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in the spec but not served: {unserved:?}"
    );
}

#[test]
fn each_operation_documents_its_auth_and_error_answers() {
    let spec = spec();
    let mut faults = Vec::new();
    for route in ROUTES {
        let operation = &spec["paths"][route.path][route.method.to_lowercase()];
        let documented = statuses(operation);
        let mut expected: Vec<&str> = Vec::new();
        match route.access {
            Access::Bearer => {
                if !requires_bearer(operation, &spec) {
                    faults.push(format!(
                        "{} {} must require bearerAuth",
                        route.method, route.path
                    ));
                }
                expected.extend(["401", "403", "503"]);
            }
            Access::FeedToken => {
                if requires_bearer(operation, &spec) || !requires("feedToken", operation, &spec) {
                    faults.push(format!(
                        "{} {} takes a feed token (feedToken), not a bearer token",
                        route.method, route.path
                    ));
                }
                expected.extend(["401", "403", "503"]);
            }
            Access::Public => {
                if requires_bearer(operation, &spec) {
                    faults.push(format!(
                        "{} {} is public but the spec asks for a token",
                        route.method, route.path
                    ));
                }
            }
        }
        if route.path.contains('{') {
            expected.push("404");
        }
        if operation.get("requestBody").is_some() {
            expected.extend(["400", "413", "415"]);
        }
        for status in expected {
            if !documented.contains(status) {
                faults.push(format!(
                    "{} {} does not document {status}",
                    route.method, route.path
                ));
            }
        }
        if operation["operationId"].as_str().is_none() {
            faults.push(format!(
                "{} {} has no operationId",
                route.method, route.path
            ));
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");
}

/// What the spec says about authentication is what the service does.
#[actix_web::test]
async fn every_bearer_route_refuses_a_request_without_a_token() {
    let app = spawn_app().await;
    for route in ROUTES.iter().filter(|r| r.access == Access::Bearer) {
        let path = route
            .path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "0195b4d2-0000-7000-8000-000000000000"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url(&path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let body = problem(response, 401).await;
        assert_eq!(
            body["type"], "urn:trygg:problem:unauthenticated",
            "{} {}",
            route.method, route.path
        );
    }
}

/// A route that takes a feed token answers 401 without one, or with a bearer token instead.
#[actix_web::test]
async fn every_feed_route_refuses_a_request_without_its_token() {
    let app = spawn_app().await;
    for route in ROUTES.iter().filter(|r| r.access == Access::FeedToken) {
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        for query in ["", "?token=cal_unknown", "?token="] {
            let response = app
                .client
                .request(method.clone(), app.url(&format!("{}{query}", route.path)))
                .bearer_auth("not-a-feed-token")
                .send()
                .await
                .unwrap();
            let body = problem(response, 401).await;
            assert_eq!(
                body["type"], "urn:trygg:problem:unauthenticated",
                "{} {}{query}",
                route.method, route.path
            );
        }
    }
}
