//! The committee report against figures worked out by hand: North's HVB home and its supported
//! housing in January and February 2026 (59 days), asked for on 10 March, with its education
//! starts and its months; South, whose few children are few enough to be suppressed, also
//! against subtraction, in the period and in a month; who may read it; and the same figures as
//! CSV.

use std::collections::HashMap;

use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};
use crate::reports::{agree_places, end, login, place, placement, report_events};

const REPORT: &str = "/api/v1/reports/committee";
/// January and February 2026: 31 + 28 = 59 days.
const PERIOD: &str = "from=2026-01-01&to=2026-02-28";

/// A child placed in a home of `office` from `start`, ended on `end` if given.
struct Case {
    name: &'static str,
    born: &'static str,
    home: Uuid,
    start: &'static str,
    end: Option<&'static str>,
}

const fn case(
    name: &'static str,
    born: &'static str,
    home: Uuid,
    start: &'static str,
    end: Option<&'static str>,
) -> Case {
    Case {
        name,
        born,
        home,
        start,
        end,
    }
}

/// Registers and places each case, and answers each child's id by name. Placements in
/// supported housing are the children's first, so the unit manager makes them with a reason to
/// deviate (and special reasons, for those under 18).
async fn arrange(
    app: &TestApp,
    office: &Office,
    housing: Uuid,
    cases: &[Case],
) -> HashMap<&'static str, Uuid> {
    let secretary = &office.secretary_session;
    let mut children = HashMap::new();
    for c in cases {
        let child = register(app, secretary, child_body(office.unit, c.name, c.born)).await;
        let mut body = placement(c.home, c.start, None);
        let by = if c.home == housing {
            body["deviation_reason"] = json!("Lived in supported housing in another municipality");
            body["special_reasons"] = json!("Mature, manages on her own with support");
            &office.manager_session
        } else {
            secretary
        };
        let placed = place(app, by, child, body).await;
        if let Some(last) = c.end {
            end(app, secretary, &placed, last).await;
        }
        children.insert(c.name, child);
    }
    children
}

/// The secretary opens the child's age-out plan and records her application to school or SFI
/// and its start.
async fn education(app: &TestApp, office: &Office, child: Uuid, applied: &str, started: &str) {
    let session = &office.secretary_session;
    let path = format!("/api/v1/children/{child}/age-out-plan");
    let opened = app.as_user(session).post(&path, json!({})).await;
    assert_eq!(opened.status(), 201, "{}", opened.text().await.unwrap());
    let tag = opened.headers()["etag"].to_str().unwrap().to_owned();
    let body = json!({"education_kind": "school", "education_applied_on": applied,
                      "education_started_on": started});
    let changed = app.patch_if_match(session, &path, Some(&tag), body).await;
    assert_eq!(changed.status(), 200, "{}", changed.text().await.unwrap());
}

/// The month `name` (`2026-01`) of a report's series.
fn month<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == name)
        .unwrap_or_else(|| panic!("{name} is a month of {body}"))
}

/// A month's figure as `{"value", "suppressed"}`.
fn cell(value: Value, suppressed: bool) -> Value {
    json!({"value": value, "suppressed": suppressed})
}

async fn committee(app: &TestApp, session: &Session, query: &str) -> Value {
    let response = app.as_user(session).get(&format!("{REPORT}?{query}")).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "report refused: {body}");
    body
}

/// The figure `name` of a report: `(value, suppressed)`.
fn figure(body: &Value, name: &str) -> (Value, bool) {
    let figure = body["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} is a figure of {body}"));
    (
        figure["value"].clone(),
        figure["suppressed"].as_bool().unwrap(),
    )
}

fn shown(body: &Value, name: &str) -> Value {
    let (value, suppressed) = figure(body, name);
    assert!(!suppressed, "{name} is shown");
    value
}

