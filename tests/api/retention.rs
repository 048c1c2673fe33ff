//! Stories about retention (*gallring*): `trygg retention run`, as an operator runs it once a
//! year, against a case whose last entry was made in 2020, a child of the research sample just
//! as old, and a child in care now.

use std::process::{Command, Output};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;
use trygg::audit::checkpoint::{Checkpoint, CheckpointFile};
use trygg::audit::sequencer::chain_tail;
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::db::schema::{
    age_out_plan_versions, age_out_plans, audit_events, child_secretaries, children,
    contact_schedules, emergency_accesses, placements, visits,
};
use trygg::policy::Profession;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A child who came in January 2019, lived in `facility` until the end of June 2020 and was
/// visited by `secretary`; everything written back then, with its audit events.
fn arrange_old_case(
    app: &TestApp,
    unit: Uuid,
    facility: Uuid,
    secretary: Uuid,
    born: NaiveDate,
) -> Uuid {
    let mut conn = app.db.superuser();
    conn.transaction(|conn| {
        let child = Uuid::now_v7();
        let came = at(2019, 1, 10);
        let event = |action, entity, id, when| {
            AuditEvent::new(AuditActor::system(), action, entity, Some(id), when).about_child(
                child,
                Some(unit),
                false,
            )
        };
        let created = event(AuditAction::Create, EntityType::Child, child, came)
            .purpose("came to Småstad alone, registered by the night duty");
        diesel::insert_into(children::table)
            .values((
                children::id.eq(child),
                children::given_name.eq("Amina"),
                children::family_name.eq(format!("Testsson {}", &child.simple().to_string()[24..])),
                children::date_of_birth.eq(born),
                children::sex.eq("female"),
                children::asylum_status.eq("asylum_seeker"),
                children::personal_identity_number.eq(format!(
                    "{}-{:04}",
                    born.format("%Y%m%d"),
                    u16::from_be_bytes([child.as_bytes()[14], child.as_bytes()[15]]) % 10_000
                )),
                children::guardian_name.eq("Gode Mannen"),
                children::guardian_phone.eq("070-1234567"),
                children::country_of_origin.eq("Somalia"),
                children::responsible_unit_id.eq(unit),
                children::created_at.eq(came),
                children::updated_at.eq(came),
                children::last_audit_event_id.eq(created.id),
            ))
            .execute(conn)?;
        let placement = Uuid::now_v7();
        let placed = event(AuditAction::Create, EntityType::Placement, placement, came);
        diesel::insert_into(placements::table)
            .values((
                placements::id.eq(placement),
                placements::child_id.eq(child),
                placements::facility_id.eq(facility),
                placements::start_date.eq(day(2019, 1, 10)),
                placements::planned_end.eq(day(2020, 6, 30)),
                placements::end_date.eq(day(2020, 6, 30)),
                placements::end_reason.eq("moved_away"),
                placements::legal_basis.eq("SoL-4-1"),
                placements::decision_reference.eq("BN-2019-7"),
                placements::created_at.eq(came),
                placements::updated_at.eq(came),
                placements::last_audit_event_id.eq(placed.id),
            ))
            .execute(conn)?;
        diesel::insert_into(child_secretaries::table)
            .values((
                child_secretaries::child_id.eq(child),
                child_secretaries::user_id.eq(secretary),
                child_secretaries::assigned_at.eq(came),
                child_secretaries::last_audit_event_id.eq(created.id),
            ))
            .execute(conn)?;
        let schedule = Uuid::now_v7();
        let scheduled = event(
            AuditAction::Create,
            EntityType::ContactSchedule,
            schedule,
            came,
        );
        diesel::insert_into(contact_schedules::table)
            .values((
                contact_schedules::id.eq(schedule),
                contact_schedules::child_id.eq(child),
                contact_schedules::kind.eq("secretary_visit"),
                contact_schedules::responsible.eq("secretary"),
                contact_schedules::secretary_id.eq(secretary),
                contact_schedules::recurrence.eq("1 per quarter"),
                contact_schedules::tolerance_days.eq(14),
                contact_schedules::start_date.eq(day(2019, 1, 10)),
                contact_schedules::end_date.eq(day(2020, 6, 30)),
                contact_schedules::created_at.eq(came),
                contact_schedules::updated_at.eq(came),
                contact_schedules::last_audit_event_id.eq(scheduled.id),
            ))
            .execute(conn)?;
        let visited_at = at(2020, 3, 2);
        let visit = Uuid::now_v7();
        let visited = event(AuditAction::Create, EntityType::Visit, visit, visited_at);
        diesel::insert_into(visits::table)
            .values((
                visits::id.eq(visit),
                visits::child_id.eq(child),
                visits::schedule_id.eq(schedule),
                visits::performed_by.eq(secretary),
                visits::occurred_at.eq(visited_at),
                visits::mode.eq("home_visit"),
                visits::at_placement.eq(true),
                visits::completed.eq(true),
                visits::spoke_alone.eq(true),
                visits::planned.eq(true),
                visits::interpreter_used.eq(false),
                visits::notes.eq("Amina misses her brother and sleeps badly."),
                visits::created_at.eq(visited_at),
                visits::last_audit_event_id.eq(visited.id),
            ))
            .execute(conn)?;
        let plan = Uuid::now_v7();
        let planned_at = at(2020, 1, 15);
        let planned = event(
            AuditAction::Create,
            EntityType::AgeOutPlan,
            plan,
            planned_at,
        );
        diesel::insert_into(age_out_plans::table)
            .values((
                age_out_plans::id.eq(plan),
                age_out_plans::child_id.eq(child),
                age_out_plans::opened_on.eq(day(2020, 1, 15)),
                age_out_plans::opened_by.eq(secretary),
                age_out_plans::created_at.eq(planned_at),
                age_out_plans::updated_at.eq(planned_at),
                age_out_plans::last_audit_event_id.eq(planned.id),
            ))
            .execute(conn)?;
        diesel::insert_into(age_out_plan_versions::table)
            .values((
                age_out_plan_versions::id.eq(Uuid::now_v7()),
                age_out_plan_versions::plan_id.eq(plan),
                age_out_plan_versions::child_id.eq(child),
                age_out_plan_versions::version.eq(1),
                age_out_plan_versions::opened_on.eq(day(2020, 1, 15)),
                age_out_plan_versions::changed_by.eq(secretary),
                age_out_plan_versions::changed_at.eq(planned_at),
                age_out_plan_versions::last_audit_event_id.eq(planned.id),
            ))
            .execute(conn)?;
        let granted_at = at(2020, 2, 1);
        let access = Uuid::now_v7();
        let opened = event(
            AuditAction::EmergencyAccess,
            EntityType::Child,
            child,
            granted_at,
        )
        .purpose("night duty: Amina missing from the home");
        diesel::insert_into(emergency_accesses::table)
            .values((
                emergency_accesses::id.eq(access),
                emergency_accesses::user_id.eq(secretary),
                emergency_accesses::child_id.eq(child),
                emergency_accesses::reason.eq("night duty: Amina missing from the home"),
                emergency_accesses::granted_at.eq(granted_at),
                emergency_accesses::expires_at.eq(granted_at + chrono::Duration::hours(1)),
                emergency_accesses::last_audit_event_id.eq(opened.id),
            ))
            .execute(conn)?;
        let read = AuditEvent::new(
            AuditActor::system(),
            AuditAction::Read,
            EntityType::Child,
            Some(child),
            at(2020, 6, 30),
        )
        .about_child(child, Some(unit), false)
        .purpose("checking where Amina moved");
        audit::append(
            conn,
            &[created, placed, scheduled, visited, planned, opened, read],
        )?;
        Ok::<_, trygg::error::AppError>(child)
    })
    .expect("arrange an old case")
}

