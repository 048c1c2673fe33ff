//! Children: the people a case is about, up to 21. Registration with a duplicate search,
//! views shaped per audience, assignment of social secretaries, and emergency access.

pub mod access;
pub mod input;
pub mod routes;
pub mod store;
pub mod view;

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
