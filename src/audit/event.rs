use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

crate::text_enum! {
    /// What was done. Reads are logged as well as writes.
    pub enum AuditAction {
        Read = "read",
        List = "list",
        Create = "create",
        Update = "update",
        Cancel = "cancel",
        Export = "export",
        Login = "login",
        LoginFailed = "login_failed",
        Lockout = "lockout",
        Unlock = "unlock",
        Refresh = "token_refresh",
        Revoke = "revoke",
        PasswordChange = "password_change",
        MfaEnrol = "mfa_enrol",
        EmergencyAccess = "emergency_access",
        /// A decision on a child's protected identity (above all lowering it): never an edit.
        ChangeProtection = "change_protection",
        /// A revised date of birth (an assessed age re-assessed).
        ReassessAge = "reassess_age",
        Verify = "verify",
        Checkpoint = "checkpoint",
        /// Retention (gallring): a child's personal data removed or pseudonymised, by the system.
        Retention = "retention",
    }
}

crate::text_enum! {
    pub enum Outcome {
        Success = "success",
        Denied = "denied",
        Error = "error",
    }
}

crate::text_enum! {
    pub enum ActorType {
        User = "user",
        ServiceAccount = "service_account",
        Anonymous = "anonymous",
        System = "system",
    }
}

crate::text_enum! {
    /// The kind of record an event is about.
    pub enum EntityType {
        /// A child's age-out plan (its dates and education; goals, notes and reviews have their own).
        AgeOutPlan = "age_out_plan",
        /// A goal of an age-out plan (a read of its versions is a read of it).
        AgeOutGoal = "age_out_goal",
        AgeOutProgressNote = "age_out_progress_note",
        AgeOutReview = "age_out_review",
        AuditLog = "audit_log",
        /// A person's calendar feed (its token, never its content).
        CalendarFeed = "calendar_feed",
        /// A page of the change feed (ids and kinds of change, never data).
        ChangeFeed = "change_feed",
        Child = "child",
        ContactSchedule = "contact_schedule",
        Facility = "facility",
        Placement = "placement",
        /// A state reimbursement claim of a quarter (its lines read are events about each child).
        ReimbursementClaim = "reimbursement_claim",
        /// A report of counts only (e.g. capacity), about no one.
        Report = "report",
        /// A stored answer sent again for a repeated Idempotency-Key.
        ReplayedResponse = "replayed_response",
        ServiceAccount = "service_account",
        Session = "session",
        Unit = "unit",
        User = "user",
        Visit = "visit",
        /// A webhook's delivery (ids of a change, never data).
        WebhookDelivery = "webhook_delivery",
        /// A system's webhook subscription (where changes are sent, never their data).
        WebhookSubscription = "webhook_subscription",
    }
}

/// The most characters of an event's purpose (the column's own limit).
pub const MAX_PURPOSE_CHARS: usize = 1000;

/// Who acted, in which role and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    pub actor_type: ActorType,
    pub id: Option<Uuid>,
    pub role: Option<String>,
    pub unit_id: Option<Uuid>,
}

impl AuditActor {
    pub fn anonymous() -> Self {
        Self {
            actor_type: ActorType::Anonymous,
            id: None,
            role: None,
            unit_id: None,
        }
    }

    pub fn system() -> Self {
        Self {
            actor_type: ActorType::System,
            id: None,
            role: Some("system".into()),
            unit_id: None,
        }
    }
}

/// One event, as a handler describes it. Values of personal data never go in: the log says
/// what was touched (entity, fields), not what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: AuditAction,
    pub outcome: Outcome,
    pub entity_type: EntityType,
    pub entity_id: Option<Uuid>,
    pub child_id: Option<Uuid>,
    /// The unit responsible for the child when the event happened.
    pub child_unit_id: Option<Uuid>,
    /// Whether the child had a protected identity when the event happened.
    pub child_protected: bool,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub purpose: Option<String>,
    pub changed_fields: Vec<String>,
}

impl AuditEvent {
    pub fn new(
        actor: AuditActor,
        action: AuditAction,
        entity_type: EntityType,
        entity_id: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            // PostgreSQL keeps microseconds; hash exactly what is stored.
            occurred_at: at.trunc_subsecs(6),
            actor,
            action,
            outcome: Outcome::Success,
            entity_type,
            entity_id,
            child_id: None,
            child_unit_id: None,
            child_protected: false,
            request_id: None,
            client_addr: None,
            purpose: None,
            changed_fields: Vec::new(),
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// The child whose data the event concerns, without review context. Prefer `about_child`
    /// where the child's unit and protection are known.
    pub fn child(mut self, child_id: Uuid) -> Self {
        self.child_id = Some(child_id);
        self
    }

    /// The child whose data the event concerns, with what an auditor reviews by: the unit
    /// responsible for the child and whether the child has a protected identity, as they are
    /// now (the event keeps them even if they change later).
    pub fn about_child(mut self, child_id: Uuid, unit_id: Option<Uuid>, protected: bool) -> Self {
        self.child_id = Some(child_id);
        self.child_unit_id = unit_id;
        self.child_protected = protected;
        self
    }

    /// The purpose, cut to what the log holds (`MAX_PURPOSE_CHARS`, ending in `…`): the whole
    /// text stays with the record it explains (the emergency access, the cancelled placement),
    /// and a long reason must never make the event, and so the work, fail.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        let purpose = purpose.into();
        self.purpose = Some(if purpose.chars().count() > MAX_PURPOSE_CHARS {
            let mut cut: String = purpose.chars().take(MAX_PURPOSE_CHARS - 1).collect();
            cut.push('…');
            cut
        } else {
            purpose
        });
        self
    }

    pub fn changed<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.changed_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    pub fn request(mut self, request_id: Option<String>, client_addr: Option<String>) -> Self {
        self.request_id = request_id;
        self.client_addr = client_addr;
        self
    }
}
