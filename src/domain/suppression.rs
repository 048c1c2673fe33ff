//! Small-count suppression for figures that leave the service: the reports for the social
//! committee and for publication. No child may be recognised from a figure, nor by subtracting
//! the shown figures from a shown total. Pure: a report hands over its figures (what each one
//! counts or comes from) and the totals its parts add up to, and gets back what it may show.
//!
//! The rule, applied until nothing more changes:
//!
//! 1. **Primary.** A count of children of 1 or 2 (from 1 to [`SMALLEST_SHOWN`] − 1) is
//!    suppressed. Zero is shown: it names nobody.
//! 2. **Secondary, against subtraction.** A total and its parts are one sum, and a sum with
//!    exactly one hidden cell gives that cell away. So when exactly one cell of a total (one of
//!    its parts, or the total itself) is suppressed, the smallest part still shown that is not
//!    zero is suppressed too: the next-smallest part (on a tie, the one listed first). A zero is
//!    never the one taken, since hiding a part that is 0 hides nothing (1 − 0 is still 1); when
//!    no other part can be taken, the total is suppressed instead.
//! 3. **Derived.** A figure computed from others (a share, an average, a sum of days) is
//!    suppressed when any figure it comes from is.
//!
//! A suppressed figure is shown as `value: null` with `suppressed: true`, and the answer lists
//! the names of every figure it suppressed; a figure that is `null` without `suppressed` has no
//! value (a share of nothing).

use std::collections::BTreeSet;

use serde::Serialize;

/// The smallest count of children a published figure shows; 1 and 2 are suppressed.
pub const SMALLEST_SHOWN: i64 = 3;

/// A figure's value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Count(i64),
    Ratio(f64),
    Flag(bool),
}

impl Value {
    fn count(self) -> Option<i64> {
        match self {
            Value::Count(n) => Some(n),
            Value::Ratio(_) | Value::Flag(_) => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Ratio(r) => write!(f, "{r}"),
            Value::Flag(b) => write!(f, "{b}"),
        }
    }
}

/// What a figure is made of, which decides when it is suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// A count of children (or of their placements, one child each): 1 and 2 are suppressed.
    Children,
    /// Computed from these figures: suppressed when any of them is.
    DerivedFrom(Vec<&'static str>),
    /// About no child (places, capacity): always shown.
    Open,
}

/// A figure as a report computed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    /// `None` when it has no value (nothing to divide).
    pub value: Option<Value>,
    pub basis: Basis,
}

/// A total and the figures that add up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub total: &'static str,
    pub parts: Vec<&'static str>,
}

/// A figure as it may be shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub name: &'static str,
    /// `null` when suppressed, or when it has no value.
    pub value: Option<Value>,
    pub suppressed: bool,
}

/// What a report may show: every figure, in the order given, and the names of those suppressed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub figures: Vec<Shown>,
    pub suppressed: Vec<&'static str>,
}

fn is_small(value: Option<Value>) -> bool {
    value
        .and_then(Value::count)
        .is_some_and(|n| (1..SMALLEST_SHOWN).contains(&n))
}

/// A cell of a sum: its total or one of its parts, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Total,
    Part(usize),
}

/// Rule 2 for one sum, whose total is hidden or not and whose `parts` are `(hidden, count)`:
/// when exactly one cell is hidden, the cell to hide next (the smallest shown part that is not
/// zero, the first on a tie, or else the total); `None` when no cell or more than one is hidden.
pub fn against_subtraction(total_hidden: bool, parts: &[(bool, Option<i64>)]) -> Option<Cell> {
    let hidden = usize::from(total_hidden) + parts.iter().filter(|(h, _)| *h).count();
    if hidden != 1 {
        return None;
    }
    let next_smallest = parts
        .iter()
        .enumerate()
        .filter(|(_, (h, _))| !h)
        .filter_map(|(i, (_, n))| Some((i, (*n)?)))
        .filter(|(_, n)| *n > 0)
        .min_by_key(|(_, n)| *n);
    Some(next_smallest.map_or(Cell::Total, |(i, _)| Cell::Part(i)))
}

/// The names of the figures to suppress, in the order of `figures`. A name in `totals` or a
/// `DerivedFrom` that is no figure's is ignored.
pub fn suppressed(figures: &[Figure], totals: &[Total]) -> Vec<&'static str> {
    suppressed_with(figures, totals, &[])
}

