//! Funnels: visitors completing ordered steps within one visit, in one SQL statement.

use duckdb::Connection;
use duckdb::types::Value;

use super::internal;
use super::sql::{Sql, goal_condition};
use crate::domain::query::{Goal, GoalKind, Period};
use crate::ports::store::StoreError;

/// Visitors completing each funnel step, in order, within one visit.
///
/// Step `i > 0` is the earliest row of step `i` after the visit's step `i - 1`; the first step
/// needs no grouping for its count (any row of it counts), and is grouped per visit only for
/// the visits that have a row of the second step. Each step reads its own rows: no
/// intermediate table of every row completing some step.
pub fn funnel(conn: &Connection, site_id: u32, period: &Period, steps: &[GoalKind]) -> Result<Vec<u64>, StoreError> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let goals: Vec<Goal> = steps
        .iter()
        .map(|step| Goal { id: 0, display_name: String::new(), kind: step.clone(), currency: None })
        .collect();
    // The period's rows of step `i`.
    let rows = |sql: &mut Sql, i: usize| {
        sql.site_period(site_id, period).push(" AND ");
        goal_condition(sql, &goals[i]);
    };
    let mut sql = Sql::default();
    sql.push("WITH s0 AS (SELECT visit_id, any_value(visitor_id) AS visitor_id, min(ts) AS t FROM events WHERE ");
    rows(&mut sql, 0);
    if goals.len() > 1 {
        sql.push(" AND visit_id IN (SELECT visit_id FROM events WHERE ");
        rows(&mut sql, 1);
        sql.push(")");
    }
    sql.push(" GROUP BY visit_id)");
    for i in 1..goals.len() {
        sql.push(&format!(
            ", s{i} AS (SELECT e.visit_id, any_value(p.visitor_id) AS visitor_id, min(e.ts) AS t FROM events e \
             JOIN s{} p ON e.visit_id = p.visit_id AND e.ts > p.t WHERE ",
            i - 1
        ));
        rows(&mut sql, i);
        sql.push(" GROUP BY e.visit_id)");
    }
    sql.push(" SELECT [(SELECT count(DISTINCT visitor_id) FROM events WHERE ");
    rows(&mut sql, 0);
    sql.push(")");
    for i in 1..goals.len() {
        sql.push(&format!(", (SELECT count(DISTINCT visitor_id) FROM s{i})"));
    }
    sql.push("]::UBIGINT[]");
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
