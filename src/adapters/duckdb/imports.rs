//! Imported history in the `imported_*` tables, and its totals for report queries.

use std::sync::Mutex;

use duckdb::types::Value;
use duckdb::{Connection, appender_params_from_iter, params};

use super::internal;
use super::sql::{Sql, bucket, bucket_label};
use crate::domain::imports::merge::{ImportGrouping, TotalsRow};
use crate::domain::imports::{ImportBatch, ImportDim, ImportSource, Totals};
use crate::domain::query::{Cell, Period, TimeGrain};
use crate::ports::lifecycle::ImportStore;
use crate::ports::store::StoreResult;

/// Import storage on its own connection.
pub struct DuckImports {
    conn: Mutex<Connection>,
}

impl DuckImports {
    pub fn new(conn: Connection) -> Self {
        Self { conn: Mutex::new(conn) }
    }
}

fn date_value(d: chrono::NaiveDate) -> Value {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    Value::Date32((d - epoch).num_days() as i32)
}

fn counts(t: &Totals) -> [Value; 5] {
    let n = |v: u64| Value::BigInt(i64::try_from(v).unwrap_or(i64::MAX));
    [n(t.visitors), n(t.visits), n(t.pageviews), n(t.bounces), n(t.visit_duration)]
}

impl ImportStore for DuckImports {
    fn save_import(&self, site_id: u32, source: ImportSource, batch: &ImportBatch) -> StoreResult<u32> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(internal)?;
        // The newest import of a day replaces older ones, so importing a file twice (or an
        // overlapping export) never counts a day twice.
        if let (Some(first), Some(last)) = (batch.first_date(), batch.last_date()) {
            for table in ["imported_visitors", "imported_breakdowns"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE site_id = ? AND date >= ? AND date <= ?"),
                    params![site_id, date_value(first), date_value(last)],
                )
                .map_err(internal)?;
            }
        }
        let id: u32 = tx
            .query_row(
                "INSERT INTO imports (site_id, source, first_date, last_date, days) VALUES (?, ?, ?::DATE, ?::DATE, ?) RETURNING id",
                params![
                    site_id,
                    source.as_str(),
                    batch.first_date().map(|d| d.to_string()),
                    batch.last_date().map(|d| d.to_string()),
                    batch.days.len() as i64
                ],
                |r| r.get(0),
            )
            .map_err(internal)?;
        {
            let mut app = tx.appender("imported_visitors").map_err(internal)?;
            for d in &batch.days {
                let mut row = vec![Value::UInt(site_id), Value::UInt(id), date_value(d.date)];
                row.extend(counts(&d.totals));
                app.append_row(appender_params_from_iter(row)).map_err(internal)?;
            }
            app.flush().map_err(internal)?;
        }
        {
            let mut app = tx.appender("imported_breakdowns").map_err(internal)?;
            for b in &batch.breakdowns {
                let mut row = vec![
                    Value::UInt(site_id),
                    Value::UInt(id),
                    date_value(b.date),
                    Value::Text(b.dim.as_str().into()),
                    Value::Text(b.value.clone()),
                ];
                row.extend(counts(&b.totals));
                app.append_row(appender_params_from_iter(row)).map_err(internal)?;
            }
            app.flush().map_err(internal)?;
        }
        tx.commit().map_err(internal)?;
        Ok(id)
    }

    fn imported_totals(&self, site_id: u32, grouping: ImportGrouping, period: &Period) -> StoreResult<Vec<TotalsRow>> {
        let mut sql = Sql::default();
        // Local days with native events: imported numbers for them are left out.
        sql.push(&format!(
            "WITH native AS (SELECT DISTINCT {} AS day FROM events WHERE ",
            bucket("ts", period, TimeGrain::Day)
        ))
        .site_period(site_id, period)
        .push(") SELECT ");
        let (key, table) = match grouping {
            ImportGrouping::Total => ("", "imported_visitors"),
            ImportGrouping::Day => ("(date - DATE '1970-01-01')::BIGINT, ", "imported_visitors"),
            ImportGrouping::Month => ("(year(date) * 12 + month(date) - 1)::BIGINT, ", "imported_visitors"),
            ImportGrouping::Dim(ImportDim::Page | ImportDim::Source) => ("value, ", "imported_breakdowns"),
            ImportGrouping::Dim(_) => ("nullif(value, ''), ", "imported_breakdowns"),
        };
        sql.push(key);
        sql.push(&format!(
            "sum(visitors)::BIGINT, sum(pageviews)::BIGINT, sum(visits)::BIGINT, sum(bounces)::BIGINT, \
             sum(visit_duration)::BIGINT FROM {table} WHERE site_id = "
        ))
        .param(Value::UInt(site_id))
        .push(" AND date >= ")
        .param(date_value(period.first_date))
        .push(" AND date <= ")
        .param(date_value(period.last_date));
        if let ImportGrouping::Dim(d) = grouping {
            sql.push(" AND dimension = ").text_param(d.as_str());
        }
        sql.push(" AND (date - DATE '1970-01-01') NOT IN (SELECT day FROM native)");
        if !key.is_empty() {
            sql.push(" GROUP BY ALL");
        }
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
        let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
        let n = usize::from(!key.is_empty());
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(internal)? {
            let totals = super::reports::totals_at(row, n)?;
            if n == 0 && totals == Totals::default() {
                continue;
            }
            let dimensions = match grouping {
                ImportGrouping::Total => vec![],
                ImportGrouping::Day => {
                    vec![Cell::Text(bucket_label(row.get(0).map_err(internal)?, TimeGrain::Day, period))]
                }
                ImportGrouping::Month => {
                    vec![Cell::Text(bucket_label(row.get(0).map_err(internal)?, TimeGrain::Month, period))]
                }
                ImportGrouping::Dim(_) => vec![match row.get::<_, Option<String>>(0).map_err(internal)? {
                    Some(s) => Cell::Text(s),
                    None => Cell::Null,
                }],
            };
            out.push(TotalsRow { dimensions, totals });
        }
        Ok(out)
    }
}

crate::conformance_tests!(import_store: || DuckImports::new(crate::adapters::duckdb::memory_connection()));
