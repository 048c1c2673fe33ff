//! What a child's record says about her: sex, asylum status, protection of her identity.

crate::text_enum! {
    pub enum Sex {
        Female = "female",
        Male = "male",
        Other = "other",
        Unknown = "unknown",
    }
}

crate::text_enum! {
    pub enum AsylumStatus {
        AsylumSeeker = "asylum_seeker",
        TemporaryPermit = "temporary_permit",
        PermanentPermit = "permanent_permit",
        Rejected = "rejected",
        Citizen = "citizen",
    }
}

crate::text_enum! {
    /// Skyddad identitet, from the mildest marking to a fictitious identity.
    pub enum ProtectionLevel {
        None = "none",
        ConfidentialityMarking = "confidentiality_marking",
        ProtectedRegistration = "protected_registration",
        FictitiousIdentity = "fictitious_identity",
    }
}

impl ProtectionLevel {
    pub fn is_protected(self) -> bool {
        self != ProtectionLevel::None
    }
}
