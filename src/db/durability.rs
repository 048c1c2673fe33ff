//! The audit log promises that a committed event survives a crash. That holds only if
//! PostgreSQL really writes its WAL to disk before it answers a commit, so the service checks
//! the settings that decide it when it starts and refuses to run without them.

use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

/// The settings checked, and why each matters.
const SETTINGS: [(&str, &str); 3] = [
    (
        "fsync",
        "without it a crash can lose or corrupt committed data",
    ),
    (
        "synchronous_commit",
        "when off, a commit is answered before it is on disk and a crash loses it",
    ),
    (
        "full_page_writes",
        "without it a crash during a page write can leave torn, unrecoverable pages",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DurabilityError {
    #[error("cannot connect to the database to check its durability settings: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("cannot read the database's durability settings: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the durability check did not run: {0}")]
    Task(String),
    #[error(
        "PostgreSQL does not guarantee that committed data survives a crash, so the audit log \
         could lose events: {}. Turn them on in postgresql.conf (or with ALTER SYSTEM) and \
         reload PostgreSQL",
        .0.join("; ")
    )]
    Unsafe(Vec<String>),
}

/// A setting's current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Reads the settings (as `SHOW` would) on `conn`.
pub fn read_settings(conn: &mut PgConnection) -> Result<Vec<Setting>, diesel::result::Error> {
    SETTINGS
        .iter()
        .map(|(name, _)| {
            let row: Value = sql_query("SELECT current_setting($1) AS value")
                .bind::<Text, _>(*name)
                .get_result(conn)?;
            Ok(Setting {
                name,
                value: row.value,
            })
        })
        .collect()
}

/// What is wrong with `settings`, one message a setting. `synchronous_commit` may be any value
/// that waits for the local WAL flush (`on`, `local`, `remote_write`, `remote_apply`); only
/// `off` answers before the commit is on disk.
pub fn problems(settings: &[Setting]) -> Vec<String> {
    settings
        .iter()
        .filter(|setting| setting.value.eq_ignore_ascii_case("off"))
        .map(|setting| {
            let why = SETTINGS
                .iter()
                .find(|(name, _)| *name == setting.name)
                .map_or("", |(_, why)| *why);
            format!("{} is {} ({why})", setting.name, setting.value)
        })
        .collect()
}

/// Connects as the configured login and checks. In development mode an unsafe setting is only
/// warned about; otherwise it is an error and the service does not start.
pub fn check(database_url: &str, dev_mode: bool) -> Result<(), DurabilityError> {
    let mut conn = PgConnection::establish(database_url)?;
    let found = problems(&read_settings(&mut conn)?);
    if found.is_empty() {
        return Ok(());
    }
    if dev_mode {
        for problem in &found {
            tracing::warn!(%problem, "PostgreSQL is not crash-safe; tolerated in development mode only");
        }
        return Ok(());
    }
    Err(DurabilityError::Unsafe(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(fsync: &str, commit: &str, pages: &str) -> Vec<Setting> {
        vec![
            Setting {
                name: "fsync",
                value: fsync.into(),
            },
            Setting {
                name: "synchronous_commit",
                value: commit.into(),
            },
            Setting {
                name: "full_page_writes",
                value: pages.into(),
            },
        ]
    }

    #[test]
    fn every_setting_that_is_off_is_named() {
        assert!(problems(&settings("on", "on", "on")).is_empty());
        assert!(problems(&settings("on", "remote_apply", "on")).is_empty());
        assert!(problems(&settings("on", "local", "on")).is_empty());
        let found = problems(&settings("off", "off", "on"));
        assert_eq!(found.len(), 2);
        assert!(found[0].starts_with("fsync is off"));
        assert!(found[1].starts_with("synchronous_commit is off"));
        assert!(problems(&settings("on", "on", "off"))[0].starts_with("full_page_writes"));
    }

    #[test]
    fn the_error_names_the_settings_and_the_fix() {
        let message = DurabilityError::Unsafe(problems(&settings("off", "on", "on"))).to_string();
        assert!(message.contains("fsync is off"));
        assert!(message.contains("postgresql.conf"));
    }
}
