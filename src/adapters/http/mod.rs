//! The HTTP edge: ingest, health, metrics, tracker scripts and the OpenAPI-described `/api`.

/// Declares a middleware without settings: the unit struct (added with `.with(Name)`) and the
/// endpoint it wraps each route in, whose `Endpoint` impl the declaring module writes.
macro_rules! unit_middleware {
    ($(#[$m:meta])* $name:ident => $endpoint:ident) => {
        $(#[$m])*
        pub struct $name;

        impl<E: poem::Endpoint> poem::Middleware<E> for $name {
            type Output = $endpoint<E>;

            fn transform(&self, ep: E) -> Self::Output {
                $endpoint(ep)
            }
        }

        /// A route behind the middleware.
        pub struct $endpoint<E>(E);
    };
}

pub mod answers;
pub mod api;
mod assets;
pub mod auth;
mod body_limit;
pub mod client_ip;
pub mod cluster;
pub mod conn_limits;
mod cors;
mod enrolment_gate;
pub mod errors;
pub mod guard;
mod health;
pub mod ingest;
pub mod mcp;
pub mod payloads;
pub mod realtime;
mod spa;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use poem::listener::TcpListener;
use poem::middleware::Compression;
use poem::{EndpointExt, Route, get, post};

pub use client_ip::TrustedProxies;

use crate::domain::email_report::EmailReports;
use crate::domain::ingest::IngestService;
use crate::domain::recorder::WriterCounters;
use crate::ports::cluster::ClusterStatusSource;
use crate::ports::leadership::Leadership;
use crate::ports::reports::GoalRepository;
use crate::ports::sites::SiteRepository;
use crate::services::accounts::AccountService;
use crate::services::lifecycle::backups::BackupService;
use crate::services::lifecycle::exports::ExportService;
use crate::services::lifecycle::imports::ImportService;
use crate::services::lifecycle::retention::RetentionService;
use crate::services::reports::ReportService;
use crate::services::sites::SiteService;

/// A secret compared by hash in constant time.
#[derive(Clone)]
pub struct SecretToken(blake3::Hash);

impl SecretToken {
    pub fn new(token: &str) -> Self {
        Self(blake3::hash(token.as_bytes()))
    }

    /// Constant-time comparison (blake3::Hash's `==` is constant-time).
    pub fn matches(&self, presented: &str) -> bool {
        blake3::hash(presented.as_bytes()) == self.0
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(..)")
    }
}

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub trusted_proxies: TrustedProxies,
    /// Largest accepted ingest body.
    pub max_body_bytes: usize,
    /// Largest `/api` body (imports: `LifecycleConfig::max_import_bytes`).
    pub max_api_body_bytes: usize,
    /// Longest a client may take to send a body.
    pub body_timeout: std::time::Duration,
    /// The operator token (`--api-token`): full API access without an account.
    pub api_token: Option<SecretToken>,
    /// The URL users reach the server at (`--public-url`): links in invitations and share links,
    /// and `Secure` session cookies when it is https.
    pub public_url: Option<String>,
    /// Who may create sites (`--site-creation`).
    pub site_creation: crate::domain::accounts::SiteCreation,
}

impl HttpConfig {
    /// The size and time limits of `/api` request bodies.
    pub fn api_body_limit(&self, max_import_bytes: usize) -> body_limit::ApiBodyLimit {
        body_limit::ApiBodyLimit {
            max_bytes: self.max_api_body_bytes,
            max_import_bytes,
            read_timeout: self.body_timeout,
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

/// Settings of the data lifecycle endpoints.
#[derive(Debug, Clone)]
pub struct LifecycleConfig {
    /// The data directory (exports are staged under `tmp/` there).
    pub data_dir: std::path::PathBuf,
    /// Where retention archives go; `None`: archiving is off.
    pub archive_dir: Option<std::path::PathBuf>,
    /// Largest import upload.
    pub max_import_bytes: usize,
    /// Most bytes a zip or gzip import may unpack to.
    pub max_import_unpacked_bytes: u64,
    /// The only place the backup API writes to (absolute): `--backup-dir` or `<data-dir>/backups`.
    pub backup_root: std::path::PathBuf,
    /// Days the audit log keeps entries (`--audit-retention-days`; 0: forever).
    pub audit_retention_days: u32,
}

impl LifecycleConfig {
    pub fn tmp_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("tmp")
    }
}

/// What the handlers share.
pub struct AppState {
    pub config: HttpConfig,
    pub ingest: Arc<IngestService>,
    pub writer: Arc<WriterCounters>,
    pub leadership: Arc<dyn Leadership>,
    pub sites: Arc<dyn SiteRepository>,
    /// Site creation, settings and deletion.
    pub site_service: Arc<SiteService>,
    pub reports: Arc<ReportService>,
    /// AI crawler fetches and AI assistant referrals.
    pub crawlers: Arc<crate::services::crawlers::CrawlerService>,
    /// Dated notes on sites' charts.
    pub annotations: Arc<crate::services::annotations::AnnotationService>,
    /// Goals and funnels of sites.
    pub goals: Arc<dyn GoalRepository>,
    /// Saved segments of sites.
    pub segments: Arc<crate::services::segments::SegmentService>,
    pub accounts: Arc<AccountService>,
    /// Single sign-on with the OpenID Connect provider, when configured.
    pub sso: Option<Arc<crate::services::sso::SsoService>>,
    /// Wakes realtime subscribers when data lands.
    pub broadcaster: Arc<realtime::Broadcaster>,
    /// Set once shutdown began: readiness turns false so load balancers move away.
    pub draining: AtomicBool,
    /// Who is in the cluster (a lone node: itself).
    pub cluster: Arc<dyn ClusterStatusSource>,
    pub lifecycle_config: LifecycleConfig,
    pub retention: Arc<RetentionService>,
    pub backups: Arc<BackupService>,
    pub exports: Arc<ExportService>,
    pub import_service: Arc<ImportService>,
    pub email: Arc<EmailReports>,
    /// Webhooks of sites and their outbox.
    pub webhooks: Arc<crate::services::webhooks::WebhookService>,
    /// Traffic alerts of sites.
    pub alerts: Arc<crate::services::alerts::AlertService>,
    /// How often the leader checks alerts and delivers webhooks.
    pub signals_every: std::time::Duration,
    /// Folds closed visits for the reports (a background job of the leader).
    pub visit_folding: Arc<dyn crate::ports::visit_folding::VisitFolding>,
}

/// All routes.
pub fn routes(state: Arc<AppState>) -> impl poem::Endpoint + 'static {
    let api = api::service(state.clone());
    let mcp_server = Arc::new(mcp::McpServer::new(state.clone()));
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    Route::new()
        .at("/ingest", post(ingest::pageview).options(ingest::pageview).with(cors::IngestCors))
        .at("/ingest/event", post(ingest::custom_event).options(ingest::custom_event).with(cors::IngestCors))
        .at("/ingest/web-vitals", post(ingest::web_vital).options(ingest::web_vital).with(cors::IngestCors))
        .at("/api/event", post(ingest::plausible_event).options(ingest::plausible_event).with(cors::IngestCors))
        .at("/hk.js", get(assets::core_script).with(Compression::new()))
        .at("/hk-vitals.js", get(assets::vitals_script).with(Compression::new()))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(health::metrics))
        .at("/mcp", post(mcp::post).get(mcp::not_allowed).delete(mcp::not_allowed).data(mcp_server))
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest(
            "/api",
            api.with(enrolment_gate::EnrolmentGate)
                .with(auth::SameOriginChanges)
                .with(state.config.api_body_limit(state.lifecycle_config.max_import_bytes)),
        )
        .at("/", get(spa::dashboard).with(Compression::new()))
        .at("/*path", get(spa::dashboard).with(Compression::new()))
        .data(state)
}

/// Binds the listener (port 0 picks a free port).
pub fn listener(addr: &str) -> TcpListener<String> {
    TcpListener::bind(addr.to_string())
}
