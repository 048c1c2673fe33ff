//! The demo's story: two units, an HVB home and supported housing in each, and about forty
//! children of different ages and statuses, some near 18 and some near 21, most of them placed.

use chrono::{Datelike, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::{AuditAction, AuditActor, AuditEvent, EntityType};
use crate::children::store::ChildRow;
use crate::children::{AsylumStatus, ProtectionLevel, Sex};
use crate::db::contact_schedules::{start_for_placement, Placed};
use crate::db::schema::{child_secretaries, children, facilities, facility_staff, placements};
use crate::domain::age::{birthday, day_before_birthday};
use crate::domain::facility_kind::FacilityKind;
use crate::error::AppResult;
use crate::placements::store::PlacementRow;
use crate::placements::EndReason;
use crate::rules::Rules;

const GIVEN: [&str; 20] = [
    "Ali", "Reza", "Omid", "Hamid", "Yusuf", "Abdi", "Samir", "Milad", "Amir", "Jamal", "Aziz",
    "Farid", "Nasir", "Bilal", "Hassan", "Mustafa", "Zainab", "Fatima", "Amina", "Sara",
];
const FAMILY: [&str; 10] = [
    "Ahmadi",
    "Hosseini",
    "Mohammadi",
    "Rahimi",
    "Karimi",
    "Haile",
    "Tesfay",
    "Warsame",
    "Osman",
    "Haidari",
];
const ORIGINS: [(&str, &[&str]); 4] = [
    ("Afghanistan", &["dari", "pashto"]),
    ("Syria", &["arabic"]),
    ("Eritrea", &["tigrinya"]),
    ("Somalia", &["somali"]),
];

pub struct Facility {
    pub id: Uuid,
    pub unit: usize,
    pub kind: &'static str,
    pub capacity: i32,
}

/// Tiny deterministic generator: the demo tells the same story on every machine.
pub struct Dice(pub u64);

impl Dice {
    pub fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

fn event(entity: EntityType, id: Uuid, child: Option<&ChildRow>) -> AuditEvent {
    let event = AuditEvent::new(
        AuditActor::system(),
        AuditAction::Create,
        entity,
        Some(id),
        Utc::now(),
    );
    match child {
        Some(c) => event.about_child(
            c.id,
            Some(c.responsible_unit_id),
            c.protection_level.is_protected(),
        ),
        None => event,
    }
}

pub fn facilities(
    conn: &mut PgConnection,
    unit_ids: &[Uuid],
    staff: &[(usize, Uuid)],
    events: &mut Vec<AuditEvent>,
) -> AppResult<Vec<Facility>> {
    let plan = [
        (0, "hvb", "Björkgården", "Björkvägen 4, Norrby", 8, 7),
        (
            0,
            "supported_housing",
            "Stödboende Norr",
            "Norrgatan 12, Norrby",
            6,
            0,
        ),
        (1, "hvb", "Lindhemmet", "Lindallén 2, Söderby", 7, 0),
        (
            1,
            "supported_housing",
            "Stödboende Syd",
            "Sydvägen 30, Söderby",
            6,
            0,
        ),
        // The intake home where the youths now in supported housing spent their first months.
        (0, "hvb", "Ankarhemmet", "Hamnvägen 8, Norrby", 12, 0),
    ];
    let now = Utc::now();
    let mut made = Vec::new();
    for (index, (unit, kind, name, address, capacity, agreed)) in plan.into_iter().enumerate() {
        let id = Uuid::now_v7();
        let ev = event(EntityType::Facility, id, None);
        diesel::insert_into(facilities::table)
            .values((
                facilities::id.eq(id),
                facilities::kind.eq(kind),
                facilities::name.eq(name),
                facilities::unit_id.eq(unit_ids[unit]),
                facilities::address.eq(address),
                facilities::capacity.eq(capacity),
                facilities::agreed_places.eq(agreed),
                facilities::created_at.eq(now),
                facilities::updated_at.eq(now),
                facilities::last_audit_event_id.eq(ev.id),
            ))
            .execute(conn)?;
        let event_id = ev.id;
        events.push(ev);
        for (facility_index, user_id) in staff {
            if *facility_index == index {
                diesel::insert_into(facility_staff::table)
                    .values((
                        facility_staff::facility_id.eq(id),
                        facility_staff::user_id.eq(user_id),
                        facility_staff::last_audit_event_id.eq(event_id),
                    ))
                    .execute(conn)?;
            }
        }
        made.push(Facility {
            id,
            unit,
            kind,
            capacity,
        });
    }
    Ok(made)
}

/// Forty children; `secretaries[unit]` gets the unit's caseload.
pub fn children_and_placements(
    conn: &mut PgConnection,
    rules: &Rules,
    unit_ids: &[Uuid],
    secretaries: &[Uuid],
    homes: &[Facility],
    events: &mut Vec<AuditEvent>,
) -> AppResult<usize> {
    let today = Utc::now().date_naive();
    let mut dice = Dice(20_161_231);
    let mut occupied = vec![0i32; homes.len()];
    let now = Utc::now();
    for n in 0..40u64 {
        let unit = (n % 2) as usize;
        // Ages 14 to 20, with a few a month from 18 and a few a month from 21.
        let date_of_birth = match n {
            0 | 1 => birthday(today, 0) - Duration::days(365 * 18 - 25),
            2 | 3 => birthday(today, 0) - Duration::days(365 * 21 - 20),
            _ => today - Duration::days(365 * (14 + dice.roll(7) as i64) + dice.roll(300) as i64),
        };
        let (origin, languages) = ORIGINS[dice.roll(4) as usize];
        let arrival = (today - Duration::days(30 + dice.roll(900) as i64))
            .max(date_of_birth + Duration::days(365 * 13));
        let status = [
            AsylumStatus::AsylumSeeker,
            AsylumStatus::TemporaryPermit,
            AsylumStatus::PermanentPermit,
            AsylumStatus::Rejected,
        ][dice.roll(4) as usize];
        let id = Uuid::now_v7();
        let ev = event(EntityType::Child, id, None);
        let child = ChildRow {
            id,
            given_name: GIVEN[(n as usize) % GIVEN.len()].to_owned(),
            family_name: FAMILY[dice.roll(10) as usize].to_owned(),
            date_of_birth,
            date_of_birth_assessed: dice.roll(3) == 0,
            sex: if (n as usize) % GIVEN.len() >= 16 {
                Sex::Female
            } else {
                Sex::Male
            },
            country_of_origin: Some(origin.to_owned()),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            interpreter_needed: dice.roll(2) == 0,
            dossier_number: Some(format!("{:08}", 31_000_000 + n * 7919)),
            personal_identity_number: None,
            asylum_status: status,
            arrival_date: Some(arrival),
            assigned_on: Some(arrival + Duration::days(3)),
            guardian_name: (crate::domain::age::age_on(date_of_birth, today) < 18)
                .then(|| "Gunnel Gode".to_owned()),
            guardian_phone: (crate::domain::age::age_on(date_of_birth, today) < 18)
                .then(|| "070-123 45 67".to_owned()),
            guardian_appointed_on: Some(arrival + Duration::days(10)),
            guardian_ended_on: None,
            guardian_special_follows: None,
            protection_level: if n == 7 || n == 8 {
                ProtectionLevel::ProtectedRegistration
            } else {
                ProtectionLevel::None
            },
            responsible_unit_id: unit_ids[unit],
            created_at: now,
            updated_at: now,
            version: 1,
            last_audit_event_id: ev.id,
        };
        diesel::insert_into(children::table)
            .values(&child)
            .execute(conn)?;
        diesel::insert_into(child_secretaries::table)
            .values((
                child_secretaries::child_id.eq(id),
                child_secretaries::user_id.eq(secretaries[unit]),
                child_secretaries::assigned_at.eq(now),
                child_secretaries::last_audit_event_id.eq(child.last_audit_event_id),
            ))
            .execute(conn)?;
        events.push(AuditEvent {
            child_id: Some(id),
            ..ev
        });

        // The newest arrivals wait for a place; the others live in the unit's homes.
        if n >= 34 {
            continue;
        }
        let set = rules.on(today);
        let age = crate::domain::age::age_on(date_of_birth, today);
        let wants_housing = age >= set.special_reasons_below_age
            || (age >= set.supported_housing_min_age && dice.roll(2) == 0);
        let preferred = homes
            .iter()
            .position(|h| h.unit == unit && (h.kind == "supported_housing") == wants_housing);
        // When the unit's own homes are full, the intake home (the last) takes the child.
        let intake = homes.len() - 1;
        let chosen = preferred
            .filter(|i| occupied[*i] < homes[*i].capacity)
            .or_else(|| {
                homes
                    .iter()
                    .position(|h| h.unit == unit && h.kind == "hvb")
                    .filter(|i| occupied[*i] < homes[*i].capacity)
            })
            .or_else(|| Some(intake).filter(|i| occupied[*i] < homes[*i].capacity));
        let Some(home) = chosen else { continue };
        occupied[home] += 1;
        let housing = homes[home].kind == "supported_housing";
        let start = (today - Duration::days(20 + dice.roll(400) as i64)).max(arrival);
        let start = if housing {
            start.max(birthday(date_of_birth, set.supported_housing_min_age))
        } else {
            start
        };
        let start = start.min(today);
        let set = rules.on(start);
        let last_day = day_before_birthday(date_of_birth, set.placement_end_age);
        // Supported housing follows a first placement in an HVB home, for the investigation.
        let intake_start = (start - Duration::days(120)).max(arrival);
        let had_intake = housing && intake_start < start;
        if had_intake {
            let intake_id = Uuid::now_v7();
            let iev = event(EntityType::Placement, intake_id, Some(&child));
            let intake = PlacementRow {
                id: intake_id,
                child_id: id,
                facility_id: homes[homes.len() - 1].id,
                start_date: intake_start,
                planned_end: last_day,
                end_date: Some(start - Duration::days(1)),
                end_reason: Some(EndReason::Moved),
                legal_basis: rules.on(intake_start).legal_bases[0].code.clone(),
                decision_reference: format!("SN-{}-{:03}A", intake_start.year(), n + 1),
                special_reasons: None,
                deviation_reason: None,
                cancelled_at: None,
                cancellation_reason: None,
                created_at: now,
                updated_at: now,
                version: 1,
                last_audit_event_id: iev.id,
            };
            diesel::insert_into(placements::table)
                .values(&intake)
                .execute(conn)?;
            events.push(iev);
        }
        let placement_id = Uuid::now_v7();
        let pev = event(EntityType::Placement, placement_id, Some(&child));
        let row = PlacementRow {
            id: placement_id,
            child_id: id,
            facility_id: homes[home].id,
            start_date: start,
            planned_end: last_day,
            end_date: None,
            end_reason: None,
            legal_basis: set.legal_bases[0].code.clone(),
            decision_reference: format!("SN-{}-{:03}", start.year(), n + 1),
            special_reasons: (housing
                && crate::domain::age::age_on(date_of_birth, start)
                    < set.special_reasons_below_age)
                .then(|| "Mature and stable; attends upper secondary school nearby".to_owned()),
            deviation_reason: (housing && !had_intake)
                .then(|| "Investigated in the municipality that first received him".to_owned()),
            cancelled_at: None,
            cancellation_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
            last_audit_event_id: pev.id,
        };
        diesel::insert_into(placements::table)
            .values(&row)
            .execute(conn)?;
        // The schedules a placement starts with, as the placements feature starts them.
        let placed = Placed {
            child_id: id,
            placement_id,
            facility_kind: if housing {
                FacilityKind::SupportedHousing
            } else {
                FacilityKind::Hvb
            },
            start_date: start,
        };
        start_for_placement(conn, &placed, set, now, pev.id)?;
        events.push(pev);
    }
    Ok(40)
}
