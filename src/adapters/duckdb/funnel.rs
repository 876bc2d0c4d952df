//! Funnels: visitors completing ordered steps within one visit, in one SQL statement.

use duckdb::Connection;
use duckdb::types::Value;

use super::internal;
use super::sql::{Sql, goal_condition};
use crate::domain::query::{Goal, GoalKind, Period};
use crate::ports::store::StoreError;

/// Visitors completing each funnel step, in order, within one visit.
pub fn funnel(conn: &Connection, site_id: u32, period: &Period, steps: &[GoalKind]) -> Result<Vec<u64>, StoreError> {
    let mut sql = Sql::default();
    let goals: Vec<Goal> = steps
        .iter()
        .map(|step| Goal { id: 0, display_name: String::new(), kind: step.clone(), currency: None })
        .collect();
    sql.push("WITH base AS (SELECT visit_id, visitor_id, ts, name, pathname FROM events WHERE ")
        .site_period(site_id, period)
        .push(" AND (");
    // Only rows completing some step take part: the joins below see a fraction of the period.
    for (i, goal) in goals.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        goal_condition(&mut sql, goal);
    }
    sql.push("))");
    for (i, goal) in goals.iter().enumerate() {
        if i == 0 {
            sql.push(", s0 AS (SELECT visit_id, any_value(visitor_id) AS visitor_id, min(ts) AS t FROM base WHERE ");
            goal_condition(&mut sql, goal);
            sql.push(" GROUP BY visit_id)");
        } else {
            // The earliest completion of this step after the previous step's.
            sql.push(&format!(
                ", s{i} AS (SELECT b.visit_id, any_value(p.visitor_id) AS visitor_id, min(b.ts) AS t FROM base b \
                 JOIN s{} p ON b.visit_id = p.visit_id AND b.ts > p.t WHERE ",
                i - 1
            ));
            goal_condition(&mut sql, goal);
            sql.push(" GROUP BY b.visit_id)");
        }
    }
    let counts: Vec<String> =
        (0..steps.len()).map(|i| format!("(SELECT count(DISTINCT visitor_id) FROM s{i})")).collect();
    sql.push(&format!(" SELECT [{}]::UBIGINT[]", counts.join(", ")));
    // Goal conditions use plain column names; only `b` (base) has `name` and `pathname`.
    let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
    let list: Value = stmt.query_row(duckdb::params_from_iter(sql.params.iter()), |r| r.get(0)).map_err(internal)?;
    match list {
        Value::List(items) => Ok(items
            .into_iter()
            .map(|v| match v {
                Value::UBigInt(n) => n,
                Value::BigInt(n) => n as u64,
                _ => 0,
            })
            .collect()),
        other => Err(StoreError::Internal(format!("unexpected funnel result {other:?}"))),
    }
}