/// [`suppressed`], with the figures named in `hidden_already` hidden from the start: hidden by
/// a sum that reaches outside `figures` (a month's place-days against the period's).
pub fn suppressed_with(
    figures: &[Figure],
    totals: &[Total],
    hidden_already: &[&'static str],
) -> Vec<&'static str> {
    let value_of = |name: &str| {
        figures
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value)
    };
    let mut hidden: BTreeSet<&'static str> = figures
        .iter()
        .filter(|f| f.basis == Basis::Children && is_small(f.value))
        .map(|f| f.name)
        .chain(hidden_already.iter().copied())
        .collect();
    loop {
        let before = hidden.len();
        for total in totals {
            let parts: Vec<(bool, Option<i64>)> = total
                .parts
                .iter()
                .map(|name| {
                    let count = value_of(name).and_then(Value::count);
                    (hidden.contains(name), count)
                })
                .collect();
            match against_subtraction(hidden.contains(total.total), &parts) {
                Some(Cell::Part(i)) => hidden.insert(total.parts[i]),
                Some(Cell::Total) => hidden.insert(total.total),
                None => false,
            };
        }
        for figure in figures {
            if let Basis::DerivedFrom(sources) = &figure.basis {
                if sources.iter().any(|s| hidden.contains(s)) {
                    hidden.insert(figure.name);
                }
            }
        }
        if hidden.len() == before {
            break;
        }
    }
    figures
        .iter()
        .map(|f| f.name)
        .filter(|name| hidden.contains(name))
        .collect()
}

/// `figures` as they may be shown under [`suppressed`].
pub fn publish(figures: Vec<Figure>, totals: &[Total]) -> Published {
    publish_with(figures, totals, &[])
}

