//! Every list holds exactly what its caller may reach: a world of two units, each caller asks
//! for the whole list, and the ids that come back are compared with the ids she should get,
//! neither more nor fewer.
//!
//! North's children: Ali (Anna's, in North's HVB home today), Bashir (Anna's colleague Bo's,
//! not placed), Cyrus (Anna's, protected identity, in North's HVB home), Dawit (Anna's, in
//! South's HVB home), Elias (North's, whose stay in North's HVB home is over), Farid (North's,
//! who moves into North's HVB home next month), Goran (North's, whose placement there was
//! cancelled), Hassan (Bo's, in North's supported housing). South's: Iman (Omar's, in South's
//! HVB home).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::sql_types::Text;
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::children::{child_body, register};
use crate::helpers::users::Session;
use crate::helpers::{spawn_app, TestApp};

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// What one caller gets for a list: the ids of every item on a single page, or the status.
async fn listed(app: &TestApp, session: &Session, path: &str) -> Result<BTreeSet<Uuid>, u16> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let response = app
        .as_user(session)
        .get(&format!("{path}{separator}limit=500"))
        .await;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["next_cursor"], Value::Null, "{path}: one page");
    Ok(body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().parse().unwrap())
        .collect())
}

fn set(ids: &[Uuid]) -> Result<BTreeSet<Uuid>, u16> {
    Ok(ids.iter().copied().collect())
}

struct World {
    sessions: BTreeMap<&'static str, Session>,
    children: BTreeMap<&'static str, Uuid>,
    placements: BTreeMap<&'static str, Uuid>,
    facilities: Vec<Uuid>,
    units: Vec<Uuid>,
}

async fn place(app: &TestApp, session: &Session, child: Uuid, body: Value) -> Uuid {
    let response = app
        .as_user(session)
        .post(&format!("/api/v1/children/{child}/placements"), body)
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "placement: {body}");
    body["id"].as_str().unwrap().parse().unwrap()
}

fn in_home(facility: Uuid) -> Value {
    json!({"facility_id": facility, "start_date": "2026-03-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-1"})
}

/// The placement `arrange_placement` made, and its child.
fn child_of(app: &TestApp, placement: Uuid) -> Uuid {
    #[derive(QueryableByName)]
    struct Child {
        #[diesel(sql_type = Text)]
        id: String,
    }
    sql_query(format!(
        "SELECT child_id::text AS id FROM placements WHERE id = '{placement}'"
    ))
    .get_result::<Child>(&mut app.db.superuser())
    .unwrap()
    .id
    .parse()
    .unwrap()
}

async fn world(app: &TestApp) -> World {
    let north = app.create_unit("North");
    let south = app.create_unit("South");
    let people = [
        ("anna", Profession::SocialSecretary, Some(north)),
        ("bo", Profession::SocialSecretary, Some(north)),
        ("omar", Profession::SocialSecretary, Some(south)),
        ("maria", Profession::UnitManager, Some(north)),
        ("mona", Profession::UnitManager, Some(south)),
        ("erik", Profession::HvbStaff, Some(north)),
        ("elin", Profession::HvbStaff, Some(north)),
        ("sara", Profession::HousingStaff, Some(north)),
        ("hanna", Profession::HvbStaff, Some(south)),
        ("lena", Profession::Administrator, None),
        ("karin", Profession::Auditor, None),
        ("admin", Profession::SystemAdmin, None),
    ];
    let mut sessions = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for (name, profession, unit) in people {
        let user = app.create_user(profession, unit);
        ids.insert(name, user.id);
        sessions.insert(name, app.login(&user).await);
        // One code per 30-second step: the next login needs the next step.
        app.clock.advance(chrono::Duration::seconds(31));
    }
    let hvb_north = app.arrange_facility(north, "hvb", 20, &[ids["erik"]]);
    let housing_north = app.arrange_facility(north, "supported_housing", 20, &[ids["sara"]]);
    let hvb_south = app.arrange_facility(south, "hvb", 20, &[ids["hanna"]]);
    // Elin works in North's HVB homes, but is on no home's staff list yet.
    let spare_north = app.arrange_facility(north, "hvb", 20, &[]);

    let anna = sessions["anna"].clone();
    let bo = sessions["bo"].clone();
    let mut children = BTreeMap::new();
    let mut placements = BTreeMap::new();
    let registered = [
        ("ali", &anna, north, "2010-05-20", false),
        ("bashir", &bo, north, "2011-02-02", false),
        ("cyrus", &anna, north, "2010-08-08", true),
        ("dawit", &anna, north, "2010-09-09", false),
        ("hassan", &bo, north, "2009-06-01", false),
        ("iman", &sessions["omar"], south, "2010-10-10", false),
    ];
    for (name, session, unit, born, protected) in registered {
        let mut body = child_body(unit, name, born);
        body["family_name"] = json!(format!("Family {name}"));
        if protected {
            body["protection_level"] = json!("protected_registration");
        }
        children.insert(name, register(app, session, body).await);
    }
    for (name, session, home) in [
        ("ali", &anna, hvb_north),
        ("cyrus", &anna, hvb_north),
        ("dawit", &anna, hvb_south),
        ("iman", &sessions["omar"], hvb_south),
    ] {
        placements.insert(
            name,
            place(app, session, children[name], in_home(home)).await,
        );
    }
    let mut housing = in_home(housing_north);
    housing["special_reasons"] = json!("Mature and stable; school nearby");
    housing["deviation_reason"] = json!("Investigated in another municipality");
    placements.insert(
        "hassan",
        place(app, &sessions["maria"], children["hassan"], housing).await,
    );
    for (name, start, end, cancelled) in [
        ("elias", "2025-09-01", "2026-02-28", false),
        ("farid", "2026-04-01", "2026-12-31", false),
        ("goran", "2026-03-01", "2026-12-31", true),
    ] {
        let placement = app.arrange_placement(north, hvb_north, date(start), date(end), cancelled);
        placements.insert(name, placement);
        children.insert(name, child_of(app, placement));
    }
    World {
        sessions,
        children,
        placements,
        facilities: vec![hvb_north, housing_north, hvb_south, spare_north],
        units: vec![north, south],
    }
}

