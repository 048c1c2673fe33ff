//! The one CSV writer of every CSV answer: the audit log's export today, and the reports' CSV
//! (issue 14) when they come, which must write through [`Csv`] and answer with [`attachment`]
//! too, never write cells by hand. What it guarantees:
//!
//! - quoting by the `csv` crate (RFC 4180): a cell holding a comma, a double quote or a line
//!   break is quoted, its quotes doubled;
//! - a UTF-8 byte-order mark first, so Excel reads the file as UTF-8 and shows å, ä and ö;
//! - CRLF line endings (RFC 4180);
//! - no formulas (OWASP, CSV injection): a cell that begins with `=`, `+`, `-`, `@`, a tab or
//!   a carriage return gets a leading apostrophe, so a spreadsheet opens it as text. A
//!   negative number then shows as `'-5`: the price of never running a formula.

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::error::AppError;

/// The UTF-8 byte-order mark that starts every CSV answer.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The characters that make a spreadsheet read a cell as a formula when it begins with one.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as a cell that opens as text: with an apostrophe before it when it would begin a
/// formula, as it is otherwise.
pub fn text_cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// How an answer that can be a download is asked for (`format=json|csv`): JSON by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

/// A CSV document being written: a header row, then one row at a time.
pub struct Csv {
    writer: ::csv::Writer<Vec<u8>>,
}

fn failed(error: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("writing CSV: {error}"))
}

impl Csv {
    /// A document that begins with the byte-order mark and `header`.
    pub fn with_header(header: &[&str]) -> Result<Self, AppError> {
        let writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .quote_style(::csv::QuoteStyle::Necessary)
            .from_writer(BOM.to_vec());
        let mut csv = Self { writer };
        csv.row(header.iter())?;
        Ok(csv)
    }

    /// One row; every cell is made safe with [`text_cell`].
    pub fn row<I, S>(&mut self, cells: I) -> Result<(), AppError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|cell| text_cell(cell.as_ref()).into_owned())
            .collect();
        self.writer.write_record(&cells).map_err(failed)
    }

    /// The document's bytes.
    pub fn finish(self) -> Result<Vec<u8>, AppError> {
        self.writer.into_inner().map_err(failed)
    }
}

/// `name` as a file name that needs no quoting rules: letters, digits, `.`, `-` and `_` kept,
/// anything else `_`.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The answer carrying `body` (from [`Csv::finish`]) as a download named `filename`:
/// `text/csv; charset=utf-8` and `Content-Disposition: attachment`. `response` brings the
/// status and any other headers.
pub fn attachment(
    mut response: HttpResponseBuilder,
    filename: &str,
    body: Vec<u8>,
) -> HttpResponse {
    response
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file_name(filename)),
        ))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(rows: &[&[&str]]) -> String {
        let mut csv = Csv::with_header(&["a", "b"]).unwrap();
        for row in rows {
            csv.row(row.iter()).unwrap();
        }
        let bytes = csv.finish().unwrap();
        assert!(bytes.starts_with(BOM), "the BOM comes first");
        String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap()
    }

    #[test]
    fn the_byte_order_mark_comes_first_then_the_header_with_crlf() {
        let bytes = Csv::with_header(&["seq", "id"]).unwrap().finish().unwrap();
        assert_eq!(bytes, b"\xEF\xBB\xBFseq,id\r\n");
    }

    #[test]
    fn a_cell_that_would_begin_a_formula_opens_as_text() {
        for start in ['=', '+', '-', '@', '\t', '\r'] {
            let value = format!("{start}HYPERLINK(\"http://x\")");
            let text = document(&[&[&value, "ok"]]);
            let cell = text
                .strip_prefix("a,b\r\n")
                .and_then(|rest| rest.strip_suffix(",ok\r\n"))
                .unwrap_or_else(|| panic!("one row for {start:?}: {text:?}"));
            // Quoted (it holds a quote, or a carriage return), the apostrophe first inside.
            let inside = cell
                .strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
                .unwrap_or(cell);
            assert!(inside.starts_with('\''), "{start:?} gives {cell:?}");
            assert_eq!(inside[1..].replace("\"\"", "\""), value);
        }
        assert_eq!(text_cell("=1+1"), "'=1+1");
        assert_eq!(text_cell("-5"), "'-5");
        assert_eq!(text_cell("a=1"), "a=1");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn quotes_commas_and_line_breaks_are_quoted() {
        let text = document(&[&["a,b", "say \"hi\""], &["line\nbreak", "plain"]]);
        assert_eq!(
            text,
            "a,b\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n\"line\nbreak\",plain\r\n"
        );
    }

    #[test]
    fn swedish_letters_survive() {
        let text = document(&[&["Åsa Öberg", "Särskilt förordnad vårdnadshavare"]]);
        assert_eq!(
            text,
            "a,b\r\nÅsa Öberg,Särskilt förordnad vårdnadshavare\r\n"
        );
    }

    #[test]
    fn the_download_is_utf8_csv_with_a_plain_file_name() {
        let response = attachment(HttpResponse::Ok(), "audit events/ä\".csv", b"x".to_vec());
        let headers = response.headers();
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "text/csv; charset=utf-8"
        );
        assert_eq!(
            headers.get(header::CONTENT_DISPOSITION).unwrap(),
            "attachment; filename=\"audit_events___.csv\""
        );
    }
}
