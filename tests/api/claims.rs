//! State reimbursement claims against lines worked out by hand: four children in the fourth
//! quarter of 2025 (1 October to 31 December, 92 days), claimed on 10 March 2026 by the rules
//! in config/rules.toml (1 350 kr a day for an asylum seeker under 18, 750 kr a day in
//! continued care from 18 with a permit, 52 000 kr once per assigned child, and LVU-level care's
//! actual cost above the daily amounts). Then: a submitted claim is frozen, in the service and
//! in the database; a correction is a supplementary claim; a draft out of date is not sent; the
//! deadline; the administrator's worklist.

use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, office, register, Office};
use crate::helpers::users::Session;
use crate::helpers::{problem, spawn_app, TestApp};
use crate::reports::{end, login, place, placement};

const CLAIMS: &str = "/api/v1/reimbursement-claims";

struct Story {
    office: Office,
    admin: Session,
    /// A, B, C, D.
    children: [Uuid; 4],
    /// The placements of A, B, C, D.
    placements: [Value; 4],
}

fn born(unit: Uuid, name: &str, date_of_birth: &str, status: &str) -> Value {
    let mut body = child_body(unit, name, date_of_birth);
    body["asylum_status"] = json!(status);
    body["arrival_date"] = json!("2025-08-01");
    body["guardian"] =
        json!({"name": "Gunnel Gode", "phone": "070-123 45 67", "appointed_on": "2025-08-10"});
    body
}

async fn story(app: &TestApp) -> Story {
    let office = office(app, "North").await;
    let hvb = app.arrange_facility(office.unit, "hvb", 8, &[]);
    let s = &office.secretary_session;
    // A: 15, asylum seeker, assigned to the municipality on 3 November, placed that day.
    let mut a = born(office.unit, "A", "2010-05-20", "asylum_seeker");
    a["assigned_on"] = json!("2025-11-03");
    a["dossier_number"] = json!("1234567");
    // B: 18 on 16 November 2025, with a temporary permit, placed since September.
    let mut b = born(office.unit, "B", "2007-11-16", "temporary_permit");
    b["guardian"] = Value::Null;
    // C: 16, asylum seeker, in LVU care from 10 October to 9 December.
    let c = born(office.unit, "C", "2009-03-03", "asylum_seeker");
    // D: 15, asylum seeker, placed on New Year's Eve.
    let d = born(office.unit, "D", "2010-01-01", "asylum_seeker");
    let mut children = [Uuid::nil(); 4];
    for (i, body) in [a, b, c, d].into_iter().enumerate() {
        children[i] = register(app, s, body).await;
    }
    let mut lvu = placement(hvb, "2025-10-10", None);
    lvu["legal_basis"] = json!("LVU-3");
    let bodies = [
        placement(hvb, "2025-11-03", None),
        placement(hvb, "2025-09-01", None),
        lvu,
        placement(hvb, "2025-12-31", None),
    ];
    let mut placements = Vec::new();
    for (child, body) in children.iter().zip(bodies) {
        placements.push(place(app, s, *child, body).await);
    }
    end(app, s, &placements[2], "2025-12-09").await;
    let (_, admin) = login(app, Profession::Administrator, None).await;
    Story {
        office,
        admin,
        children,
        placements: placements.try_into().unwrap(),
    }
}

fn id_of(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

async fn send(
    app: &TestApp,
    session: &Session,
    method: reqwest::Method,
    path: &str,
    etag: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&session.access_token)
        .json(&body);
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    request.send().await.unwrap()
}

/// Answers `status` with a JSON body, and its ETag.
async fn json_of(response: reqwest::Response, status: u16) -> (Value, String) {
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    (body, etag)
}

async fn draft(app: &TestApp, admin: &Session, body: Value) -> (Value, String) {
    json_of(
        send(app, admin, reqwest::Method::POST, CLAIMS, None, body).await,
        201,
    )
    .await
}

