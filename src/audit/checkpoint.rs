//! Signed checkpoints outside the database. A chain inside the database cannot prove that its
//! newest events were not cut off by someone with superuser rights; a checkpoint (sequence
//! number, hash, time), signed with a key the database never sees and kept elsewhere, can.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The Ed25519 key that signs checkpoints. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct CheckpointKey(SigningKey);

impl fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CheckpointKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("TRYGG_CHECKPOINT_KEY must be base64 of a 32-byte Ed25519 seed (generate one with `openssl rand -base64 32`)")]
    BadKey,
    #[error("TRYGG_CHECKPOINT_KEY is not set (or set TRYGG_DEV=1 for local development only)")]
    MissingKey,
    #[error("checkpoint file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl CheckpointKey {
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    pub fn parse(encoded: &str) -> Result<Self, CheckpointError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| CheckpointError::BadKey)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| CheckpointError::BadKey)?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    pub fn resolve(configured: Option<&str>, dev_mode: bool) -> Result<Self, CheckpointError> {
        match configured {
            Some(value) if !value.trim().is_empty() => Self::parse(value),
            _ if dev_mode => Ok(Self::generate()),
            _ => Err(CheckpointError::MissingKey),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The seed as `parse` reads it, to hand the key to another process of the operator's
    /// (the `trygg audit` tools). A secret: never log it.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.to_bytes())
    }
}

/// One line of the checkpoint file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    pub signature: String,
}

fn signed_message(seq: i64, hash_hex: &str, at: &DateTime<Utc>) -> String {
    format!(
        "trygg-checkpoint-v1:{seq}:{hash_hex}:{}",
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

impl Checkpoint {
    pub fn sign(key: &CheckpointKey, seq: i64, hash: &[u8], at: DateTime<Utc>) -> Self {
        let at = chrono::SubsecRound::trunc_subsecs(at, 6);
        let hash = hex::encode(hash);
        let signature = key.0.sign(signed_message(seq, &hash, &at).as_bytes());
        Self {
            seq,
            hash,
            at,
            signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
        }
    }

    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.verify(
            signed_message(self.seq, &self.hash, &self.at).as_bytes(),
            &signature,
        )
        .is_ok()
    }
}

/// An append-only file of checkpoints, one JSON object a line.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            path: self.path.clone(),
            source,
        }
    }

    pub fn append(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| self.io(e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        let mut line = serde_json::to_string(checkpoint).unwrap_or_default();
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))
    }

    /// Every checkpoint that carries a valid signature, in file order; forged or damaged lines
    /// are skipped. A missing file holds none.
    pub fn all_valid(&self, key: &VerifyingKey) -> Result<Vec<Checkpoint>, CheckpointError> {
        let mut all = Vec::new();
        self.for_each_valid(key, |checkpoint| all.push(checkpoint))?;
        Ok(all)
    }

    /// The newest checkpoint that carries a valid signature (the highest sequence number; of
    /// several at that number, the last in the file); forged or damaged lines are skipped.
    pub fn latest_valid(&self, key: &VerifyingKey) -> Result<Option<Checkpoint>, CheckpointError> {
        let mut latest: Option<Checkpoint> = None;
        self.for_each_valid(key, |checkpoint| {
            if latest.as_ref().is_none_or(|l| checkpoint.seq >= l.seq) {
                latest = Some(checkpoint);
            }
        })?;
        Ok(latest)
    }

    fn for_each_valid(
        &self,
        key: &VerifyingKey,
        mut each: impl FnMut(Checkpoint),
    ) -> Result<(), CheckpointError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io(e)),
        };
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| self.io(e))?;
            let Ok(checkpoint) = serde_json::from_str::<Checkpoint>(&line) else {
                continue;
            };
            if checkpoint.is_signed_by(key) {
                each(checkpoint);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_with_its_key_and_content() {
        let key = CheckpointKey::generate();
        let checkpoint = Checkpoint::sign(&key, 42, &[7u8; 32], Utc::now());
        assert!(checkpoint.is_signed_by(&key.verifying_key()));
        assert!(!checkpoint.is_signed_by(&CheckpointKey::generate().verifying_key()));
        let moved = Checkpoint {
            seq: 41,
            ..checkpoint.clone()
        };
        assert!(!moved.is_signed_by(&key.verifying_key()));
    }

    #[test]
    fn the_file_yields_its_validly_signed_checkpoints_and_the_newest() {
        let key = CheckpointKey::generate();
        let path = std::env::temp_dir().join(format!("trygg-cp-{}.jsonl", uuid::Uuid::now_v7()));
        let file = CheckpointFile::new(&path);
        file.append(&Checkpoint::sign(&key, 1, &[1u8; 32], Utc::now()))
            .unwrap();
        file.append(&Checkpoint::sign(&key, 5, &[5u8; 32], Utc::now()))
            .unwrap();
        let forged = Checkpoint::sign(&CheckpointKey::generate(), 9, &[9u8; 32], Utc::now());
        file.append(&forged).unwrap();
        file.append(&Checkpoint::sign(&key, 3, &[3u8; 32], Utc::now()))
            .unwrap();
        let latest = file.latest_valid(&key.verifying_key()).unwrap().unwrap();
        assert_eq!(latest.seq, 5);
        let all: Vec<i64> = file
            .all_valid(&key.verifying_key())
            .unwrap()
            .iter()
            .map(|c| c.seq)
            .collect();
        assert_eq!(all, [1, 5, 3], "every validly signed line, in file order");
        std::fs::remove_file(path).unwrap();
    }
}
