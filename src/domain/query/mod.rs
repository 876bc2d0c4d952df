//! Report queries in the shape of Plausible's Stats API v2: what to count (metrics), how to
//! group (dimensions), what to keep (filters), over which period, in the site's time zone.

pub mod cell;
pub mod input;
pub mod limits;
pub mod matcher;
pub mod money;
pub mod parse;
pub mod period;

pub use cell::Cell;
pub use input::{IncludeInput, PageInput, QueryInput};
pub use parse::{QueryError, parse_input, parse_query};
pub use period::{Period, TimeGrain};

/// What to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    Visitors,
    Visits,
    Pageviews,
    ViewsPerVisit,
    BounceRate,
    VisitDuration,
    Events,
    Percentage,
    ConversionRate,
    TimeOnPage,
    /// Plausible's scroll depth: per visit, the deepest scroll reported on the page(s), averaged.
    ScrollDepth,
    /// Conversion rate within each group of the non-goal dimensions (Plausible's `group_conversion_rate`).
    GroupConversionRate,
    /// Sum of the matching events' revenue, when they share one currency.
    TotalRevenue,
    /// Average revenue of the matching events that carry revenue, when they share one currency.
    AverageRevenue,
}

impl Metric {
    pub const ALL: [Metric; 14] = [
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::ViewsPerVisit,
        Metric::BounceRate,
        Metric::VisitDuration,
        Metric::Events,
        Metric::Percentage,
        Metric::ConversionRate,
        Metric::TimeOnPage,
        Metric::ScrollDepth,
        Metric::GroupConversionRate,
        Metric::TotalRevenue,
        Metric::AverageRevenue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Visitors => "visitors",
            Metric::Visits => "visits",
            Metric::Pageviews => "pageviews",
            Metric::ViewsPerVisit => "views_per_visit",
            Metric::BounceRate => "bounce_rate",
            Metric::VisitDuration => "visit_duration",
            Metric::Events => "events",
            Metric::Percentage => "percentage",
            Metric::ConversionRate => "conversion_rate",
            Metric::TimeOnPage => "time_on_page",
            Metric::ScrollDepth => "scroll_depth",
            Metric::GroupConversionRate => "group_conversion_rate",
            Metric::TotalRevenue => "total_revenue",
            Metric::AverageRevenue => "average_revenue",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Metrics computed per visit (they need the whole visit, not single events).
    pub fn is_revenue(self) -> bool {
        matches!(self, Metric::TotalRevenue | Metric::AverageRevenue)
    }

    pub fn is_session_metric(self) -> bool {
        matches!(self, Metric::Visits | Metric::ViewsPerVisit | Metric::BounceRate | Metric::VisitDuration)
    }
}

/// A property of an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventDim {
    Page,
    Hostname,
    Name,
    Goal,
    Prop(String),
}

/// A property of a visit (decided by its first event, or its first/last pageview).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitDim {
    EntryPage,
    ExitPage,
    /// The hostname of the visit's first pageview.
    EntryPageHostname,
    /// The hostname of the visit's last pageview.
    ExitPageHostname,
    Source,
    Referrer,
    Channel,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    Device,
    Browser,
    BrowserVersion,
    Os,
    OsVersion,
    Country,
    Region,
    City,
    CountryName,
    RegionName,
    CityName,
    Screen,
    Language,
}

impl VisitDim {
    /// Decided by the visit's first or last pageview (not stored on each event): read from the
    /// per-visit pages, not from the event rows.
    pub fn from_visit_pages(self) -> bool {
        matches!(self, VisitDim::ExitPage | VisitDim::EntryPageHostname | VisitDim::ExitPageHostname)
    }

