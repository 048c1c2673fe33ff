//! Reports as CSV, through the one writer (`http::csv`: byte-order mark, RFC 4180, no
//! formulas): one row per figure, as the JSON lists them.

use crate::domain::suppression::Shown;
use crate::error::AppError;
use crate::http::csv::Csv;

/// The header of a report of figures.
pub const FIGURES_HEADER: [&str; 3] = ["figure", "value", "suppressed"];

/// `figure,value,suppressed` for each figure: the value empty when suppressed (then
/// `suppressed` is `true`) or when it has none.
pub fn figures_csv(figures: &[Shown]) -> Result<Vec<u8>, AppError> {
    let mut csv = Csv::with_header(&FIGURES_HEADER)?;
    for figure in figures {
        let value = figure.value.map(|v| v.to_string()).unwrap_or_default();
        csv.row([figure.name.to_owned(), value, figure.suppressed.to_string()])?;
    }
    csv.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::suppression::Value;
    use crate::http::csv::BOM;

    #[test]
    fn one_row_per_figure_after_the_byte_order_mark_and_the_header() {
        let figures = [
            Shown {
                name: "admissions",
                value: Some(Value::Count(7)),
                suppressed: false,
            },
            Shown {
                name: "admissions_hvb",
                value: None,
                suppressed: true,
            },
            Shown {
                name: "utilisation",
                value: Some(Value::Ratio(0.794)),
                suppressed: false,
            },
            Shown {
                name: "average_stay_days",
                value: None,
                suppressed: false,
            },
        ];
        let bytes = figures_csv(&figures).unwrap();
        assert!(bytes.starts_with(BOM));
        assert_eq!(
            String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap(),
            "figure,value,suppressed\r\nadmissions,7,false\r\nadmissions_hvb,,true\r\n\
             utilisation,0.794,false\r\naverage_stay_days,,false\r\n"
        );
    }
}
