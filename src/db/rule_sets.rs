//! The database's copy of the rules, which its placement triggers read.

use diesel::prelude::*;

use super::schema::rule_sets;
use crate::rules::Rules;

/// Replaces the database's copy with `rules`, in one transaction.
pub fn sync(conn: &mut PgConnection, rules: &Rules) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(rule_sets::table).execute(conn)?;
        for set in rules.sets() {
            diesel::insert_into(rule_sets::table)
                .values((
                    rule_sets::valid_from.eq(set.valid_from),
                    rule_sets::supported_housing_min_age.eq(set.supported_housing_min_age as i32),
                    rule_sets::special_reasons_below_age.eq(set.special_reasons_below_age as i32),
                    rule_sets::placement_end_age.eq(set.placement_end_age as i32),
                    rule_sets::document.eq(serde_json::to_value(set).unwrap_or_default()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