impl World {
    fn kids(&self, names: &[&str]) -> Result<BTreeSet<Uuid>, u16> {
        Ok(names.iter().map(|n| self.children[n]).collect())
    }
}

/// Systems that hold exactly one scope, logged in.
async fn systems(app: &TestApp, world: &World) -> BTreeMap<&'static str, Session> {
    let mut systems = BTreeMap::new();
    for scope in [
        "children:read",
        "placements:read",
        "capacity:read",
        "visits:read",
    ] {
        let client_id = format!("system-{}", scope.replace(':', "-"));
        let client = app
            .register_client(&world.sessions["admin"], &client_id, &[scope])
            .await;
        systems.insert(scope, app.client_login(&client).await);
    }
    systems
}

#[actix_web::test]
async fn each_caller_lists_exactly_the_children_she_may_reach() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let systems = systems(&app, &w).await;
    let every_north = [
        "ali", "bashir", "cyrus", "dawit", "elias", "farid", "goran", "hassan",
    ];
    let unprotected: Vec<&str> = every_north
        .iter()
        .chain(&["iman"])
        .copied()
        .filter(|n| *n != "cyrus")
        .collect();
    let expected = [
        // Her caseload: what she registered, wherever the child lives.
        ("anna", w.kids(&["ali", "cyrus", "dawit"])),
        ("bo", w.kids(&["bashir", "hassan"])),
        ("omar", w.kids(&["iman"])),
        // The unit's cases, wherever placed; not the other unit's child in her homes.
        ("maria", w.kids(&every_north)),
        ("mona", w.kids(&["iman"])),
        // Staff: children living in their home today; not yesterday's, tomorrow's or cancelled.
        ("erik", w.kids(&["ali", "cyrus"])),
        ("elin", w.kids(&[])),
        ("sara", w.kids(&["hassan"])),
        ("hanna", w.kids(&["dawit", "iman"])),
        ("lena", Err(403)),
        ("karin", Err(403)),
        ("admin", Err(403)),
    ];
    let mut faults = Vec::new();
    for (who, wanted) in expected {
        let got = listed(&app, &w.sessions[who], "/api/v1/children").await;
        if got != wanted {
            faults.push(format!("{who}: got {got:?}, wanted {wanted:?}"));
        }
    }
    for (scope, wanted) in [
        ("children:read", w.kids(&unprotected)),
        ("placements:read", Err(403)),
        ("capacity:read", Err(403)),
        ("visits:read", Err(403)),
    ] {
        let got = listed(&app, &systems[scope], "/api/v1/children").await;
        if got != wanted {
            faults.push(format!(
                "a system with {scope}: got {got:?}, wanted {wanted:?}"
            ));
        }
    }
    let names: BTreeMap<Uuid, &str> = w.children.iter().map(|(n, id)| (*id, *n)).collect();
    assert!(
        faults.is_empty(),
        "{}\n(children: {names:?})",
        faults.join("\n")
    );
}

