-- State reimbursement claims (återsökning, ordinance 2017:193): per quarter, what the
-- municipality claims from Migrationsverket, line by line, each line a run of placement days
-- (or a one-off amount) of one child. A claim is worked on as a draft, whose lines are derived
-- again from the placements whenever it changes; once submitted it is frozen, and a correction
-- is a supplementary claim of its own, never an edit.

CREATE TABLE reimbursement_claims (
    id                   uuid PRIMARY KEY,
    -- The quarter's first day (1 January, April, July or October).
    quarter_start        date NOT NULL CHECK (
        extract(day FROM quarter_start) = 1 AND extract(month FROM quarter_start) IN (1, 4, 7, 10)
    ),
    -- A supplementary claim names the claim of the same quarter it adds to.
    supplements          uuid REFERENCES reimbursement_claims (id),
    status               text NOT NULL DEFAULT 'draft'
                         CHECK (status IN ('draft', 'submitted', 'paid', 'rejected')),
    -- The last day Migrationsverket takes the quarter's claims (by the rules, 6 months after).
    deadline             date NOT NULL CHECK (deadline > quarter_start),
    note                 text CHECK (length(note) <= 2000),
    total_ore            bigint NOT NULL DEFAULT 0,
    -- The version whose lines and costs are the claim's (the draft's last derivation).
    lines_version        integer NOT NULL DEFAULT 1 CHECK (lines_version > 0),
    submitted_on         date,
    decided_on           date,
    decision_reference   text CHECK (length(decision_reference) BETWEEN 1 AND 100),
    paid_ore             bigint CHECK (paid_ore >= 0),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((status = 'draft') = (submitted_on IS NULL)),
    CHECK ((status IN ('paid', 'rejected')) = (decided_on IS NOT NULL AND decision_reference IS NOT NULL)),
    CHECK ((status = 'paid') = (paid_ore IS NOT NULL)),
    CHECK (submitted_on IS NULL OR decided_on IS NULL OR decided_on >= submitted_on),
    CHECK (supplements IS DISTINCT FROM id)
);
-- One original claim per quarter, and one draft at a time per quarter.
CREATE UNIQUE INDEX reimbursement_claims_one_original
    ON reimbursement_claims (quarter_start) WHERE supplements IS NULL;
CREATE UNIQUE INDEX reimbursement_claims_one_draft
    ON reimbursement_claims (quarter_start) WHERE status = 'draft';
CREATE INDEX reimbursement_claims_by_quarter ON reimbursement_claims (quarter_start DESC, id);
CREATE CONSTRAINT TRIGGER reimbursement_claims_require_audit_event
    AFTER INSERT OR UPDATE ON reimbursement_claims DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- A supplementary claim adds to a submitted claim of its own quarter.
CREATE FUNCTION reimbursement_claim_supplements_its_quarter() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.supplements IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM reimbursement_claims c
        WHERE c.id = NEW.supplements AND c.quarter_start = NEW.quarter_start
          AND c.status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'a supplementary claim adds to a submitted claim of its quarter'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'reimbursement_claims_supplements_submitted';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reimbursement_claims_supplement_checked
    BEFORE INSERT ON reimbursement_claims
    FOR EACH ROW EXECUTE FUNCTION reimbursement_claim_supplements_its_quarter();

-- Frozen once submitted: from then on only the decision may be recorded (submitted → paid or
-- rejected, once), and nothing else of the claim changes. A claim is never deleted.
CREATE FUNCTION reimbursement_claim_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a reimbursement claim is never deleted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reimbursement_claims_frozen';
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF OLD.status <> 'submitted' OR NEW.status NOT IN ('paid', 'rejected')
       OR NEW.quarter_start IS DISTINCT FROM OLD.quarter_start
       OR NEW.supplements IS DISTINCT FROM OLD.supplements
       OR NEW.deadline IS DISTINCT FROM OLD.deadline
       OR NEW.note IS DISTINCT FROM OLD.note
       OR NEW.total_ore IS DISTINCT FROM OLD.total_ore
       OR NEW.lines_version IS DISTINCT FROM OLD.lines_version
       OR NEW.submitted_on IS DISTINCT FROM OLD.submitted_on
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'a submitted reimbursement claim is frozen'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reimbursement_claims_frozen';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reimbursement_claims_are_frozen
    BEFORE UPDATE OR DELETE ON reimbursement_claims
    FOR EACH ROW EXECUTE FUNCTION reimbursement_claim_frozen();

