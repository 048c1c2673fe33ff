//! `access_requests`: a child's right of access (GDPR art. 15, *registerutdrag*). A system
//! administrator or an administrator exports everything the service holds about one child as
//! one JSON document, or the same as a plain HTML page: her record (identity numbers and
//! guardian included), age assessments, protection decisions, assigned secretaries, emergency
//! accesses, placements and their reviews, contact schedules, visits with their corrections,
//! the age-out plan with its versions, goals, goal versions, progress notes and reviews, and
//! the audit log's events about her (who read or changed what, when, in which role, why).
//!
//! Who: `policy::child::answers_access_requests`, through `ChildAction::ExportRecord`. Every
//! other profession, and every system whatever its scopes, is refused 403 for every id, an
//! unknown one too, so the refusal tells nobody which children exist; the refusal is a `denied`
//! event. For a registrar an id that names no child is 404.
//!
//! **Protected identities.** Everywhere else a protected identity is hidden from those not
//! directly involved: systems do not see the child at all, a unit manager and an emergency
//! access see her without name, address and home. The export does not follow the hiding, by
//! decision: the right of access is the protected child's as much as any child's, and an
//! export that left out her name, numbers or home would not answer it. The emergency path the
//! policy has does not fit either: it is for secretaries and unit managers on call, and opens
//! the management view, which withholds exactly those fields.
//! What protects her is what protects every access to her in this service: the narrowest
//! circle (two professions, no systems), and the audit log. The export's one `export` event is
//! about her and carries her unit and protection like every event about a child, so
//! `GET /api/v1/audit-events/protected-identity-accesses` lists every export of a protected
//! child.
//! Sending the export to her (through Skatteverket's forwarding for a protected address) is
//! outside the service.

pub mod input;
pub mod routes;
pub mod store;
pub mod view;
