-- Facilities, children and their placements: who lives where, and how many places are left.

-- Rules that change with the law (ages, intervals). The service writes the rows from its rules
-- file at start, so the database enforces exactly what the service enforces.
CREATE TABLE rule_sets (
    valid_from                    date PRIMARY KEY,
    supported_housing_min_age     integer NOT NULL CHECK (supported_housing_min_age BETWEEN 0 AND 21),
    special_reasons_below_age     integer NOT NULL CHECK (special_reasons_below_age BETWEEN 0 AND 21),
    placement_end_age             integer NOT NULL CHECK (placement_end_age BETWEEN 1 AND 30),
    document                      jsonb NOT NULL
);
GRANT DELETE ON rule_sets TO trygg_app;

CREATE FUNCTION rules_on(day date) RETURNS rule_sets
LANGUAGE sql STABLE AS $$
    SELECT * FROM rule_sets WHERE valid_from <= day ORDER BY valid_from DESC LIMIT 1
$$;

CREATE TABLE facilities (
    id                  uuid PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('hvb', 'supported_housing')),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit_id             uuid NOT NULL REFERENCES units (id),
    address             text CHECK (length(address) <= 500),
    capacity            integer NOT NULL CHECK (capacity BETWEEN 0 AND 1000),
    agreed_places       integer NOT NULL DEFAULT 0 CHECK (agreed_places BETWEEN 0 AND 1000),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE CONSTRAINT TRIGGER facilities_require_audit_event
    AFTER INSERT OR UPDATE ON facilities DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- Staff who work at a facility (HVB staff, supported-housing staff).
