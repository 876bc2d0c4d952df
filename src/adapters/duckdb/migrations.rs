//! Versioned schema migrations, applied in order inside one transaction each.

/// (version, SQL). Append only: never edit a released migration.
pub const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
CREATE SEQUENCE site_ids START 1;
CREATE TABLE sites (
    id             UINTEGER PRIMARY KEY DEFAULT nextval('site_ids'),
    domain         VARCHAR NOT NULL UNIQUE,
    hostnames      VARCHAR[] NOT NULL DEFAULT [],
    timezone       VARCHAR NOT NULL DEFAULT 'UTC',
    honor_dnt      BOOLEAN NOT NULL DEFAULT true,
    honor_gpc      BOOLEAN NOT NULL DEFAULT true,
    excluded_ips   VARCHAR[] NOT NULL DEFAULT [],
    retention_days INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE salts (
    day  INTEGER PRIMARY KEY,
    salt BLOB NOT NULL
);
-- One wide row per pageview or custom event, appended in time order. No index on purpose:
-- zonemaps on ts prune scans, and ART indexes slow appends and cost memory.
CREATE TABLE events (
    ts              TIMESTAMP NOT NULL,
    site_id         UINTEGER NOT NULL,
    name            VARCHAR NOT NULL,
    visitor_id      UBIGINT NOT NULL,
    visit_id        UBIGINT NOT NULL,
    hostname        VARCHAR,
    pathname        VARCHAR NOT NULL,
    referrer        VARCHAR,
    referrer_source VARCHAR,
    channel         VARCHAR,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    utm_content     VARCHAR,
    utm_term        VARCHAR,
    country         VARCHAR,
    region          VARCHAR,
    city            VARCHAR,
    browser         VARCHAR,
    browser_version VARCHAR,
    os              VARCHAR,
    os_version      VARCHAR,
    device          VARCHAR,
    screen          VARCHAR,
    language        VARCHAR,
    props           MAP(VARCHAR, VARCHAR)
);
CREATE TABLE web_vitals (
    ts              TIMESTAMP NOT NULL,
    site_id         UINTEGER NOT NULL,
    visitor_id      UBIGINT NOT NULL,
    metric          VARCHAR NOT NULL,
    value           DOUBLE NOT NULL,
    rating          VARCHAR NOT NULL,
    pathname        VARCHAR NOT NULL,
    navigation_type VARCHAR,
    device          VARCHAR,
    country         VARCHAR
);
"#,
    ),
    (
        2,
        r#"
CREATE SEQUENCE goal_ids START 1;
CREATE TABLE goals (
    id           UINTEGER PRIMARY KEY DEFAULT nextval('goal_ids'),
    site_id      UINTEGER NOT NULL,
    display_name VARCHAR NOT NULL,
    page_path    VARCHAR,
    event_name   VARCHAR,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE SEQUENCE funnel_ids START 1;
CREATE TABLE funnels (
    id         UINTEGER PRIMARY KEY DEFAULT nextval('funnel_ids'),
    site_id    UINTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    -- JSON list of {"page": pattern} / {"event": name}
    steps      VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"#,
    ),
    (
        3,
        r#"
-- Visit attributes and running visit statistics on every event (see domain::event::VisitStats):
-- the dashboard's visit metrics become sums instead of a GROUP BY over visits.
ALTER TABLE events ADD COLUMN entry_page VARCHAR;
ALTER TABLE events ADD COLUMN visit_start BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN bounce_delta TINYINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN duration_delta UINTEGER NOT NULL DEFAULT 0;
"#,
    ),
    (
        4,
        r#"
-- Accounts. Times are Unix microseconds. Secrets (sessions, tokens, share links, invites) are
-- stored as BLAKE3 digests, passwords as argon2id hashes. No unique indexes: uniqueness is
-- checked under the account store's lock, and small tables are scanned.
CREATE SEQUENCE user_ids START 1;
CREATE TABLE users (
    id            UINTEGER NOT NULL DEFAULT nextval('user_ids'),
    email         VARCHAR NOT NULL,
    name          VARCHAR NOT NULL DEFAULT '',
    password_hash VARCHAR NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT false,
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT
);
CREATE TABLE memberships (
    user_id UINTEGER NOT NULL,
    site_id UINTEGER NOT NULL,
    role    VARCHAR NOT NULL
);
CREATE TABLE sessions (
    digest     BLOB NOT NULL,
    user_id    UINTEGER,
    share_id   UINTEGER,
    expires_at BIGINT NOT NULL
);
CREATE SEQUENCE token_ids START 1;
CREATE TABLE api_tokens (
    id           UINTEGER NOT NULL DEFAULT nextval('token_ids'),
    digest       BLOB NOT NULL,
    user_id      UINTEGER NOT NULL,
    name         VARCHAR NOT NULL,
    scope        VARCHAR NOT NULL,
    site_ids     VARCHAR NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE SEQUENCE share_ids START 1;
CREATE TABLE share_links (
    id            UINTEGER NOT NULL DEFAULT nextval('share_ids'),
    digest        BLOB NOT NULL,
    site_id       UINTEGER NOT NULL,
    name          VARCHAR NOT NULL DEFAULT '',
    password_hash VARCHAR,
    created_at    BIGINT NOT NULL
);
CREATE TABLE invites (
    digest     BLOB NOT NULL,
    email      VARCHAR NOT NULL,
    is_admin   BOOLEAN NOT NULL,
    site_id    UINTEGER,
    role       VARCHAR,
    created_by UINTEGER,
    expires_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    happened_at BIGINT NOT NULL,
    actor  VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    ip     VARCHAR NOT NULL
);
"#,
    ),
    // Version 4 is taken by the accounts work; versions apply in ascending order.
    (
        5,
        r#"
-- History brought in from other tools, kept apart from native events: daily totals per site ...
CREATE TABLE imported_visitors (
    site_id        UINTEGER NOT NULL,
    import_id      UINTEGER NOT NULL,
    date           DATE NOT NULL,
    visitors       BIGINT NOT NULL,
    visits         BIGINT NOT NULL,
    pageviews      BIGINT NOT NULL,
    bounces        BIGINT NOT NULL,
    -- total seconds of all visits that day (Plausible's convention)
    visit_duration BIGINT NOT NULL
);
-- ... and daily breakdowns: dimension is page, source, country, device, browser or os.
CREATE TABLE imported_breakdowns (
    site_id        UINTEGER NOT NULL,
    import_id      UINTEGER NOT NULL,
    date           DATE NOT NULL,
    dimension      VARCHAR NOT NULL,
    value          VARCHAR NOT NULL,
    visitors       BIGINT NOT NULL,
    visits         BIGINT NOT NULL,
    pageviews      BIGINT NOT NULL,
    bounces        BIGINT NOT NULL,
    visit_duration BIGINT NOT NULL
);
CREATE SEQUENCE import_ids START 1;
CREATE TABLE imports (
    id          UINTEGER PRIMARY KEY DEFAULT nextval('import_ids'),
    site_id     UINTEGER NOT NULL,
    source      VARCHAR NOT NULL,
    first_date  DATE,
    last_date   DATE,
    days        INTEGER NOT NULL,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Email report subscriptions by address (to be tied to user accounts); last_period remembers
-- the last period sent so a restart neither skips nor repeats a report.
CREATE TABLE email_subscriptions (
    site_id     UINTEGER NOT NULL,
    email       VARCHAR NOT NULL,
    frequency   VARCHAR NOT NULL,
    last_period VARCHAR,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (site_id, email, frequency)
);
"#,
    ),
    (
        6,
        r#"
-- Plausible's browser and OS names (domain::plausible_names, applied at ingest from now on) for
-- rows stored before: same pairs as the domain's tables (a unit test below checks).
UPDATE events SET browser = m.to_name FROM (VALUES
    ('Mobile Safari', 'Safari'),
    ('Chrome Mobile', 'Chrome'),
    ('Chrome Mobile iOS', 'Chrome'),
    ('Chrome Frame', 'Chrome'),
    ('HeadlessChrome', 'Headless Chrome'),
    ('Firefox Mobile', 'Firefox'),
    ('Firefox iOS', 'Firefox'),
    ('Firefox Beta', 'Firefox'),
    ('Firefox Alpha', 'Firefox'),
    ('Edge', 'Microsoft Edge'),
    ('Edge Mobile', 'Microsoft Edge'),
    ('IE', 'Internet Explorer'),
    ('IE Mobile', 'Internet Explorer'),
    ('IE Large Screen', 'Internet Explorer'),
    ('Opera Mobile', 'Opera'),
    ('Opera Mini', 'Opera'),
    ('Opera Coast', 'Opera'),
    ('Opera Neon', 'Opera'),
    ('Samsung Internet', 'Samsung Browser'),
    ('DuckDuckGo Mobile', 'DuckDuckGo Privacy Browser'),
    ('MiuiBrowser', 'MIUI Browser'),
    ('HuaweiBrowser', 'Huawei Browser'),
    ('Whale', 'Whale Browser'),
    ('Amazon Silk', 'Mobile Silk'),
    ('QQ Browser Mobile', 'QQ Browser'),
    ('QQ Browser Mini', 'QQ Browser'),
    ('Baidu Explorer', 'Baidu Browser'),
    ('Seznam prohlížeč', 'Seznam Browser'),
    ('BlackBerry WebKit', 'BlackBerry Browser'),
    ('Yandex Browser Lite', 'Yandex Browser')
) m(from_name, to_name) WHERE events.browser = m.from_name;
UPDATE events SET browser = 'Mobile App', browser_version = NULL WHERE browser IN (
    'Chrome Mobile WebView', 'Mobile Safari UI/WKWebView', 'Facebook', 'Facebook Messenger', 'Instagram', 'LINE', 'Twitter', 'Pinterest', 'Snapchat', 'TikTok', 'WeChat', 'Kurio App', 'ESPN', 'TopBuzz'
);
UPDATE events SET os = 'iPadOS'
WHERE os = 'iOS' AND device = 'Tablet' AND coalesce(try_cast(split_part(os_version, '.', 1) AS INTEGER), 0) >= 13;
UPDATE events SET os = m.to_name FROM (VALUES
    ('Mac OS X', 'Mac'),
    ('Mac OS', 'Mac'),
    ('Linux', 'GNU/Linux'),
    ('Linux Mint', 'Mint'),
    ('WatchOS', 'watchOS'),
    ('ATV OS X', 'tvOS'),
    ('Symbian^3', 'Symbian OS'),
    ('Symbian^3 Anna', 'Symbian OS'),
    ('Symbian^3 Belle', 'Symbian OS')
) m(from_name, to_name) WHERE events.os = m.from_name;
"#,
    ),
    (
        7,
        r#"
-- Revenue an event carried (Plausible's Events API `revenue`), exact: amount and ISO 4217 code.
ALTER TABLE events ADD COLUMN revenue_amount DECIMAL(18,3);
ALTER TABLE events ADD COLUMN revenue_currency VARCHAR;
-- Engagement reports (Plausible's `engagement` events, hk.js on hide/leave/SPA navigation): one
-- row per report for the page view of (site, visit, pathname) before ts. Not events: they never
-- count as events, goals or the second event of a bounce. A page view's scroll depth is the
-- max of its reports' scroll_depth, its engaged time the sum of engaged_ms.
CREATE TABLE engagements (
    ts           TIMESTAMP NOT NULL,
    site_id      UINTEGER NOT NULL,
    visitor_id   UBIGINT NOT NULL,
    -- 0 when no visit was open (a report after the visit timed out)
    visit_id     UBIGINT NOT NULL,
    hostname     VARCHAR,
    pathname     VARCHAR NOT NULL,
    scroll_depth UTINYINT,
    engaged_ms   UINTEGER NOT NULL
);
"#,
    ),
    (
        8,
        r#"
-- Saved segments: named filter sets (Stats API v2 filters as JSON) of a site. owner_id is the
-- user who saved it; a personal segment is seen by its owner only.
CREATE SEQUENCE segment_ids START 1;
CREATE TABLE segments (
    id         UINTEGER NOT NULL DEFAULT nextval('segment_ids'),
    site_id    UINTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    personal   BOOLEAN NOT NULL,
    owner_id   UINTEGER,
    filters    VARCHAR NOT NULL,
    labels     VARCHAR NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- A share link may be limited to a (site-wide) segment.
ALTER TABLE share_links ADD COLUMN segment_id UINTEGER;
-- A revenue goal's currency (ISO 4217): its conversions' revenue is counted in it.
ALTER TABLE goals ADD COLUMN currency VARCHAR;
"#,
    ),
    (
        9,
        r#"
-- The language a user chose in the dashboard (en, de, fr, es, it, nl, pt-BR); e-mail reports to
-- their address are written in it. NULL: never chosen (reports in English).
ALTER TABLE users ADD COLUMN language VARCHAR;
"#,
    ),
    (
        10,
        r#"
-- Two-factor sign-in. A TOTP secret is stored sealed (XChaCha20-Poly1305 under the server's
-- key), never in clear; last_step is the newest 30-second step whose code was accepted (a code
-- is good once). Recovery codes are kept as digests.
CREATE TABLE totp_authenticators (
    user_id    UINTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    confirmed  BOOLEAN NOT NULL DEFAULT false,
    last_step  BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE recovery_codes (
    user_id UINTEGER NOT NULL,
    digest  BLOB NOT NULL,
    used_at BIGINT
);
-- Instance-wide settings changed at run time by instance administrators.
CREATE TABLE instance_policy (
    name  VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
"#,
    ),
    (
        11,
        r#"
-- Single sign-on: the OpenID Connect identity (issuer + subject) each account signs in with.
CREATE TABLE external_identities (
    issuer     VARCHAR NOT NULL,
    subject    VARCHAR NOT NULL,
    user_id    UINTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
"#,
    ),
    (
        12,
        r#"
-- AI crawler fetches, never visitor stats: one row per site, local day, crawler and page,
-- counted up as fetches arrive (from ingest or an imported access log).
CREATE TABLE crawler_fetches (
    site_id  UINTEGER NOT NULL,
    day      DATE NOT NULL,
    crawler  VARCHAR NOT NULL,
    operator VARCHAR NOT NULL,
    pathname VARCHAR NOT NULL,
    fetches  UBIGINT NOT NULL,
    PRIMARY KEY (site_id, day, crawler, pathname)
);
"#,
    ),
    (
        13,
        r#"
-- Dated notes on a site's charts; author is who wrote it (an e-mail, a token name, `cli`).
CREATE SEQUENCE annotation_ids START 1;
CREATE TABLE annotations (
    id         UINTEGER PRIMARY KEY DEFAULT nextval('annotation_ids'),
    site_id    UINTEGER NOT NULL,
    day        DATE NOT NULL,
    note       VARCHAR NOT NULL,
    author     VARCHAR NOT NULL,
    created_at BIGINT NOT NULL
);
"#,
    ),
    (
        14,
        r#"
-- Outbound webhooks of a site. events: comma-separated (goal.converted, report.daily, ...);
-- goal_cursor: goal conversions up to this instant (us) were batched already.
CREATE SEQUENCE webhook_ids START 1;
CREATE TABLE webhooks (
    id          UINTEGER NOT NULL DEFAULT nextval('webhook_ids'),
    site_id     UINTEGER NOT NULL,
    url         VARCHAR NOT NULL,
    events      VARCHAR NOT NULL,
    format      VARCHAR NOT NULL,
    secret      VARCHAR NOT NULL,
    goal_cursor BIGINT NOT NULL,
    last_daily  VARCHAR,
    last_weekly VARCHAR,
    created_at  BIGINT NOT NULL
);
-- The durable outbox and delivery log: one row per message, its last attempt's outcome.
-- data is the event's JSON; bodies are rendered and signed at each attempt.
CREATE SEQUENCE webhook_delivery_ids START 1;
CREATE TABLE webhook_deliveries (
    id              UBIGINT NOT NULL DEFAULT nextval('webhook_delivery_ids'),
    webhook_id      UINTEGER NOT NULL,
    site_id         UINTEGER NOT NULL,
    event           VARCHAR NOT NULL,
    data            VARCHAR NOT NULL,
    state           VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         BIGINT,
    last_status     INTEGER,
    last_error      VARCHAR,
    created_at      BIGINT NOT NULL,
    last_attempt_at BIGINT
);
"#,
    ),
    (
        15,
        r#"
-- Traffic alert thresholds of a site (no row: the defaults) and the alerts raised.
CREATE TABLE alert_settings (
    site_id       UINTEGER NOT NULL,
    enabled       BOOLEAN NOT NULL,
    spike_factor  DOUBLE NOT NULL,
    drop_factor   DOUBLE NOT NULL,
    min_pageviews UBIGINT NOT NULL,
    weeks         INTEGER NOT NULL,
    emails        VARCHAR[] NOT NULL
);
CREATE TABLE alerts (
    site_id   UINTEGER NOT NULL,
    kind      VARCHAR NOT NULL,
    from_us   BIGINT NOT NULL,
    to_us     BIGINT NOT NULL,
    pageviews UBIGINT NOT NULL,
    typical   DOUBLE NOT NULL,
    raised_at BIGINT NOT NULL
);
"#,
    ),
    (
        16,
        r#"
-- Time on page without a window over each visit: a pageview stores the visit's previous
-- pageview's page and the milliseconds since it (the time that page was viewed). Pageviews
-- always have a gap (0 on a visit's first); NULL marks rows stored before this migration.
ALTER TABLE events ADD COLUMN prev_page VARCHAR;
ALTER TABLE events ADD COLUMN page_gap_ms UINTEGER;
"#,
    ),
    (
        17,
        r#"
-- Passkeys (WebAuthn credentials), several per account; `credential` is the public key and
-- counters as the WebAuthn adapter serialised them (no secret: only the authenticator has one).
CREATE SEQUENCE passkey_ids START 1;
CREATE TABLE passkeys (
    id            UINTEGER NOT NULL DEFAULT nextval('passkey_ids'),
    user_id       UINTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    credential_id BLOB NOT NULL,
    credential    VARCHAR NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
"#,
    ),
];

#[cfg(test)]
mod tests {
    use crate::domain::plausible_names::{BROWSERS, MOBILE_APPS, OPERATING_SYSTEMS};

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
        let conn = duckdb::Connection::open_in_memory().unwrap();
        for (_, sql) in super::MIGRATIONS.iter().filter(|(v, _)| *v <= 5) {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname, browser, browser_version, os, os_version, device)
             VALUES (now(), 1, 'pageview', 1, 1, '/', 'Mobile Safari', '17.5', 'iOS', '17.5', 'Tablet'),
                    (now(), 1, 'pageview', 2, 2, '/', 'Chrome Mobile WebView', '131.0', 'Android', '14', 'Mobile'),
                    (now(), 1, 'pageview', 3, 3, '/', 'Firefox', '133.0', 'Linux', NULL, 'Desktop'),
                    (now(), 1, 'pageview', 4, 4, '/', 'Chrome', '131.0', 'Mac OS X', '10.15', 'Desktop'),
                    (now(), 1, 'pageview', 5, 5, '/', NULL, NULL, NULL, NULL, 'Desktop')",
        )
        .unwrap();
        let six = super::MIGRATIONS.iter().find(|(v, _)| *v == 6).unwrap().1;
        conn.execute_batch(six).unwrap();
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
}
