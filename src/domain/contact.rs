//! The vocabulary of contacts: who is responsible for keeping them, what kind they are, and how
//! a visit happened.

crate::text_enum! {
    /// Who keeps a schedule: a named social secretary, or the staff of the home where the child
    /// lives (whoever is on its staff list, and the schedule follows the child when she moves).
    pub enum Responsible {
        Secretary = "secretary",
        FacilityStaff = "facility_staff",
    }
}

crate::text_enum! {
    pub enum ContactKind {
        /// The secretary's follow-up visit (uppföljning), with a private conversation.
        SecretaryVisit = "secretary_visit",
        /// The home's staff meeting the youth.
        StaffContact = "staff_contact",
    }
}

crate::text_enum! {
    pub enum VisitMode {
        /// At the placement, where the child lives.
        HomeVisit = "home_visit",
        MeetingElsewhere = "meeting_elsewhere",
        Phone = "phone",
        Video = "video",
    }
}
