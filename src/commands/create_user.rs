use std::io::BufRead;

use diesel::{Connection, PgConnection};

use crate::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use crate::auth::password::{hash_password, validate_new_password};
use crate::cli::CreateUserArgs;
use crate::error::{AppError, ConflictKind};
use crate::policy::Profession;
use crate::units;
use crate::users::store::{
    self, check_unit_rule, validate_display_name, validate_username, NewUser,
};

/// The password comes from TRYGG_PASSWORD or the first line of standard input, never from an
/// argument, which any user of the machine could read in the process list.
fn read_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("TRYGG_PASSWORD") {
        return Ok(password);
    }
    eprintln!("Password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn run(args: CreateUserArgs) -> Result<(), String> {
    crate::telemetry::init(true);
    let profession = Profession::parse(&args.profession).ok_or_else(|| {
        let all: Vec<_> = Profession::ALL.iter().map(|p| p.as_str()).collect();
        format!("--profession must be one of: {}", all.join(", "))
    })?;
    let username =
        validate_username(&args.username).map_err(|e| format!("--username: {}", e.message))?;
    let display_name = validate_display_name(args.display_name.as_deref().unwrap_or(&username))
        .map_err(|e| format!("--display-name: {}", e.message))?;
    if profession.needs_unit() && args.unit.is_none() {
        return Err(format!(
            "a {profession} must belong to a unit: add --unit NAME"
        ));
    }
    let password = read_password()?;
    validate_new_password(&password).map_err(|m| format!("password: {m}"))?;
    let hash = hash_password(&password).map_err(|e| e.to_string())?;

    crate::db::run_migrations(&args.database.database_url).map_err(|e| e.to_string())?;
    let mut conn =
        PgConnection::establish(&args.database.database_url).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let created = conn
        .transaction(|conn| {
            let mut events = Vec::new();
            let unit_id = match args.unit.as_deref() {
                None => None,
                Some(name) => Some(match units::store::find_by_name(conn, name)? {
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
                        eprintln!("created unit {name}");
                        events.push(
                            AuditEvent {
                                entity_id: Some(id),
                                ..event
                            }
                            .changed(["name"]),
                        );
                        id
                    }
                }),
            };
            check_unit_rule(profession, unit_id).map_err(|e| AppError::rule(e.field, e.message))?;
            let new_user = NewUser {
                username,
                display_name,
                profession,
                unit_id,
            };
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Create,
                EntityType::User,
                None,
                now,
            );
            let row = store::insert(conn, &new_user, &hash, event.id, now)?;
            events.push(
                AuditEvent {
                    entity_id: Some(row.id),
                    ..event
                }
                .changed([
                    "username",
                    "display_name",
                    "profession",
                    "unit_id",
                    "password",
                ]),
            );
            audit::append(conn, &events)?;
            Ok::<_, AppError>(row)
        })
        .map_err(|e| match e {
            AppError::Conflict {
                kind: ConflictKind::NameTaken,
                ..
            } => "that username is taken".to_owned(),
            other => other.to_string(),
        })?;
    println!(
        "created user {} ({}) with id {}",
        created.username, created.profession, created.id
    );
    Ok(())
}
