//! Reports as CSV, through the one writer (`http::csv`: byte-order mark, RFC 4180, no
//! formulas): one row per figure, as the JSON lists them.

use super::committee::Report;
use crate::domain::suppression::Shown;
use crate::error::AppError;
use crate::http::csv::Csv;

/// The header of a report of figures: the month is empty for a figure of the whole period.
pub const FIGURES_HEADER: [&str; 4] = ["figure", "value", "suppressed", "month"];

/// `figure,value,suppressed,month` for each figure of each group, a group being the figures of
/// the period (month empty) or of one month (`2026-01`): the value empty when suppressed (then
/// `suppressed` is `true`) or when it has none.
pub fn figures_csv<'a>(
    groups: impl IntoIterator<Item = (&'a str, &'a [Shown])>,
) -> Result<Vec<u8>, AppError> {
    let mut csv = Csv::with_header(&FIGURES_HEADER)?;
    for (month, figures) in groups {
        for figure in figures {
            let value = figure.value.map(|v| v.to_string()).unwrap_or_default();
            let suppressed = figure.suppressed.to_string();
            csv.row([figure.name, &value, &suppressed, month])?;
        }
    }
    csv.finish()
}

/// The committee report as CSV: the period's figures, then the series' month by month.
pub fn committee_csv(report: &Report) -> Result<Vec<u8>, AppError> {
    let period = ("", report.published.figures.as_slice());
    let months = report
        .series
        .iter()
        .map(|m| (m.month.as_str(), m.figures.as_slice()));
    figures_csv(std::iter::once(period).chain(months))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::suppression::Value;
    use crate::http::csv::BOM;

    #[test]
    fn one_row_per_figure_and_month_after_the_byte_order_mark_and_the_header() {
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
        let month = [Shown {
            name: "utilisation",
            value: Some(Value::Ratio(0.5)),
            suppressed: false,
        }];
        let bytes = figures_csv([("", &figures[..]), ("2026-01", &month[..])]).unwrap();
        assert!(bytes.starts_with(BOM));
        assert_eq!(
            String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap(),
            "figure,value,suppressed,month\r\nadmissions,7,false,\r\n\
             admissions_hvb,,true,\r\nutilisation,0.794,false,\r\naverage_stay_days,,false,\r\n\
             utilisation,0.5,false,2026-01\r\n"
        );
    }
}
