//! One database per test, cloned from a template that is migrated once per set of migrations.
//! Test processes may run side by side, so the template is built under an advisory lock.
//!
//! Names carry a key of this checkout (several checkouts may share one PostgreSQL), and a test
//! database the id of the process that made it: a run sweeps what an earlier, killed run of the
//! same checkout left behind (its own prefix only, never a database whose process still lives
//! or that someone is connected to), and replaces only its own checkout's older templates.

use std::sync::OnceLock;

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};
use sha2::{Digest, Sha256};

/// TLS buys nothing over loopback, and keeps OpenSSL out of the test processes altogether.
const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
const TEMPLATE_LOCK: i64 = 0x7472_7967_675f_7470;

/// The maintenance database URL of the server tests use.
pub fn server_url() -> String {
    std::env::var("TRYGG_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
}

/// `base` with its database name replaced.
pub fn with_database_name(base: &str, name: &str) -> String {
    let mut url = url::Url::parse(base).expect("a valid database URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    pub fn create() -> Self {
        let template = template();
        let name = format!(
            "{}{}_{}",
            test_prefix(),
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        let mut admin = admin_connection();
        let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
        if let Err(error) = sql_query(&create).execute(&mut admin) {
            // Another checkout's harness of an older kind may have dropped our template.
            if database_exists(&mut admin, template) {
                panic!("create the test database: {error}");
            }
            lock(&mut admin, "SELECT pg_advisory_lock($1)");
            if !database_exists(&mut admin, template) {
                build_template(&mut admin, template);
            }
            lock(&mut admin, "SELECT pg_advisory_unlock($1)");
            sql_query(&create)
                .execute(&mut admin)
                .expect("create the test database");
        }
        Self { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> String {
        with_database_name(&server_url(), &self.name)
    }

    /// A connection as the configured login (a superuser in tests), for arranging what the API
    /// cannot, such as tampering with the audit log.
    pub fn superuser(&self) -> PgConnection {
        PgConnection::establish(&self.url()).expect("connect to the test database")
    }

    /// A connection acting as the service role, with exactly the service's rights.
    pub fn service_role(&self) -> PgConnection {
        use diesel::connection::SimpleConnection;
        let mut conn = self.superuser();
        conn.batch_execute("SET ROLE trygg_app")
            .expect("act as the service role");
        conn
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::env::var_os("TRYGG_TEST_KEEP_DB").is_some() {
            return;
        }
        let name = self.name.clone();
        // Dropped on a plain thread: this may run inside the async test's runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(mut admin) = PgConnection::establish(&server_url()) {
                let _ = sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        })
        .join();
    }
}

fn admin_connection() -> PgConnection {
    trygg::db::tls::prepare();
    PgConnection::establish(&server_url()).unwrap_or_else(|e| {
        panic!("tests need PostgreSQL at TRYGG_TEST_DATABASE_URL (run ./dev test): {e}")
    })
}

/// A short key of this checkout, so checkouts sharing a server keep to their own databases.
fn checkout_key() -> String {
    hex::encode(&Sha256::digest(env!("CARGO_MANIFEST_DIR").as_bytes())[..4])
}

/// What every test database of this checkout is called before its process id.
fn test_prefix() -> String {
    format!("trygg_test_{}_", checkout_key())
}

/// The template for the current migrations, built once across all test processes.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("trygg_tpl_{}_{}", checkout_key(), migrations_digest());
        let mut admin = admin_connection();
        lock(&mut admin, "SELECT pg_advisory_lock($1)");
        if !database_exists(&mut admin, &name) {
            build_template(&mut admin, &name);
        }
        sweep_abandoned(&mut admin);
        lock(&mut admin, "SELECT pg_advisory_unlock($1)");
        name
    })
}

fn names_like(admin: &mut PgConnection, pattern: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    sql_query("SELECT datname::text AS datname FROM pg_database WHERE datname LIKE $1")
        .bind::<Text, _>(pattern)
        .load::<Name>(admin)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.datname)
        .collect()
}

/// Test databases of this checkout whose process is gone: a run that was killed before it could
/// drop them. A database someone is connected to (a kept one being inspected) stays, as do all
/// when `TRYGG_TEST_KEEP_DB` asks to keep databases.
fn sweep_abandoned(admin: &mut PgConnection) {
    if std::env::var_os("TRYGG_TEST_KEEP_DB").is_some() {
        return;
    }
    let prefix = test_prefix();
    for name in names_like(admin, &format!("{}%", prefix.replace('_', "\\_"))) {
        let Some(pid) = name[prefix.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        if pid != std::process::id() && !alive {
            // Without FORCE: refused while anyone is connected.
            let _ = sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(admin);
        }
    }
}

fn build_template(admin: &mut PgConnection, name: &str) {
    drop_stale_templates(admin, name);
    let building = format!("{name}_building");
    sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
        .execute(admin)
        .expect("drop a half-built template");
    sql_query(format!("CREATE DATABASE {building}"))
        .execute(admin)
        .expect("create the template database");
    trygg::db::run_migrations(&with_database_name(&server_url(), &building))
        .expect("migrations apply to an empty database");
    sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
        .execute(admin)
        .expect("publish the template");
    sql_query(format!("ALTER DATABASE {name} WITH IS_TEMPLATE true"))
        .execute(admin)
        .expect("mark the template");
}

/// This checkout's templates of earlier migrations are no longer needed; other checkouts'
/// templates are theirs.
fn drop_stale_templates(admin: &mut PgConnection, current: &str) {
    let own = format!("trygg\\_tpl\\_{}\\_%", checkout_key());
    for datname in names_like(admin, &own) {
        if datname == current {
            continue;
        }
        let _ =
            sql_query(format!("ALTER DATABASE {datname} WITH IS_TEMPLATE false")).execute(admin);
        let _ = sql_query(format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)")).execute(admin);
    }
}

fn database_exists(admin: &mut PgConnection, name: &str) -> bool {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    sql_query("SELECT count(*) AS count FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Count>(admin)
        .map(|c| c.count > 0)
        .expect("query pg_database")
}

fn lock(admin: &mut PgConnection, sql: &str) {
    sql_query(sql)
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(admin)
        .expect("template advisory lock");
}

/// A digest of every migration file, so a changed migration gets a fresh template.
fn migrations_digest() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files = Vec::new();
    collect_files(&root, &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(&file).expect("read a migration"));
    }
    // And the set the library embedded when it was compiled, in case the two ever differ.
    use diesel::migration::MigrationSource;
    let embedded =
        MigrationSource::<diesel::pg::Pg>::migrations(&trygg::db::migrations::MIGRATIONS)
            .expect("the embedded migrations");
    for migration in embedded {
        hasher.update(migration.name().to_string().as_bytes());
    }
    hex::encode(&hasher.finalize()[..8])
}

fn collect_files(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read migrations/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}
