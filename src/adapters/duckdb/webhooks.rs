//! Webhooks and their delivery outbox in DuckDB.

use duckdb::{OptionalExt, Row, params};

use super::{all_rows, internal};
use crate::domain::webhooks::{BodyFormat, WebhookEvent};
use crate::ports::store::StoreResult;
use crate::ports::webhooks::{Attempt, Delivery, DeliveryState, NewWebhook, Webhook, WebhookStore};

on_own_connection!(
    /// Webhook store on its own connection.
    DuckWebhooks
);

const HOOK_COLS: &str = "id, site_id, url, events, format, secret, goal_cursor, last_daily, last_weekly, created_at";
const DELIVERY_COLS: &str = "id, webhook_id, site_id, event, data, state, attempts, next_at, last_status, last_error, \
                             created_at, last_attempt_at";

fn hook_row(r: &Row<'_>) -> duckdb::Result<Webhook> {
    let events: String = r.get(3)?;
    let format: String = r.get(4)?;
    Ok(Webhook {
        id: r.get(0)?,
        site_id: r.get(1)?,
        url: r.get(2)?,
        events: events.split(',').filter_map(WebhookEvent::parse).collect(),
        format: BodyFormat::parse(&format).unwrap_or(BodyFormat::Generic),
        secret: r.get(5)?,
        goal_cursor: r.get(6)?,
        last_daily: r.get(7)?,
        last_weekly: r.get(8)?,
        created_at: r.get(9)?,
    })
}

fn delivery_row(r: &Row<'_>) -> duckdb::Result<Delivery> {
    let state: String = r.get(5)?;
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        site_id: r.get(2)?,
        event: r.get(3)?,
        data: r.get(4)?,
        state: DeliveryState::parse(&state),
        attempts: r.get(6)?,
        next_at: r.get(7)?,
        last_status: r.get(8)?,
        last_error: r.get(9)?,
        created_at: r.get(10)?,
        last_attempt_at: r.get(11)?,
    })
}

impl WebhookStore for DuckWebhooks {
    fn webhooks(&self, site_id: Option<u32>) -> StoreResult<Vec<Webhook>> {
        let sql = format!("SELECT {HOOK_COLS} FROM webhooks WHERE ? IS NULL OR site_id = ? ORDER BY id");
        all_rows(&self.conn(), &sql, params![site_id, site_id], hook_row)
    }

    fn add_webhook(&self, h: &NewWebhook) -> StoreResult<Webhook> {
        let sql = format!(
            "INSERT INTO webhooks (site_id, url, events, format, secret, goal_cursor, last_daily, last_weekly, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {HOOK_COLS}"
        );
        let events = h.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",");
        let args =
            params![h.site_id, h.url, events, h.format.as_str(), h.secret, h.now, h.last_daily, h.last_weekly, h.now];
        self.conn().query_row(&sql, args, hook_row).map_err(internal)
    }

    fn delete_webhook(&self, site_id: u32, id: u32) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        let n =
            tx.execute("DELETE FROM webhooks WHERE site_id = ? AND id = ?", params![site_id, id]).map_err(internal)?;
        tx.execute("DELETE FROM webhook_deliveries WHERE site_id = ? AND webhook_id = ?", params![site_id, id])
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(n > 0)
    }

    fn set_goal_cursor(&self, id: u32, micros: i64) -> StoreResult<()> {
        self.conn()
            .execute("UPDATE webhooks SET goal_cursor = ? WHERE id = ?", params![micros, id])
            .map_err(internal)?;
        Ok(())
    }

    fn set_report_sent(&self, id: u32, daily: bool, period: &str) -> StoreResult<()> {
        let column = if daily { "last_daily" } else { "last_weekly" };
        self.conn()
            .execute(&format!("UPDATE webhooks SET {column} = ? WHERE id = ?"), params![period, id])
            .map_err(internal)?;
        Ok(())
    }

    fn enqueue(&self, webhook_id: u32, site_id: u32, event: &str, data: &str, now: i64) -> StoreResult<u64> {
        self.conn()
            .query_row(
                "INSERT INTO webhook_deliveries (webhook_id, site_id, event, data, state, next_at, created_at)
                 VALUES (?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
                params![webhook_id, site_id, event, data, now, now],
                |r| r.get(0),
            )
            .map_err(internal)
    }

    fn due(&self, now: i64, limit: usize) -> StoreResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE state = 'pending' AND next_at <= ?
             ORDER BY next_at, id LIMIT ?"
        );
        all_rows(&self.conn(), &sql, params![now, limit as u64], delivery_row)
    }

    fn record_attempt(&self, id: u64, a: &Attempt) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?, next_at = ?, last_status = ?,
                 last_error = ?, last_attempt_at = ? WHERE id = ?",
                params![a.state.as_str(), a.next_at, a.status, a.error, a.at, id],
            )
            .map_err(internal)?;
        Ok(())
    }

    fn deliveries(&self, site_id: u32, webhook_id: Option<u32>, limit: usize) -> StoreResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE site_id = ? AND (? IS NULL OR webhook_id = ?)
             ORDER BY id DESC LIMIT ?"
        );
        all_rows(&self.conn(), &sql, params![site_id, webhook_id, webhook_id, limit as u64], delivery_row)
    }

    fn redeliver(&self, site_id: u32, delivery_id: u64, now: i64) -> StoreResult<Option<u64>> {
        self.conn()
            .query_row(
                "INSERT INTO webhook_deliveries (webhook_id, site_id, event, data, state, next_at, created_at)
                 SELECT webhook_id, site_id, event, data, 'pending', ?, ? FROM webhook_deliveries
                 WHERE site_id = ? AND id = ? RETURNING id",
                params![now, now, site_id, delivery_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal)
    }
}

crate::conformance_tests!(webhook_store: || DuckWebhooks::new(crate::adapters::duckdb::memory_connection()));