/// Each figure of `expected` is shown with its value.
fn shows(body: &Value, expected: &[(&str, Value)]) {
    for (name, value) in expected {
        assert_eq!(&shown(body, name), value, "{name}");
    }
}

/// North: an HVB home of 6 places (5 agreed with Migrationsverket) and supported housing of 6
/// (4 agreed).
async fn north_story(app: &TestApp) -> (Office, Uuid, Uuid) {
    let north = office(app, "North").await;
    let hvb = app.arrange_facility(north.unit, "hvb", 6, &[]);
    let housing = app.arrange_facility(north.unit, "supported_housing", 6, &[]);
    agree_places(app, hvb, 5);
    agree_places(app, housing, 4);
    let cases = [
        // In the HVB home: days in the period, and the whole stay of those who left.
        case("A", "2010-05-20", hvb, "2025-11-01", None), // 59
        case("B", "2011-02-02", hvb, "2025-12-01", None), // 59
        case("C", "2010-09-01", hvb, "2025-12-15", Some("2026-01-20")), // 20; 17 + 20 = 37
        case("D", "2012-01-10", hvb, "2026-01-10", None), // 22 + 28 = 50
        case("E", "2011-06-06", hvb, "2026-02-01", Some("2026-02-14")), // 14; 14
        case("G", "2009-12-01", hvb, "2026-01-05", Some("2026-02-20")), // 27 + 20 = 47; 47
        // Left the day before the period; came after it: neither counts anywhere.
        case("K", "2010-03-03", hvb, "2025-08-01", Some("2025-12-31")),
        case("L", "2011-08-08", hvb, "2026-03-02", None),
        // In supported housing. H, O and F turn 18 on 20 Jan, 5 Jan and 10 Feb and stay on.
        case("H", "2008-01-20", housing, "2025-09-01", None), // 59
        case("O", "2008-01-05", housing, "2025-10-15", None), // 59
        case("F", "2008-02-10", housing, "2025-10-01", None), // 59
        case("J", "2007-06-01", housing, "2026-02-01", Some("2026-02-27")), // 27; 27
        case("M", "2007-09-09", housing, "2026-01-15", Some("2026-02-25")), // 17 + 25 = 42; 42
        case("N", "2007-11-11", housing, "2026-01-20", Some("2026-02-10")), // 12 + 10 = 22; 22
    ];
    let children = arrange(app, &north, housing, &cases).await;
    // School or SFI. A: 20 Nov to 12 Jan, 10 + 31 + 12 = 53 days, by the deadline of 20 Feb.
    // H: 1 Oct to 2 Feb, 31 + 30 + 31 + 32 = 124 days, after the deadline of 1 Jan. C (left on
    // 20 Jan): 15 Dec to 7 Jan, 16 + 7 = 23 days, in time. K started in the period but was not
    // placed in it; B starts after it.
    for (name, applied, started) in [
        ("A", "2025-11-20", "2026-01-12"),
        ("H", "2025-10-01", "2026-02-02"),
        ("C", "2025-12-15", "2026-01-07"),
        ("K", "2025-11-01", "2026-01-15"),
        ("B", "2026-01-10", "2026-03-02"),
    ] {
        education(app, &north, children[name], applied, started).await;
    }
    (north, hvb, housing)
}

