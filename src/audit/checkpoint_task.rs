//! Writes a signed checkpoint of the chain's end at a fixed interval, in the background.

use std::sync::Arc;

use crate::audit::checkpoint::CheckpointFile;
use crate::audit::verify::write_checkpoint;
use crate::startup::AppState;

pub fn spawn(state: Arc<AppState>) {
    let interval = state.settings.audit.checkpoint_interval;
    actix_web::rt::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(interval);
        loop {
            ticker.tick().await;
            if let Err(error) = checkpoint_now(&state).await {
                tracing::warn!(%error, "audit checkpoint not written");
            }
        }
    });
}

/// Signs and files the current end of the chain (if it moved since the last checkpoint).
pub async fn checkpoint_now(state: &AppState) -> Result<(), String> {
    let key = state.settings.audit.checkpoint_key.clone();
    let file = CheckpointFile::new(&state.settings.audit.checkpoint_file);
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            write_checkpoint(conn, &key, &file, now).map_err(crate::error::AppError::internal)
        })
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
