//! Plausible's CSV export: a zip of `imported_<table>_<from>_<to>.csv` files with daily rows
//! (`imported_visitors`, `imported_pages`, `imported_entry_pages`, `imported_sources`,
//! `imported_locations`, `imported_devices`, `imported_browsers`, `imported_operating_systems`,
//! `imported_exit_pages`, ...). Columns are read by name, so older and newer exports both work.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::csvread::CsvTable;
use super::{BadRow, BreakdownRow, DayTotals, ImportBatch, ImportDim, ImportError, MAX_BAD_ROWS, Totals};

/// The tables this importer reads, and the ones it knows but leaves out.
const READ: [&str; 8] = [
    "imported_visitors",
    "imported_pages",
    "imported_entry_pages",
    "imported_sources",
    "imported_locations",
    "imported_devices",
    "imported_browsers",
    "imported_operating_systems",
];
const KNOWN_UNUSED: [&str; 3] = ["imported_exit_pages", "imported_custom_events", "imported_countries"];

/// The table a file holds, from its name (`imported_pages_20240101_20241231.csv`).
fn table_of(name: &str) -> Option<&'static str> {
    let base = name.rsplit('/').next().unwrap_or(name).trim_end_matches(".csv");
    READ.iter().chain(KNOWN_UNUSED.iter()).copied().find(|t| {
        base == *t
            || base
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with('_') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
    })
}

type Key = (NaiveDate, ImportDim, String);

/// Parses the CSV files of a Plausible export (name, content).
pub fn parse(files: &[(String, Vec<u8>)]) -> Result<ImportBatch, ImportError> {
    let mut batch = ImportBatch::default();
    let mut days: BTreeMap<NaiveDate, Totals> = BTreeMap::new();
    let mut dims: BTreeMap<Key, Totals> = BTreeMap::new();
    let mut saw_visitors = false;
    for (name, bytes) in files {
        if !name.ends_with(".csv") {
            continue;
        }
        let Some(table) = table_of(name) else {
            return Err(ImportError::BadFile(format!(
                "{name} is not a Plausible export table (expected files such as imported_visitors_YYYYMMDD_YYYYMMDD.csv)"
            )));
        };
        if KNOWN_UNUSED.contains(&table) {
            continue;
        }
        saw_visitors |= table == "imported_visitors";
        read_table(name, table, bytes, &mut batch, &mut days, &mut dims)?;
    }
    if !saw_visitors {
        return Err(ImportError::BadFile(
            "no imported_visitors CSV in the upload: is this a Plausible CSV export zip?".into(),
        ));
    }
    if !batch.bad_rows.is_empty() {
        return Err(ImportError::BadRows(std::mem::take(&mut batch.bad_rows)));
    }
    batch.days = days.into_iter().map(|(date, totals)| DayTotals { date, totals }).collect();
    batch.breakdowns =
        dims.into_iter().map(|((date, dim, value), totals)| BreakdownRow { date, dim, value, totals }).collect();
    Ok(batch)
}