#[actix_web::test]
async fn north_s_two_months_equal_the_figures_worked_out_by_hand() {
    let app = spawn_app().await;
    let (north, _, _) = north_story(&app).await;
    let body = committee(&app, &north.manager_session, PERIOD).await;
    assert_eq!(
        (&body["from"], &body["to"], &body["unit_id"]),
        (
            &json!("2026-01-01"),
            &json!("2026-02-28"),
            &json!(north.unit)
        )
    );
    assert_eq!(
        (
            &body["adult_age"],
            &body["placement_end_age"],
            &body["smallest_shown"]
        ),
        (&json!(18), &json!(21), &json!(3)),
        "the ages are the rules' (config/rules.toml)"
    );
    let expected = [
        // 1 January: A, B, C in the HVB home; H, O, F in supported housing.
        ("children_placed_at_start", json!(6)),
        // 28 February: A, B, D; H, O, F.
        ("children_placed_at_end", json!(6)),
        // Everyone but K and L.
        ("children_placed_in_period", json!(12)),
        // D, E, G; J, M, N.
        ("admissions", json!(6)),
        ("admissions_hvb", json!(3)),
        ("admissions_supported_housing", json!(3)),
        // C, E, G; J, M, N.
        ("discharges", json!(6)),
        ("discharges_hvb", json!(3)),
        ("discharges_supported_housing", json!(3)),
        // 59 + 59 + 20 + 50 + 14 + 47 = 249 in the HVB home, 59 × 3 + 27 + 42 + 22 = 268.
        ("place_days_used", json!(517)),
        // (6 + 6) places × 59 days.
        ("place_days_available", json!(708)),
        // 517 / 708 = 0.7302…
        ("utilisation", json!(0.73)),
        // (37 + 14 + 47 + 27 + 42 + 22) / 6 = 189 / 6.
        ("average_stay_days", json!(31.5)),
        // 6 discharges from 12 places in 59 days: 6 / 12 × 365 / 59 = 3.0932…
        ("turnover_per_place_per_year", json!(3.093)),
        ("agreed_places", json!(9)),
        ("places_used_on_last_day", json!(6)),
        // H, O, F: in care the day before their 18th birthday, and on it.
        ("reached_adult_age_in_care", json!(3)),
        ("ended_at_adult_age", json!(0)),
        ("continued_care_after_adult_age", json!(3)),
        // Nobody turns 21 in the period.
        ("ended_at_placement_end_age", json!(0)),
        // A, H and C: (53 + 124 + 23) / 3 = 66.67 days; A and C within three months.
        ("education_started", json!(3)),
        ("education_average_wait_days", json!(66.7)),
        ("education_started_in_time_share", json!(0.667)),
    ];
    shows(&body, &expected);
    assert_eq!(body["education_start_within_months"], json!(3));

    // Month by month. 31 January: A, B, D, G; H, O, F, M, N. Place-days in January: A 31, B 31,
    // C 20, D 22, G 27; H, O, F 31 each, M 17, N 12: 253 of 12 × 31 = 372 (0.6801…). February:
    // A, B, D 28 each, E 14, G 20; H, O, F 28 each, J 27, M 25, N 10: 264 (253 + 264 = 517) of
    // 12 × 28 = 336 (0.7857…); on the 28th the period's last day's six.
    let series: Vec<&Value> = body["series"].as_array().unwrap().iter().collect();
    assert_eq!(series.len(), 2, "{series:?}");
    let expected = [
        ("2026-01", "2026-01-01", "2026-01-31", 9, 253, 372, 0.68),
        ("2026-02", "2026-02-01", "2026-02-28", 6, 264, 336, 0.786),
    ];
    for (name, from, to, at_end, used, available, utilisation) in expected {
        let m = month(&body, name);
        assert_eq!((&m["from"], &m["to"]), (&json!(from), &json!(to)));
        assert_eq!(
            m["children_placed_at_end"],
            cell(json!(at_end), false),
            "{name}"
        );
        assert_eq!(m["place_days_used"], cell(json!(used), false), "{name}");
        assert_eq!(m["place_days_available"], cell(json!(available), false));
        assert_eq!(m["utilisation"], cell(json!(utilisation), false), "{name}");
        // No visit is recorded: none of the contacts due in the month was made.
        assert_eq!(m["compliance_on_time_share"], cell(json!(0.0), false));
    }
    assert_eq!(body["suppressed"], json!([]), "no count of 1 or 2 in North");
    // Counts only: no child is named.
    assert!(!body.to_string().contains("Ahmadi"));

    // Visit compliance is the contact compliance report's own figures for the unit.
    let compliance: Value = app
        .as_user(&north.manager_session)
        .get(&format!("/api/v1/reports/contact-compliance?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let unit = &compliance["units"][0];
    for field in [
        "children",
        "children_spoken_alone",
        "spoken_alone_share",
        "due_contacts",
        "on_time",
        "on_time_share",
        "pending",
        "secretary_visits",
        "secretary_visits_at_placement",
        "at_placement_share",
        "attempted_not_completed",
        "meets_target",
    ] {
        assert_eq!(
            shown(&body, &format!("compliance_{field}")),
            unit[field],
            "{field}"
        );
    }
    // Every child placed in the period has schedules, and so has K: the secretary's visits go
    // on after she left the home. Nobody was spoken with alone (no visit is recorded).
    assert_eq!(shown(&body, "compliance_children"), json!(13));
    assert_eq!(
        shown(&body, "compliance_children_not_spoken_alone"),
        json!(13)
    );

    // The administrator sees the same for every unit (North is the only one with homes).
    let (admin, session) = login(&app, Profession::Administrator, None).await;
    let all = committee(&app, &session, PERIOD).await;
    assert_eq!(all["unit_id"], Value::Null);
    assert_eq!(all["figures"], body["figures"]);
    assert_eq!(all["series"], body["series"]);
    let one = committee(&app, &session, &format!("{PERIOD}&unit_id={}", north.unit)).await;
    assert_eq!(one["figures"], body["figures"]);
    assert_eq!(report_events(&app, admin, "success"), 2);
}

/// South: three children at the start, four admissions of which one to supported housing, and
/// one youth who leaves care the day before her 18th birthday.
async fn south_story(app: &TestApp) -> Office {
    let south = office(app, "South").await;
    let hvb = app.arrange_facility(south.unit, "hvb", 6, &[]);
    let housing = app.arrange_facility(south.unit, "supported_housing", 4, &[]);
    let cases = [
        case("S1", "2011-01-01", hvb, "2025-12-01", None),
        case("S2", "2011-01-02", hvb, "2025-12-01", None),
        case(
            "S3",
            "2008-02-25",
            housing,
            "2025-11-15",
            Some("2026-02-24"),
        ),
        case("S4", "2011-03-03", hvb, "2026-01-10", None),
        case("S5", "2011-04-04", hvb, "2026-01-12", None),
        case("S6", "2011-05-05", hvb, "2026-01-14", None),
        case("S7", "2007-07-07", housing, "2026-02-01", None),
    ];
    arrange(app, &south, housing, &cases).await;
    south
}

#[actix_web::test]
async fn a_month_of_one_child_is_suppressed_and_so_is_the_month_that_would_give_it_away() {
    let app = spawn_app().await;
    let south = south_story(&app).await;
    // November to February (120 days), 6 + 4 = 10 places.
    let body = committee(
        &app,
        &south.manager_session,
        "from=2025-11-01&to=2026-02-28",
    )
    .await;
    let months: Vec<&str> = body["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2025-11", "2025-12", "2026-01", "2026-02"]);
    let hidden = || cell(Value::Null, true);
    // November: only S3, from the 15th (16 days), and only her schedules run: all suppressed
    // but the places.
    let november = month(&body, "2025-11");
    assert_eq!(november["children_placed_at_end"], hidden());
    assert_eq!(november["place_days_used"], hidden());
    assert_eq!(november["utilisation"], hidden());
    assert_eq!(november["place_days_available"], cell(json!(300), false));
    assert_eq!(november["compliance_on_time_share"], hidden());
    // The period's place-days are shown: 16 + S1, S2, S3 in December (3 × 31 = 93) + January
    // (31 × 3 + S4 22 + S5 20 + S6 18 = 153) + February (S3 24 + 6 × 28 = 192) = 454. With
    // only November hidden, 454 − 93 − 153 − 192 would give her 16 days back, so December's
    // 93, the smallest, goes too; its three children on the 31st are shown.
    assert_eq!(shown(&body, "place_days_used"), json!(454));
    let december = month(&body, "2025-12");
    assert_eq!(december["children_placed_at_end"], cell(json!(3), false));
    assert_eq!(december["place_days_used"], hidden());
    assert_eq!(december["utilisation"], hidden());
    // January: 153 of 310 (0.4935…), six on the 31st; February: 192 of 280 (0.6857…), six on
    // the 28th (S3 left on the 24th, S7 came).
    let january = month(&body, "2026-01");
    assert_eq!(january["children_placed_at_end"], cell(json!(6), false));
    assert_eq!(january["place_days_used"], cell(json!(153), false));
    assert_eq!(january["utilisation"], cell(json!(0.494), false));
    let february = month(&body, "2026-02");
    // Six on the 28th, the period's last day: the period's own count then, which is hidden
    // (7 placed in the period less 6 would give S3 back), so the month's is too.
    assert_eq!(february["children_placed_at_end"], hidden());
    assert_eq!(february["place_days_used"], cell(json!(192), false));
    assert_eq!(february["utilisation"], cell(json!(0.686), false));

    // In CSV, after the period's figures, each month's with its month.
    let response = app
        .as_user(&south.manager_session)
        .get(&format!(
            "{REPORT}?from=2025-11-01&to=2026-02-28&format=csv"
        ))
        .await;
    let bytes = response.bytes().await.unwrap();
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    let figures = body["figures"].as_array().unwrap().len();
    assert_eq!(lines.len(), 1 + figures + 4 * 5, "{text}");
    assert_eq!(
        lines[1 + figures..1 + figures + 5],
        [
            "children_placed_at_end,,true,2025-11",
            "place_days_used,,true,2025-11",
            "place_days_available,300,false,2025-11",
            "utilisation,,true,2025-11",
            "compliance_on_time_share,,true,2025-11",
        ]
    );
    assert!(lines.contains(&"place_days_used,153,false,2026-01"));
    assert!(lines.contains(&"place_days_used,,true,2025-12"));
}

#[actix_web::test]
async fn counts_of_one_or_two_children_are_suppressed_and_so_is_what_would_give_them_away() {
    let app = spawn_app().await;
    let south = south_story(&app).await;
    let body = committee(&app, &south.manager_session, PERIOD).await;
    // Admissions: 3 to the HVB home, 1 (S7) to supported housing, 4 in all. The 1 goes, and so
    // does the 3, which would give it back as 4 − 3. Discharges: only S3, from supported
    // housing: 1 in all, 1 of supported housing (the HVB home's 0 shows). Her 18th birthday
    // (25 February): 1 who reached it in care, 1 who left. The average stay is hers alone.
    // And since she is the one child placed in the period but not on its last day, the
    // children placed on the last day go too (with the places used then): the period's
    // total less them would give her back.
    assert_eq!(
        body["suppressed"],
        json!([
            "children_placed_at_end",
            "children_left_in_period",
            "admissions_hvb",
            "admissions_supported_housing",
            "discharges",
            "discharges_supported_housing",
            "average_stay_days",
            "turnover_per_place_per_year",
            "places_used_on_last_day",
            "reached_adult_age_in_care",
            "ended_at_adult_age",
        ])
    );
    for name in body["suppressed"].as_array().unwrap() {
        let (value, suppressed) = figure(&body, name.as_str().unwrap());
        assert_eq!((value, suppressed), (Value::Null, true), "{name}");
    }
    let expected = [
        // S1, S2, S3 on 1 January: three is shown.
        ("children_placed_at_start", json!(3)),
        // S1 to S7, and S4, S5, S6, S7 came in the period (S1, S2, S4, S5, S6, S7 on its last
        // day, suppressed above).
        ("children_placed_in_period", json!(7)),
        ("children_arrived_in_period", json!(4)),
        ("admissions", json!(4)),
        // Zero is shown.
        ("discharges_hvb", json!(0)),
        ("continued_care_after_adult_age", json!(0)),
    ];
    shows(&body, &expected);

    // The same figures as CSV: the byte-order mark, a header, one row per figure.
    let response = app
        .as_user(&south.manager_session)
        .get(&format!("{REPORT}?{PERIOD}&format=csv"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "the BOM comes first");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    let figures = body["figures"].as_array().unwrap();
    assert_eq!(lines[0], "figure,value,suppressed,month");
    // A row per figure of the period, then five for each of the two months.
    assert_eq!(lines.len(), 1 + figures.len() + 2 * 5, "{text}");
    for (line, figure) in lines[1..].iter().zip(figures) {
        assert!(
            line.starts_with(&format!("{},", figure["name"].as_str().unwrap())),
            "{line}"
        );
        assert!(
            line.ends_with(','),
            "the period's rows name no month: {line}"
        );
    }
    assert!(lines.contains(&"admissions_hvb,,true,"));
    assert!(lines.contains(&"admissions,4,false,"));
    assert!(lines.contains(&"discharges_hvb,0,false,"));
    // S3's discharge is the only one: the turnover goes with it.
    assert!(lines.contains(&"turnover_per_place_per_year,,true,"));
    assert!(lines.contains(&"children_placed_at_end,,true,2026-02"));
    assert!(lines.contains(&"children_placed_at_end,6,false,2026-01"));
    // Both reads are logged, JSON and CSV alike.
    assert_eq!(report_events(&app, south.manager.id, "success"), 2);
}

#[actix_web::test]
async fn a_manager_of_another_unit_and_case_workers_are_refused() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let south = office(&app, "South").await;
    app.arrange_facility(south.unit, "hvb", 4, &[]);
    let other = app
        .as_user(&north.manager_session)
        .get(&format!("{REPORT}?{PERIOD}&unit_id={}", south.unit))
        .await;
    problem(other, 403).await;
    assert_eq!(report_events(&app, north.manager.id, "denied"), 1);
    assert_eq!(report_events(&app, north.manager.id, "success"), 0);
    let secretary = app
        .as_user(&north.secretary_session)
        .get(&format!("{REPORT}?{PERIOD}"))
        .await;
    problem(secretary, 403).await;
    for profession in [Profession::Auditor, Profession::SystemAdmin] {
        let (id, session) = login(&app, profession, None).await;
        problem(
            app.as_user(&session)
                .get(&format!("{REPORT}?{PERIOD}"))
                .await,
            403,
        )
        .await;
        assert_eq!(report_events(&app, id, "denied"), 1, "{profession}");
    }

    // Statistics systems read it with `reports:read`, as the compliance report; not with
    // `capacity:read`.
    let admin = app.system_admin_session().await;
    let statistics = app
        .register_client(&admin, "statistics", &["reports:read"])
        .await;
    let planner = app
        .register_client(&admin, "places-planner", &["capacity:read"])
        .await;
    let session = app.client_login(&statistics).await;
    let body = committee(&app, &session, PERIOD).await;
    assert_eq!(body["unit_id"], Value::Null);
    let session = app.client_login(&planner).await;
    problem(
        app.as_user(&session)
            .get(&format!("{REPORT}?{PERIOD}"))
            .await,
        403,
    )
    .await;

    let own = app.as_user(&north.manager_session);
    for (query, field) in [
        ("to=2026-02-28", "from"),
        ("from=2026-01-01", "to"),
        ("from=2026-02-01&to=2026-01-31", "to"),
        // Today is 10 March: a period that runs on is not over.
        ("from=2026-03-01&to=2026-03-31", "to"),
        ("from=2025-01-01&to=2026-01-05", "to"),
    ] {
        let body = problem(own.get(&format!("{REPORT}?{query}")).await, 400).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    problem(
        own.get(&format!("{REPORT}?{PERIOD}&format=xlsx")).await,
        400,
    )
    .await;
}