    pub const ALL: [VisitDim; 25] = [
        VisitDim::EntryPage,
        VisitDim::ExitPage,
        VisitDim::EntryPageHostname,
        VisitDim::ExitPageHostname,
        VisitDim::Source,
        VisitDim::Referrer,
        VisitDim::Channel,
        VisitDim::UtmSource,
        VisitDim::UtmMedium,
        VisitDim::UtmCampaign,
        VisitDim::UtmContent,
        VisitDim::UtmTerm,
        VisitDim::Device,
        VisitDim::Browser,
        VisitDim::BrowserVersion,
        VisitDim::Os,
        VisitDim::OsVersion,
        VisitDim::Country,
        VisitDim::Region,
        VisitDim::City,
        VisitDim::CountryName,
        VisitDim::RegionName,
        VisitDim::CityName,
        VisitDim::Screen,
        VisitDim::Language,
    ];

    pub fn key(self) -> &'static str {
        match self {
            VisitDim::EntryPage => "entry_page",
            VisitDim::ExitPage => "exit_page",
            VisitDim::EntryPageHostname => "entry_page_hostname",
            VisitDim::ExitPageHostname => "exit_page_hostname",
            VisitDim::Source => "source",
            VisitDim::Referrer => "referrer",
            VisitDim::Channel => "channel",
            VisitDim::UtmSource => "utm_source",
            VisitDim::UtmMedium => "utm_medium",
            VisitDim::UtmCampaign => "utm_campaign",
            VisitDim::UtmContent => "utm_content",
            VisitDim::UtmTerm => "utm_term",
            VisitDim::Device => "device",
            VisitDim::Browser => "browser",
            VisitDim::BrowserVersion => "browser_version",
            VisitDim::Os => "os",
            VisitDim::OsVersion => "os_version",
            VisitDim::Country => "country",
            VisitDim::Region => "region",
            VisitDim::City => "city",
            VisitDim::CountryName => "country_name",
            VisitDim::RegionName => "region_name",
            VisitDim::CityName => "city_name",
            VisitDim::Screen => "screen",
            VisitDim::Language => "language",
        }
    }
}

/// A grouping or filtering key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dimension {
    Event(EventDim),
    Visit(VisitDim),
    Time(TimeGrain),
}

impl Dimension {
    /// Parses `event:page`, `visit:source`, `time:day`, `event:props:plan`...
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(grain) = TimeGrain::parse(s) {
            return Some(Dimension::Time(grain));
        }
        if let Some(prop) = s.strip_prefix("event:props:") {
            return (!prop.is_empty()).then(|| Dimension::Event(EventDim::Prop(prop.to_string())));
        }
        if let Some(key) = s.strip_prefix("event:") {
            return Some(Dimension::Event(match key {
                "page" => EventDim::Page,
                "hostname" => EventDim::Hostname,
                "name" => EventDim::Name,
                "goal" => EventDim::Goal,
                _ => return None,
            }));
        }
        let key = s.strip_prefix("visit:")?;
        VisitDim::ALL.into_iter().find(|d| d.key() == key).map(Dimension::Visit)
    }

    pub fn name(&self) -> String {
        match self {
            Dimension::Event(EventDim::Page) => "event:page".into(),
            Dimension::Event(EventDim::Hostname) => "event:hostname".into(),
            Dimension::Event(EventDim::Name) => "event:name".into(),
            Dimension::Event(EventDim::Goal) => "event:goal".into(),
            Dimension::Event(EventDim::Prop(p)) => format!("event:props:{p}"),
            Dimension::Visit(v) => format!("visit:{}", v.key()),
            Dimension::Time(g) => g.as_str().into(),
        }
    }
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Is,
    IsNot,
    Contains,
    ContainsNot,
    Matches,
    MatchesNot,
    MatchesWildcard,
    MatchesWildcardNot,
}

impl FilterOp {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "is" => FilterOp::Is,
            "is_not" => FilterOp::IsNot,
            "contains" => FilterOp::Contains,
            "contains_not" => FilterOp::ContainsNot,
            "matches" => FilterOp::Matches,
            "matches_not" => FilterOp::MatchesNot,
            "matches_wildcard" => FilterOp::MatchesWildcard,
            "matches_wildcard_not" => FilterOp::MatchesWildcardNot,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FilterOp::Is => "is",
            FilterOp::IsNot => "is_not",
            FilterOp::Contains => "contains",
            FilterOp::ContainsNot => "contains_not",
            FilterOp::Matches => "matches",
            FilterOp::MatchesNot => "matches_not",
            FilterOp::MatchesWildcard => "matches_wildcard",
            FilterOp::MatchesWildcardNot => "matches_wildcard_not",
        }
    }

    /// The negated operators keep rows where no value matches.
    pub fn is_negated(self) -> bool {
        matches!(self, FilterOp::IsNot | FilterOp::ContainsNot | FilterOp::MatchesNot | FilterOp::MatchesWildcardNot)
    }
}