/// `trygg retention run`, with `extra` flags, against the app's database and checkpoints.
fn retention(app: &TestApp, extra: &[&str]) -> Output {
    binary(app, &["retention", "run"], extra)
}

fn binary(app: &TestApp, command: &[&str], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trygg"))
        .args(command)
        .args(extra)
        .env("DATABASE_URL", app.db.url())
        .env(
            "TRYGG_CHECKPOINT_KEY",
            app.settings.audit.checkpoint_key.to_base64(),
        )
        .env(
            "TRYGG_AUDIT_CHECKPOINT_FILE",
            &app.settings.audit.checkpoint_file,
        )
        .env_remove("TRYGG_DEV")
        .env_remove("TRYGG_RULES_FILE")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the trygg binary")
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Text)]
    digest: String,
}

/// A digest of every table retention could touch (the audit log without the service's own
/// checkpoint and verify events, which its background tasks may add meanwhile).
fn digest(app: &TestApp) -> String {
    let tables = [
        "children",
        "placements",
        "placement_reviews",
        "visits",
        "contact_schedules",
        "child_secretaries",
        "emergency_accesses",
        "protection_changes",
        "age_assessments",
        "age_out_plans",
        "age_out_plan_versions",
        "retention_erasures",
    ];
    let mut parts: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "(SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {t} t)"
            )
        })
        .collect();
    parts.push(
        "(SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t.seq)), '') FROM audit_events t \
          WHERE t.action NOT IN ('checkpoint', 'verify'))"
            .into(),
    );
    diesel::sql_query(format!(
        "SELECT concat_ws(',', {}) AS digest",
        parts.join(", ")
    ))
    .get_result::<Digest>(&mut app.db.superuser())
    .unwrap()
    .digest
}

