//! Versioned schema migrations, applied in order inside one transaction each.

/// (version, SQL of `migrations/NN_*.sql`). Append only: a new migration is a new file and a line at
/// the end; never edit a released one.
pub const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/01_sites_events.sql")),
    (2, include_str!("migrations/02_goals_funnels.sql")),
    (3, include_str!("migrations/03_visit_columns.sql")),
    (4, include_str!("migrations/04_accounts.sql")),
    // Version 4 is taken by the accounts work; versions apply in ascending order.
    (5, include_str!("migrations/05_imports_subscriptions.sql")),
    (6, include_str!("migrations/06_plausible_names.sql")),
    (7, include_str!("migrations/07_revenue_engagements.sql")),
    (8, include_str!("migrations/08_segments.sql")),
    (9, include_str!("migrations/09_user_language.sql")),
    (10, include_str!("migrations/10_two_factor.sql")),
    (11, include_str!("migrations/11_external_identities.sql")),
    (12, include_str!("migrations/12_crawler_fetches.sql")),
    (13, include_str!("migrations/13_annotations.sql")),
    (14, include_str!("migrations/14_webhooks.sql")),
    (15, include_str!("migrations/15_alerts.sql")),
    (16, include_str!("migrations/16_page_gap.sql")),
    (17, include_str!("migrations/17_passkeys.sql")),
    // 18 is the query helper's (rollups); versions apply in ascending order.
    (19, include_str!("migrations/19_visitor_numbers.sql")),
    (20, include_str!("migrations/20_visit_ends.sql")),
    (21, include_str!("migrations/21_day_totals.sql")),
    (22, include_str!("migrations/22_day_dims.sql")),
    (23, include_str!("migrations/23_page_gap_seconds.sql")),
    (24, include_str!("migrations/24_ms_times.sql")),
];

#[cfg(test)]
mod tests {
    use crate::domain::plausible_names::{BROWSERS, MOBILE_APPS, OPERATING_SYSTEMS};

    /// An in-memory database migrated up to `version`, holding `rows` (an `INSERT`) stored just
    /// before it.
    fn migrated_over(version: i32, rows: &str) -> duckdb::Connection {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        for (_, sql) in super::MIGRATIONS.iter().filter(|(v, _)| *v < version) {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(rows).unwrap();
        conn.execute_batch(super::MIGRATIONS.iter().find(|(v, _)| *v == version).expect("the migration").1).unwrap();
        conn
    }

    #[test]
    fn migration_6_renames_every_pair_of_the_domain() {
        let sql = super::MIGRATIONS.iter().find(|(v, _)| *v == 6).map(|(_, sql)| *sql).expect("migration 6");
        for (from, to) in BROWSERS.iter().chain(OPERATING_SYSTEMS) {
            assert!(sql.contains(&format!("('{from}', '{to}')")), "migration 6 misses {from} -> {to}");
        }
        for app in MOBILE_APPS {
            assert!(sql.contains(&format!("'{app}'")), "migration 6 misses the app {app}");
        }
    }

    #[test]
    fn migration_6_rewrites_rows_stored_with_uap_names() {
        let conn = migrated_over(
            6,
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname, browser, browser_version, os, os_version, device)
             VALUES (now(), 1, 'pageview', 1, 1, '/', 'Mobile Safari', '17.5', 'iOS', '17.5', 'Tablet'),
                    (now(), 1, 'pageview', 2, 2, '/', 'Chrome Mobile WebView', '131.0', 'Android', '14', 'Mobile'),
                    (now(), 1, 'pageview', 3, 3, '/', 'Firefox', '133.0', 'Linux', NULL, 'Desktop'),
                    (now(), 1, 'pageview', 4, 4, '/', 'Chrome', '131.0', 'Mac OS X', '10.15', 'Desktop'),
                    (now(), 1, 'pageview', 5, 5, '/', NULL, NULL, NULL, NULL, 'Desktop')",
        );
        let mut stmt = conn.prepare("SELECT browser, browser_version, os FROM events ORDER BY visitor_id").unwrap();
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            rows,
            vec![
                (s("Safari"), s("17.5"), s("iPadOS")),
                (s("Mobile App"), None, s("Android")),
                (s("Firefox"), s("133.0"), s("GNU/Linux")),
                (s("Chrome"), s("131.0"), s("Mac")),
                (None, None, None),
            ]
        );
    }

    #[test]
    fn migration_23_keeps_page_gaps_in_whole_seconds() {
        let conn = migrated_over(
            23,
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname, prev_page, page_gap_ms)
             VALUES (now(), 1, 'pageview', 1, 1, '/a', '/', 1499), (now(), 1, 'pageview', 2, 2, '/b', '/', 1500),
                    (now(), 1, 'pageview', 3, 3, '/c', NULL, 0), (now(), 1, 'pageview', 4, 4, '/d', NULL, NULL),
                    (now(), 1, 'pageview', 5, 5, '/e', '/', 61_999)",
        );
        let mut stmt = conn.prepare("SELECT page_gap_s FROM events ORDER BY visitor_id").unwrap();
        let gaps: Vec<Option<u32>> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        // Rounded to the nearest second; NULL (stored before migration 16) stays NULL.
        assert_eq!(gaps, vec![Some(1), Some(2), Some(0), None, Some(62)]);
    }

    #[test]
    fn migration_24_keeps_event_times_in_milliseconds() {
        let conn = migrated_over(
            24,
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname)
             VALUES (TIMESTAMP '2024-03-05 10:00:00.123456', 1, 'pageview', 1, 1, '/')",
        );
        let (kind, micros, same_day): (String, i64, i64) = conn
            .query_row(
                "SELECT typeof(ts), epoch_us(ts), count(*) OVER () FROM events \
                 WHERE ts >= TIMESTAMP '2024-03-05' AND ts < TIMESTAMP '2024-03-06'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((kind.as_str(), same_day), ("TIMESTAMP_MS", 1));
        assert_eq!(micros, 1_709_632_800_123_000, "the sub-millisecond digits are dropped");
    }
}