/// A filter tree. A list at the top level is an AND.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `[op, dimension, [values], {"case_sensitive": bool}]`; values are OR-ed.
    Condition {
        op: FilterOp,
        dimension: Dimension,
        values: Vec<String>,
        case_sensitive: bool,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// Visits in which some event matches.
    HasDone(Box<Filter>),
    /// Visits in which no event matches.
    HasNotDone(Box<Filter>),
}

impl Filter {
    /// Every condition in the tree.
    pub fn conditions(&self) -> Vec<&Filter> {
        match self {
            Filter::Condition { .. } => vec![self],
            Filter::And(fs) | Filter::Or(fs) => fs.iter().flat_map(Filter::conditions).collect(),
            Filter::Not(f) | Filter::HasDone(f) | Filter::HasNotDone(f) => f.conditions(),
        }
    }

    /// Whether any condition is on `dim`.
    pub fn mentions(&self, dim: &Dimension) -> bool {
        self.conditions().iter().any(|c| matches!(c, Filter::Condition { dimension, .. } if dimension == dim))
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// What to sort by.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    Metric(Metric),
    Dimension(Dimension),
}

/// Which earlier period to compare with.
#[derive(Debug, Clone, PartialEq)]
pub enum Compare {
    PreviousPeriod,
    YearOverYear,
    Custom(Period),
}

/// A parsed, validated query, its period resolved in the site's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub site: String,
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub dimensions: Vec<Dimension>,
    pub filters: Vec<Filter>,
    pub order_by: Vec<(OrderKey, Direction)>,
    pub time_labels: bool,
    pub total_rows: bool,
    /// Add imported history (`include.imports`) on days without native data.
    pub imports: bool,
    pub limit: usize,
    pub offset: usize,
    pub compare: Option<Period>,
    /// Revenue metrics converted to a revenue goal's currency (set by the report service).
    pub revenue: Option<money::RevenueConversion>,
}

impl Query {
    /// The top-level filters as one tree.
    pub fn filter_tree(&self) -> Option<Filter> {
        match self.filters.len() {
            0 => None,
            1 => Some(self.filters[0].clone()),
            _ => Some(Filter::And(self.filters.clone())),
        }
    }

    pub fn time_dimension(&self) -> Option<TimeGrain> {
        self.dimensions.iter().find_map(|d| match d {
            Dimension::Time(g) => Some(*g),
            _ => None,
        })
    }
}

/// A goal: a pageview of matching pages, or a custom event by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoalKind {
    /// Path pattern; `*` matches any characters except `/`, `**` any characters.
    Page(String),
    Event(String),
}

impl GoalKind {
    /// The kind as its two optional fields, `(page pattern, event name)`: exactly one is set.
    pub fn fields(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Self::Page(p) => (Some(p), None),
            Self::Event(e) => (None, Some(e)),
        }
    }
}

/// A configured goal of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    pub id: u32,
    /// Shown in `event:goal` results and used in goal filters.
    pub display_name: String,
    pub kind: GoalKind,
    /// A revenue goal's currency (ISO 4217): revenue metrics over it are converted to it.
    pub currency: Option<String>,
}

/// One result row: dimension values and metric values, in query order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    pub dimensions: Vec<Cell>,
    pub metrics: Vec<Cell>,
}

/// A query's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    pub rows: Vec<ResultRow>,
    /// Distinct visitor counts are HyperLogLog estimates (large periods).
    pub approximate: bool,
    pub total_rows: Option<u64>,
    pub time_labels: Option<Vec<String>>,
    /// Some revenue value was left out because its events had several currencies.
    pub mixed_currencies: bool,
}
