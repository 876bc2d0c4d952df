//! Sites under `/api`: their settings, members and share links, and the all-sites overview.
//! The rules live in `services::sites`; these handlers parse, call and map.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::json;

use super::accounts::base_url;
use super::{ApiTags, body, iso};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::{Auth, origin};
use crate::adapters::http::guard::{ErrorAnswers, answer, on_site, site_for, who};
use crate::domain::accounts::{Need, Role, UserId};
use crate::domain::auth::Caller;
use crate::domain::query::{Cell, IncludeInput, QueryInput};
use crate::domain::site::Site;
use crate::ports::accounts::{ShareRecord, User};
use crate::services::blocking;
use crate::services::sites::{SiteChanges, SiteDraft, SiteServiceError};

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
    /// Client addresses or CIDR networks whose hits are not recorded. Only for callers who
    /// manage the site (owners, admins, admin-scoped tokens); absent for readers and share links.
    #[oai(skip_serializing_if_is_none)]
    pub excluded_ips: Option<Vec<String>>,
    /// Events older than this many days are deleted; 0 keeps them forever.
    pub retention_days: u32,
    /// The caller's role on the site: owner, admin or viewer.
    #[oai(nullable)]
    pub role: Option<String>,
}

impl SiteView {
    /// The site as `caller` may see it: settings only managers see are left out for readers.
    pub fn for_caller(s: &Site, caller: &Caller) -> Self {
        Self::with_role(s, caller.role(s.id), caller.check(s.id, Need::Manage).is_ok())
    }

