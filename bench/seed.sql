-- A national-scale data set for bench/national.sh, written straight into a migrated, empty
-- Trygg database (never through the API: that would take days).
--
--   psql -v children=35000 -v facilities=1000 -v units=290 -v events=5000000 \
--        -v password_hash='$argon2id$...' -f bench/seed.sql <database>
--
-- Everything is synthetic: generated names, numbers and dates; no real person.
--
-- The seed runs as superuser with session_replication_role = replica, which switches off every
-- trigger: the commit-time checks that each row's audit event comes from its own transaction
-- (history cannot), the placement trigger (capacity and age rules, re-established below by
-- construction), the foreign-key triggers (every reference below is made valid by
-- construction) and the trigger that queues new events for the sequencer (seeded history is
-- chained here directly, so the sequencer carries on from its end). CHECK, UNIQUE and EXCLUDE
-- constraints still hold, and hold the data to the schema.
--
-- Shape, for C children (national: 35,000):
--   units: U; facilities: F, every unit with HVB homes and a supported housing; facility 0 (an
--   HVB home of unit 0) left two places from full for the placement scenario.
--   people: a social secretary per 30 children (within one unit), a unit manager per unit, two
--   staff per facility, an auditor, an administrator, a system administrator; one service
--   account (placements:read, children:read, capacity:read).
--   children: aged 14 to 20, arrived in the last three years; 1 in 100 still waiting for a
--   place, the rest in a running placement (3 in 10 of those moved on from an HVB home to
--   supported housing), each with the two contact schedules a placement starts with, weekly
--   staff contacts and quarterly follow-up visits since arrival, reconsiderations every six
--   months, care plans, and the decisions about care after 18.
--   audit log: an event for every row written above, plus reads by the children's secretaries,
--   managers and home staff up to `events` in all, over three years, chained in time order.
\set ON_ERROR_STOP on
\timing off
SET client_min_messages = warning;
SET session_replication_role = replica;
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 2;

SELECT ceil(:children / 30.0)::int AS secretaries \gset

BEGIN;

-- Pseudo-random but repeatable: the same seed gives the same data set.
CREATE FUNCTION pg_temp.h(n bigint, salt int) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT abs(hashint8(n * 131 + salt)::bigint) $$;

-- Loaded in bulk, then indexed: building an index once is much faster than keeping it up to
-- date over millions of inserts. The definitions are the migrations' own, read back.
CREATE TEMP TABLE saved_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname IN ('audit_events', 'audit_chain', 'visits')
  AND t.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT name FROM saved_indexes LOOP
        EXECUTE 'DROP INDEX ' || r.name;
    END LOOP;
END
$$;

-- Before any seeded event: the organisation exists from the start of the history.
SELECT (now() - interval '3 years 60 days') AS t0 \gset

-- Units ------------------------------------------------------------------------------------
CREATE TEMP TABLE u AS
SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS ev
FROM generate_series(0, :units - 1) AS n;

INSERT INTO units (id, name, active, created_at, updated_at, version, last_audit_event_id)
SELECT id, format('Enhet %s', n + 1), true, :'t0', :'t0', 1, ev FROM u;

-- Facilities: facility j belongs to unit j % U, and each unit's second facility is its
-- supported housing (so with F >= 2U every unit has one, and HVB homes for first placements).
CREATE TEMP TABLE f AS
SELECT j, gen_random_uuid() AS id, gen_random_uuid() AS ev, j % :units AS unit_n,
       CASE WHEN (j / :units) % 3 = 1 THEN 'supported_housing' ELSE 'hvb' END AS kind
FROM generate_series(0, :facilities - 1) AS j;
ALTER TABLE f ADD COLUMN unit_id uuid;
UPDATE f SET unit_id = u.id FROM u WHERE u.n = f.unit_n;

-- Per unit, its homes of each kind in order: a child's home is picked by rank. Facility 0 is
-- kept for the placement scenario: only children who stay there go there, so every place it
-- holds is held today and its capacity can be set two above today's count.
CREATE TEMP TABLE homes AS
SELECT unit_n, kind, with_reserved, id, j,
       row_number() OVER (PARTITION BY unit_n, kind, with_reserved ORDER BY j) - 1 AS r,
       count(*) OVER (PARTITION BY unit_n, kind, with_reserved) AS k
