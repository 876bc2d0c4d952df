//! `hitkeep serve`: its flags, and their translation into the server's validated configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::DataDirArg;
use crate::adapters::duckdb::DuckSettings;
use crate::adapters::http::conn_limits::ConnLimits;
use crate::adapters::http::realtime::StreamLimits;
use crate::adapters::http::{HttpConfig, LifecycleConfig, SecretToken, TrustedProxies};
use crate::adapters::oidc::OidcSettings;
use crate::adapters::sealing::SealingKey;
use crate::adapters::smtp::SmtpMailer;
use crate::app::ServeConfig;
use crate::app::SsoConfig;
use crate::app::cluster::ClusterConfig;
use crate::domain::accounts::SiteCreation;
use crate::domain::recorder::BatchPolicy;
use crate::domain::revenue_rates::RevenueRates;
use crate::domain::sso::SsoPolicy;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HITKEEP_HTTP", default_value = "0.0.0.0:8080")]
    pub http: String,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Hits held in memory between the HTTP handlers and the writer; when full, ingest answers 503.
    #[arg(long, env = "HITKEEP_QUEUE_CAPACITY", default_value_t = 100_000)]
    pub queue_capacity: usize,
    /// The ingest queue (`--queue memory|nats://...`) and its NATS JetStream settings.
    #[command(flatten)]
    pub queue: crate::app::queue::QueueArgs,
    /// Most hits written in one batch.
    #[arg(long, env = "HITKEEP_BATCH_SIZE", default_value_t = 5_000)]
    pub batch_size: usize,
    /// Longest a hit waits for its batch to fill, in milliseconds (the crash-loss window).
    #[arg(long, env = "HITKEEP_BATCH_INTERVAL_MS", default_value_t = 100)]
    pub batch_interval_ms: u64,
    /// Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For / Forwarded /
    /// X-Real-IP headers are believed. Default: none, the socket address is the client.
    #[arg(long, env = "HITKEEP_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// Largest ingest request body in bytes; larger ones get 413.
    #[arg(long, env = "HITKEEP_MAX_BODY_BYTES", default_value_t = 16 * 1024)]
    pub max_body_bytes: usize,
    /// Largest `/api` request body in bytes (imports have their own limit); larger ones get 413.
    #[arg(long, env = "HITKEEP_MAX_API_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_api_body_bytes: usize,
    /// Seconds a client may take to send a request's head (its line and headers).
    #[arg(long, env = "HITKEEP_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send a request body.
    #[arg(long, env = "HITKEEP_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Seconds a connection may stay open with nothing sent either way (keep-alive idle).
    #[arg(long, env = "HITKEEP_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Most client connections open at once; beyond it new connections get 503 and are closed.
    #[arg(long, env = "HITKEEP_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// DuckDB memory limit (e.g. 512MB, 2GB); with the default, a full pass over a database larger
    /// than it (the first roll after an upgrade, an export) keeps the process under 1 GB.
    #[arg(long, env = "HITKEEP_DUCKDB_MEMORY_LIMIT", default_value = "512MB")]
    pub duckdb_memory_limit: String,
    /// DuckDB worker threads.
    #[arg(long, env = "HITKEEP_DUCKDB_THREADS", default_value_t = 2)]
    pub duckdb_threads: u16,
    /// WAL size that triggers a checkpoint (larger: more compact file, longer replay after a crash).
    #[arg(long, env = "HITKEEP_DUCKDB_CHECKPOINT_THRESHOLD", default_value = "256MB")]
    pub duckdb_checkpoint_threshold: String,
    /// A city-level MMDB (DB-IP City Lite or GeoLite2-City) for regions and cities; countries
    /// come from the embedded database either way.
    #[arg(long, env = "HITKEEP_CITY_DB")]
    pub city_db: Option<PathBuf>,
    /// Operator token: full `/api` access as `Authorization: Bearer <token>` without an account
    /// (for automation; people sign in, programs use API tokens made with `hitkeep token create`).
    #[arg(long, env = "HITKEEP_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Who may create sites: `admins` (instance administrators and the operator token) or
    /// `users` (also every signed-in user, who becomes the new site's owner). Either way a new
    /// site or hostname never takes a host another site counts, unless the caller manages it.
    #[arg(long, env = "HITKEEP_SITE_CREATION", default_value = "admins", value_parser = ["admins", "users"])]
    pub site_creation: String,
    /// The URL people reach this server at, e.g. `https://stats.example.com`: used in invitation
    /// and share links, and session cookies are `Secure` when it is https.
    #[arg(long, env = "HITKEEP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Most visits held open in memory (about 300 bytes each). Beyond it the least recently
    /// seen visits close early (counted in `hitkeep_visits_evicted_total`): memory stays bounded
    /// however many new visitors arrive within the 30-minute visit window.
    #[arg(long, env = "HITKEEP_MAX_OPEN_VISITS", default_value_t = 500_000)]
    pub max_open_visits: usize,
    /// Report periods with more events than this count unique visitors with HyperLogLog
    /// (about 1-2 % error, flagged in `meta.metric_warnings`); smaller ones count exactly.
    #[arg(long, env = "HITKEEP_EXACT_VISITORS_LIMIT", default_value_t = 1_000_000)]
    pub exact_visitors_limit: u64,
    /// Report answers kept in memory and reused until new data for their site is stored (at
    /// most a minute); identical queries asked at once run once. 0: no cache.
    #[arg(long, env = "HITKEEP_QUERY_CACHE_ENTRIES", default_value_t = 512)]
    pub query_cache_entries: usize,
    /// Longest a report query (stats, funnel, Web Vitals, realtime count) may run, in
    /// milliseconds; then it is cancelled and answers 503 with Retry-After. 0: no limit.
    #[arg(long, env = "HITKEEP_QUERY_TIMEOUT_MS", default_value_t = 10_000)]
    pub query_timeout_ms: u64,
    /// Exchange rates for revenue goals: a JSON (`{"USD": {"EUR": 0.92}}`) or CSV
    /// (`from,to,rate` lines) file. Revenue in other currencies is converted to a revenue goal's
    /// currency at these rates; without a rate it is never converted (mixed currencies are
    /// reported instead).
    #[arg(long, env = "HITKEEP_REVENUE_RATES")]
    pub revenue_rates: Option<PathBuf>,
    /// Most realtime streams (server-sent events) open on this server; beyond it, 503.
    #[arg(long, env = "HITKEEP_MAX_REALTIME_STREAMS", default_value_t = 1000)]
    pub max_realtime_streams: usize,
    /// Most realtime streams one caller (a user, an API token, a share link from one address)
    /// may hold open; beyond it, 429.
    #[arg(long, env = "HITKEEP_MAX_REALTIME_STREAMS_PER_CALLER", default_value_t = 4)]
    pub max_realtime_streams_per_caller: usize,
    /// How often an open realtime stream re-checks its credentials, in milliseconds (it also
    /// does on every update); a revoked share link or token ends its streams within this time.
    #[arg(long, env = "HITKEEP_REALTIME_RECHECK_MS", default_value_t = 30_000, hide = true)]
    pub realtime_recheck_ms: u64,
    /// Log level: error, warn, info, debug, trace (or a tracing filter).
    #[arg(long, env = "HITKEEP_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Log format.
    #[arg(long, env = "HITKEEP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds to wait for open requests on shutdown before closing them.
    #[arg(long, env = "HITKEEP_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
    /// This node's id in a cluster (a positive integer, unique per node). With `--peers` it turns
    /// cluster mode on: Raft elects the node that opens the database; the others forward to it.
    #[arg(long, env = "HITKEEP_NODE_ID")]
    pub node_id: Option<u64>,
    /// The base URL other nodes reach this node at, e.g. `http://10.0.0.5:8080`
    /// (default: this node's entry in `--peers`).
    #[arg(long, env = "HITKEEP_ADVERTISE")]
    pub advertise: Option<String>,
    /// Every cluster member as `id=URL`, comma-separated, e.g. `1=http://a:8080,2=http://b:8080,3=http://c:8080`.
    #[arg(long, env = "HITKEEP_PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Shared secret for the internal routes between nodes (`/_cluster/*`); at least 16 characters.
    #[arg(long, env = "HITKEEP_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: Option<String>,
    /// Hits a node keeps for the leader while it cannot hand them over (no leader during a
    /// failover); when full, ingest on that node answers 503.
    #[arg(long, env = "HITKEEP_FORWARD_QUEUE_CAPACITY", default_value_t = 100_000)]
    pub forward_queue_capacity: usize,
    /// Raft heartbeat interval in milliseconds.
    #[arg(long, env = "HITKEEP_RAFT_HEARTBEAT_MS", default_value_t = 150, hide = true)]
    pub raft_heartbeat_ms: u64,
    /// Raft election timeout range in milliseconds: a follower that hears no heartbeat for a
    /// random time in this range starts an election.
    #[arg(long, env = "HITKEEP_RAFT_ELECTION_MS", default_value = "600-1200", hide = true)]
    pub raft_election_ms: String,
    /// Archive events to Parquet before retention deletes them.
    #[arg(long, env = "HITKEEP_ARCHIVE")]
    pub archive: bool,
    /// Where archives go (default: <data-dir>/archive).
    #[arg(long, env = "HITKEEP_ARCHIVE_DIR")]
    pub archive_dir: Option<PathBuf>,
    /// Largest import upload in bytes; larger ones get 413.
    #[arg(long, env = "HITKEEP_MAX_IMPORT_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_import_bytes: usize,
    /// Most bytes a zip or gzip import may unpack to (all files together); more gets 413. One
    /// import runs at a time; a second one meanwhile gets 503 with Retry-After.
    #[arg(long, env = "HITKEEP_MAX_IMPORT_UNPACKED_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub max_import_unpacked_bytes: u64,
    /// Take a backup every this many hours (needs --backup-dir).
    #[arg(long = "backup-every", env = "HITKEEP_BACKUP_EVERY")]
    pub backup_every_hours: Option<f64>,
    /// Where scheduled backups go, one `hitkeep-<time>` folder each.
    #[arg(long, env = "HITKEEP_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How many scheduled backups to keep.
    #[arg(long, env = "HITKEEP_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    /// Days the audit log keeps sign-ins, failures and changes; older entries are deleted by the
    /// daily retention job (0: keep forever).
    #[arg(long, env = "HITKEEP_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub audit_retention_days: u32,
    /// SMTP server for e-mail reports, `smtp://host:port`.
    #[arg(long, env = "HITKEEP_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// From address of e-mail reports.
    #[arg(long, env = "HITKEEP_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Let webhooks reach loopback, link-local and private addresses (an intranet chat server);
    /// refused by default so a site admin cannot make the server probe its own network.
    #[arg(long, env = "HITKEEP_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,
    /// Testing aid: how often alerts are checked, goal conversions batched and webhooks delivered.
    #[arg(long, env = "HITKEEP_SIGNALS_INTERVAL_MS", default_value_t = 60_000, hide = true)]
    pub signals_interval_ms: u64,
    /// Testing aid: the first webhook retry's delay in milliseconds (doubling after each failure).
    #[arg(long, env = "HITKEEP_WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000, hide = true)]
    pub webhook_retry_base_ms: u64,
    /// Testing aid: goal conversions are batched up to this many milliseconds behind now.
    #[arg(long, env = "HITKEEP_GOAL_BATCH_LAG_MS", default_value_t = 30_000, hide = true)]
    pub goal_batch_lag_ms: u64,
    /// Single sign-on: the OpenID Connect provider's issuer URL (its discovery document is read on
    /// first use). Needs --public-url: the provider redirects to `<public-url>/api/auth/sso/callback`.
    #[arg(long, env = "HITKEEP_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The client id registered at the provider.
    #[arg(long, env = "HITKEEP_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret registered at the provider (none: a public client, PKCE only).
    #[arg(long, env = "HITKEEP_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// E-mail domains whose people get an account on their first SSO sign-in (comma-separated; no
    /// site access until granted). Without: SSO signs in existing accounts only, by verified e-mail.
    #[arg(long, env = "HITKEEP_OIDC_ALLOWED_DOMAINS", value_delimiter = ',')]
    pub oidc_allowed_domains: Vec<String>,
    /// `CLAIM=VALUE`: an ID token whose claim is (or lists) the value makes an instance administrator.
    #[arg(long, env = "HITKEEP_OIDC_ADMIN_CLAIM")]
    pub oidc_admin_claim: Option<String>,
    /// The login page's button reads "Sign in with <label>".
    #[arg(long, env = "HITKEEP_OIDC_LABEL", default_value = "SSO")]
    pub oidc_label: String,
    /// Whether accounts linked to the provider may still sign in with a password.
    #[arg(long, env = "HITKEEP_OIDC_PASSWORD_LOGIN", default_value_t = true, action = clap::ArgAction::Set)]
    pub oidc_password_login: bool,
    /// The server secret TOTP secrets are sealed with (any long random text; give every node of a
    /// cluster the same). Default: a random one generated into `<data-dir>/secret.key` (mode 0600).
    #[arg(long, env = "HITKEEP_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Testing aid: start the writer this many milliseconds late (the queue fills meanwhile).
    #[arg(long, env = "HITKEEP_WRITER_START_DELAY_MS", default_value_t = 0, hide = true)]
    pub writer_start_delay_ms: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated server configuration the flags describe.
