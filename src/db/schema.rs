//! Diesel table definitions, kept in step with `migrations/` (written by hand: the service
//! builds without the diesel CLI).

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor_type -> Text,
        actor_id -> Nullable<Uuid>,
        actor_role -> Nullable<Text>,
        actor_unit_id -> Nullable<Uuid>,
        action -> Text,
        outcome -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Uuid>,
        child_id -> Nullable<Uuid>,
        request_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        purpose -> Nullable<Text>,
        changed_fields -> Array<Text>,
        txid -> BigInt,
        content_digest -> Bytea,
        details_removed -> Bool,
        child_unit_id -> Nullable<Uuid>,
        child_protected -> Bool,
    }
}

diesel::table! {
    audit_chain (position) {
        position -> BigInt,
        event_seq -> BigInt,
        prev_hash -> Bytea,
        hash -> Bytea,
        queued_at -> Timestamptz,
        sealed_at -> Timestamptz,
    }
}

diesel::table! {
    audit_queue (event_seq) {
        event_seq -> BigInt,
        queued_at -> Timestamptz,
    }
}

diesel::joinable!(audit_chain -> audit_events (event_seq));

diesel::table! {
    units (id) {
        id -> Uuid,
        name -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        display_name -> Text,
        profession -> Text,
        unit_id -> Nullable<Uuid>,
        active -> Bool,
        password_hash -> Text,
        password_changed_at -> Timestamptz,
        totp_secret -> Nullable<Text>,
        totp_confirmed_at -> Nullable<Timestamptz>,
        totp_last_step -> Nullable<BigInt>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> Uuid,
        code_hash -> Text,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    service_accounts (id) {
        id -> Uuid,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Array<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
        unit_ids -> Nullable<Array<Uuid>>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        service_account_id -> Nullable<Uuid>,
        stage -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        scopes -> Nullable<Array<Text>>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Uuid,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        last_failure_at -> Nullable<Timestamptz>,
        locked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    rule_sets (valid_from) {
        valid_from -> Date,
        supported_housing_min_age -> Integer,
        special_reasons_below_age -> Integer,
        placement_end_age -> Integer,
        document -> Jsonb,
    }
}

diesel::table! {
    facilities (id) {
        id -> Uuid,
        kind -> Text,
        name -> Text,
        unit_id -> Uuid,
        address -> Nullable<Text>,
        capacity -> Integer,
        agreed_places -> Integer,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    facility_staff (facility_id, user_id) {
        facility_id -> Uuid,
        user_id -> Uuid,
        last_audit_event_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    children (id) {
        id -> Uuid,
        given_name -> Text,
        family_name -> Text,
        date_of_birth -> Date,
        date_of_birth_assessed -> Bool,
        sex -> Text,
        country_of_origin -> Nullable<Text>,
        languages -> Array<Text>,
        interpreter_needed -> Bool,
        dossier_number -> Nullable<Text>,
        personal_identity_number -> Nullable<Text>,
        asylum_status -> Text,
        arrival_date -> Nullable<Date>,
        assigned_on -> Nullable<Date>,
        guardian_name -> Nullable<Text>,
        guardian_phone -> Nullable<Text>,
        guardian_appointed_on -> Nullable<Date>,
        protection_level -> Text,
        responsible_unit_id -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
        guardian_ended_on -> Nullable<Date>,
        guardian_special_follows -> Nullable<Bool>,
    }
}

diesel::table! {
    child_secretaries (child_id, user_id) {
        child_id -> Uuid,
        user_id -> Uuid,
        assigned_at -> Timestamptz,
        last_audit_event_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    placements (id) {
        id -> Uuid,
        child_id -> Uuid,
        facility_id -> Uuid,
        start_date -> Date,
        planned_end -> Date,
        end_date -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        legal_basis -> Text,
        decision_reference -> Text,
        special_reasons -> Nullable<Text>,
        deviation_reason -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamptz>,
        cancellation_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    placement_reviews (id) {
        id -> Uuid,
        placement_id -> Uuid,
        kind -> Text,
        decided_on -> Date,
        decision_reference -> Text,
        continued_need -> Nullable<Bool>,
        created_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    emergency_accesses (id) {
        id -> Uuid,
        user_id -> Uuid,
        child_id -> Uuid,
        reason -> Text,
        granted_at -> Timestamptz,
        expires_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    contact_schedules (id) {
        id -> Uuid,
        child_id -> Uuid,
        kind -> Text,
        responsible -> Text,
        secretary_id -> Nullable<Uuid>,
        placement_id -> Nullable<Uuid>,
        recurrence -> Text,
        tolerance_days -> Int4,
        private_conversation -> Bool,
        start_date -> Date,
        end_date -> Nullable<Date>,
        change_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    visits (id) {
        id -> Uuid,
        child_id -> Uuid,
        schedule_id -> Nullable<Uuid>,
        performed_by -> Uuid,
        occurred_at -> Timestamptz,
        mode -> Text,
        at_placement -> Bool,
        completed -> Bool,
        not_completed_reason -> Nullable<Text>,
        spoke_alone -> Bool,
        planned -> Bool,
        interpreter_used -> Bool,
        notes -> Nullable<Text>,
        corrects_id -> Nullable<Uuid>,
        correction_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    protection_changes (id) {
        id -> Uuid,
        child_id -> Uuid,
        from_level -> Text,
        to_level -> Text,
        reason -> Text,
        decision_reference -> Text,
        decided_by -> Uuid,
        created_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    age_assessments (id) {
        id -> Uuid,
        child_id -> Uuid,
        from_date_of_birth -> Date,
        to_date_of_birth -> Date,
        from_assessed -> Bool,
        to_assessed -> Bool,
        reason -> Text,
        decision_reference -> Text,
        decided_by -> Uuid,
        created_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::joinable!(facilities -> units (unit_id));
diesel::joinable!(facility_staff -> facilities (facility_id));
diesel::joinable!(facility_staff -> users (user_id));
diesel::joinable!(children -> units (responsible_unit_id));
diesel::joinable!(child_secretaries -> children (child_id));
diesel::joinable!(child_secretaries -> users (user_id));
diesel::joinable!(placements -> children (child_id));
diesel::joinable!(placements -> facilities (facility_id));
diesel::joinable!(placement_reviews -> placements (placement_id));
diesel::joinable!(emergency_accesses -> children (child_id));
diesel::joinable!(emergency_accesses -> users (user_id));
diesel::joinable!(protection_changes -> children (child_id));
diesel::joinable!(age_assessments -> children (child_id));
diesel::joinable!(contact_schedules -> children (child_id));
diesel::joinable!(contact_schedules -> placements (placement_id));
diesel::joinable!(visits -> children (child_id));
diesel::joinable!(visits -> contact_schedules (schedule_id));

diesel::table! {
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        headers -> Nullable<Jsonb>,
        body -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(users -> units (unit_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> service_accounts (service_account_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(recovery_codes -> users (user_id));

diesel::table! {
    calendar_feeds (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        last_audit_event_id -> Uuid,
    }
}

diesel::joinable!(calendar_feeds -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    audit_chain,
    audit_queue,
    units,
    users,
    recovery_codes,
    service_accounts,
    sessions,
    refresh_tokens,
    login_throttle,
    rule_sets,
    facilities,
    facility_staff,
    children,
    child_secretaries,
    placements,
    placement_reviews,
    emergency_accesses,
    protection_changes,
    age_assessments,
    contact_schedules,
    visits,
    calendar_feeds,
    age_out_plans,
    age_out_plan_versions,
    age_out_goals,
    age_out_goal_versions,
    age_out_progress_notes,
    age_out_reviews,
    webhook_subscriptions,
    webhook_progress,
    webhook_deliveries,
    webhook_attempts,
);

diesel::table! {
    webhook_subscriptions (id) {
        id -> Uuid,
        service_account_id -> Uuid,
        url -> Text,
        entity_types -> Array<Text>,
        secret_sealed -> Text,
        previous_secret_sealed -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamptz>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    webhook_progress (subscription_id) {
        subscription_id -> Uuid,
        position -> BigInt,
        failed_in_a_row -> Integer,
        disabled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        subscription_id -> Uuid,
        position -> BigInt,
        body -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Uuid,
        attempt -> Integer,
        started_at -> Timestamptz,
        duration_ms -> Integer,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_subscriptions -> service_accounts (service_account_id));
diesel::joinable!(webhook_progress -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::table! {
    age_out_plans (id) {
        id -> Uuid,
        child_id -> Uuid,
        opened_on -> Date,
        opened_by -> Uuid,
        education_kind -> Nullable<Text>,
        education_applied_on -> Nullable<Date>,
        education_started_on -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    age_out_plan_versions (id) {
        id -> Uuid,
        plan_id -> Uuid,
        child_id -> Uuid,
        version -> Integer,
        opened_on -> Date,
        education_kind -> Nullable<Text>,
        education_applied_on -> Nullable<Date>,
        education_started_on -> Nullable<Date>,
        changed_by -> Uuid,
        changed_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    age_out_goals (id) {
        id -> Uuid,
        plan_id -> Uuid,
        child_id -> Uuid,
        domain -> Text,
        description -> Text,
        target_date -> Date,
        responsible -> Text,
        responsible_other -> Nullable<Text>,
        status -> Text,
        dropped_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    age_out_goal_versions (id) {
        id -> Uuid,
        goal_id -> Uuid,
        child_id -> Uuid,
        version -> Integer,
        domain -> Text,
        description -> Text,
        target_date -> Date,
        responsible -> Text,
        responsible_other -> Nullable<Text>,
        status -> Text,
        dropped_reason -> Nullable<Text>,
        changed_by -> Uuid,
        changed_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    age_out_progress_notes (id) {
        id -> Uuid,
        goal_id -> Uuid,
        child_id -> Uuid,
        noted_on -> Date,
        note -> Text,
        written_by -> Uuid,
        created_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    age_out_reviews (id) {
        id -> Uuid,
        plan_id -> Uuid,
        child_id -> Uuid,
        held_on -> Date,
        participants -> Array<Text>,
        youth_view -> Text,
        goal_statuses -> Jsonb,
        recorded_by -> Uuid,
        created_at -> Timestamptz,
        last_audit_event_id -> Uuid,
    }
}

diesel::joinable!(age_out_goals -> age_out_plans (plan_id));
diesel::joinable!(age_out_plan_versions -> age_out_plans (plan_id));
diesel::joinable!(age_out_goal_versions -> age_out_goals (goal_id));
diesel::joinable!(age_out_progress_notes -> age_out_goals (goal_id));
diesel::joinable!(age_out_reviews -> age_out_plans (plan_id));

diesel::table! {
    reimbursement_claims (id) {
        id -> Uuid,
        quarter_start -> Date,
        supplements -> Nullable<Uuid>,
        status -> Text,
        deadline -> Date,
        note -> Nullable<Text>,
        total_ore -> Int8,
        lines_version -> Integer,
        submitted_on -> Nullable<Date>,
        decided_on -> Nullable<Date>,
        decision_reference -> Nullable<Text>,
        paid_ore -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Integer,
        last_audit_event_id -> Uuid,
    }
}

diesel::table! {
    reimbursement_claim_lines (id) {
        id -> Uuid,
        claim_id -> Uuid,
        claim_version -> Integer,
        child_id -> Uuid,
        dossier_number -> Nullable<Text>,
        placement_id -> Nullable<Uuid>,
        category -> Text,
        first_day -> Date,
        last_day -> Date,
        days -> Integer,
        rate_ore -> Int8,
        actual_cost_ore -> Nullable<Int8>,
        amount_ore -> Int8,
        rules_from -> Date,
    }
}

diesel::table! {
    reimbursement_actual_costs (claim_id, claim_version, placement_id) {
        claim_id -> Uuid,
        claim_version -> Integer,
        placement_id -> Uuid,
        amount_ore -> Int8,
    }
}

diesel::joinable!(reimbursement_claim_lines -> reimbursement_claims (claim_id));
diesel::joinable!(reimbursement_claim_lines -> children (child_id));
diesel::joinable!(reimbursement_actual_costs -> reimbursement_claims (claim_id));
diesel::allow_tables_to_appear_in_same_query!(
    reimbursement_claims,
    reimbursement_claim_lines,
    reimbursement_actual_costs,
    children,
);
diesel::allow_tables_to_appear_in_same_query!(reimbursement_claim_lines, placements);