FROM (SELECT unit_n, kind, true AS with_reserved, id, j FROM f
      UNION ALL
      SELECT unit_n, kind, false, id, j FROM f WHERE j <> 0) AS both_lists;
ANALYZE u;
ANALYZE f;
ANALYZE homes;

-- People -----------------------------------------------------------------------------------
CREATE TEMP TABLE people (
    id uuid PRIMARY KEY, ev uuid NOT NULL, username text NOT NULL, display_name text NOT NULL,
    profession text NOT NULL, unit_id uuid, role_n int, facility_id uuid
);
-- Secretary s works in unit s * U / S, so the children of one secretary share a unit.
INSERT INTO people
SELECT gen_random_uuid(), gen_random_uuid(), format('secretary-%s', s + 1),
       format('Socialsekreterare %s', s + 1), 'social_secretary', u.id, s, NULL
FROM generate_series(0, :secretaries - 1) AS s
JOIN u ON u.n = (s::bigint * :units) / :secretaries;
INSERT INTO people
SELECT gen_random_uuid(), gen_random_uuid(), format('manager-%s', n + 1),
       format('Enhetschef %s', n + 1), 'unit_manager', id, n, NULL
FROM u;
INSERT INTO people
SELECT gen_random_uuid(), gen_random_uuid(), format('staff-%s-%s', f.j + 1, slot),
       format('Personal %s%s', f.j + 1, slot),
       CASE f.kind WHEN 'hvb' THEN 'hvb_staff' ELSE 'housing_staff' END, f.unit_id,
       CASE slot WHEN 'a' THEN 0 ELSE 1 END, f.id
FROM f CROSS JOIN (VALUES ('a'), ('b')) AS slots(slot);
INSERT INTO people VALUES
    (gen_random_uuid(), gen_random_uuid(), 'auditor-1', 'Granskare 1', 'auditor', NULL, 0, NULL),
    (gen_random_uuid(), gen_random_uuid(), 'administrator-1', 'Handläggare ekonomi 1', 'administrator', NULL, 0, NULL),
    (gen_random_uuid(), gen_random_uuid(), 'sysadmin-1', 'Systemförvaltare 1', 'system_admin', NULL, 0, NULL);

INSERT INTO users (id, username, display_name, profession, unit_id, active, password_hash,
                   password_changed_at, created_at, updated_at, version, last_audit_event_id)
SELECT id, username, display_name, profession, unit_id, true, :'password_hash',
       :'t0', :'t0', :'t0', 1, ev
FROM people;

INSERT INTO facility_staff (facility_id, user_id, last_audit_event_id)
SELECT facility_id, id, ev FROM people WHERE facility_id IS NOT NULL;

-- Capacity is set below, once the placements are known.
INSERT INTO facilities (id, kind, name, unit_id, address, capacity, agreed_places, active,
                        created_at, updated_at, version, last_audit_event_id)
SELECT id, kind,
       CASE kind WHEN 'hvb' THEN format('HVB-hem %s', j + 1) ELSE format('Stödboende %s', j + 1) END,
       unit_id, format('Exempelgatan %s, %s Exempelstad', j + 1, 10000 + j), 1000, 0, true,
       :'t0', :'t0', 1, ev
FROM f;

INSERT INTO service_accounts (id, client_id, name, secret_hash, scopes, active, created_at,
                              updated_at, version, last_audit_event_id)
VALUES (gen_random_uuid(), 'bench-placements', 'Placement register (bench)', :'password_hash',
        ARRAY['placements:read', 'children:read', 'capacity:read'], true, :'t0', :'t0', 1,
        gen_random_uuid());

-- Children ---------------------------------------------------------------------------------
CREATE TEMP TABLE c AS
WITH born AS (
    SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS ev, n / 30 AS sec_n,
           -- 14 years to about 20 years 9 months old today.
           (current_date - (14 * 365 + pg_temp.h(n, 1) % (6 * 365 + 270))::int) AS dob
    FROM generate_series(0, :children - 1) AS n
), window_ AS (
    -- Arrived in the last three years, at 13 or older and before 18.
    SELECT *, greatest((dob + interval '13 years')::date, current_date - 1095) AS lo,
              least(current_date - 1, birthday(dob, 18) - 1) AS hi
    FROM born
)
SELECT w.n, w.id, w.ev, w.dob, w.sec_n,
       w.lo + (pg_temp.h(w.n, 2) % (w.hi - w.lo + 1))::int AS arrival,
       s.id AS secretary_id, s.ev AS secretary_ev, s.unit_id, u.n AS unit_n,
       w.n % 100 = 50 AS waiting,
       w.n % 97 = 5 AS protected,
       pg_temp.h(w.n, 3) % 10 < 3 AS moves_on,
       pg_temp.h(w.n, 4) % 4 = 0 AS interpreter
