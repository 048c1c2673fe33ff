//! Demo data for a newcomer's local database. Development mode only; running it again gives
//! the demo users a new password and adds nothing twice.

mod cases;
mod plans;
mod visits;

use diesel::prelude::*;
use rand::Rng;

use crate::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use crate::auth::password::hash_password;
use crate::error::AppError;
use crate::policy::Profession;
use crate::units;
use crate::users::store::{self, NewUser};

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("demo data is only for development: set TRYGG_DEV=1 (never on a real database)")]
    NotDevelopment,
    #[error(transparent)]
    Migration(#[from] crate::db::migrations::MigrationError),
    #[error("cannot connect: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Data(#[from] AppError),
}

pub const UNITS: [&str; 2] = ["Unit North", "Unit South"];

/// (username, display name, profession, unit index)
pub const DEMO_USERS: [(&str, &str, Profession, Option<usize>); 8] = [
    ("anna", "Anna Lind", Profession::SocialSecretary, Some(0)),
    ("omar", "Omar Hassan", Profession::SocialSecretary, Some(1)),
    ("maria", "Maria Berg", Profession::UnitManager, Some(0)),
    ("erik", "Erik Holm", Profession::HvbStaff, Some(0)),
    ("sara", "Sara Nilsson", Profession::HousingStaff, Some(1)),
    ("lena", "Lena Ek", Profession::Administrator, None),
    ("karin", "Karin Sjö", Profession::Auditor, None),
    (
        "admin",
        "System Administrator",
        Profession::SystemAdmin,
        None,
    ),
];

fn demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let word: String = (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("demo-{word}")
}

pub fn seed(database_url: &str, dev_mode: bool) -> Result<(), SeedError> {
    if !dev_mode {
        return Err(SeedError::NotDevelopment);
    }
    crate::db::run_migrations(database_url)?;
    let mut conn = PgConnection::establish(database_url)?;
    let rules = crate::rules::Rules::load().map_err(AppError::internal)?;
    crate::db::rule_sets::sync(&mut conn, &rules).map_err(AppError::from)?;
    let password = demo_password();
    let hash = hash_password(&password).map_err(AppError::internal)?;
    let now = chrono::Utc::now();
    conn.transaction(|conn| {
        let mut events = Vec::new();
        let mut unit_ids = Vec::new();
        for name in UNITS {
            let id = match units::store::find_by_name(conn, name)? {
                Some(id) => id,
                None => {
                    let event = AuditEvent::new(
                        AuditActor::system(),
                        AuditAction::Create,
                        EntityType::Unit,
                        None,
                        now,
                    );
                    let id = units::store::insert(conn, name, event.id, now)?;
                    events.push(AuditEvent {
                        entity_id: Some(id),
                        ..event
                    });
                    id
                }
            };
            unit_ids.push(id);
        }
        for (username, display_name, profession, unit) in DEMO_USERS {
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Update,
                EntityType::User,
                None,
                now,
            );
            let id = match store::find_by_username(conn, username)? {
                Some(existing) => {
                    store::set_password(conn, existing.id, &hash, event.id, now)?;
                    existing.id
                }
                None => {
                    let new_user = NewUser {
                        username: username.into(),
                        display_name: display_name.into(),
                        profession,
                        unit_id: unit.map(|i| unit_ids[i]),
                    };
                    store::insert(conn, &new_user, &hash, event.id, now)?.id
                }
            };
            events.push(
                AuditEvent {
                    entity_id: Some(id),
                    ..event
                }
                .changed(["password"]),
            );
        }
        let no_children_yet: i64 = crate::db::schema::children::table
            .count()
            .get_result(conn)?;
        if no_children_yet == 0 {
            let user_id = |conn: &mut PgConnection, name: &str| -> Result<uuid::Uuid, AppError> {
                store::find_by_username(conn, name)?
                    .map(|u| u.id)
                    .ok_or_else(|| AppError::internal("demo user missing"))
            };
            let staff = [(0, user_id(conn, "erik")?), (3, user_id(conn, "sara")?)];
            let homes = cases::facilities(conn, &unit_ids, &staff, &mut events)?;
            let secretaries = [user_id(conn, "anna")?, user_id(conn, "omar")?];
            cases::children_and_placements(
                conn,
                &rules,
                &unit_ids,
                &secretaries,
                &homes,
                &mut events,
            )?;
            visits::year_of_visits(conn, secretaries[0], &mut events)?;
            plans::plans(conn, &mut events)?;
        }
        audit::append(conn, &events)
    })?;
    println!("Demo data is in place. Every demo user's password (new on each run): {password}");
    print_logins("http://127.0.0.1:8080", Some(&password));
    Ok(())
}

/// The demo logins; `password` when the caller knows it (it is new on every `seed-demo`).
pub fn print_logins(base_url: &str, password: Option<&str>) {
    println!("Demo users (development mode; no second factor required):");
    for (username, display_name, profession, _) in DEMO_USERS {
        println!("  {username:<6} {display_name:<22} {profession}");
    }
    let password = password.unwrap_or("<the password seed-demo printed>");
    println!(
        "Log in: curl -s {base_url}/api/v1/auth/token -d grant_type=password -d username=anna -d password={password}"
    );
}