pub fn serve_config(a: &ServeArgs) -> anyhow::Result<ServeConfig> {
    anyhow::ensure!(a.queue_capacity > 0, "--queue-capacity must be at least 1");
    anyhow::ensure!(a.batch_size > 0, "--batch-size must be at least 1");
    anyhow::ensure!(a.max_body_bytes >= 256, "--max-body-bytes must be at least 256");
    Ok(ServeConfig {
        http: a.http.clone(),
        database: a.data.database(),
        queue_capacity: a.queue_capacity,
        queue: crate::app::queue::QueueKind::from_args(&a.queue)?,
        batch: BatchPolicy {
            max_records: a.batch_size,
            linger: Duration::from_millis(a.batch_interval_ms),
            max_open_visits: a.max_open_visits,
            give_up_after: Duration::from_secs(a.shutdown_timeout_secs),
        },
        http_config: HttpConfig {
            trusted_proxies: TrustedProxies::parse(&a.trusted_proxies).map_err(anyhow::Error::msg)?,
            max_body_bytes: a.max_body_bytes,
            max_api_body_bytes: a.max_api_body_bytes,
            body_timeout: Duration::from_secs(a.body_timeout_secs.max(1)),
            api_token: a.api_token.as_deref().filter(|t| !t.is_empty()).map(SecretToken::new),
            public_url: a.public_url.clone().filter(|u| !u.is_empty()),
            site_creation: SiteCreation::parse(&a.site_creation).context("--site-creation must be admins or users")?,
        },
        duck: DuckSettings {
            memory_limit: a.duckdb_memory_limit.clone(),
            threads: a.duckdb_threads.max(1),
            checkpoint_threshold: a.duckdb_checkpoint_threshold.clone(),
        },
        city_db: a.city_db.clone(),
        shutdown_timeout: Duration::from_secs(a.shutdown_timeout_secs),
        conn_limits: ConnLimits {
            header_timeout: Duration::from_secs(a.header_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(a.idle_timeout_secs.max(1)),
            max_connections: a.max_connections.max(1),
        },
        writer_start_delay: Duration::from_millis(a.writer_start_delay_ms),
        exact_visitors_limit: a.exact_visitors_limit,
        query_cache_entries: a.query_cache_entries,
        query_timeout: (a.query_timeout_ms > 0).then(|| Duration::from_millis(a.query_timeout_ms)),
        revenue_rates: match &a.revenue_rates {
            Some(path) => RevenueRates::parse(
                &std::fs::read_to_string(path).with_context(|| format!("--revenue-rates {}", path.display()))?,
            )
            .map_err(anyhow::Error::msg)?,
            None => RevenueRates::default(),
        },
        realtime: StreamLimits {
            per_caller: a.max_realtime_streams_per_caller,
            total: a.max_realtime_streams,
            recheck: Duration::from_millis(a.realtime_recheck_ms.max(10)),
        },
        cluster: cluster_config(a)?,
        lifecycle: LifecycleConfig {
            data_dir: a.data.data_dir.clone(),
            archive_dir: a.archive.then(|| a.archive_dir.clone().unwrap_or_else(|| a.data.data_dir.join("archive"))),
            max_import_bytes: a.max_import_bytes,
            max_import_unpacked_bytes: a.max_import_unpacked_bytes,
            backup_root: std::path::absolute(a.backup_dir.clone().unwrap_or_else(|| a.data.data_dir.join("backups")))
                .context("cannot resolve the backup directory")?,
            audit_retention_days: a.audit_retention_days,
        },
        backups: match (a.backup_every_hours, &a.backup_dir) {
            (Some(h), Some(dir)) => {
                anyhow::ensure!(h > 0.0, "--backup-every must be more than 0 hours");
                anyhow::ensure!(a.backup_keep > 0, "--backup-keep must be at least 1");
                Some((Duration::from_secs_f64(h * 3600.0), dir.clone(), a.backup_keep))
            }
            (Some(_), None) => anyhow::bail!("--backup-every needs --backup-dir"),
            _ => None,
        },
        smtp: match (&a.smtp_url, &a.smtp_from) {
            (Some(url), Some(from)) => {
                SmtpMailer::new(url, from).map_err(anyhow::Error::msg)?;
                Some((url.clone(), from.clone()))
            }
            (Some(_), None) => anyhow::bail!("--smtp-url needs --smtp-from"),
            _ => None,
        },
        signals: crate::app::SignalsConfig {
            allow_private: a.webhooks_allow_private,
            every: Duration::from_millis(a.signals_interval_ms.max(100)),
            retry_base: Duration::from_millis(a.webhook_retry_base_ms.max(10)),
            goal_lag: Duration::from_millis(a.goal_batch_lag_ms),
        },
        sso: sso_config(a)?,
        sealing_key: SealingKey::resolve(a.secret_key.as_deref(), &a.data.data_dir)
            .context("cannot read or create <data-dir>/secret.key (or give --secret-key)")?,
    })
}

/// Single sign-on: `None` without `--oidc-issuer`; an error for an incomplete set.
fn sso_config(a: &ServeArgs) -> anyhow::Result<Option<SsoConfig>> {
    let Some(issuer) = a.oidc_issuer.clone().filter(|i| !i.is_empty()) else { return Ok(None) };
    let client_id =
        a.oidc_client_id.clone().filter(|c| !c.is_empty()).context("--oidc-issuer needs --oidc-client-id")?;
    let public = a.public_url.as_deref().filter(|u| !u.is_empty()).context("--oidc-issuer needs --public-url")?;
    let admin_claim =
        a.oidc_admin_claim.as_deref().map(SsoPolicy::parse_admin_claim).transpose().map_err(anyhow::Error::msg)?;
    let allowed_domains = a
        .oidc_allowed_domains
        .iter()
        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    Ok(Some(SsoConfig {
        provider: OidcSettings {
            issuer,
            client_id,
            client_secret: a.oidc_client_secret.clone().filter(|s| !s.is_empty()),
            redirect_url: format!("{}/api/auth/sso/callback", public.trim_end_matches('/')),
        },
        policy: SsoPolicy { allowed_domains, admin_claim, password_for_sso_users: a.oidc_password_login },
        label: a.oidc_label.clone(),
    }))
}

/// Cluster membership: `None` without cluster flags; an error for an incomplete or inconsistent set.
pub fn cluster_config(a: &ServeArgs) -> anyhow::Result<Option<ClusterConfig>> {
    if a.node_id.is_none() && a.peers.is_empty() {
        return Ok(None);
    }
    let node_id = a.node_id.context("--peers needs --node-id")?;
    anyhow::ensure!(node_id > 0, "--node-id must be a positive integer");
    let secret = a.cluster_secret.clone().filter(|s| !s.is_empty()).context("cluster mode needs --cluster-secret")?;
    anyhow::ensure!(secret.chars().count() >= 16, "--cluster-secret must have at least 16 characters");
    let mut peers = BTreeMap::new();
    for entry in a.peers.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (id, url) = entry.split_once('=').with_context(|| format!("--peers entry {entry:?} is not id=URL"))?;
        let id: u64 = id.trim().parse().with_context(|| format!("--peers entry {entry:?}: the id is not a number"))?;
        let url = normalize_url(url)?;
        anyhow::ensure!(peers.insert(id, url).is_none(), "--peers names node {id} twice");
    }
    match (a.advertise.as_deref(), peers.get(&node_id)) {
        (Some(adv), Some(listed)) => {
            anyhow::ensure!(
                &normalize_url(adv)? == listed,
                "--advertise {adv} differs from node {node_id} in --peers ({listed})"
            )
        }
        (Some(adv), None) => {
            peers.insert(node_id, normalize_url(adv)?);
        }
        (None, Some(_)) => {}
        (None, None) => anyhow::bail!("node {node_id} is not in --peers: add it or pass --advertise"),
    }
    let mut urls: Vec<&String> = peers.values().collect();
    urls.sort();
    urls.dedup();
    // A node that reaches itself under another id makes openraft's leader panic.
    anyhow::ensure!(urls.len() == peers.len(), "two --peers entries share a URL");
    anyhow::ensure!(a.forward_queue_capacity > 0, "--forward-queue-capacity must be at least 1");
    let (min, max) = a
        .raft_election_ms
        .split_once('-')
        .and_then(|(lo, hi)| Some((lo.trim().parse::<u64>().ok()?, hi.trim().parse::<u64>().ok()?)))
        .context("--raft-election-ms must look like 1000-2000")?;
    anyhow::ensure!(
        a.raft_heartbeat_ms > 0 && a.raft_heartbeat_ms < min && min < max,
        "need heartbeat < election min < election max"
    );
    Ok(Some(ClusterConfig {
        node_id,
        peers,
        secret,
        forward_capacity: a.forward_queue_capacity,
        raft_dir: a.data.data_dir.join("raft").join(format!("node-{node_id}")),
        heartbeat: Duration::from_millis(a.raft_heartbeat_ms),
        election: (Duration::from_millis(min), Duration::from_millis(max)),
    }))
}