FROM window_ w
JOIN people s ON s.profession = 'social_secretary' AND s.role_n = w.sec_n
JOIN u ON u.id = s.unit_id;
ALTER TABLE c ADD PRIMARY KEY (id);
ANALYZE c;
ANALYZE people;

INSERT INTO children (id, given_name, family_name, date_of_birth, date_of_birth_assessed, sex,
                      country_of_origin, languages, interpreter_needed, dossier_number,
                      personal_identity_number, asylum_status, arrival_date, assigned_on,
                      guardian_name, guardian_phone, guardian_appointed_on, guardian_ended_on,
                      guardian_special_follows, protection_level, responsible_unit_id,
                      created_at, updated_at, version, last_audit_event_id)
SELECT c.id,
       (ARRAY['Amir', 'Hamid', 'Sara', 'Yusuf', 'Ali', 'Maryam', 'Omid', 'Leila', 'Reza', 'Nadia',
              'Karim', 'Fatima', 'Samir', 'Hana', 'Bilal', 'Amina', 'Jamal', 'Zahra', 'Idris', 'Rahel'])
           [1 + c.n % 20],
       format('Testsson-%s', c.n + 1),
       c.dob, pg_temp.h(c.n, 5) % 3 = 0,
       CASE WHEN pg_temp.h(c.n, 6) % 4 = 0 THEN 'female' ELSE 'male' END,
       (ARRAY['Afghanistan', 'Syrien', 'Eritrea', 'Somalia', 'Irak', 'Marocko', 'Ukraina'])[1 + pg_temp.h(c.n, 7) % 7],
       string_to_array((ARRAY['dari,svenska', 'arabiska,svenska', 'tigrinja,svenska', 'somaliska,svenska',
                              'arabiska,kurdiska', 'arabiska,franska', 'ukrainska,ryska'])[1 + pg_temp.h(c.n, 7) % 7], ','),
       c.interpreter,
       (10000000 + c.n)::text,
       -- A personal identity number only where it is unique by construction.
       CASE WHEN c.n < 10000 AND pg_temp.h(c.n, 8) % 2 = 0
            THEN to_char(c.dob, 'YYYYMMDD') || '-' || lpad(c.n::text, 4, '0') END,
       (ARRAY['asylum_seeker', 'temporary_permit', 'temporary_permit', 'permanent_permit', 'rejected'])
           [1 + pg_temp.h(c.n, 9) % 5],
       c.arrival, c.arrival,
       format('God man %s', c.n + 1), '070-000 00 00',
       least(c.arrival + 7, birthday(c.dob, 18) - 1),
       CASE WHEN birthday(c.dob, 18) <= current_date THEN birthday(c.dob, 18) END,
       CASE WHEN birthday(c.dob, 18) <= current_date THEN false END,
       CASE WHEN c.protected THEN 'protected_registration' ELSE 'none' END,
       c.unit_id,
       (c.arrival + time '09:00') AT TIME ZONE 'Europe/Stockholm',
       (c.arrival + time '09:00') AT TIME ZONE 'Europe/Stockholm',
       1, c.ev
FROM c;

INSERT INTO child_secretaries (child_id, user_id, assigned_at, last_audit_event_id)
SELECT id, secretary_id, (arrival + time '09:00') AT TIME ZONE 'Europe/Stockholm', ev FROM c;

-- Placements -------------------------------------------------------------------------------
-- Every placed child starts in an HVB home of her unit on arrival. Those who move on go to the
-- unit's supported housing half a year later at the earliest, and not before 16 (with special
-- reasons before 18), while the rest stay: both run to the day before the 21st birthday.
CREATE TEMP TABLE p (
    id uuid PRIMARY KEY, child_n int NOT NULL, child_id uuid NOT NULL, facility_id uuid NOT NULL,
    start_date date NOT NULL, planned_end date NOT NULL, end_date date, special boolean NOT NULL,
    created_ev uuid NOT NULL, ev uuid NOT NULL, running boolean NOT NULL
);
CREATE TEMP TABLE moving AS
SELECT c.*, greatest(c.arrival + 180, birthday(c.dob, 16)) AS move_date
FROM c
WHERE NOT c.waiting;
ALTER TABLE moving ADD COLUMN moves boolean;
UPDATE moving SET moves = moves_on AND move_date <= current_date - 14;
ANALYZE moving;

