//! Professions (the roles people act in) and scopes (what another system may do).

crate::text_enum! {
    pub enum Profession {
        SocialSecretary = "social_secretary",
        UnitManager = "unit_manager",
        HvbStaff = "hvb_staff",
        HousingStaff = "housing_staff",
        Administrator = "administrator",
        Auditor = "auditor",
        SystemAdmin = "system_admin",
    }
}

impl Profession {
    /// Case work happens in a unit: these professions must belong to one.
    pub fn needs_unit(self) -> bool {
        !matches!(
            self,
            Profession::Administrator | Profession::Auditor | Profession::SystemAdmin
        )
    }
}

crate::text_enum! {
    /// What a service account may do. A system never sees more than its scopes allow.
    pub enum Scope {
        ChildrenRead = "children:read",
        PlacementsRead = "placements:read",
        PlacementsWrite = "placements:write",
        CapacityRead = "capacity:read",
        VisitsRead = "visits:read",
        VisitsWrite = "visits:write",
        ReportsRead = "reports:read",
        /// The change feed: what changed, never the data.
        ChangesRead = "changes:read",
    }
}