/// `figures` as they may be shown under [`suppressed_with`].
pub fn publish_with(
    figures: Vec<Figure>,
    totals: &[Total],
    hidden_already: &[&'static str],
) -> Published {
    let suppressed = suppressed_with(&figures, totals, hidden_already);
    let figures = figures
        .into_iter()
        .map(|f| {
            let hide = suppressed.contains(&f.name);
            Shown {
                name: f.name,
                value: if hide { None } else { f.value },
                suppressed: hide,
            }
        })
        .collect();
    Published {
        figures,
        suppressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn children(name: &'static str, n: i64) -> Figure {
        Figure {
            name,
            value: Some(Value::Count(n)),
            basis: Basis::Children,
        }
    }

    fn total(total: &'static str, parts: &[&'static str]) -> Total {
        Total {
            total,
            parts: parts.to_vec(),
        }
    }

    #[test]
    fn one_and_two_children_are_suppressed_zero_and_three_are_shown() {
        let figures = [
            children("none", 0),
            children("one", 1),
            children("two", 2),
            children("three", 3),
            Figure {
                name: "places",
                value: Some(Value::Count(2)),
                basis: Basis::Open,
            },
        ];
        assert_eq!(suppressed(&figures, &[]), ["one", "two"]);
    }

    #[test]
    fn a_single_hidden_part_takes_the_next_smallest_part_with_it() {
        // 2 + 5 + 9 = 16: with only the 2 hidden, 16 − 5 − 9 gives it back.
        let figures = [
            children("all", 16),
            children("a", 9),
            children("b", 2),
            children("c", 5),
        ];
        let totals = [total("all", &["a", "b", "c"])];
        assert_eq!(suppressed(&figures, &totals), ["b", "c"]);
        // Two parts of one total hidden already: nothing more to do.
        let figures = [
            children("all", 10),
            children("a", 1),
            children("b", 2),
            children("c", 7),
        ];
        assert_eq!(suppressed(&figures, &totals), ["a", "b"]);
    }

    #[test]
    fn one_hidden_cell_of_a_sum_names_the_next_to_hide() {
        let part = |hidden, n| (hidden, Some(n));
        // 11 hidden, 84 and 93 shown: the 84.
        assert_eq!(
            against_subtraction(false, &[part(true, 11), part(false, 93), part(false, 84)]),
            Some(Cell::Part(2))
        );
        // Two hidden already, or none: nothing.
        assert_eq!(
            against_subtraction(true, &[part(true, 11), part(false, 84)]),
            None
        );
        assert_eq!(against_subtraction(false, &[part(false, 11)]), None);
        // Only zeros left to take: the total.
        assert_eq!(
            against_subtraction(false, &[part(true, 1), part(false, 0)]),
            Some(Cell::Total)
        );
    }

    #[test]
    fn a_figure_hidden_from_outside_takes_what_comes_from_it() {
        let derived = |name, value, from| Figure {
            name,
            value: Some(value),
            basis: Basis::DerivedFrom(vec![from]),
        };
        let figures = [
            children("placed", 5),
            derived("place_days", Value::Count(84), "placed"),
            derived("utilisation", Value::Ratio(0.9), "place_days"),
        ];
        assert_eq!(suppressed(&figures, &[]), Vec::<&str>::new());
        assert_eq!(
            suppressed_with(&figures, &[], &["place_days"]),
            ["place_days", "utilisation"]
        );
    }

    #[test]
    fn a_zero_is_never_the_second_part_and_without_another_part_the_total_goes() {
        // 1 + 0 + 4 = 5: hiding the 0 would leave 5 − 4 = 1; the 4 goes.
        let figures = [
            children("all", 5),
            children("a", 1),
            children("b", 0),
            children("c", 4),
        ];
        let totals = [total("all", &["a", "b", "c"])];
        assert_eq!(suppressed(&figures, &totals), ["a", "c"]);
        assert_eq!(
            publish(figures.to_vec(), &totals).figures[2],
            Shown {
                name: "b",
                value: Some(Value::Count(0)),
                suppressed: false
            },
            "the zero is shown"
        );
        // A part that is not a count cannot be taken: the total goes instead.
        let figures = [
            children("all", 4),
            children("a", 2),
            Figure {
                name: "b",
                value: None,
                basis: Basis::Children,
            },
        ];
        assert_eq!(
            suppressed(&figures, &[total("all", &["a", "b"])]),
            ["all", "a"]
        );
    }

    #[test]
    fn a_hidden_total_with_every_part_shown_hides_a_part() {
        // The total hides as the part of another sum; its own parts would add up to it.
        let figures = [
            children("everyone", 10),
            children("north", 8),
            children("south", 2),
            children("north_hvb", 5),
            children("north_housing", 3),
        ];
        let totals = [
            total("everyone", &["north", "south"]),
            total("north", &["north_hvb", "north_housing"]),
        ];
        assert_eq!(
            suppressed(&figures, &totals),
            ["north", "south", "north_housing"]
        );
    }

    #[test]
    fn figures_derived_from_a_suppressed_one_are_suppressed_in_a_chain() {
        let figures = [
            children("placed", 2),
            Figure {
                name: "place_days",
                value: Some(Value::Count(40)),
                basis: Basis::DerivedFrom(vec!["placed"]),
            },
            Figure {
                name: "utilisation",
                value: Some(Value::Ratio(0.4)),
                basis: Basis::DerivedFrom(vec!["place_days"]),
            },
            Figure {
                name: "capacity",
                value: Some(Value::Count(100)),
                basis: Basis::Open,
            },
            Figure {
                name: "meets_target",
                value: Some(Value::Flag(true)),
                basis: Basis::DerivedFrom(vec!["capacity"]),
            },
        ];
        let published = publish(figures.to_vec(), &[]);
        assert_eq!(
            published.suppressed,
            ["placed", "place_days", "utilisation"]
        );
        let shown: Vec<(Option<Value>, bool)> = published
            .figures
            .iter()
            .map(|f| (f.value, f.suppressed))
            .collect();
        assert_eq!(
            shown,
            [
                (None, true),
                (None, true),
                (None, true),
                (Some(Value::Count(100)), false),
                (Some(Value::Flag(true)), false),
            ]
        );
    }

    #[test]
    fn values_serialise_as_plain_json() {
        let published = publish(
            vec![
                children("a", 7),
                Figure {
                    name: "share",
                    value: Some(Value::Ratio(0.25)),
                    basis: Basis::Open,
                },
                children("b", 1),
            ],
            &[],
        );
        assert_eq!(
            serde_json::to_value(&published).unwrap(),
            serde_json::json!({
                "figures": [
                    {"name": "a", "value": 7, "suppressed": false},
                    {"name": "share", "value": 0.25, "suppressed": false},
                    {"name": "b", "value": null, "suppressed": true},
                ],
                "suppressed": ["b"],
            })
        );
        assert_eq!(Value::Ratio(0.5).to_string(), "0.5");
        assert_eq!(Value::Flag(false).to_string(), "false");
    }
}
