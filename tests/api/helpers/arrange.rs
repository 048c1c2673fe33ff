//! Arranging what a story needs but is not its subject, straight in the database (with the
//! audit events the schema demands): facilities with their staff.

use chrono::Utc;
use diesel::prelude::*;
use trygg::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use trygg::db::schema::{facilities, facility_staff};
use uuid::Uuid;

use super::TestApp;

impl TestApp {
    pub fn arrange_facility(
        &self,
        unit_id: Uuid,
        kind: &str,
        capacity: i32,
        staff: &[Uuid],
    ) -> Uuid {
        let mut conn = self.db.superuser();
        conn.transaction(|conn| {
            let now = Utc::now();
            let id = Uuid::now_v7();
            let event = AuditEvent::new(
                AuditActor::system(),
                AuditAction::Create,
                EntityType::Facility,
                Some(id),
                now,
            );
            diesel::insert_into(facilities::table)
                .values((
                    facilities::id.eq(id),
                    facilities::kind.eq(kind),
                    facilities::name.eq(format!("{kind} home {}", &id.simple().to_string()[24..])),
                    facilities::unit_id.eq(unit_id),
                    facilities::address.eq("Storgatan 1, 123 45 Småstad"),
                    facilities::capacity.eq(capacity),
                    facilities::created_at.eq(now),
                    facilities::updated_at.eq(now),
                    facilities::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            for user_id in staff {
                diesel::insert_into(facility_staff::table)
                    .values((
                        facility_staff::facility_id.eq(id),
                        facility_staff::user_id.eq(user_id),
                        facility_staff::last_audit_event_id.eq(event.id),
                    ))
                    .execute(conn)?;
            }
            audit::append(conn, &[event])?;
            Ok::<_, trygg::error::AppError>(id)
        })
        .expect("arrange a facility")
    }
}
