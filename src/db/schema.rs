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
        prev_hash -> Bytea,
        hash -> Bytea,
        details_removed -> Bool,
    }
}

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

diesel::joinable!(users -> units (unit_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> service_accounts (service_account_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(recovery_codes -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    units,
    users,
    recovery_codes,
    service_accounts,
    sessions,
    refresh_tokens,
    login_throttle,
);