INSERT INTO p
SELECT gen_random_uuid(), m.n, m.id, h.id, m.arrival, birthday(m.dob, 21) - 1,
       CASE WHEN m.moves THEN m.move_date - 1 END, false,
       m.created, CASE WHEN m.moves THEN gen_random_uuid() ELSE m.created END, NOT m.moves
FROM (SELECT *, gen_random_uuid() AS created FROM moving) AS m
JOIN homes h ON h.unit_n = m.unit_n AND h.kind = 'hvb' AND h.with_reserved = NOT m.moves
            AND h.r = pg_temp.h(m.n, 10) % h.k;

INSERT INTO p
SELECT gen_random_uuid(), m.n, m.id, h.id, m.move_date, birthday(m.dob, 21) - 1, NULL,
       m.move_date < birthday(m.dob, 18), m.created, m.created, true
FROM (SELECT *, gen_random_uuid() AS created FROM moving) AS m
JOIN homes h ON h.unit_n = m.unit_n AND h.kind = 'supported_housing' AND h.with_reserved
            AND h.r = pg_temp.h(m.n, 11) % h.k
WHERE m.moves;

INSERT INTO placements (id, child_id, facility_id, start_date, planned_end, end_date, end_reason,
                        legal_basis, decision_reference, special_reasons, deviation_reason,
                        cancelled_at, cancellation_reason, created_at, updated_at, version,
                        last_audit_event_id)
SELECT p.id, p.child_id, p.facility_id, p.start_date, p.planned_end, p.end_date,
       CASE WHEN p.end_date IS NOT NULL THEN 'moved' END,
       CASE WHEN p.start_date < date '2025-07-01' THEN 'SoL-4-1' ELSE 'SoL2025-insats' END,
       format('BESLUT-%s-%s', p.child_n + 1, p.start_date),
       CASE WHEN p.special THEN 'Bedömd redo för stödboende; särskilda skäl dokumenterade i utredningen.' END,
       NULL, NULL, NULL,
       (p.start_date + time '09:00') AT TIME ZONE 'Europe/Stockholm',
       (coalesce(p.end_date + 1, p.start_date) + time '09:00') AT TIME ZONE 'Europe/Stockholm',
       CASE WHEN p.end_date IS NULL THEN 1 ELSE 2 END, p.ev
FROM p;

ANALYZE p;

-- Capacity: the busiest day each home ever had or has booked, plus a margin, so no day is
-- overbooked; facility 0 gets exactly two free places, from today on.
WITH changes AS (
    SELECT facility_id, start_date AS day, 1 AS delta FROM p
    UNION ALL
    SELECT facility_id, coalesce(end_date, planned_end) + 1, -1 FROM p
), running AS (
    SELECT facility_id, sum(delta) OVER (PARTITION BY facility_id ORDER BY day, delta
                                         ROWS UNBOUNDED PRECEDING) AS held
    FROM changes
), busiest AS (
    SELECT facility_id, max(held) AS held FROM running GROUP BY facility_id
)
UPDATE facilities fa
SET capacity = least(1000, CASE WHEN f.j = 0 THEN coalesce(b.held, 0) + 2
                                ELSE coalesce(b.held, 0) + greatest(2, ceil(coalesce(b.held, 0) * 0.12)::int) END),
    agreed_places = least(1000, coalesce(b.held, 0))
FROM f LEFT JOIN busiest b ON b.facility_id = f.id
WHERE fa.id = f.id;

-- Contact schedules: as a placement starts them. The secretary's runs from arrival; the home
-- staff's followed the child to her present home (a move hands it on, as the service does).
CREATE TEMP TABLE sch AS
SELECT gen_random_uuid() AS id, c.n AS child_n, c.id AS child_id, 'secretary' AS responsible,
       c.secretary_id, NULL::uuid AS placement_id, c.arrival AS start_date, first.created_ev AS ev
FROM c JOIN p first ON first.child_id = c.id AND first.start_date = c.arrival
UNION ALL
SELECT gen_random_uuid(), c.n, c.id, 'facility_staff', NULL, now_.id, c.arrival, now_.ev
FROM c JOIN p now_ ON now_.child_id = c.id AND now_.running;

