-- Context an auditor reviews by: the child's responsible unit and whether the child had a
-- protected identity, both as they were when the event happened (the log must not change when
-- the child later moves to another unit or loses the marking). With them an auditor can list
-- accesses outside the actor's own unit and every access to a protected identity.
-- Existing events get NULL / false, which is also what their hashed content said.

ALTER TABLE audit_events
    ADD COLUMN child_unit_id uuid,
    ADD COLUMN child_protected boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT audit_events_child_context_needs_child
        CHECK (child_id IS NOT NULL OR (child_unit_id IS NULL AND NOT child_protected));

-- The review views: by the actor's unit, accesses to protected identities, accesses outside
-- the actor's unit, emergency accesses (the action index already serves those).
CREATE INDEX audit_events_actor_unit_idx ON audit_events (actor_unit_id, seq)
    WHERE actor_unit_id IS NOT NULL;
CREATE INDEX audit_events_protected_idx ON audit_events (seq) WHERE child_protected;
CREATE INDEX audit_events_outside_unit_idx ON audit_events (seq)
    WHERE child_unit_id IS NOT NULL AND child_unit_id IS DISTINCT FROM actor_unit_id;
