//! Reading export CSVs by column name (tools add and reorder columns between versions), with
//! the line number of every record for error messages.

use std::collections::HashMap;
use std::io::Read;

use chrono::NaiveDate;

use super::{BadRow, ImportError};

/// A CSV file with a header row, read record by record.
pub struct CsvTable<R: Read> {
    pub file: String,
    reader: csv::Reader<R>,
    columns: HashMap<String, usize>,
    record: csv::StringRecord,
}

/// One record and where it came from.
pub struct Record<'a> {
    pub line: u64,
    file: &'a str,
    columns: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl<R: Read> CsvTable<R> {
    /// Opens `input`, requiring the `required` columns (case-insensitive names).
    pub fn open(file: &str, input: R, required: &[&str]) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(input);
        let header = reader
            .headers()
            .map_err(|e| ImportError::BadFile(format!("{file}: cannot read the header row: {e}")))?
            .clone();
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase(), i))
            .collect();
        let missing: Vec<&str> = required.iter().copied().filter(|c| !columns.contains_key(*c)).collect();
        if !missing.is_empty() {
            return Err(ImportError::BadFile(format!(
                "{file}: missing column(s) {} (found: {})",
                missing.join(", "),
                header.iter().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(Self { file: file.to_string(), reader, columns, record: csv::StringRecord::new() })
    }

    /// The next record; a malformed line (bad quoting, bad UTF-8) is a bad row.
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, BadRow>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(Ok(Record { line, file: &self.file, columns: &self.columns, record: &self.record }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Some(Err(BadRow { file: self.file.clone(), line, reason: format!("unreadable CSV: {e}") }))
            }
        }
    }
}

impl Record<'_> {
    /// The trimmed cell of `column` ("" when absent).
    pub fn get(&self, column: &str) -> &str {
        self.columns.get(column).and_then(|&i| self.record.get(i)).map_or("", str::trim)
    }

    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    pub fn bad(&self, reason: impl Into<String>) -> BadRow {
        BadRow { file: self.file.to_string(), line: self.line, reason: reason.into() }
    }

    /// A non-negative whole number (`12`, `12.0`); an absent optional column is 0.
    pub fn count(&self, column: &str, required: bool) -> Result<u64, BadRow> {
        let s = self.get(column);
        if s.is_empty() && !(required && self.has(column)) {
            return Ok(0);
        }
        if let Ok(n) = s.parse::<u64>() {
            return Ok(n);
        }
        match s.parse::<f64>() {
            Ok(f) if (0.0..1e15).contains(&f) => Ok(f.round() as u64),
            _ => Err(self.bad(format!("{column} must be a non-negative number, got {s:?}"))),
        }
    }

    pub fn date(&self, column: &str) -> Result<NaiveDate, BadRow> {
        let s = self.get(column);
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| self.bad(format!("{column} must be a date like 2024-01-31, got {s:?}")))
    }
}
