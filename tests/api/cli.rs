//! Stories about `trygg create-user`, the command that makes the first administrator: run as
//! the built binary, as an operator would, against the test's own database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, TestApp};

const PASSWORD: &str = "ett långt och hemligt lösenord";

/// `trygg create-user --username NAME --profession system_admin`, against the app's database.
/// Runs in an empty directory so no `.env` of the developer's leaks in.
fn create_user(app: &TestApp, username: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trygg"));
    command
        .args(["create-user", "--username", username])
        .args(["--profession", "system_admin"])
        .env("DATABASE_URL", app.db.url())
        .env_remove("TRYGG_PASSWORD")
        .env_remove("TRYGG_DEV")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    command
}

fn run(mut command: Command) -> Output {
    command.output().expect("run the trygg binary")
}

fn run_with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the trygg binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("wait for the trygg binary")
}

fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Logs in with only a password; a new person has no second factor yet.
async fn first_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.token_request(json!({"grant_type": "password", "username": username, "password": password}))
        .await
}

#[actix_web::test]
async fn an_operator_creates_the_first_administrator_with_the_password_in_the_environment() {
    let app = spawn_app().await;
    let mut command = create_user(&app, "Forsta-Admin");
    command.env("TRYGG_PASSWORD", PASSWORD);
    let output = run(command);
    assert_succeeded(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("created user forsta-admin"));

    let response = first_login(&app, "forsta-admin", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        tokens["mfa_enrolment_required"], true,
        "she must enrol a second factor before anything else"
    );
}

#[actix_web::test]
async fn an_operator_may_type_the_password_on_standard_input_instead() {
    let app = spawn_app().await;
    let output = run_with_stdin(create_user(&app, "skript-admin"), &format!("{PASSWORD}\n"));
    assert_succeeded(&output);

    let response = first_login(&app, "skript-admin", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["mfa_enrolment_required"], true);
}

#[actix_web::test]
async fn a_weak_password_is_refused_and_no_user_is_created() {
    let app = spawn_app().await;
    let mut command = create_user(&app, "svag-admin");
    command.env("TRYGG_PASSWORD", "kort");
    let output = run(command);
    assert!(!output.status.success(), "a weak password must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("password"), "{stderr}");
    assert!(
        !stderr.contains("kort"),
        "the password is never echoed: {stderr}"
    );

    let typed = run_with_stdin(create_user(&app, "svag-admin"), "aaaaaaaaaaaaaaaa\n");
    assert!(!typed.status.success(), "one repeated character must fail");

    problem(first_login(&app, "svag-admin", "kort").await, 401).await;
}

/// `trygg seed-demo`, as `./dev demo` runs it: refused outside development, and in development
/// the demo story, told once however often it runs, with an unbroken audit chain.
#[actix_web::test]
async fn the_demo_story_loads_once_and_its_logins_work() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let seed = |dev: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trygg"));
        command
            .args(["seed-demo", "--database-url", &app.db.url()])
            .env_remove("TRYGG_DEV")
            .env_remove("TRYGG_RULES_FILE")
            .current_dir(std::env::temp_dir());
        if dev {
            command.env("TRYGG_DEV", "1");
        }
        run(command)
    };
    let refused = seed(false);
    assert!(!refused.status.success());

    let first = seed(true);
    assert_succeeded(&first);
    let second = seed(true);
    assert_succeeded(&second);
    let stdout = String::from_utf8_lossy(&second.stdout);
    let password = stdout
        .split_whitespace()
        .find(|word| word.starts_with("demo-"))
        .expect("the demo password is printed")
        .to_owned();

    let mut conn = app.db.superuser();
    let children: i64 = trygg::db::schema::children::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(children, 40, "the story is told once");
    let placed: i64 = trygg::db::schema::placements::table
        .filter(trygg::db::schema::placements::end_date.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(placed >= 25, "most children live somewhere ({placed})");
    let report = trygg::audit::verify::verify_chain(&mut conn, None).unwrap();
    assert!(report.intact, "{report:?}");

    // A year of visits, and anna's worklist has two overdue follow-up visits today.
    let visits: i64 = trygg::db::schema::visits::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(visits > 500, "a year of visits ({visits})");
    let anna: uuid::Uuid = trygg::db::schema::users::table
        .filter(trygg::db::schema::users::username.eq("anna"))
        .select(trygg::db::schema::users::id)
        .first(&mut conn)
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let reach = trygg::db::reach::Reach::Secretary(anna);
    let schedules = trygg::db::reach::schedules(&mut conn, reach, today).unwrap();
    let ids: Vec<uuid::Uuid> = schedules.iter().map(|s| s.id).collect();
    let last = trygg::db::contact_schedules::last_contacts(&mut conn, &ids).unwrap();
    let overdue = schedules
        .iter()
        .filter(|s| {
            s.due(last.get(&s.id).copied(), today)
                .is_some_and(|due| due.overdue)
        })
        .count();
    assert!(schedules.len() >= 10, "anna keeps her children's schedules");
    assert_eq!(overdue, 2, "two of anna's visits are overdue today");

    // Age-out plans in every state, and one youth weeks from 21 with her housing goal open.
    let plans: i64 = trygg::db::schema::age_out_plans::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(plans >= 5, "plans for the youths of 17 and over ({plans})");
    let statuses: Vec<String> = trygg::db::schema::age_out_goals::table
        .select(trygg::db::schema::age_out_goals::status)
        .distinct()
        .load(&mut conn)
        .unwrap();
    for status in ["not_started", "in_progress", "achieved", "dropped"] {
        assert!(
            statuses.contains(&status.to_owned()),
            "a goal {status}: {statuses:?}"
        );
    }
    let children: std::collections::HashMap<uuid::Uuid, trygg::db::children::ChildRow> =
        trygg::db::schema::children::table
            .select(trygg::db::children::ChildRow::as_select())
            .load(&mut conn)
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let rules = trygg::rules::Rules::built_in();
    let alerts =
        trygg::db::age_out_alerts::of_children(&mut conn, &children, &rules, today).unwrap();
    let kinds: Vec<String> = alerts
        .iter()
        .map(|a| {
            serde_json::to_value(a.kind)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        kinds.contains(&"near_21_with_open_goals".to_owned()),
        "a youth weeks from 21 with her housing goal open: {kinds:?}"
    );

    // Demo users have no second factor; with a second factor required they may only enrol.
    let login = first_login(&app, "anna", &password).await;
    assert_eq!(login.status(), 200);
    let tokens: Value = login.json().await.unwrap();
    assert_eq!(tokens["mfa_enrolment_required"], true);
}