fn read_table(
    name: &str,
    table: &str,
    bytes: &[u8],
    batch: &mut ImportBatch,
    days: &mut BTreeMap<NaiveDate, Totals>,
    dims: &mut BTreeMap<Key, Totals>,
) -> Result<(), ImportError> {
    // (dimension, its column, the visits column) per breakdown table.
    let (dim, column, visits_col): (Option<ImportDim>, &str, &str) = match table {
        "imported_visitors" => (None, "", "visits"),
        "imported_pages" => (Some(ImportDim::Page), "page", "visits"),
        "imported_entry_pages" => (Some(ImportDim::Page), "entry_page", "entrances"),
        "imported_sources" => (Some(ImportDim::Source), "source", "visits"),
        "imported_locations" => (Some(ImportDim::Country), "country", "visits"),
        "imported_devices" => (Some(ImportDim::Device), "device", "visits"),
        "imported_browsers" => (Some(ImportDim::Browser), "browser", "visits"),
        _ => (Some(ImportDim::Os), "operating_system", "visits"),
    };
    let mut required = vec!["date", "visitors"];
    if !column.is_empty() {
        required.push(column);
    }
    if table != "imported_pages" {
        required.extend([visits_col, "visit_duration", "bounces"]);
    }
    let mut csv = CsvTable::open(name, bytes, &required)?;
    while let Some(rec) = csv.next_record() {
        batch.rows_read += 1;
        let row = rec.and_then(|r| {
            let date = r.date("date")?;
            let mut t = Totals {
                visitors: r.count("visitors", true)?,
                pageviews: r.count("pageviews", false)?,
                ..Totals::default()
            };
            // Page rows count views; visits, bounces and time belong to landing pages.
            if table != "imported_pages" {
                t.visits = r.count(visits_col, true)?;
                t.bounces = r.count("bounces", true)?;
                t.visit_duration = r.count("visit_duration", true)?;
            }
            if t.bounces > t.visits && table != "imported_pages" {
                return Err(r.bad(format!("bounces ({}) exceed visits ({})", t.bounces, t.visits)));
            }
            let value = r.get(column).to_string();
            Ok((date, t, value))
        });
        match row {
            Ok((date, t, value)) => match dim {
                None => days.entry(date).or_default().add(&t),
                Some(d) => {
                    let value = normalize(d, &value);
                    let entry = dims.entry((date, d, value)).or_default();
                    if table == "imported_entry_pages" {
                        // The pages file already counted visitors and pageviews.
                        entry.visits += t.visits;
                        entry.bounces += t.bounces;
                        entry.visit_duration += t.visit_duration;
                    } else {
                        entry.add(&t);
                    }
                }
            },
            Err(bad) => push_bad(&mut batch.bad_rows, bad),
        }
    }
    Ok(())
}

fn push_bad(list: &mut Vec<BadRow>, bad: BadRow) {
    if list.len() < MAX_BAD_ROWS {
        list.push(bad);
    }
}

/// Values as HitKeep's own events name them.
fn normalize(dim: ImportDim, value: &str) -> String {
    match dim {
        ImportDim::Source if value.is_empty() => "Direct / None".into(),
        ImportDim::Device => super::normalize_device(value).unwrap_or_default(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> (String, Vec<u8>) {
        (name.to_string(), text.as_bytes().to_vec())
    }

    #[test]
    fn reads_visitors_and_pages() {
        let b = parse(&[
            file(
                "imported_visitors_20240101_20240102.csv",
                "date,visitors,pageviews,bounces,visits,visit_duration\n2024-01-01,10,30,4,12,600\n2024-01-02,5,9,1,6,300\n",
            ),
            file("imported_pages_20240101_20240102.csv", "date,hostname,page,visits,visitors,pageviews\n2024-01-01,a.test,/,8,7,20\n"),
            file(
                "imported_entry_pages_20240101_20240102.csv",
                "date,entry_page,visitors,entrances,visit_duration,bounces,pageviews\n2024-01-01,/,7,9,500,3,20\n",
            ),
        ])
        .unwrap();
        assert_eq!(b.totals(), Totals { visitors: 15, visits: 18, pageviews: 39, bounces: 5, visit_duration: 900 });
        let page = &b.breakdowns[0];
        assert_eq!(page.totals, Totals { visitors: 7, visits: 9, pageviews: 20, bounces: 3, visit_duration: 500 });
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let err = parse(&[file(
            "imported_visitors_20240101_20240102.csv",
            "date,visitors,pageviews,bounces,visits,visit_duration\n2024-01-01,10,30,4,12,600\n2024-13-01,1,1,0,1,0\n2024-01-03,x,1,0,1,0\n",
        )])
        .unwrap_err();
        let ImportError::BadRows(rows) = err else { panic!("{err:?}") };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 3);
        assert!(rows[0].reason.contains("date"), "{}", rows[0].reason);
        assert_eq!(rows[1].line, 4);
        assert!(rows[1].reason.contains("visitors"));
    }

    #[test]
    fn refuses_other_files() {
        assert!(matches!(parse(&[file("notes.csv", "a\n1\n")]), Err(ImportError::BadFile(_))));
        assert!(matches!(
            parse(&[file("imported_visitors_20240101_20240102.csv", "date,visitors\n")]),
            Err(ImportError::BadFile(m)) if m.contains("missing column")
        ));
    }
}