fn normalize_url(raw: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(raw.trim()).with_context(|| format!("{raw:?} is not a URL"))?;
    anyhow::ensure!(url.scheme() == "http" || url.scheme() == "https", "{raw}: use an http:// or https:// URL");
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn config(args: &[&str]) -> anyhow::Result<Option<ClusterConfig>> {
        let cli = Cli::parse_from(["hitkeep", "serve", "--data-dir", "/d"].iter().chain(args));
        let Command::Serve(serve) = cli.command else { unreachable!("serve") };
        cluster_config(&serve)
    }

    const PEERS: &str = "1=http://a:8080,2=http://b:8080/,3=http://c:8080";
    const SECRET: &str = "0123456789abcdef";

    #[test]
    fn cluster_flags_are_all_or_nothing_and_consistent() {
        assert!(config(&[]).unwrap().is_none(), "no flags: a single node");
        let c = config(&["--node-id", "2", "--peers", PEERS, "--cluster-secret", SECRET]).unwrap().unwrap();
        assert_eq!(c.peers.len(), 3);
        assert_eq!(c.peers[&2], "http://b:8080", "trailing slash dropped");
        assert_eq!(c.raft_dir, PathBuf::from("/d/raft/node-2"));
        let err = |args: &[&str]| config(args).unwrap_err().to_string();
        assert!(err(&["--peers", PEERS, "--cluster-secret", SECRET]).contains("--node-id"));
        assert!(err(&["--node-id", "2", "--peers", PEERS]).contains("--cluster-secret"));
        assert!(err(&["--node-id", "2", "--peers", PEERS, "--cluster-secret", "short"]).contains("16"));
        assert!(err(&["--node-id", "4", "--peers", PEERS, "--cluster-secret", SECRET]).contains("not in --peers"));
        let twice = "1=http://a:8080,2=http://a:8080";
        assert!(err(&["--node-id", "1", "--peers", twice, "--cluster-secret", SECRET]).contains("share a URL"));
        let adv = ["--node-id", "2", "--peers", PEERS, "--cluster-secret", SECRET, "--advertise", "http://x:1"];
        assert!(err(&adv).contains("differs"));
        let joined =
            config(&["--node-id", "4", "--peers", PEERS, "--cluster-secret", SECRET, "--advertise", "http://d:8080"]);
        assert_eq!(joined.unwrap().unwrap().peers[&4], "http://d:8080", "--advertise adds this node");
    }
}
