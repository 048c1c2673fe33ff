//! Facilities and what fills them: opened through the real API by a unit manager, and, where a
//! story needs children already living somewhere, placements arranged straight in the database.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::db::schema::{children, placements};
use uuid::Uuid;

use super::users::Session;
use super::TestApp;

impl TestApp {
    /// The unit manager of `unit_id` opens a facility (`"hvb"` or `"supported_housing"`) there,
    /// with an address; panics unless it is created.
    pub async fn create_facility(
        &self,
        manager_session: &Session,
        unit_id: Uuid,
        kind: &str,
        capacity: i32,
    ) -> Uuid {
        let name = format!("{kind} home {}", &Uuid::now_v7().simple().to_string()[24..]);
        let response = self
            .as_user(manager_session)
            .post(
                "/api/v1/facilities",
                json!({
                    "kind": kind,
                    "name": name,
                    "unit_id": unit_id,
                    "address": "Storgatan 1, 123 45 Småstad",
                    "capacity": capacity,
                }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "opening {name} failed: {body}");
        body["id"].as_str().unwrap().parse().unwrap()
    }

    /// A 16-year-old child of `unit_id` living in `facility_id` from `start` to `end`
    /// (inclusive), cancelled when `cancelled`. Arranged in the database, audited as the system.
    pub fn arrange_placement(
        &self,
        unit_id: Uuid,
        facility_id: Uuid,
        start: NaiveDate,
        end: NaiveDate,
        cancelled: bool,
    ) -> Uuid {
        let mut conn = self.db.superuser();
        conn.transaction(|conn| {
            let now = Utc::now();
            let (child_id, child_event) = insert_child(conn, unit_id, now)?;
            let (id, event) =
                insert_placement(conn, child_id, facility_id, (start, end), cancelled, now)?;
            audit::append(conn, &[child_event, event])?;
            Ok::<_, trygg::error::AppError>(id)
        })
        .expect("arrange a placement")
    }

    /// A child of `unit_id` (born on 1 January 2010) who has lived in `facility_id` once for
    /// each of `periods` (inclusive dates, which must not overlap); returns the child's id.
    /// Arranged in the database, audited as the system.
    pub fn arrange_child_with_placements(
        &self,
        unit_id: Uuid,
        facility_id: Uuid,
        periods: &[(NaiveDate, NaiveDate)],
    ) -> Uuid {
        let mut conn = self.db.superuser();
        conn.transaction(|conn| {
            let now = Utc::now();
            let (child_id, child_event) = insert_child(conn, unit_id, now)?;
            let mut events = vec![child_event];
            for period in periods {
                let (_, event) =
                    insert_placement(conn, child_id, facility_id, *period, false, now)?;
                events.push(event);
            }
            audit::append(conn, &events)?;
            Ok::<_, trygg::error::AppError>(child_id)
        })
        .expect("arrange a child with placements")
    }
}

fn insert_child(
    conn: &mut PgConnection,
    unit_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<(Uuid, AuditEvent)> {
    let child_id = Uuid::now_v7();
    let event = AuditEvent::new(
        AuditActor::system(),
        AuditAction::Create,
        EntityType::Child,
        Some(child_id),
        now,
    );
    diesel::insert_into(children::table)
        .values((
            children::id.eq(child_id),
            children::given_name.eq("Test"),
            children::family_name.eq(format!("Child {}", &child_id.simple().to_string()[24..])),
            children::date_of_birth.eq(NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()),
            children::sex.eq("unknown"),
            children::asylum_status.eq("asylum_seeker"),
            children::responsible_unit_id.eq(unit_id),
            children::created_at.eq(now),
            children::updated_at.eq(now),
            children::last_audit_event_id.eq(event.id),
        ))
        .execute(conn)?;
    Ok((child_id, event))
}

fn insert_placement(
    conn: &mut PgConnection,
    child_id: Uuid,
    facility_id: Uuid,
    (start, end): (NaiveDate, NaiveDate),
    cancelled: bool,
    now: DateTime<Utc>,
) -> QueryResult<(Uuid, AuditEvent)> {
    let id = Uuid::now_v7();
    let event = AuditEvent::new(
        AuditActor::system(),
        AuditAction::Create,
        EntityType::Placement,
        Some(id),
        now,
    )
    .child(child_id);
    diesel::insert_into(placements::table)
        .values((
            placements::id.eq(id),
            placements::child_id.eq(child_id),
            placements::facility_id.eq(facility_id),
            placements::start_date.eq(start),
            placements::planned_end.eq(end),
            placements::legal_basis.eq("SoL2025-insats"),
            placements::decision_reference.eq("BN-2026-1"),
            placements::cancelled_at.eq(cancelled.then_some(now)),
            placements::cancellation_reason.eq(cancelled.then_some("Registered by mistake")),
            placements::created_at.eq(now),
            placements::updated_at.eq(now),
            placements::last_audit_event_id.eq(event.id),
        ))
        .execute(conn)?;
    Ok((id, event))
}