#[actix_web::test]
async fn a_childs_placements_are_listed_only_to_those_who_reach_the_child() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let systems = systems(&app, &w).await;
    let own = |name: &str| set(&[w.placements[name]]);
    let cases = [
        ("anna", "dawit", own("dawit")),
        ("anna", "bashir", Err(404)),
        ("maria", "elias", own("elias")),
        ("maria", "farid", own("farid")),
        ("maria", "goran", own("goran")),
        ("maria", "iman", Err(404)),
        // The home's manager is not the case's: another unit's child in her home stays hidden.
        ("mona", "dawit", Err(404)),
        ("hanna", "dawit", own("dawit")),
        ("erik", "ali", own("ali")),
        ("erik", "elias", Err(404)),
        ("erik", "farid", Err(404)),
        ("erik", "goran", Err(404)),
        ("erik", "hassan", Err(404)),
        ("sara", "hassan", own("hassan")),
        ("sara", "ali", Err(404)),
        ("omar", "ali", Err(404)),
        ("lena", "ali", Err(403)),
    ];
    let mut faults = Vec::new();
    for (who, child, wanted) in cases {
        let path = format!("/api/v1/children/{}/placements", w.children[child]);
        let got = listed(&app, &w.sessions[who], &path).await;
        if got != wanted {
            faults.push(format!("{who} for {child}: got {got:?}, wanted {wanted:?}"));
        }
    }
    for (scope, child, wanted) in [
        ("placements:read", "ali", own("ali")),
        ("placements:read", "cyrus", Err(404)),
        ("children:read", "ali", Err(403)),
    ] {
        let path = format!("/api/v1/children/{}/placements", w.children[child]);
        let got = listed(&app, &systems[scope], &path).await;
        if got != wanted {
            faults.push(format!(
                "{scope} for {child}: got {got:?}, wanted {wanted:?}"
            ));
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// The facilities whose address the caller is shown.
async fn addresses_shown(app: &TestApp, session: &Session) -> BTreeSet<Uuid> {
    let body: Value = app
        .as_user(session)
        .get("/api/v1/facilities?limit=500")
        .await
        .json()
        .await
        .unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("address").is_some())
        .map(|f| f["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[actix_web::test]
async fn organisation_lists_are_whole_but_addresses_go_only_to_the_homes_own_people() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let systems = systems(&app, &w).await;
    let [hvb_north, housing_north, hvb_south, spare_north] = w.facilities[..] else {
        unreachable!()
    };
    let facilities = set(&w.facilities);
    let units = set(&w.units);
    let mut faults = Vec::new();
    let callers = w.sessions.iter().chain(systems.iter());
    for (who, session) in callers {
        let who = *who;
        let reads_facilities = !matches!(who, "karin" | "admin" | "children:read" | "visits:read");
        let wanted = if reads_facilities {
            facilities.clone()
        } else {
            Err(403)
        };
        let got = listed(&app, session, "/api/v1/facilities").await;
        if got != wanted {
            faults.push(format!("{who}, facilities: got {got:?}, wanted {wanted:?}"));
        }
        let got = listed(&app, session, "/api/v1/units").await;
        if got != units {
            faults.push(format!("{who}, units: got {got:?}, wanted {units:?}"));
        }
        if who != "admin" {
            let got = listed(&app, session, "/api/v1/users").await;
            if got != Err(403) {
                faults.push(format!("{who}, users: got {got:?}"));
            }
        }
        if who != "karin" {
            let got = listed(&app, session, "/api/v1/audit-events").await;
            if got != Err(403) {
                faults.push(format!("{who}, audit events: got {got:?}"));
            }
        }
    }
    for (who, homes) in [
        ("maria", vec![hvb_north, housing_north, spare_north]),
        ("mona", vec![hvb_south]),
        ("erik", vec![hvb_north]),
        ("sara", vec![housing_north]),
        ("hanna", vec![hvb_south]),
        ("elin", vec![]),
        ("anna", vec![]),
        ("lena", vec![]),
    ] {
        let got = addresses_shown(&app, &w.sessions[who]).await;
        let wanted: BTreeSet<Uuid> = homes.into_iter().collect();
        if got != wanted {
            faults.push(format!("{who}, addresses: got {got:?}, wanted {wanted:?}"));
        }
    }
    // The system administrator's list is every account there is.
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let accounts: BTreeSet<Uuid> = sql_query("SELECT id FROM users")
        .load::<Id>(&mut app.db.superuser())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        listed(&app, &w.sessions["admin"], "/api/v1/users").await,
        Ok(accounts)
    );
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[actix_web::test]
async fn an_auditor_filtering_by_child_gets_exactly_that_childs_events() {
    let app = spawn_app().await;
    let w = world(&app).await;
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    for child in ["dawit", "cyrus", "elias"] {
        let id = w.children[child];
        let logged: BTreeSet<Uuid> = sql_query(format!(
            "SELECT id FROM audit_events WHERE child_id = '{id}'"
        ))
        .load::<Id>(&mut app.db.superuser())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
        assert!(!logged.is_empty());
        let got = listed(
            &app,
            &w.sessions["karin"],
            &format!("/api/v1/audit-events?child_id={id}"),
        )
        .await;
        assert_eq!(got, Ok(logged), "{child}");
    }
}

/// The children a worklist speaks of: its contacts' and its decisions' children, or the status.
async fn worklist_children(app: &TestApp, session: &Session) -> Result<BTreeSet<Uuid>, u16> {
    let response = app
        .as_user(session)
        .get("/api/v1/me/worklist?until=2027-12-31")
        .await;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    let body: Value = response.json().await.unwrap();
    let mut ids = BTreeSet::new();
    for list in ["items", "decisions", "placements_to_review"] {
        for item in body[list].as_array().unwrap() {
            ids.insert(item["child_id"].as_str().unwrap().parse().unwrap());
        }
    }
    Ok(ids)
}

#[actix_web::test]
async fn each_worklist_speaks_exactly_of_the_children_its_owner_reaches() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let expected = [
        // The schedules she keeps and her caseload's placements; bashir lives nowhere yet.
        ("anna", w.kids(&["ali", "cyrus", "dawit"])),
        ("bo", w.kids(&["hassan"])),
        ("omar", w.kids(&["iman"])),
        // Her unit's children with schedules or running placements, wherever they live;
        // elias's placement has ended, farid's has not begun, goran's was cancelled.
        ("maria", w.kids(&["ali", "cyrus", "dawit", "hassan"])),
        ("mona", w.kids(&["iman"])),
        // Staff: the children living where they work today.
        ("erik", w.kids(&["ali", "cyrus"])),
        ("elin", w.kids(&[])),
        ("sara", w.kids(&["hassan"])),
        ("hanna", w.kids(&["dawit", "iman"])),
        // The administrator's worklist holds quarters' claims, no child.
        ("lena", w.kids(&[])),
        ("karin", Err(403)),
        ("admin", Err(403)),
    ];
    let mut faults = Vec::new();
    for (who, wanted) in expected {
        let got = worklist_children(&app, &w.sessions[who]).await;
        if got != wanted {
            faults.push(format!("{who}: got {got:?}, wanted {wanted:?}"));
        }
    }
    let names: BTreeMap<Uuid, &str> = w.children.iter().map(|(n, id)| (*id, *n)).collect();
    assert!(
        faults.is_empty(),
        "{}\n(children: {names:?})",
        faults.join("\n")
    );
}

/// The children a quarter's claim names: those whose placement (not cancelled) held a place on
/// one of its days, or who were assigned in it; here only Elias, placed from September 2025 to
/// February 2026 (Farid comes after the fourth quarter, Goran's placement is cancelled, the
/// others are placed in March 2026). Only the administrator reads claims; everyone else is
/// refused the list and the claim.
#[actix_web::test]
async fn a_claim_names_exactly_the_children_of_its_quarter_and_only_the_administrator_reads_it() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let lena = app.as_user(&w.sessions["lena"]);
    let response = lena
        .post(
            "/api/v1/reimbursement-claims",
            json!({"quarter": "2025-Q4"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let claim: Value = response.json().await.unwrap();
    let named: BTreeSet<Uuid> = claim["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["child_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(Ok(named), w.kids(&["elias"]));
    let listed: Value = lena
        .get("/api/v1/reimbursement-claims")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&claim["id"]]);
    let path = format!(
        "/api/v1/reimbursement-claims/{}",
        claim["id"].as_str().unwrap()
    );
    for (who, session) in &w.sessions {
        if *who == "lena" {
            continue;
        }
        for route in ["/api/v1/reimbursement-claims", path.as_str()] {
            let status = app.as_user(session).get(route).await.status();
            assert_eq!(status, 403, "{who} {route}");
        }
    }
}