fn count(app: &TestApp, table: &str, child: Uuid) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM {table} WHERE child_id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(child)
    .get_result::<N>(&mut app.db.superuser())
    .unwrap()
    .n
}

fn names(app: &TestApp, child: Uuid) -> (String, String, Option<String>, Option<String>) {
    children::table
        .find(child)
        .select((
            children::given_name,
            children::family_name,
            children::personal_identity_number,
            children::guardian_name,
        ))
        .first(&mut app.db.superuser())
        .unwrap()
}

/// What statistics and state claims read of a child's placement.
fn placement_of(app: &TestApp, child: Uuid) -> (NaiveDate, Option<NaiveDate>, Uuid, String) {
    placements::table
        .filter(placements::child_id.eq(child))
        .select((
            placements::start_date,
            placements::end_date,
            placements::facility_id,
            placements::legal_basis,
        ))
        .first(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn a_case_past_its_keeping_time_is_removed_but_its_placements_the_sample_and_recent_cases_stay(
) {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let facility = app.arrange_facility(unit, "hvb", 10, &[]);
    // Last entry in 2020, born on the 14th: due during 2026.
    let amina = arrange_old_case(&app, unit, facility, anna.id, day(2003, 3, 14));
    // Just as old, born on the 15th: the research sample.
    let sara = arrange_old_case(&app, unit, facility, anna.id, day(2003, 3, 15));
    // In care this year.
    let yusuf =
        app.arrange_child_with_placements(unit, facility, &[(day(2026, 1, 5), day(2026, 6, 30))]);
    // A checkpoint signed back then vouches for the old events, so they may become tombstones.
    crate::audit::seal(&app);
    let (seq, hash) = chain_tail(&mut app.db.superuser()).unwrap();
    CheckpointFile::new(&app.settings.audit.checkpoint_file)
        .append(&Checkpoint::sign(
            &app.settings.audit.checkpoint_key,
            seq,
            &hash,
            at(2020, 7, 1),
        ))
        .unwrap();
    let sara_before = names(&app, sara);
    let yusuf_before = names(&app, yusuf);

    // The dry run prints what would go, by id and counts, and changes nothing.
    let before = digest(&app);
    let printed = succeeded(&retention(&app, &["--dry-run"]));
    assert_eq!(digest(&app), before, "a dry run changes nothing");
    assert!(
        printed.contains("1 child(ren); 1 kept as the research sample"),
        "{printed}"
    );
    let line = printed
        .lines()
        .find(|l| l.contains(&amina.to_string()))
        .unwrap_or_else(|| panic!("amina is due: {printed}"));
    for expected in [
        "last entry 2020-06-30",
        "due from 2026-01-01",
        "would remove visits=1",
        "age_out_plan_versions=1",
        "age_out_plans=1",
        "contact_schedules=1",
        "emergency_accesses=1",
        "child_secretaries=1",
        "pseudonymise=true",
        "audit_events_redacted=7",
    ] {
        assert!(line.contains(expected), "{expected}: {line}");
    }
    assert!(!printed.contains(&sara.to_string()) && !printed.contains(&yusuf.to_string()));
    for private in ["Amina", "Testsson", "Gode", "2003"] {
        assert!(!printed.contains(private), "{private} printed: {printed}");
    }

    // The run removes her case and pseudonymises her row; her placement stays as it was.
    let placement_before = placement_of(&app, amina);
    let printed = succeeded(&retention(&app, &[]));
    assert!(printed.contains(&format!("child {amina}")), "{printed}");
    for table in trygg::commands::retention::TABLES {
        assert_eq!(count(&app, table, amina), 0, "{table} of amina");
    }
    let (given, family, pin, guardian) = names(&app, amina);
    assert_eq!(given, "Gallrad");
    assert_eq!(family, trygg::commands::retention::pseudonym(amina));
    assert_eq!((pin, guardian), (None, None));
    let placement_after = placement_of(&app, amina);
    assert_eq!(placement_after, placement_before);

    // The sample and the recent child are untouched.
    assert_eq!(names(&app, sara), sara_before);
    assert_eq!(count(&app, "visits", sara), 1);
    assert_eq!(count(&app, "age_out_plan_versions", sara), 1);
    assert_eq!(names(&app, yusuf), yusuf_before);
    assert_eq!(count(&app, "placements", yusuf), 1);

    // The run is audited: one retention event about her, by the system.
    let runs: Vec<(String, Option<Uuid>, Option<String>)> = audit_events::table
        .filter(audit_events::action.eq("retention"))
        .select((
            audit_events::actor_type,
            audit_events::child_id,
            audit_events::purpose,
        ))
        .load(&mut app.db.superuser())
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!((runs[0].0.as_str(), runs[0].1), ("system", Some(amina)));
    // Her old events are tombstones now: no purpose text, not even her id, is left in them.
    let hers: Vec<(String, bool)> = audit_events::table
        .filter(audit_events::child_id.eq(amina))
        .select((audit_events::action, audit_events::details_removed))
        .load(&mut app.db.superuser())
        .unwrap();
    assert_eq!(hers, vec![("retention".to_owned(), false)]);
    let purposes: Vec<Option<String>> = audit_events::table
        .filter(audit_events::purpose.like("%Amina%"))
        .filter(audit_events::child_id.ne(sara))
        .select(audit_events::purpose)
        .load(&mut app.db.superuser())
        .unwrap();
    assert!(purposes.is_empty(), "{purposes:?}");
    assert_eq!(
        count(&app, "audit_events", sara),
        7,
        "the sample keeps its log"
    );

    // The audit log still verifies.
    crate::audit::seal(&app);
    let verified = binary(&app, &["audit", "verify"], &[]);
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap_or(Value::Null);
    assert!(verified.status.success(), "{report}");
    assert_eq!(report["intact"], true, "{report}");

    // A second run finds nothing left to remove.
    let before = digest(&app);
    let printed = succeeded(&retention(&app, &[]));
    assert!(printed.contains("0 child(ren)"), "{printed}");
    assert_eq!(digest(&app), before, "the second run removes nothing");
}

#[actix_web::test]
async fn the_service_role_still_cannot_delete_a_visit_or_rewrite_the_log() {
    let app = spawn_app().await;
    let unit = app.create_unit("North");
    let anna = app.create_user(Profession::SocialSecretary, Some(unit));
    let facility = app.arrange_facility(unit, "hvb", 10, &[]);
    let amina = arrange_old_case(&app, unit, facility, anna.id, day(2003, 3, 14));
    let mut service = app.db.service_role();
    let delete = diesel::sql_query("DELETE FROM visits WHERE child_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(amina)
        .execute(&mut service);
    assert!(delete.is_err(), "trygg_app may not delete visits");
    // Even the retention role, outside an erasure, deletes nothing and rewrites nothing.
    let mut retention = trygg::commands::retention::connect(&app.db.url()).unwrap();
    let delete = diesel::sql_query("DELETE FROM visits WHERE child_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(amina)
        .execute(&mut retention);
    assert!(delete.is_err(), "no deletion without an erasure");
    let strip = diesel::sql_query(
        "UPDATE audit_events SET actor_type = 'system', actor_id = NULL, actor_role = NULL, \
         actor_unit_id = NULL, entity_id = NULL, child_id = NULL, child_unit_id = NULL, \
         child_protected = false, request_id = NULL, client_addr = NULL, purpose = NULL, \
         changed_fields = '{}', details_removed = true WHERE child_id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(amina)
    .execute(&mut retention);
    assert!(strip.is_err(), "no tombstone without an erasure");
    assert_eq!(count(&app, "visits", amina), 1);
    assert_eq!(count(&app, "audit_events", amina), 7);
}
