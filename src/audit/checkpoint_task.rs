//! Writes a signed checkpoint of the chain's end at a fixed interval, in the background.

use std::path::PathBuf;
use std::time::Duration;

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

pub fn spawn(checkpointer: Checkpointer, interval: Duration) {
    actix_web::rt::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(interval);
        loop {
            ticker.tick().await;
            match checkpoint_now(&checkpointer).await {
                Ok(_) => {}
                // Not a passing failure: the chain lost or changed an event a checkpoint
                // vouches for. Someone must look; every tick says so again until they do.
                Err(CheckpointNotWritten::Refused(
                    error @ CheckpointWriteError::Diverged { seq, .. },
                )) => {
                    tracing::error!(
                        checkpoint_seq = seq,
                        %error,
                        "audit checkpoint refused: the chain no longer holds the signed event"
                    );
                }
                Err(error) => tracing::warn!(%error, "audit checkpoint not written"),
            }
        }
    });
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