INSERT INTO contact_schedules (id, child_id, kind, responsible, secretary_id, placement_id,
                               recurrence, tolerance_days, private_conversation, start_date,
                               end_date, change_reason, created_at, updated_at, version,
                               last_audit_event_id)
SELECT id, child_id,
       CASE responsible WHEN 'secretary' THEN 'secretary_visit' ELSE 'staff_contact' END,
       responsible, secretary_id, placement_id,
       CASE responsible WHEN 'secretary' THEN '1 per quarter' ELSE 'every 7 days' END,
       CASE responsible WHEN 'secretary' THEN 14 ELSE 2 END,
       responsible = 'secretary', start_date, NULL, NULL,
       (start_date + time '09:00') AT TIME ZONE 'Europe/Stockholm',
       (start_date + time '09:00') AT TIME ZONE 'Europe/Stockholm',
       1, ev
FROM sch;
ANALYZE sch;

-- Visits: the home staff weekly, the secretary about every 91 days (one in twelve only an
-- attempt), from arrival to yesterday. Staff visits are made by the staff of the home the
-- child lived in that day.
CREATE TEMP TABLE staff_of AS
SELECT facility_id, role_n AS slot, id AS user_id, profession FROM people WHERE facility_id IS NOT NULL;
ANALYZE staff_of;

INSERT INTO visits (id, child_id, schedule_id, performed_by, occurred_at, mode, at_placement,
                    completed, not_completed_reason, spoke_alone, planned, interpreter_used,
                    notes, corrects_id, correction_reason, created_at, last_audit_event_id)
SELECT gen_random_uuid(), s.child_id, s.id, st.user_id, v.at, 'home_visit', true, true, NULL,
       false, true, false, NULL, NULL, NULL, v.at, gen_random_uuid()
FROM sch s
JOIN c ON c.id = s.child_id
CROSS JOIN LATERAL (
    SELECT k, ((c.arrival + k * 7 + (pg_temp.h(c.n * 1000 + k, 12) % 3)::int) + time '15:00')
               AT TIME ZONE 'Europe/Stockholm' AS at,
           c.arrival + k * 7 + (pg_temp.h(c.n * 1000 + k, 12) % 3)::int AS day
    FROM generate_series(0, (current_date - 1 - c.arrival) / 7) AS k
) AS v
JOIN p ON p.child_id = s.child_id AND p.start_date <= v.day
      AND v.day <= coalesce(p.end_date, p.planned_end)
JOIN staff_of st ON st.facility_id = p.facility_id AND st.slot = v.k % 2
WHERE s.responsible = 'facility_staff' AND v.day < current_date;

INSERT INTO visits (id, child_id, schedule_id, performed_by, occurred_at, mode, at_placement,
                    completed, not_completed_reason, spoke_alone, planned, interpreter_used,
                    notes, corrects_id, correction_reason, created_at, last_audit_event_id)
SELECT gen_random_uuid(), s.child_id, s.id, s.secretary_id, v.at, 'home_visit', true,
       v.completed, CASE WHEN NOT v.completed THEN 'Ungdomen var inte hemma vid besöket.' END,
       v.completed, true, c.interpreter, CASE WHEN v.completed THEN 'Uppföljning enligt plan.' END,
       NULL, NULL, v.at, gen_random_uuid()
FROM sch s
JOIN c ON c.id = s.child_id
CROSS JOIN LATERAL (
    SELECT ((c.arrival + 20 + k * 91 + (pg_temp.h(c.n * 1000 + k, 13) % 15)::int) + time '10:00')
               AT TIME ZONE 'Europe/Stockholm' AS at,
           c.arrival + 20 + k * 91 + (pg_temp.h(c.n * 1000 + k, 13) % 15)::int AS day,
           pg_temp.h(c.n * 1000 + k, 14) % 12 <> 0 AS completed
    FROM generate_series(0, (current_date - c.arrival) / 91) AS k
) AS v
WHERE s.responsible = 'secretary' AND v.day < current_date;

-- Decisions on running placements: reconsiderations every six months (one child in twenty is
-- behind with the latest), the care plan on start and every two years, and for those who turned
-- or soon turn 18 in care, the decision to continue and the notice to Migrationsverket.
CREATE TEMP TABLE rv AS
SELECT gen_random_uuid() AS id, p.id AS placement_id, p.child_n, 'reconsideration' AS kind,
       (p.start_date + make_interval(months => 6 * k))::date - (pg_temp.h(p.child_n * 100 + k, 15) % 10)::int AS decided_on,
       true AS continued_need