    /// The site for a caller with `role`; `manages`: also the settings only managers see.
    pub fn with_role(s: &Site, role: Option<Role>, manages: bool) -> Self {
        Self {
            id: s.id.0,
            domain: s.domain.to_string(),
            hostnames: s.hostnames.iter().map(ToString::to_string).collect(),
            timezone: s.timezone.as_str().to_string(),
            honor_dnt: s.honor_dnt,
            honor_gpc: s.honor_gpc,
            excluded_ips: manages.then(|| s.excluded_ips.iter().map(ToString::to_string).collect()),
            retention_days: s.retention_days,
            role: role.map(|r| r.as_str().to_string()),
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

/// Changes to a site's settings; absent fields stay as they are.
#[derive(Object)]
pub struct UpdateSite {
    pub hostnames: Option<Vec<String>>,
    pub timezone: Option<String>,
    pub honor_dnt: Option<bool>,
    pub honor_gpc: Option<bool>,
    /// Addresses (`203.0.113.7`) or networks (`203.0.113.0/24`).
    pub excluded_ips: Option<Vec<String>>,
    /// 0 keeps events forever.
    pub retention_days: Option<u32>,
}

/// A member of a site.
#[derive(Object)]
pub struct MemberView {
    pub user_id: u32,
    pub email: String,
    pub name: String,
    /// owner, admin or viewer.
    pub role: String,
}

/// A member's new role.
#[derive(Object)]
pub struct SetMember {
    /// owner, admin or viewer.
    pub role: String,
}

/// A share link: a public, read-only dashboard of one site.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ShareView {
    pub id: u32,
    pub name: String,
    pub has_password: bool,
    pub created_at: String,
    /// Shown once, on creation.
    pub token: Option<String>,
    /// The link to hand out (`<public URL>/share/<token>`), shown once.
    pub url: Option<String>,
    /// The site-wide segment every query through the link is limited to.
    pub segment_id: Option<u32>,
}

impl ShareView {
    fn of(s: &ShareRecord, token: Option<String>, url: Option<String>) -> Self {
        ShareView {
            id: s.id,
            name: s.name.clone(),
            has_password: s.password_hash.is_some(),
            created_at: iso(s.created_at),
            token,
            url,
            segment_id: s.segment,
        }
    }
}

/// A new share link.
#[derive(Object)]
pub struct CreateShare {
    #[oai(default)]
    pub name: String,
    /// Optional password (at least 8 characters) the viewer must enter.
    pub password: Option<String>,
    /// Limit the link to a site-wide saved segment: its viewers' queries always get its filters.
    pub segment_id: Option<u32>,
}

/// One day of the overview's series.
#[derive(Object)]
pub struct OverviewPoint {
    pub date: String,
    pub visitors: u64,
}

/// One site in the overview.
#[derive(Object)]
pub struct OverviewSite {
    pub domain: String,
    pub visitors: u64,
    pub pageviews: u64,
    /// Percent change against the previous period; null when not comparable.
    #[oai(nullable)]
    pub visitors_change: Option<f64>,
    #[oai(nullable)]
    pub pageviews_change: Option<f64>,
    /// Visitors per day (per month for periods longer than a year).
    pub series: Vec<OverviewPoint>,
}

/// All visible sites at a glance.
#[derive(Object)]
pub struct Overview {
    /// The period, e.g. `30d`.
    pub period: String,
    pub sites: Vec<OverviewSite>,
}

crate::api_result!(SitesResult, 200, Json<Vec<SiteView>>);
crate::api_result!(SiteCreated, 201, Json<SiteView>);
crate::api_result!(SiteResult, 200, Json<SiteView>);
crate::api_result!(SiteDone, 204);
crate::api_result!(MembersResult, 200, Json<Vec<MemberView>>);
crate::api_result!(SharesResult, 200, Json<Vec<ShareView>>);
crate::api_result!(ShareCreated, 201, Json<ShareView>);
crate::api_result!(OverviewResult, 200, Json<Overview>);

/// Sites endpoints.
pub struct SitesApi {
    pub state: Arc<AppState>,
}

impl SitesApi {
    /// Reloads the site directory used by ingest and the API.
    fn overview_of(&self, site: &Site, period: &str) -> Result<OverviewSite, String> {
        let reports = &self.state.reports;
        let domain = site.domain.to_string();
        let ask = |metrics: &[&str], include: IncludeInput| QueryInput {
            site_id: domain.clone(),
            date_range: Some(json!(period)),
            metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
            include,
            ..QueryInput::default()
        };
        let compare = IncludeInput { compare: Some(json!("previous_period")), ..IncludeInput::default() };
        let totals =
            reports.query_blocking(site, &ask(&["visitors", "pageviews"], compare)).map_err(|e| e.to_string())?;
        let row = totals.rows.first();
        let metric = |i: usize| row.and_then(|r| r.metrics.get(i)).and_then(Cell::as_u64).unwrap_or(0);
        let change =
            |i: usize| row.and_then(|r| r.comparison.as_ref()).and_then(|c| c.change.get(i)).and_then(Cell::as_f64);
        let bucket = if matches!(period, "all" | "12mo" | "year") { "time:month" } else { "time:day" };
        let labels = IncludeInput { time_labels: true, ..IncludeInput::default() };
        let series = QueryInput { dimensions: vec![bucket.to_string()], ..ask(&["visitors"], labels) };
        let series = reports.query_blocking(site, &series).map_err(|e| e.to_string())?;
        let by_label: std::collections::HashMap<String, u64> = series
            .rows
            .iter()
            .filter_map(|r| Some((r.dimensions.first()?.as_str()?.to_string(), r.metrics.first()?.as_u64()?)))
            .collect();
        let labels = series.time_labels.unwrap_or_else(|| by_label.keys().cloned().collect());
        Ok(OverviewSite {
            domain,
            visitors: metric(0),
            pageviews: metric(1),
            visitors_change: change(0),
            pageviews_change: change(1),
            series: labels
                .into_iter()
                .map(|date| OverviewPoint { visitors: by_label.get(&date).copied().unwrap_or(0), date })
                .collect(),
        })
    }
}

#[OpenApi(tag = "ApiTags::Sites")]
impl SitesApi {
    /// The sites the caller can see, with their role.
    #[oai(path = "/sites", method = "get", operation_id = "listSites")]
    async fn list(&self, auth: Auth) -> SitesResult {
        let caller = crate::or_return!(who::<SitesResult>(&self.state, &auth).await);
        let visible = self.state.site_service.visible(&caller);
        SitesResult::Ok(Json(visible.iter().map(|(s, _)| SiteView::for_caller(s, &caller)).collect()))
    }

    /// Creates a site; its creator becomes its owner. Hits for it are recorded from now on.
    #[oai(path = "/sites", method = "post", operation_id = "createSite")]
    async fn create(&self, auth: Auth, req: &Request, input: Json<CreateSite>) -> SiteCreated {
        let caller = crate::or_return!(who::<SiteCreated>(&self.state, &auth).await);
        let CreateSite { domain, hostnames, timezone } = input.0;
        let draft = SiteDraft { domain, hostnames, timezone };
        answer(self.state.site_service.create(&caller, draft, origin(&self.state, req)).await, |site| {
            SiteCreated::Ok(Json(SiteView::with_role(&site, Some(Role::Owner), true)))
        })
    }

    /// A site's settings.
    #[oai(path = "/sites/:site", method = "get", operation_id = "getSite")]
    async fn get(&self, auth: Auth, site: Path<String>) -> SiteResult {
        match site_for::<SiteResult>(&self.state, &auth, &site.0, Need::Read).await {
            Ok((site, caller)) => SiteResult::Ok(Json(SiteView::for_caller(&site, &caller))),
            Err(r) => r,
        }
    }

    /// Changes a site's settings (site owners and admins).
    #[oai(path = "/sites/:site", method = "patch", operation_id = "updateSite")]
    async fn update(&self, auth: Auth, req: &Request, site: Path<String>, input: Json<UpdateSite>) -> SiteResult {
        let UpdateSite { hostnames, timezone, honor_dnt, honor_gpc, excluded_ips, retention_days } = input.0;
        let changes = SiteChanges { hostnames, timezone, honor_dnt, honor_gpc, excluded_ips, retention_days };
        let (service, origin) = (&self.state.site_service, origin(&self.state, req));
        let call = |site: Site, caller: Caller| async move {
            let changed = service.update(&caller, &site, changes, origin).await?;
            Ok::<_, SiteServiceError>(SiteView::for_caller(&changed, &caller))
        };
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, |view| SiteResult::Ok(Json(view))).await
    }

    /// Deletes a site with all its data (site owners).
    #[oai(path = "/sites/:site", method = "delete", operation_id = "deleteSite")]
    async fn delete(&self, auth: Auth, req: &Request, site: Path<String>) -> SiteDone {
        let (service, origin) = (&self.state.site_service, origin(&self.state, req));
        let call = |site, caller: Caller| async move { service.delete(&caller, site, origin).await };
        on_site(&self.state, (&auth, &site.0, Need::Own), call, |()| SiteDone::Ok).await
    }

    /// A site's members (site owners and admins).
    #[oai(path = "/sites/:site/members", method = "get", operation_id = "listMembers")]
    async fn members(&self, auth: Auth, site: Path<String>) -> MembersResult {
        let service = &self.state.site_service;
        let call = |site: Site, _| async move { service.members(&site).await };
        let ok = |list: Vec<(User, Role)>| {
            let view = |(u, role): (User, Role)| MemberView {
                user_id: u.id.0,
                email: u.email.to_string(),
                name: u.name,
                role: role.as_str().into(),
            };
            MembersResult::Ok(Json(list.into_iter().map(view).collect()))
        };
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, ok).await
    }