CREATE TABLE facility_staff (
    facility_id uuid NOT NULL REFERENCES facilities (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (facility_id, user_id)
);
GRANT DELETE ON facility_staff TO trygg_app;

CREATE TABLE children (
    id                          uuid PRIMARY KEY,
    given_name                  text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
    family_name                 text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    date_of_birth               date NOT NULL,
    date_of_birth_assessed      boolean NOT NULL DEFAULT false,
    sex                         text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    country_of_origin           text CHECK (length(country_of_origin) <= 100),
    languages                   text[] NOT NULL DEFAULT '{}',
    interpreter_needed          boolean NOT NULL DEFAULT false,
    dossier_number              text UNIQUE CHECK (dossier_number ~ '^[0-9]{4,10}$'),
    personal_identity_number    text UNIQUE CHECK (personal_identity_number ~ '^[0-9]{8}-[0-9]{4}$'),
    asylum_status               text NOT NULL CHECK (asylum_status IN (
                                    'asylum_seeker', 'temporary_permit', 'permanent_permit',
                                    'rejected', 'citizen')),
    arrival_date                date,
    assigned_on                 date,
    guardian_name               text CHECK (length(guardian_name) <= 200),
    guardian_phone              text CHECK (length(guardian_phone) <= 50),
    guardian_appointed_on       date,
    protection_level            text NOT NULL DEFAULT 'none' CHECK (protection_level IN (
                                    'none', 'confidentiality_marking', 'protected_registration',
                                    'fictitious_identity')),
    responsible_unit_id         uuid NOT NULL REFERENCES units (id),
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    version                     integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id         uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (arrival_date IS NULL OR arrival_date >= date_of_birth),
    CHECK (assigned_on IS NULL OR assigned_on >= date_of_birth)
);
CREATE INDEX children_name_idx ON children (lower(family_name), lower(given_name), date_of_birth);
CREATE INDEX children_unit_idx ON children (responsible_unit_id);
CREATE CONSTRAINT TRIGGER children_require_audit_event
    AFTER INSERT OR UPDATE ON children DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- The social secretaries a child's case is assigned to.
CREATE TABLE child_secretaries (
    child_id    uuid NOT NULL REFERENCES children (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (child_id, user_id)
);
CREATE INDEX child_secretaries_user_idx ON child_secretaries (user_id);
GRANT DELETE ON child_secretaries TO trygg_app;

CREATE TABLE placements (
    id                  uuid PRIMARY KEY,
    child_id            uuid NOT NULL REFERENCES children (id),
    facility_id         uuid NOT NULL REFERENCES facilities (id),
    start_date          date NOT NULL,
    planned_end         date NOT NULL,
    -- The last day of the placement (inclusive), once it has ended.
    end_date            date,
    end_reason          text CHECK (end_reason IN (
                            'moved', 'returned_home', 'own_housing', 'age_limit', 'moved_away',
                            'other')),
    legal_basis         text NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 100),
    decision_reference  text NOT NULL CHECK (length(decision_reference) BETWEEN 1 AND 100),
    special_reasons     text CHECK (length(special_reasons) BETWEEN 1 AND 2000),
    deviation_reason    text CHECK (length(deviation_reason) BETWEEN 1 AND 2000),
    cancelled_at        timestamptz,
    cancellation_reason text CHECK (length(cancellation_reason) BETWEEN 1 AND 2000),
    -- The days the placement holds a place: to its end, or to its planned end while it runs.
    period              daterange GENERATED ALWAYS AS
                            (daterange(start_date, COALESCE(end_date, planned_end), '[]')) STORED,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (planned_end >= start_date),
    CHECK (end_date IS NULL OR end_date >= start_date),
    CHECK ((end_date IS NULL) = (end_reason IS NULL)),
    CHECK ((cancelled_at IS NULL) = (cancellation_reason IS NULL)),
    -- A child lives in at most one place on any day.
    CONSTRAINT placements_one_per_child_per_day
        EXCLUDE USING gist (child_id WITH =, period WITH &&) WHERE (cancelled_at IS NULL)
);
CREATE INDEX placements_facility_idx ON placements USING gist (facility_id, period)
    WHERE cancelled_at IS NULL;
CREATE CONSTRAINT TRIGGER placements_require_audit_event
    AFTER INSERT OR UPDATE ON placements DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- Capacity and age rules, checked as each placement row is written. The facility row is locked
-- first, so concurrent placements into one facility are counted one after the other.
CREATE FUNCTION check_placement() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    fac facilities;
    kid children;
    rules rule_sets;
    busiest integer;
BEGIN
    IF NEW.cancelled_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO fac FROM facilities WHERE id = NEW.facility_id FOR UPDATE;
    SELECT * INTO kid FROM children WHERE id = NEW.child_id;
    rules := rules_on(NEW.start_date);
    IF rules IS NULL THEN
        RAISE EXCEPTION 'no rules in force on %', NEW.start_date USING ERRCODE = 'check_violation';
    END IF;
    IF upper(NEW.period) - 1 >= (kid.date_of_birth + make_interval(years => rules.placement_end_age))::date THEN
        RAISE EXCEPTION 'placement_age_limit: a placement ends no later than the day before the % birthday', rules.placement_end_age
            USING ERRCODE = 'check_violation';
    END IF;
    IF fac.kind = 'supported_housing' AND TG_OP = 'INSERT' THEN
        IF NEW.start_date < (kid.date_of_birth + make_interval(years => rules.supported_housing_min_age))::date THEN
            RAISE EXCEPTION 'supported_housing_age: too young for supported housing'
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.start_date < (kid.date_of_birth + make_interval(years => rules.special_reasons_below_age))::date
           AND NEW.special_reasons IS NULL THEN
            RAISE EXCEPTION 'special_reasons_required: supported housing before % needs special reasons', rules.special_reasons_below_age
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    SELECT max(n) INTO busiest FROM (
        SELECT count(*) AS n
        FROM generate_series(lower(NEW.period), upper(NEW.period) - 1, interval '1 day') AS d(day)
        JOIN placements p
          ON p.facility_id = NEW.facility_id AND p.cancelled_at IS NULL AND p.period @> d.day::date
        GROUP BY d.day
    ) AS per_day;
    IF busiest > fac.capacity THEN
        RAISE EXCEPTION 'capacity_exceeded: facility % would hold % children on a day; capacity is %', fac.id, busiest, fac.capacity
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER placements_check
    AFTER INSERT OR UPDATE ON placements
    FOR EACH ROW EXECUTE FUNCTION check_placement();

-- Placement documents are kept forever: no deletes, ever.
CREATE FUNCTION placements_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'placements are never deleted; cancel with a reason instead'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER placements_no_delete
    BEFORE DELETE ON placements FOR EACH ROW EXECUTE FUNCTION placements_are_kept();
CREATE TRIGGER placements_no_truncate
    BEFORE TRUNCATE ON placements FOR EACH STATEMENT EXECUTE FUNCTION placements_are_kept();

-- Decisions about a running placement: reconsideration of continued need (every 6 months) and
-- revision of the care plan (every 2 years).
CREATE TABLE placement_reviews (
    id                  uuid PRIMARY KEY,
    placement_id        uuid NOT NULL REFERENCES placements (id),
    kind                text NOT NULL CHECK (kind IN ('reconsideration', 'care_plan')),
    decided_on          date NOT NULL,
    decision_reference  text NOT NULL CHECK (length(decision_reference) BETWEEN 1 AND 100),
    continued_need      boolean,
    created_at          timestamptz NOT NULL,
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX placement_reviews_placement_idx ON placement_reviews (placement_id, kind, decided_on);
CREATE CONSTRAINT TRIGGER placement_reviews_require_audit_event
    AFTER INSERT OR UPDATE ON placement_reviews DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- Time-limited access outside one's reach ("break the glass"), with the reason given.
CREATE TABLE emergency_accesses (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    child_id            uuid NOT NULL REFERENCES children (id),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 10 AND 2000),
    granted_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (expires_at > granted_at)
);
CREATE INDEX emergency_accesses_lookup_idx ON emergency_accesses (user_id, child_id, expires_at);
CREATE CONSTRAINT TRIGGER emergency_accesses_require_audit_event
    AFTER INSERT OR UPDATE ON emergency_accesses DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();