FROM p
CROSS JOIN LATERAL generate_series(1, 8) AS k
WHERE p.running
  AND (p.start_date + make_interval(months => 6 * k))::date
      <= current_date - CASE WHEN p.child_n % 20 = 7 THEN 200 ELSE 0 END
UNION ALL
SELECT gen_random_uuid(), p.id, p.child_n, 'care_plan',
       (p.start_date + make_interval(months => 24 * k))::date + 14, NULL
FROM p
CROSS JOIN LATERAL generate_series(0, 2) AS k
WHERE p.running AND (p.start_date + make_interval(months => 24 * k))::date + 14 <= current_date
UNION ALL
SELECT gen_random_uuid(), p.id, p.child_n, kinds.kind, birthday(c.dob, 18) - kinds.before,
       CASE kinds.kind WHEN 'continued_care_after_18' THEN true END
FROM p
JOIN c ON c.id = p.child_id
CROSS JOIN (VALUES ('continued_care_after_18', 30), ('migration_agency_notice', 40)) AS kinds(kind, before)
WHERE p.running AND p.start_date < birthday(c.dob, 18)
  AND birthday(c.dob, 18) - kinds.before <= current_date
  AND birthday(c.dob, 18) - kinds.before >= p.start_date;

INSERT INTO placement_reviews (id, placement_id, kind, decided_on, decision_reference,
                               continued_need, created_at, last_audit_event_id)
SELECT id, placement_id, kind, decided_on, format('BESLUT-%s-%s-%s', child_n + 1, kind, decided_on),
       continued_need, (decided_on + time '14:00') AT TIME ZONE 'Europe/Stockholm', gen_random_uuid()
FROM rv;

