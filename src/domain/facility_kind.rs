//! The two kinds of home a child is placed in.

crate::text_enum! {
    pub enum FacilityKind {
        /// HVB (hem för vård eller boende): residential care, a newly arrived child's first home.
        Hvb = "hvb",
        /// Stödboende: housing with support, from 16.
        SupportedHousing = "supported_housing",
    }
}
