//! Alert settings, raised alerts and the recent-traffic figures they read, in DuckDB.

use duckdb::types::Value;
use duckdb::{OptionalExt, params, params_from_iter};

use super::sql::ts_param;
use super::sql::{Sql, goal_condition};
use super::{all_rows, internal};
use crate::domain::alerts::{Alert, AlertKind, AlertSettings};
use crate::domain::query::Goal;
use crate::ports::alerts::{AlertStore, RaisedAlert, TrafficSignals};
use crate::ports::store::StoreResult;

on_own_connection!(
    /// Alert store and traffic signals on their own connection.
    DuckAlerts
);

impl AlertStore for DuckAlerts {
    fn settings(&self, site_id: u32) -> StoreResult<Option<AlertSettings>> {
        self.conn()
            .query_row(
                "SELECT enabled, spike_factor, drop_factor, min_pageviews, weeks, emails FROM alert_settings
                 WHERE site_id = ?",
                [site_id],
                |r| {
                    let emails: Value = r.get(5)?;
                    Ok(AlertSettings {
                        enabled: r.get(0)?,
                        spike_factor: r.get(1)?,
                        drop_factor: r.get(2)?,
                        min_pageviews: r.get(3)?,
                        weeks: r.get(4)?,
                        emails: match emails {
                            Value::List(l) => l
                                .into_iter()
                                .filter_map(|v| if let Value::Text(t) = v { Some(t) } else { None })
                                .collect(),
                            _ => Vec::new(),
                        },
                    })
                },
            )
            .optional()
            .map_err(internal)
    }

    fn save_settings(&self, site_id: u32, s: &AlertSettings) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        tx.execute("DELETE FROM alert_settings WHERE site_id = ?", [site_id]).map_err(internal)?;
        let emails = Value::List(s.emails.iter().cloned().map(Value::Text).collect());
        tx.execute(
            "INSERT INTO alert_settings (site_id, enabled, spike_factor, drop_factor, min_pageviews, weeks, emails)
             VALUES (?, ?, ?, ?, ?, ?, ?::VARCHAR[])",
            params![site_id, s.enabled, s.spike_factor, s.drop_factor, s.min_pageviews, s.weeks, emails],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)
    }

    fn record_alert(&self, a: &Alert, raised_at: i64) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO alerts (site_id, kind, from_us, to_us, pageviews, typical, raised_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![a.site_id, a.kind.as_str(), a.from, a.to, a.pageviews, a.typical, raised_at],
            )
            .map_err(internal)?;
        Ok(())
    }

    fn last_raised(&self, site_id: u32, kind: AlertKind) -> StoreResult<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT max(raised_at) FROM alerts WHERE site_id = ? AND kind = ?",
                params![site_id, kind.as_str()],
                |r| r.get(0),
            )
            .map_err(internal)
    }

    fn alerts(&self, site_id: u32, limit: usize) -> StoreResult<Vec<RaisedAlert>> {
        let sql = "SELECT kind, from_us, to_us, pageviews, typical, raised_at FROM alerts WHERE site_id = ?
                   ORDER BY raised_at DESC LIMIT ?";
        let rows = all_rows(&self.conn(), sql, params![site_id, limit as u64], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, from, to, pageviews, typical, raised_at)| {
                let kind = AlertKind::parse(&kind)?;
                Some(RaisedAlert { alert: Alert { site_id, kind, from, to, pageviews, typical }, raised_at })
            })
            .collect())
    }
}

impl TrafficSignals for DuckAlerts {
    fn pageviews(&self, site_id: u32, windows: &[(i64, i64)]) -> StoreResult<Vec<u64>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        // One scan: a count per window, the rows pruned to the windows' overall span.
        let mut sql = Sql::default();
        sql.push("SELECT ");
        for (i, (from, to)) in windows.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("count(*) FILTER (WHERE ts >= ")
                .param(ts_param(*from))
                .push(" AND ts < ")
                .param(ts_param(*to))
                .push(")");
        }
        let lo = windows.iter().map(|w| w.0).min().unwrap_or(0);
        let hi = windows.iter().map(|w| w.1).max().unwrap_or(0);
        sql.push(" FROM events WHERE name = 'pageview' AND site_id = ")
            .param(Value::UInt(site_id))
            .push(" AND ts >= ")
            .param(ts_param(lo))
            .push(" AND ts < ")
            .param(ts_param(hi));
        let n = windows.len();
        self.conn()
            .query_row(&sql.text, params_from_iter(sql.params), |r| (0..n).map(|i| r.get::<_, u64>(i)).collect())
            .map_err(internal)
    }

    fn conversions(&self, site_id: u32, goals: &[Goal], from: i64, to: i64) -> StoreResult<Vec<(u32, u64)>> {
        let mut out = Vec::new();
        for goal in goals {
            let mut sql = Sql::default();
            sql.push("SELECT count(*) FROM events WHERE site_id = ")
                .param(Value::UInt(site_id))
                .push(" AND ts >= ")
                .param(ts_param(from))
                .push(" AND ts < ")
                .param(ts_param(to))
                .push(" AND ");
            goal_condition(&mut sql, goal);
            let n: u64 =
                self.conn().query_row(&sql.text, params_from_iter(sql.params), |r| r.get(0)).map_err(internal)?;
            if n > 0 {
                out.push((goal.id, n));
            }
        }
        Ok(out)
    }

    fn first_event(&self, site_id: u32, since: i64) -> StoreResult<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT epoch_us(min(ts)) FROM events WHERE site_id = ? AND ts >= ?",
                params![site_id, ts_param(since)],
                |r| r.get(0),
            )
            .map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::GoalKind;

    #[test]
    fn passes_the_alert_store_conformance_suite() {
        crate::ports::conformance::alert_store(|| super::DuckAlerts::new(super::super::memory_connection()));
    }

    #[test]
    fn counts_pageviews_per_window_and_conversions_per_goal() {
        let signals = DuckAlerts::new(super::super::memory_connection());
        let insert = |secs: i64, site: u32, name: &str, path: &str| {
            signals
                .conn()
                .execute(
                    "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname) \
                     VALUES (make_timestamp(?), ?, ?, 1, 1, ?)",
                    params![secs * 1_000_000, site, name, path],
                )
                .unwrap();
        };
        for (secs, name, path) in [(10, "pageview", "/a"), (20, "pageview", "/buy"), (30, "Signup", "/a")] {
            insert(secs, 7, name, path);
        }
        insert(15, 8, "pageview", "/buy");
        let s = |x: i64| x * 1_000_000;
        assert_eq!(signals.pageviews(7, &[(s(0), s(15)), (s(15), s(40)), (s(40), s(50))]).unwrap(), [1, 1, 0]);
        let goals = [
            Goal { id: 1, display_name: "Buy".into(), kind: GoalKind::Page("/buy".into()), currency: None },
            Goal { id: 2, display_name: "Signup".into(), kind: GoalKind::Event("Signup".into()), currency: None },
            Goal { id: 3, display_name: "None".into(), kind: GoalKind::Event("Nope".into()), currency: None },
        ];
        assert_eq!(signals.conversions(7, &goals, s(0), s(60)).unwrap(), [(1, 1), (2, 1)]);
        assert_eq!(signals.conversions(7, &goals, s(25), s(60)).unwrap(), [(2, 1)]);
        assert_eq!(signals.first_event(7, s(12)).unwrap(), Some(s(20)));
        assert_eq!(signals.first_event(9, 0).unwrap(), None);
    }
}