-- A line: `days` placement days of one child from `first_day` to `last_day` in one category at
-- `rate_ore` a day, or a one-off amount (`assignment`: no placement, no days). A supplementary
-- claim's line that withdraws what an earlier claim claimed has negative days and amount.
-- A draft derived again writes its lines anew under its next version; the lines of a claim are
-- those of its `lines_version`, and those of earlier versions stay as the draft's history
-- (nothing is deleted or changed).
CREATE TABLE reimbursement_claim_lines (
    id               uuid PRIMARY KEY,
    claim_id         uuid NOT NULL REFERENCES reimbursement_claims (id),
    claim_version    integer NOT NULL CHECK (claim_version > 0),
    child_id         uuid NOT NULL REFERENCES children (id),
    -- Migrationsverket's case number of the child as it was when the line was derived: a
    -- submitted claim shows what was sent, whatever is corrected or removed from her record
    -- later (the claim is a financial record and kept, like the placements it rests on).
    dossier_number   text,
    placement_id     uuid REFERENCES placements (id),
    category         text NOT NULL CHECK (category IN
                         ('asylum_seeker_day', 'continued_care_day', 'assignment', 'lvu_care')),
    first_day        date NOT NULL,
    last_day         date NOT NULL CHECK (last_day >= first_day),
    days             integer NOT NULL,
    rate_ore         bigint NOT NULL CHECK (rate_ore >= 0),
    -- LVU-level care: the actual cost the administrator stated for these days.
    actual_cost_ore  bigint CHECK (actual_cost_ore >= 0),
    amount_ore       bigint NOT NULL,
    -- The rule set whose amounts apply (its valid_from).
    rules_from       date NOT NULL,
    CHECK ((category = 'assignment') = (placement_id IS NULL)),
    CHECK (category = 'lvu_care' OR actual_cost_ore IS NULL)
);
CREATE INDEX reimbursement_claim_lines_of_claim
    ON reimbursement_claim_lines (claim_id, claim_version, child_id, first_day, category);

-- The actual costs of LVU-level care the administrator states on a draft, per placement and
-- version of the draft, kept like its lines.
CREATE TABLE reimbursement_actual_costs (
    claim_id       uuid NOT NULL REFERENCES reimbursement_claims (id),
    claim_version  integer NOT NULL CHECK (claim_version > 0),
    placement_id   uuid NOT NULL REFERENCES placements (id),
    amount_ore     bigint NOT NULL CHECK (amount_ore >= 0),
    PRIMARY KEY (claim_id, claim_version, placement_id)
);

-- Lines and costs are written only to a draft, never changed or deleted (the service has no
-- DELETE on them either).
CREATE FUNCTION reimbursement_line_of_draft() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' OR NOT EXISTS (
        SELECT 1 FROM reimbursement_claims c WHERE c.id = NEW.claim_id AND c.status = 'draft'
    ) THEN
        RAISE EXCEPTION 'a submitted reimbursement claim is frozen'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reimbursement_claims_frozen';
    END IF;
    RETURN NEW;
END
$$;
-- A line or a stated cost is written with its claim's own audit event: in the transaction that
-- wrote the claim with that event (its creation or the change that derived it again).
CREATE FUNCTION reimbursement_line_audited() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM reimbursement_claims c
        JOIN audit_events e ON e.id = c.last_audit_event_id
        WHERE c.id = NEW.claim_id AND e.txid = txid_current()
    ) THEN
        RAISE EXCEPTION 'write to % without an audit event in the same transaction', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER reimbursement_claim_lines_require_audit_event
    AFTER INSERT ON reimbursement_claim_lines DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION reimbursement_line_audited();
CREATE CONSTRAINT TRIGGER reimbursement_actual_costs_require_audit_event
    AFTER INSERT ON reimbursement_actual_costs DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION reimbursement_line_audited();

CREATE TRIGGER reimbursement_claim_lines_of_draft
    BEFORE INSERT OR UPDATE OR DELETE ON reimbursement_claim_lines
    FOR EACH ROW EXECUTE FUNCTION reimbursement_line_of_draft();
CREATE TRIGGER reimbursement_actual_costs_of_draft
    BEFORE INSERT OR UPDATE OR DELETE ON reimbursement_actual_costs
    FOR EACH ROW EXECUTE FUNCTION reimbursement_line_of_draft();