-- The audit log -----------------------------------------------------------------------------
-- An event for each row written above, as the service would have written it, and reads
-- (a secretary opening the child, a manager, the home's staff looking at the placement) to
-- fill the log up to `events`, spread over each child's time in care.
SELECT count(*) AS written FROM (
    SELECT 1 FROM units UNION ALL SELECT 1 FROM users UNION ALL SELECT 1 FROM facilities
    UNION ALL SELECT 1 FROM service_accounts UNION ALL SELECT 1 FROM children
    UNION ALL SELECT 1 FROM placements UNION ALL SELECT 1 FROM placements WHERE end_date IS NOT NULL
    UNION ALL SELECT 1 FROM visits UNION ALL SELECT 1 FROM placement_reviews) AS rows_ \gset
SELECT greatest(0, :events - :written) AS reads \gset

CREATE TEMP TABLE ev (
    id uuid, occurred_at timestamptz, actor_type text, actor_id uuid, actor_role text,
    actor_unit_id uuid, action text, entity_type text, entity_id uuid, child_id uuid,
    child_unit_id uuid, child_protected boolean, changed_fields text[]
);
INSERT INTO ev
SELECT last_audit_event_id, created_at, 'system', NULL, NULL, NULL, 'create', 'unit', id, NULL,
       NULL, false, '{name}'
FROM units;
INSERT INTO ev
SELECT last_audit_event_id, created_at, 'system', NULL, NULL, NULL, 'create', 'user', id, NULL,
       NULL, false, '{username,display_name,profession,unit_id}'
FROM users;
INSERT INTO ev
SELECT last_audit_event_id, created_at, 'system', NULL, NULL, NULL, 'create', 'facility', id,
       NULL, NULL, false, '{kind,name,unit_id,capacity}'
FROM facilities;
INSERT INTO ev
SELECT last_audit_event_id, created_at, 'system', NULL, NULL, NULL, 'create', 'service_account',
       id, NULL, NULL, false, '{client_id,name,scopes}'
FROM service_accounts;
INSERT INTO ev
SELECT c.ev, ch.created_at, 'user', c.secretary_id, 'social_secretary', c.unit_id, 'create',
       'child', c.id, c.id, c.unit_id, c.protected,
       '{given_name,family_name,date_of_birth,sex,asylum_status,responsible_unit_id}'
FROM c JOIN children ch ON ch.id = c.id;
INSERT INTO ev
SELECT p.created_ev, (p.start_date + time '09:00') AT TIME ZONE 'Europe/Stockholm', 'user',
       c.secretary_id, 'social_secretary', c.unit_id, 'create', 'placement', p.id, c.id,
       c.unit_id, c.protected, '{facility_id,start_date,planned_end,legal_basis,decision_reference}'
FROM p JOIN c ON c.id = p.child_id;
INSERT INTO ev
SELECT p.ev, (p.end_date + 1 + time '09:00') AT TIME ZONE 'Europe/Stockholm', 'user',
       c.secretary_id, 'social_secretary', c.unit_id, 'update', 'placement', p.id, c.id,
       c.unit_id, c.protected, '{end_date,end_reason}'
FROM p JOIN c ON c.id = p.child_id
WHERE p.end_date IS NOT NULL;
INSERT INTO ev
SELECT v.last_audit_event_id, v.created_at, 'user', v.performed_by, pe.profession, pe.unit_id,
       'create', 'visit', v.id, c.id, c.unit_id, c.protected, '{occurred_at,mode,completed}'
FROM visits v JOIN people pe ON pe.id = v.performed_by JOIN c ON c.id = v.child_id;
INSERT INTO ev
SELECT r.last_audit_event_id, r.created_at, 'user', c.secretary_id, 'social_secretary', c.unit_id,
       'create', 'placement', r.placement_id, c.id, c.unit_id, c.protected, '{kind,decided_on}'
FROM placement_reviews r JOIN p ON p.id = r.placement_id JOIN c ON c.id = p.child_id;

INSERT INTO ev
SELECT gen_random_uuid(),
       ((c.arrival + time '08:00') AT TIME ZONE 'Europe/Stockholm')
           + make_interval(secs => pg_temp.h(g, 17) % greatest(1, extract(epoch FROM
                 now() - ((c.arrival + time '08:00') AT TIME ZONE 'Europe/Stockholm'))::bigint)),
       'user', actor.id, actor.profession, actor.unit_id, 'read', actor.entity_type, actor.entity_id,
       c.id, c.unit_id, c.protected, '{}'
FROM generate_series(1, :reads) AS g
JOIN c ON c.n = pg_temp.h(g, 16) % :children
LEFT JOIN p ON p.child_id = c.id AND p.running
LEFT JOIN staff_of st ON st.facility_id = p.facility_id AND st.slot = 0
LEFT JOIN people m ON m.profession = 'unit_manager' AND m.unit_id = c.unit_id
CROSS JOIN LATERAL (
    SELECT * FROM (VALUES
        (0, c.secretary_id, 'social_secretary', c.unit_id, 'child', c.id),
        (1, st.user_id, st.profession, c.unit_id, 'placement', p.id),
        (2, m.id, 'unit_manager', c.unit_id, 'child', c.id)
    ) AS a(kind, id, profession, unit_id, entity_type, entity_id)
    WHERE a.kind = CASE WHEN g % 10 < 7 OR p.id IS NULL THEN 0 WHEN g % 10 < 9 THEN 1 ELSE 2 END
) AS actor;

-- In time order, as the sequencer would have sealed them. The hashes link each position to
-- the one before, but are not computed from the events' content: the seeded history is not a
-- chain that verifies. What counts here is that the sequencer carries on from its end.
INSERT INTO audit_events (seq, id, occurred_at, actor_type, actor_id, actor_role, actor_unit_id,
                          action, outcome, entity_type, entity_id, child_id, request_id,
                          client_addr, purpose, changed_fields, content_digest, details_removed,
                          child_unit_id, child_protected)
SELECT row_number() OVER (ORDER BY occurred_at, id), id, occurred_at, actor_type, actor_id,
       actor_role, actor_unit_id, action, 'success', entity_type, entity_id, child_id, NULL, NULL,
       NULL, changed_fields, sha256(uuid_send(id)), false, child_unit_id, child_protected
FROM ev;

INSERT INTO audit_chain (position, event_seq, prev_hash, hash, queued_at, sealed_at)
SELECT seq, seq,
       CASE WHEN seq = 1 THEN decode(repeat('00', 32), 'hex') ELSE sha256(int8send(seq - 1)) END,
       sha256(int8send(seq)), occurred_at, occurred_at
FROM audit_events;

SELECT setval('audit_events_seq_seq', (SELECT max(seq) FROM audit_events), true);

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT def FROM saved_indexes LOOP
        EXECUTE r.def;
    END LOOP;
END
$$;

COMMIT;
