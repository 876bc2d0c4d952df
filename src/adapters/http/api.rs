//! The JSON API under `/api`, described by OpenAPI (poem-openapi). Until accounts exist, every
//! call needs the server's configured API token as a bearer token.

use std::sync::Arc;

use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, SecurityScheme, Tags};

use super::AppState;
use super::goals_api::GoalsApi;
use super::reports_api::ReportsApi;
use crate::domain::site::{NewSite, Site, SiteDirectory, SiteDomain, TimeZoneName};
use crate::ports::sites::SiteRepoError;

#[derive(Tags)]
pub enum ApiTags {
    /// Sites whose traffic is recorded.
    Sites,
    /// Stats queries, goals, funnels and realtime.
    Reports,
}

/// `Authorization: Bearer <token>` with the server's API token (`--api-token`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub struct ApiToken(pub Bearer);

/// A problem with the request, named in `message`.
#[derive(Object)]
pub struct ApiErrorBody {
    /// Machine-readable code.
    pub error: String,
    /// What went wrong, for humans.
    pub message: String,
}

pub fn body(error: &str, message: impl Into<String>) -> Json<ApiErrorBody> {
    Json(ApiErrorBody { error: error.into(), message: message.into() })
}

/// A site as the API shows it.
#[derive(Object)]
pub struct SiteView {
    pub id: u32,
    /// The site's domain, e.g. `example.com`; subdomains belong to it.
    pub domain: String,
    /// Further hostnames counted as this site.
    pub hostnames: Vec<String>,
    /// IANA time zone for reports.
    pub timezone: String,
    /// Hits with `DNT: 1` are not recorded.
    pub honor_dnt: bool,
    /// Hits with `Sec-GPC: 1` are not recorded.
    pub honor_gpc: bool,
}

impl From<&Site> for SiteView {
    fn from(s: &Site) -> Self {
        Self {
            id: s.id.0,
            domain: s.domain.to_string(),
            hostnames: s.hostnames.iter().map(ToString::to_string).collect(),
            timezone: s.timezone.as_str().to_string(),
            honor_dnt: s.honor_dnt,
            honor_gpc: s.honor_gpc,
        }
    }
}

/// A site to create.
#[derive(Object)]
pub struct CreateSite {
    /// Domain, e.g. `example.com` (a scheme, `www.` and a path are stripped).
    pub domain: String,
    /// Extra hostnames whose traffic belongs to the site.
    #[oai(default)]
    pub hostnames: Vec<String>,
    /// IANA time zone; default UTC.
    pub timezone: Option<String>,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "list_bad_request")]
pub enum ListSitesResponse {
    /// All sites.
    #[oai(status = 200)]
    Ok(Json<Vec<SiteView>>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn list_bad_request(err: poem::Error) -> ListSitesResponse {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return ListSitesResponse::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    ListSitesResponse::Internal(body("invalid_request", err.to_string()))
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "create_bad_request")]
pub enum CreateSiteResponse {
    /// Created.
    #[oai(status = 201)]
    Created(Json<SiteView>),
    /// Invalid domain, hostname or time zone.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Missing or wrong API token.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// A site with this domain exists.
    #[oai(status = 409)]
    Conflict(Json<ApiErrorBody>),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
}

fn create_bad_request(err: poem::Error) -> CreateSiteResponse {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return CreateSiteResponse::Unauthorized(body("unauthorized", UNAUTHORIZED));
    }
    CreateSiteResponse::BadRequest(body("invalid_request", err.to_string()))
}

/// Sites endpoints.
pub struct SitesApi {
    pub state: Arc<AppState>,
}

impl SitesApi {
    fn authorized(&self, token: &ApiToken) -> bool {
        self.state.config.api_token.as_ref().is_some_and(|expected| expected.matches(&token.0.token))
    }
}

pub const UNAUTHORIZED: &str =
    "a valid API token is required (Authorization: Bearer <token>; set --api-token / HITKEEP_API_TOKEN on the server)";

#[OpenApi(tag = "ApiTags::Sites")]
impl SitesApi {
    /// List sites.
    #[oai(path = "/sites", method = "get", operation_id = "listSites")]
    async fn list(&self, token: ApiToken) -> ListSitesResponse {
        if !self.authorized(&token) {
            return ListSitesResponse::Unauthorized(body("unauthorized", UNAUTHORIZED));
        }
        let repo = self.state.sites.clone();
        match tokio::task::spawn_blocking(move || repo.list()).await {
            Ok(Ok(sites)) => ListSitesResponse::Ok(Json(sites.iter().map(SiteView::from).collect())),
            Ok(Err(e)) => ListSitesResponse::Internal(body("internal", e.to_string())),
            Err(e) => ListSitesResponse::Internal(body("internal", e.to_string())),
        }
    }

    /// Create a site; hits for it are recorded from now on.
    #[oai(path = "/sites", method = "post", operation_id = "createSite")]
    async fn create(&self, token: ApiToken, req: Json<CreateSite>) -> CreateSiteResponse {
        if !self.authorized(&token) {
            return CreateSiteResponse::Unauthorized(body("unauthorized", UNAUTHORIZED));
        }
        let parsed = (|| {
            Ok::<_, crate::domain::site::SiteError>(NewSite {
                domain: SiteDomain::parse(&req.domain)?,
                hostnames: req.hostnames.iter().map(|h| SiteDomain::parse(h)).collect::<Result<_, _>>()?,
                timezone: match &req.timezone {
                    Some(tz) => TimeZoneName::parse(tz)?,
                    None => TimeZoneName::utc(),
                },
            })
        })();
        let new_site = match parsed {
            Ok(s) => s,
            Err(e) => return CreateSiteResponse::BadRequest(body("invalid_site", e.to_string())),
        };
        let repo = self.state.sites.clone();
        let result = tokio::task::spawn_blocking(move || {
            let created = repo.add(new_site)?;
            Ok::<_, SiteRepoError>((created, repo.list()?))
        })
        .await;
        match result {
            Ok(Ok((site, all))) => {
                self.state.ingest.set_sites(SiteDirectory::new(all));
                CreateSiteResponse::Created(Json(SiteView::from(&site)))
            }
            Ok(Err(SiteRepoError::Duplicate(d))) => {
                CreateSiteResponse::Conflict(body("site_exists", format!("site {d} already exists")))
            }
            Ok(Err(e)) => CreateSiteResponse::Internal(body("internal", e.to_string())),
            Err(e) => CreateSiteResponse::Internal(body("internal", e.to_string())),
        }
    }
}

/// The OpenAPI service for `/api`.
pub fn service(state: Arc<AppState>) -> OpenApiService<(SitesApi, ReportsApi, GoalsApi), ()> {
    let apis = (SitesApi { state: state.clone() }, ReportsApi { state: state.clone() }, GoalsApi { state });
    OpenApiService::new(apis, "HitKeep", env!("CARGO_PKG_VERSION"))
        .description("Privacy-first web analytics: sites, reports and administration.")
        .server("/api")
}