    /// Gives an existing user a role on the site (site owners and admins; only owners make owners).
    #[oai(path = "/sites/:site/members/:user_id", method = "put", operation_id = "setMember")]
    async fn set_member(
        &self,
        auth: Auth,
        req: &Request,
        site: Path<String>,
        user_id: Path<u32>,
        input: Json<SetMember>,
    ) -> SiteDone {
        let (site, caller) = crate::or_return!(site_for::<SiteDone>(&self.state, &auth, &site.0, Need::Manage).await);
        let role = match Role::parse(&input.role) {
            Ok(r) => r,
            Err(e) => return SiteDone::BadRequest(body("invalid_role", e.to_string())),
        };
        let (accounts, origin) = (self.state.accounts.clone(), origin(&self.state, req));
        answer(blocking(move || accounts.set_member(&caller, site.id, UserId(user_id.0), role, origin)).await, |()| {
            SiteDone::Ok
        })
    }

    /// Removes a member from the site (site owners and admins; only owners remove owners).
    #[oai(path = "/sites/:site/members/:user_id", method = "delete", operation_id = "removeMember")]
    async fn remove_member(&self, auth: Auth, req: &Request, site: Path<String>, user_id: Path<u32>) -> SiteDone {
        let (accounts, origin) = (self.state.accounts.clone(), origin(&self.state, req));
        let call = |site: Site, caller: Caller| {
            blocking(move || accounts.remove_member(&caller, site.id, UserId(user_id.0), origin))
        };
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, |()| SiteDone::Ok).await
    }

    /// A site's share links (site owners and admins). Their secrets are not shown again.
    #[oai(path = "/sites/:site/shares", method = "get", operation_id = "listShares")]
    async fn shares(&self, auth: Auth, site: Path<String>) -> SharesResult {
        let service = &self.state.site_service;
        let call = |site: Site, _| async move { service.shares(&site).await };
        let ok = |list: Vec<ShareRecord>| {
            SharesResult::Ok(Json(list.iter().map(|s| ShareView::of(s, None, None)).collect()))
        };
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, ok).await
    }

    /// Creates a share link: a public read-only dashboard of the site, optionally with a password.
    #[oai(path = "/sites/:site/shares", method = "post", operation_id = "createShare")]
    async fn create_share(
        &self,
        auth: Auth,
        req: &Request,
        site: Path<String>,
        input: Json<CreateShare>,
    ) -> ShareCreated {
        let (site, caller) =
            crate::or_return!(site_for::<ShareCreated>(&self.state, &auth, &site.0, Need::Manage).await);
        let (accounts, origin) = (self.state.accounts.clone(), origin(&self.state, req));
        let CreateShare { name, password, segment_id } = input.0;
        if let Some(id) = segment_id
            && let Err(e) = self.state.segments.for_share(site.id.0, id).await
        {
            return ShareCreated::failed(e);
        }
        let result =
            blocking(move || accounts.create_share(&caller, site.id, &name, password.as_deref(), segment_id, origin))
                .await;
        match result {
            Ok((share, secret)) => {
                let url = format!("{}/share/{secret}", base_url(&self.state, req));
                ShareCreated::Ok(Json(ShareView::of(&share, Some(secret), Some(url))))
            }
            Err(e) => ShareCreated::failed(e),
        }
    }

    /// Revokes a share link at once (site owners and admins).
    #[oai(path = "/sites/:site/shares/:id", method = "delete", operation_id = "revokeShare")]
    async fn revoke_share(&self, auth: Auth, req: &Request, site: Path<String>, id: Path<u32>) -> SiteDone {
        let (accounts, origin) = (self.state.accounts.clone(), origin(&self.state, req));
        let call = |site: Site, caller: Caller| blocking(move || accounts.revoke_share(&caller, site.id, id.0, origin));
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, |()| SiteDone::Ok).await
    }

    /// Visitors, pageviews, change against the previous period and a daily series for every site
    /// the caller can see, in one call. `period`: day, 7d, 30d (default), month, 6mo, 12mo, year, all.
    #[oai(path = "/overview", method = "get", operation_id = "overview")]
    async fn overview(&self, auth: Auth, period: Query<Option<String>>) -> OverviewResult {
        let caller = crate::or_return!(who::<OverviewResult>(&self.state, &auth).await);
        let period = period.0.unwrap_or_else(|| "30d".into());
        const PERIODS: &[&str] = &["day", "24h", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all"];
        if !PERIODS.contains(&period.as_str()) {
            return OverviewResult::BadRequest(body(
                "invalid_period",
                format!("period must be one of {}", PERIODS.join(", ")),
            ));
        }
        let sites: Vec<Arc<Site>> = self.state.site_service.visible(&caller).into_iter().map(|(s, _)| s).collect();
        let this = SitesApi { state: self.state.clone() };
        let p = period.clone();
        let result = tokio::task::spawn_blocking(move || {
            sites.iter().map(|s| this.overview_of(s, &p)).collect::<Result<Vec<_>, _>>()
        })
        .await;
        match result {
            Ok(Ok(sites)) => OverviewResult::Ok(Json(Overview { period, sites })),
            Ok(Err(e)) => OverviewResult::internal(e),
            Err(e) => OverviewResult::internal(e.to_string()),
        }
    }
}
