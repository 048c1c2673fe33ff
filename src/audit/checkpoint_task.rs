//! Writes a signed checkpoint of the chain's end in the background: at a fixed interval, and
//! as soon as the chain has grown by a set number of events since the last one (looked at every
//! second), so a busy minute leaves a bounded unsigned tail. The service also signs once more
//! when it shuts down (`Application::run_until_stopped`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::checkpoint::{Checkpoint, CheckpointFile, CheckpointKey};
use super::verify::{write_checkpoint, CheckpointWriteError};
use crate::clock::SharedClock;
use crate::db::Db;

/// What the background task needs: the chain, the key that signs and the file that keeps.
#[derive(Clone)]
pub struct Checkpointer {
    pub db: Db,
    pub clock: SharedClock,
    pub key: CheckpointKey,
    pub file: PathBuf,
}

/// How often the task looks at how far the chain has grown.
const TICK: Duration = Duration::from_secs(1);

/// Signs every `interval`, and whenever `every_events` events are unsigned.
pub fn spawn(checkpointer: Checkpointer, interval: Duration, every_events: i64) {
    actix_web::rt::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(TICK.min(interval));
        // What the last attempt covered, and when it was made; `None` signs at once.
        let mut signed_through: Option<i64> = None;
        let mut last_attempt = Instant::now();
        loop {
            ticker.tick().await;
            // A failure to read the tail only skips the count; the interval still comes round
            // and reports the failure then.
            let tail = chain_end(&checkpointer).await.ok();
            let grown = match (tail, signed_through) {
                (Some(tail), Some(signed)) => tail - signed >= every_events,
                _ => false,
            };
            if signed_through.is_some() && !grown && last_attempt.elapsed() < interval {
                continue;
            }
            last_attempt = Instant::now();
            let written = checkpoint_now(&checkpointer).await;
            // After a refusal too: the count does not retry every second; the interval does.
            signed_through = match &written {
                Ok(Some(checkpoint)) => Some(checkpoint.seq),
                _ => tail.or(signed_through).or(Some(0)),
            };
            report(written);
        }
    });
}

fn report(written: Result<Option<Checkpoint>, CheckpointNotWritten>) {
    match written {
        Ok(_) => {}
        // Not a passing failure: the chain lost or changed an event a checkpoint
        // vouches for. Someone must look; every interval says so again until they do.
        Err(CheckpointNotWritten::Refused(error @ CheckpointWriteError::Diverged { seq, .. })) => {
            tracing::error!(
                checkpoint_seq = seq,
                %error,
                "audit checkpoint refused: the chain no longer holds the signed event"
            );
        }
        Err(error) => tracing::warn!(%error, "audit checkpoint not written"),
    }
}

/// The newest event's sequence number (0 for an empty chain).
async fn chain_end(checkpointer: &Checkpointer) -> Result<i64, crate::error::AppError> {
    checkpointer
        .db
        .run(|conn| Ok(super::sequencer::chain_tail(conn)?.0))
        .await
}

/// The last checkpoint of a service that stops: what it appended since the last one is signed
/// before it goes, so cutting that tail off later is caught.
pub async fn on_shutdown(checkpointer: &Checkpointer) {
    match checkpoint_now(checkpointer).await {
        Ok(Some(checkpoint)) => {
            tracing::info!(seq = checkpoint.seq, "audit checkpoint signed at shutdown");
        }
        written => report(written),
    }
}

/// Why [`checkpoint_now`] wrote nothing.
#[derive(Debug)]
pub enum CheckpointNotWritten {
    /// `write_checkpoint` refused or failed.
    Refused(CheckpointWriteError),
    /// No connection (or the blocking task failed).
    Unavailable(crate::error::AppError),
}

impl std::fmt::Display for CheckpointNotWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(error) => error.fmt(f),
            Self::Unavailable(error) => error.fmt(f),
        }
    }
}

/// Signs and files the current end of the chain (if it moved since the last checkpoint).
pub async fn checkpoint_now(
    checkpointer: &Checkpointer,
) -> Result<Option<Checkpoint>, CheckpointNotWritten> {
    let key = checkpointer.key.clone();
    let file = CheckpointFile::new(&checkpointer.file);
    let now = checkpointer.clock.now();
    checkpointer
        .db
        .run(move |conn| Ok(write_checkpoint(conn, &key, &file, now)))
        .await
        .map_err(CheckpointNotWritten::Unavailable)?
        .map_err(CheckpointNotWritten::Refused)
}
