//! E-mail report subscriptions in DuckDB.

use duckdb::params;

use super::{all_rows, changed, internal};
use crate::domain::lifecycle::Frequency;
use crate::ports::lifecycle::{Subscription, SubscriptionStore};
use crate::ports::store::StoreResult;

on_own_connection!(
    /// Subscription storage on its own connection.
    DuckSubscriptions
);

impl SubscriptionStore for DuckSubscriptions {
    fn subscriptions(&self, site_id: Option<u32>) -> StoreResult<Vec<Subscription>> {
        let sql = "SELECT site_id, email, frequency, last_period FROM email_subscriptions
                   WHERE ?::UINTEGER IS NULL OR site_id = ? ORDER BY site_id, email, frequency";
        let rows = all_rows(&self.conn(), sql, params![site_id, site_id], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(site_id, email, f, last_period)| {
                Frequency::parse(&f).map(|frequency| Subscription { site_id, email, frequency, last_period })
            })
            .collect())
    }

    fn subscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> StoreResult<bool> {
        changed(
            &self.conn(),
            "INSERT INTO email_subscriptions (site_id, email, frequency) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            params![site_id, email, frequency.as_str()],
        )
    }

    fn unsubscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> StoreResult<bool> {
        changed(
            &self.conn(),
            "DELETE FROM email_subscriptions WHERE site_id = ? AND email = ? AND frequency = ?",
            params![site_id, email, frequency.as_str()],
        )
    }

    fn mark_sent(&self, site_id: u32, email: &str, frequency: Frequency, period: &str) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE email_subscriptions SET last_period = ? WHERE site_id = ? AND email = ? AND frequency = ?",
                params![period, site_id, email, frequency.as_str()],
            )
            .map(|_| ())
            .map_err(internal)
    }
}

crate::conformance_tests!(subscription_store: || DuckSubscriptions::new(crate::adapters::duckdb::memory_connection()));
