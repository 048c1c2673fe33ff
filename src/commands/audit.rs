use diesel::{Connection, PgConnection};

use crate::audit::checkpoint::{CheckpointFile, CheckpointKey};
use crate::audit::verify::{verify_chain_at, write_checkpoint};
use crate::cli::AuditArgs;

fn open(args: &AuditArgs) -> Result<(PgConnection, CheckpointKey, CheckpointFile), String> {
    let key = CheckpointKey::resolve(
        std::env::var("TRYGG_CHECKPOINT_KEY").ok().as_deref(),
        args.dev,
    )
    .map_err(|e| e.to_string())?;
    let conn = PgConnection::establish(&args.database.database_url).map_err(|e| e.to_string())?;
    Ok((
        conn,
        key,
        CheckpointFile::new(&args.checkpoints.checkpoint_file),
    ))
}

/// Prints the report as JSON; fails (non-zero exit) when the chain is not intact.
pub fn verify(args: AuditArgs) -> Result<(), String> {
    let (mut conn, key, file) = open(&args)?;
    let mut checkpoints = file
        .all_valid(&key.verifying_key())
        .map_err(|e| e.to_string())?;
    // A witness's copies are checked like the server's own: a database rolled back behind
    // one of them shows as a cut tail or a changed event.
    for path in &args.witness {
        let kept = CheckpointFile::new(path)
            .all_valid(&key.verifying_key())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        checkpoints.extend(kept);
    }
    let report =
        verify_chain_at(&mut conn, &checkpoints, chrono::Utc::now()).map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    if report.intact {
        Ok(())
    } else {
        Err("the audit chain is NOT intact".into())
    }
}

pub fn checkpoint(args: AuditArgs) -> Result<(), String> {
    let (mut conn, key, file) = open(&args)?;
    match write_checkpoint(&mut conn, &key, &file, chrono::Utc::now()).map_err(|e| e.to_string())? {
        Some(c) => println!(
            "checkpoint at event {} written to {}",
            c.seq,
            file.path().display()
        ),
        None => println!("the chain has not moved since the latest checkpoint"),
    }
    Ok(())
}
