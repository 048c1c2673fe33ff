use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};

use crate::error::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    pub pool_size: u32,
    /// How long a request waits for a connection before it is answered with 503.
    pub acquire_timeout: Duration,
    /// The restricted role every pooled connection switches to (see the roles migration).
    pub service_role: Option<String>,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            pool_size: 10,
            acquire_timeout: Duration::from_secs(3),
            service_role: Some(SERVICE_ROLE.to_owned()),
        }
    }
}

/// Created by the migrations; granted only what the service needs.
pub const SERVICE_ROLE: &str = "trygg_app";

pub type PgPool = Pool<ConnectionManager<PgConnection>>;

/// Every pooled connection acts as the restricted service role, so the limits granted to that
/// role (append-only audit log, no deletes of case records) hold even when the configured login
/// is a superuser, as in development.
#[derive(Debug)]
struct ActAsServiceRole(Option<String>);

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for ActAsServiceRole {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        let mut setup = String::from("SET TIME ZONE 'UTC'; SET statement_timeout = '30s';");
        if let Some(role) = &self.0 {
            // The role name comes from our own configuration, never from a request.
            setup.push_str(&format!(" SET ROLE \"{}\";", role.replace('"', "")));
        }
        conn.batch_execute(&setup)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool without connecting, so the service can start answering (503) while the
/// database is still coming up, and recovers on its own when it returns.
pub fn build_pool(database_url: &str, settings: &DatabaseSettings) -> PgPool {
    super::tls::prepare();
    let manager = ConnectionManager::<PgConnection>::new(database_url);
    Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(0))
        .connection_timeout(settings.acquire_timeout)
        .test_on_check_out(true)
        .connection_customizer(Box::new(ActAsServiceRole(settings.service_role.clone())))
        .build_unchecked(manager)
}

/// Handle to the database for request handlers. Diesel blocks, so every call runs on the
/// blocking thread pool and never on an actix worker thread.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Runs `work` with a pooled connection on the blocking pool.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await
        .map_err(|_| AppError::internal("blocking task was cancelled"))?
    }

    /// Runs `work` in one transaction that may end in a refusal: a `Stop::Refuse` keeps what the
    /// work wrote (the audit event of the refused attempt) and then answers with its error;
    /// a `Stop::Abort` (any other error) undoes everything. Work done for a request holding an
    /// Idempotency-Key marks the key done in the same transaction (see [`super::idempotency`]).
    pub async fn audited<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, Stop> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        let claim = super::idempotency::current();
        self.run(move |conn| {
            conn.transaction::<_, AppError, _>(|conn| match work(conn) {
                Ok(value) => {
                    if let Some(claim) = &claim {
                        super::idempotency::mark_work_done(conn, claim)?;
                    }
                    Ok(Ok(value))
                }
                Err(Stop::Refuse(error)) => Ok(Err(error)),
                Err(Stop::Abort(error)) => Err(error),
            })?
        })
        .await
    }

    /// Runs `work` in one transaction: everything it writes commits together or not at all.
    pub async fn transaction<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.run(move |conn| conn.transaction(work)).await
    }
}

/// Why the work of an [`Db::audited`] transaction stopped.
#[derive(Debug)]
pub enum Stop {
    /// Undo everything and answer with this error.
    Abort(AppError),
    /// Commit what was written (a refused attempt's audit event), then answer with this error.
    Refuse(AppError),
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Self {
        Stop::Abort(error)
    }
}

impl From<diesel::result::Error> for Stop {
    fn from(error: diesel::result::Error) -> Self {
        Stop::Abort(error.into())
    }
}
