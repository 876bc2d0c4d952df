//! Goals and funnels in DuckDB.

use duckdb::params;
use serde_json::{Value, json};

use super::{all_rows, changed, internal};
use crate::domain::query::{Goal, GoalKind};
use crate::ports::reports::{Funnel, GoalRepository};
use crate::ports::store::StoreError;

on_own_connection!(
    /// Goal and funnel repository on its own connection.
    DuckGoals
);

fn kind_from(page: Option<String>, event: Option<String>) -> Option<GoalKind> {
    match (page, event) {
        (Some(p), _) => Some(GoalKind::Page(p)),
        (None, Some(e)) => Some(GoalKind::Event(e)),
        _ => None,
    }
}

fn steps_to_json(steps: &[GoalKind]) -> String {
    Value::Array(
        steps
            .iter()
            .map(|s| match s {
                GoalKind::Page(p) => json!({"page": p}),
                GoalKind::Event(e) => json!({"event": e}),
            })
            .collect(),
    )
    .to_string()
}

fn steps_from_json(s: &str) -> Vec<GoalKind> {
    serde_json::from_str::<Vec<Value>>(s)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| {
            let page = v.get("page").and_then(Value::as_str).map(str::to_string);
            let event = v.get("event").and_then(Value::as_str).map(str::to_string);
            kind_from(page, event)
        })
        .collect()
}

impl GoalRepository for DuckGoals {
    fn goals(&self, site_id: u32) -> Result<Vec<Goal>, StoreError> {
        let sql = "SELECT id, display_name, page_path, event_name, currency FROM goals WHERE site_id = ? ORDER BY id";
        let rows = all_rows(&self.conn(), sql, [site_id], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, display_name, page, event, currency)| {
                kind_from(page, event).map(|kind| Goal { id, display_name, kind, currency })
            })
            .collect())
    }

    fn add_goal(
        &self,
        site_id: u32,
        display_name: &str,
        kind: &GoalKind,
        currency: Option<&str>,
    ) -> Result<Goal, StoreError> {
        let (page, event) = kind.fields();
        let id: u32 = self
            .conn()
            .query_row(
                "INSERT INTO goals (site_id, display_name, page_path, event_name, currency) VALUES (?, ?, ?, ?, ?)
                 RETURNING id",
                params![site_id, display_name, page, event, currency],
                |r| r.get(0),
            )
            .map_err(internal)?;
        let (display_name, currency) = (display_name.to_string(), currency.map(str::to_string));
        Ok(Goal { id, display_name, kind: kind.clone(), currency })
    }

    fn delete_goal(&self, site_id: u32, goal_id: u32) -> Result<bool, StoreError> {
        changed(&self.conn(), "DELETE FROM goals WHERE site_id = ? AND id = ?", params![site_id, goal_id])
    }

    fn funnels(&self, site_id: u32) -> Result<Vec<Funnel>, StoreError> {
        let sql = "SELECT id, name, steps FROM funnels WHERE site_id = ? ORDER BY id";
        let rows = all_rows(&self.conn(), sql, [site_id], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        Ok(rows.into_iter().map(|(id, name, steps)| Funnel { id, name, steps: steps_from_json(&steps) }).collect())
    }

    fn add_funnel(&self, site_id: u32, name: &str, steps: &[GoalKind]) -> Result<Funnel, StoreError> {
        let id: u32 = self
            .conn()
            .query_row(
                "INSERT INTO funnels (site_id, name, steps) VALUES (?, ?, ?) RETURNING id",
                params![site_id, name, steps_to_json(steps)],
                |r| r.get(0),
            )
            .map_err(internal)?;
        Ok(Funnel { id, name: name.to_string(), steps: steps.to_vec() })
    }

    fn delete_funnel(&self, site_id: u32, funnel_id: u32) -> Result<bool, StoreError> {
        changed(&self.conn(), "DELETE FROM funnels WHERE site_id = ? AND id = ?", params![site_id, funnel_id])
    }
}

#[cfg(test)]
mod conformance {
    #[test]
    fn passes_the_goal_repository_conformance_suite() {
        crate::ports::conformance::goal_repository(|| super::DuckGoals::new(super::super::memory_connection()));
    }
}