/// The lines as `(child index, category, first day, last day, days, rate, amount)`.
fn lines(
    claim: &Value,
    children: &[Uuid; 4],
) -> Vec<(usize, String, String, String, i64, i64, i64)> {
    let mut out: Vec<_> = claim["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let child: Uuid = l["child_id"].as_str().unwrap().parse().unwrap();
            (
                children
                    .iter()
                    .position(|c| *c == child)
                    .expect("a child of the story"),
                l["category"].as_str().unwrap().to_owned(),
                l["first_day"].as_str().unwrap().to_owned(),
                l["last_day"].as_str().unwrap().to_owned(),
                l["days"].as_i64().unwrap(),
                l["rate_ore"].as_i64().unwrap(),
                l["amount_ore"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn line(
    child: usize,
    category: &str,
    (first, last): (&str, &str),
    days: i64,
    rate: i64,
    amount: i64,
) -> (usize, String, String, String, i64, i64, i64) {
    (
        child,
        category.into(),
        first.into(),
        last.into(),
        days,
        rate,
        amount,
    )
}

/// The fourth quarter's lines by hand, C's actual cost `lvu` (None: not stated).
fn expected_q4(lvu: Option<i64>) -> Vec<(usize, String, String, String, i64, i64, i64)> {
    let mut out = vec![
        // A: 3 Nov – 31 Dec = 28 + 31 = 59 days × 1 350 kr; assigned on 3 Nov: 52 000 kr.
        line(
            0,
            "assignment",
            ("2025-11-03", "2025-11-03"),
            0,
            5_200_000,
            5_200_000,
        ),
        line(
            0,
            "asylum_seeker_day",
            ("2025-11-03", "2025-12-31"),
            59,
            135_000,
            7_965_000,
        ),
        // B: nothing before the 18th birthday (a permit, not asylum seeking); from 16 Nov to
        // 31 Dec = 15 + 31 = 46 days × 750 kr.
        line(
            1,
            "continued_care_day",
            ("2025-11-16", "2025-12-31"),
            46,
            75_000,
            3_450_000,
        ),
        // C: 10 Oct – 9 Dec = 22 + 30 + 9 = 61 days × 1 350 kr = 82 350 kr; LVU-level care:
        // the actual cost above those 82 350 kr.
        line(
            2,
            "asylum_seeker_day",
            ("2025-10-10", "2025-12-09"),
            61,
            135_000,
            8_235_000,
        ),
        line(
            2,
            "lvu_care",
            ("2025-10-10", "2025-12-09"),
            61,
            0,
            lvu.map_or(0, |c| c - 8_235_000),
        ),
        // D: 31 Dec, one day.
        line(
            3,
            "asylum_seeker_day",
            ("2025-12-31", "2025-12-31"),
            1,
            135_000,
            135_000,
        ),
    ];
    out.sort();
    out
}

#[actix_web::test]
async fn a_quarters_claim_holds_the_lines_worked_out_by_hand() {
    let app = spawn_app().await;
    let st = story(&app).await;
    let (claim, _) = draft(&app, &st.admin, json!({"quarter": "2025-Q4"})).await;
    assert_eq!(claim["status"], "draft");
    assert_eq!(
        claim["deadline"], "2026-06-30",
        "six months after 31 December"
    );
    assert_eq!(lines(&claim, &st.children), expected_q4(None));
    assert_eq!(claim["missing_actual_costs"], 1);
    // 52 000 + 79 650 + 34 500 + 82 350 + 1 350 kr, and nothing yet for C's LVU care.
    assert_eq!(
        claim["total_ore"],
        5_200_000 + 7_965_000 + 3_450_000 + 8_235_000 + 135_000
    );
    assert!(claim["reference"].as_str().unwrap().contains("2017:193"));

    // C's actual cost of 120 000 kr: 120 000 − 82 350 = 37 650 kr above the daily amounts.
    let id = id_of(&claim);
    let path = format!("{CLAIMS}/{id}");
    let etag = format!("\"{}-1\"", id.simple());
    let costs = json!({"actual_costs": [{"placement_id": st.placements[2]["id"], "amount_ore": 12_000_000}]});
    let (claim, _) = json_of(
        send(
            &app,
            &st.admin,
            reqwest::Method::PATCH,
            &path,
            Some(&etag),
            costs,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(lines(&claim, &st.children), expected_q4(Some(12_000_000)));
    assert_eq!(claim["missing_actual_costs"], 0);
    assert_eq!(claim["total_ore"], 28_750_000, "287 500 kr in all");

    // A line is written only with its claim's audit event, even into a draft.
    {
        use diesel::RunQueryDsl;
        let mut db = app.db.service_role();
        let unaudited = format!(
            "INSERT INTO reimbursement_claim_lines (id, claim_id, claim_version, child_id, \
             category, first_day, last_day, days, rate_ore, amount_ore, rules_from) VALUES \
             (gen_random_uuid(), '{id}', 2, '{}', 'assignment', '2025-12-01', '2025-12-01', 0, \
             1, 1, '2025-07-01')",
            st.children[3]
        );
        let refused = diesel::sql_query(unaudited).execute(&mut db).unwrap_err();
        assert!(
            refused.to_string().contains("without an audit event"),
            "{refused}"
        );
    }
    let (again, _) = json_of(app.as_user(&st.admin).get(&path).await, 200).await;
    assert_eq!(lines(&again, &st.children), expected_q4(Some(12_000_000)));

    // The same lines as CSV, each traced to its child, placement and days.
    let response = app
        .as_user(&st.admin)
        .get(&format!("{path}?format=csv"))
        .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut rows = text.lines();
    assert!(rows
        .next()
        .unwrap()
        .starts_with("claim_id,quarter,child_id,dossier_number,placement_id,category"));
    let a_days = rows
        .clone()
        .find(|r| r.contains(&st.children[0].to_string()) && r.contains("asylum_seeker_day"))
        .expect("A's days are a row");
    assert!(
        a_days.contains(st.placements[0]["id"].as_str().unwrap()),
        "{a_days}"
    );
    assert!(
        a_days.contains(",2025-11-03,2025-12-31,59,135000,,7965000,79650.00,"),
        "{a_days}"
    );
    assert_eq!(rows.count(), 6);
}

#[actix_web::test]
async fn a_submitted_claim_is_frozen_and_a_correction_is_a_supplementary_claim() {
    let app = spawn_app().await;
    let st = story(&app).await;
    let (claim, etag) = draft(&app, &st.admin, json!({"quarter": "2025-Q4"})).await;
    let id = id_of(&claim);
    let path = format!("{CLAIMS}/{id}");
    let post = reqwest::Method::POST;

    // A decision waits for the submission; the submission needs the version read.
    let decision = json!({"outcome": "paid", "decided_on": "2026-03-10", "decision_reference": "MV-2026-118", "paid_ore": 1});
    let early = send(
        &app,
        &st.admin,
        post.clone(),
        &format!("{path}/decision"),
        Some(&etag),
        decision.clone(),
    )
    .await;
    assert_eq!(
        problem(early, 409).await["type"],
        "urn:trygg:problem:claim-not-submitted"
    );
    let (sent, etag) = json_of(
        send(
            &app,
            &st.admin,
            post.clone(),
            &format!("{path}/submit"),
            Some(&etag),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (sent["status"].as_str(), sent["submitted_on"].as_str()),
        (Some("submitted"), Some("2026-03-10"))
    );

    // Frozen: no change, no second submission, in the service ...
    let patch = send(
        &app,
        &st.admin,
        reqwest::Method::PATCH,
        &path,
        Some(&etag),
        json!({"note": "again"}),
    )
    .await;
    assert_eq!(
        problem(patch, 409).await["type"],
        "urn:trygg:problem:claim-frozen"
    );
    let again = send(
        &app,
        &st.admin,
        post.clone(),
        &format!("{path}/submit"),
        Some(&etag),
        json!({}),
    )
    .await;
    assert_eq!(
        problem(again, 409).await["type"],
        "urn:trygg:problem:claim-frozen"
    );
    // ... and in the database, whoever writes (the service may not even delete a line).
    use diesel::RunQueryDsl;
    let (mut service, mut owner) = (app.db.service_role(), app.db.superuser());
    for statement in [
        format!("UPDATE reimbursement_claim_lines SET days = days + 1 WHERE claim_id = '{id}'"),
        format!("DELETE FROM reimbursement_claim_lines WHERE claim_id = '{id}'"),
        format!("UPDATE reimbursement_claims SET total_ore = 1 WHERE id = '{id}'"),
        format!(
            "INSERT INTO reimbursement_actual_costs VALUES ('{id}', 2, '{}', 5)",
            st.placements[0]["id"].as_str().unwrap()
        ),
    ] {
        let refused = diesel::sql_query(&statement)
            .execute(&mut service)
            .unwrap_err();
        let why = refused.to_string();
        assert!(
            why.contains("frozen") || why.contains("permission denied"),
            "{statement}: {why}"
        );
        let refused = diesel::sql_query(&statement)
            .execute(&mut owner)
            .unwrap_err();
        assert!(
            refused.to_string().contains("frozen"),
            "{statement}: {refused}"
        );
    }
    // A second original claim for the quarter is refused.
    let twice = send(
        &app,
        &st.admin,
        post.clone(),
        CLAIMS,
        None,
        json!({"quarter": "2025-Q4"}),
    )
    .await;
    assert_eq!(
        problem(twice, 409).await["type"],
        "urn:trygg:problem:claim-exists"
    );

    // A left on 20 December after all: 3 Nov – 20 Dec = 28 + 20 = 48 days. The supplementary
    // claim withdraws the 59 days claimed and claims the 48.
    end(
        &app,
        &st.office.secretary_session,
        &st.placements[0],
        "2025-12-20",
    )
    .await;
    let (supplement, _) = draft(
        &app,
        &st.admin,
        json!({"quarter": "2025-Q4", "supplements": id}),
    )
    .await;
    assert_eq!(
        lines(&supplement, &st.children),
        vec![
            line(
                0,
                "asylum_seeker_day",
                ("2025-11-03", "2025-12-20"),
                48,
                135_000,
                6_480_000
            ),
            line(
                0,
                "asylum_seeker_day",
                ("2025-11-03", "2025-12-31"),
                -59,
                135_000,
                -7_965_000
            ),
        ]
    );
    assert_eq!(supplement["total_ore"], 6_480_000 - 7_965_000);
    // The original is as it was, her dossier number too, though her record was corrected
    // after it was sent.
    let child = format!("/api/v1/children/{}", st.children[0]);
    let secretary = &st.office.secretary_session;
    let read = app.as_user(secretary).get(&child).await;
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();
    let corrected = send(
        &app,
        secretary,
        reqwest::Method::PATCH,
        &child,
        Some(&tag),
        json!({"dossier_number": "7654321"}),
    )
    .await;
    assert_eq!(corrected.status(), 200);
    let (original, _) = json_of(app.as_user(&st.admin).get(&path).await, 200).await;
    assert_eq!(lines(&original, &st.children), expected_q4(None));
    let numbers: Vec<&Value> = original["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["child_id"] == json!(st.children[0]))
        .map(|l| &l["dossier_number"])
        .collect();
    assert_eq!(numbers, [&json!("1234567"), &json!("1234567")]);

    // A payment is at most what was claimed (52 000 + 79 650 + 34 500 + 82 350 + 1 350 =
    // 249 850 kr here).
    let mut too_much = decision.clone();
    too_much["paid_ore"] = json!(24_985_001);
    let refused = send(
        &app,
        &st.admin,
        post.clone(),
        &format!("{path}/decision"),
        Some(&etag),
        too_much,
    )
    .await;
    assert_eq!(
        problem(refused, 422).await["errors"][0]["field"],
        "paid_ore"
    );
    // Migrationsverket's decision is recorded once.
    let (paid, etag) = json_of(
        send(
            &app,
            &st.admin,
            post.clone(),
            &format!("{path}/decision"),
            Some(&etag),
            decision.clone(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (paid["status"].as_str(), paid["decision_reference"].as_str()),
        (Some("paid"), Some("MV-2026-118"))
    );
    let twice = send(
        &app,
        &st.admin,
        post,
        &format!("{path}/decision"),
        Some(&etag),
        decision,
    )
    .await;
    assert_eq!(
        problem(twice, 409).await["type"],
        "urn:trygg:problem:claim-frozen"
    );
}

#[actix_web::test]
async fn a_draft_whose_records_changed_is_derived_again_before_it_is_sent() {
    let app = spawn_app().await;
    let st = story(&app).await;
    let (claim, etag) = draft(&app, &st.admin, json!({"quarter": "2025-Q4"})).await;
    let path = format!("{CLAIMS}/{}", id_of(&claim));
    end(
        &app,
        &st.office.secretary_session,
        &st.placements[3],
        "2025-12-31",
    )
    .await;
    end(
        &app,
        &st.office.secretary_session,
        &st.placements[0],
        "2025-12-20",
    )
    .await;
    let stale = send(
        &app,
        &st.admin,
        reqwest::Method::POST,
        &format!("{path}/submit"),
        Some(&etag),
        json!({}),
    )
    .await;
    assert_eq!(
        problem(stale, 409).await["type"],
        "urn:trygg:problem:claim-out-of-date"
    );
    // An empty change derives it again: A's 48 days now.
    let (claim, etag) = json_of(
        send(
            &app,
            &st.admin,
            reqwest::Method::PATCH,
            &path,
            Some(&etag),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    assert!(lines(&claim, &st.children).contains(&line(
        0,
        "asylum_seeker_day",
        ("2025-11-03", "2025-12-20"),
        48,
        135_000,
        6_480_000
    )));
    json_of(
        send(
            &app,
            &st.admin,
            reqwest::Method::POST,
            &format!("{path}/submit"),
            Some(&etag),
            json!({}),
        )
        .await,
        200,
    )
    .await;
}

#[actix_web::test]
async fn a_quarter_is_claimed_after_it_ends_and_before_its_deadline() {
    let app = spawn_app().await;
    let (_, admin) = login(&app, Profession::Administrator, None).await;
    // 10 March 2026: the first quarter has not ended.
    let open = send(
        &app,
        &admin,
        reqwest::Method::POST,
        CLAIMS,
        None,
        json!({"quarter": "2026-Q1"}),
    )
    .await;
    let body = problem(open, 422).await;
    assert_eq!(body["type"], "urn:trygg:problem:claim-quarter-open");
    assert_eq!(body["errors"][0]["field"], "quarter");
    let odd = send(
        &app,
        &admin,
        reqwest::Method::POST,
        CLAIMS,
        None,
        json!({"quarter": "2025-Q5"}),
    )
    .await;
    assert_eq!(odd.status(), 400);
    let listed = app
        .as_user(&admin)
        .get(&format!("{CLAIMS}?quarter=2025-Q5"))
        .await;
    assert_eq!(problem(listed, 400).await["errors"][0]["field"], "quarter");
    // The second quarter of 2025 was due by 31 December 2025: a draft is made, never sent.
    let (claim, etag) = draft(&app, &admin, json!({"quarter": "2025-Q2"})).await;
    let path = format!("{CLAIMS}/{}/submit", id_of(&claim));
    let late = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &path,
        Some(&etag),
        json!({}),
    )
    .await;
    assert_eq!(
        problem(late, 422).await["type"],
        "urn:trygg:problem:claim-deadline-passed"
    );
    // The third is due by 31 March 2026: a draft made in March is not sent in April.
    let (claim, etag) = draft(&app, &admin, json!({"quarter": "2025-Q3"})).await;
    assert_eq!(claim["deadline"], "2026-03-31");
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 4, 1, 8, 0, 0).unwrap());
    let (_, admin) = login(&app, Profession::Administrator, None).await;
    let path = format!("{CLAIMS}/{}/submit", id_of(&claim));
    let late = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &path,
        Some(&etag),
        json!({}),
    )
    .await;
    let body = problem(late, 422).await;
    assert_eq!(body["type"], "urn:trygg:problem:claim-deadline-passed");
    assert_eq!(body["errors"][0]["field"], "submitted_on");
    // Sent on 31 March, recorded on 1 April: in time.
    let sent = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &path,
        Some(&etag),
        json!({"submitted_on": "2026-03-31"}),
    )
    .await;
    assert_eq!(sent.status(), 200);
}

#[actix_web::test]
async fn the_administrators_worklist_shows_the_quarters_near_their_deadline_until_sent() {
    let app = spawn_app().await;
    let (_, admin) = login(&app, Profession::Administrator, None).await;
    let worklist = || async {
        let (body, _) = json_of(app.as_user(&admin).get("/api/v1/me/worklist").await, 200).await;
        body["claims_due"].clone()
    };
    // 10 March 2026: the third quarter of 2025 is due by 31 March (21 days, within the 45 of
    // the rules); the fourth by 30 June (112 days, not yet).
    assert_eq!(
        worklist().await,
        json!([{"quarter": "2025-Q3", "deadline": "2026-03-31", "days_left": 21, "draft_id": null}])
    );
    let (claim, etag) = draft(&app, &admin, json!({"quarter": "2025-Q3"})).await;
    assert_eq!(worklist().await[0]["draft_id"], claim["id"]);
    let path = format!("{CLAIMS}/{}/submit", id_of(&claim));
    json_of(
        send(
            &app,
            &admin,
            reqwest::Method::POST,
            &path,
            Some(&etag),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(worklist().await, json!([]));
}
