//! The JSON API under `/api`, described by OpenAPI (poem-openapi): the router of its areas, their
//! tags and the error body they share. Every operation declares its security; see `guard` for the
//! rules (401 unauthenticated, 404 for a site the caller cannot see, 403 for a role too low).

mod accounts;
mod ai_visibility;
mod alerts;
mod annotations;
mod cluster;
mod goals;
mod lifecycle;
pub mod report_bodies;
pub mod reports;
pub mod segments;
mod sites;
mod webhooks;

pub use crate::adapters::http::errors::{ApiErrorBody, body};
pub use accounts::iso;
pub use sites::SiteView;

use std::sync::Arc;

use poem_openapi::{OpenApiService, Tags};

use self::accounts::{AccessApi, AccountsApi, PasskeysApi, PeopleApi, SessionApi, SsoApi, TwoFactorApi};
use self::ai_visibility::AiVisibilityApi;
use self::alerts::AlertsApi;
use self::annotations::AnnotationsApi;
use self::cluster::ClusterApi;
use self::goals::GoalsApi;
use self::lifecycle::{AdminApi, EmailApi, LifecycleApi, TransferApi};
use self::segments::SegmentsApi;
use self::sites::SitesApi;
use self::webhooks::WebhooksApi;
use super::AppState;
use reports::ReportsApi;

#[derive(Tags)]
pub enum ApiTags {
    /// Sites whose traffic is recorded.
    Sites,
    /// Stats queries, goals, funnels and realtime.
    Reports,
    /// Setup, sign-in, users, invitations, API tokens, share links and the audit log.
    Accounts,
    /// The nodes serving this installation.
    Cluster,
    /// Exports, imports, e-mail reports, backups and retention.
    Lifecycle,
    /// Webhooks and traffic alerts.
    Notifications,
}

/// Declares one part of an area's endpoints: a newtype over the area's shared state that
/// reads through to it, so the area's handlers can live in several files.
#[macro_export]
macro_rules! api_part {
    ($(#[$doc:meta])* $name:ident, $base:ty) => {
        $(#[$doc])*
        pub struct $name(pub $base);

        impl std::ops::Deref for $name {
            type Target = $base;
            fn deref(&self) -> &$base {
                &self.0
            }
        }
    };
}

/// Every area of `/api`, in the order the spec lists them.
type Apis = (
    SitesApi,
    ReportsApi,
    AiVisibilityApi,
    AnnotationsApi,
    GoalsApi,
    SegmentsApi,
    // poem-openapi takes tuples of at most 16: the account areas go as one.
    (SessionApi, SsoApi, TwoFactorApi, PasskeysApi, PeopleApi, AccessApi),
    ClusterApi,
    TransferApi,
    EmailApi,
    AdminApi,
    WebhooksApi,
    AlertsApi,
);

/// The OpenAPI service for `/api`.
pub fn service(state: Arc<AppState>) -> OpenApiService<Apis, ()> {
    let apis = (
        SitesApi { state: state.clone() },
        ReportsApi { state: state.clone() },
        AiVisibilityApi { state: state.clone() },
        AnnotationsApi { state: state.clone() },
        GoalsApi { state: state.clone() },
        SegmentsApi { state: state.clone() },
        (
            SessionApi(AccountsApi { state: state.clone() }),
            SsoApi(AccountsApi { state: state.clone() }),
            TwoFactorApi(AccountsApi { state: state.clone() }),
            PasskeysApi(AccountsApi { state: state.clone() }),
            PeopleApi(AccountsApi { state: state.clone() }),
            AccessApi(AccountsApi { state: state.clone() }),
        ),
        ClusterApi { state: state.clone() },
        TransferApi(LifecycleApi { state: state.clone() }),
        EmailApi(LifecycleApi { state: state.clone() }),
        AdminApi(LifecycleApi { state: state.clone() }),
        WebhooksApi { state: state.clone() },
        AlertsApi { state },
    );
    OpenApiService::new(apis, "HitKeep", env!("CARGO_PKG_VERSION"))
        .description("Privacy-first web analytics: sites, reports and administration.")
        .server("/api")
}
