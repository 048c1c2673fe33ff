//! The audit log: every read and write of a person's data, written in the same transaction as
//! the work it records, append-only, and sealed into a hash chain (by the sequencer, after
//! commit) so that tampering shows.

pub mod chain;
pub mod checkpoint;
pub mod checkpoint_task;
pub mod event;
pub mod feed;
pub mod sequencer;
pub mod verify;
pub mod writer;

pub use event::{AuditAction, AuditActor, AuditEvent, EntityType, Outcome};
pub use writer::append;
