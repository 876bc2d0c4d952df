//! History brought in from other analytics tools, as daily aggregates kept apart from native
//! events. Each source has a parser that turns that tool's documented export into an
//! [`ImportBatch`]; raw-event sources (Umami, GoatCounter) are aggregated per day here.

pub mod aggregate;
pub mod csvread;
pub mod goatcounter;
pub mod merge;
pub mod plausible;
pub mod umami;

use chrono::NaiveDate;

/// The tool an export came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSource {
    Plausible,
    Umami,
    GoatCounter,
}

impl ImportSource {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plausible" => Some(Self::Plausible),
            "umami" => Some(Self::Umami),
            "goatcounter" => Some(Self::GoatCounter),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plausible => "plausible",
            Self::Umami => "umami",
            Self::GoatCounter => "goatcounter",
        }
    }
}

/// A breakdown kept for imported days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportDim {
    Page,
    Source,
    Country,
    Device,
    Browser,
    Os,
}

impl ImportDim {
    pub const ALL: [ImportDim; 6] =
        [ImportDim::Page, ImportDim::Source, ImportDim::Country, ImportDim::Device, ImportDim::Browser, ImportDim::Os];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Source => "source",
            Self::Country => "country",
            Self::Device => "device",
            Self::Browser => "browser",
            Self::Os => "os",
        }
    }
}

/// Additive daily numbers. `visit_duration` is the total seconds of all visits (so sums stay exact).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub bounces: u64,
    pub visit_duration: u64,
}

impl Totals {
    pub fn add(&mut self, o: &Totals) {
        self.visitors += o.visitors;
        self.visits += o.visits;
        self.pageviews += o.pageviews;
        self.bounces += o.bounces;
        self.visit_duration += o.visit_duration;
    }
}

/// One imported day of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotals {
    pub date: NaiveDate,
    pub totals: Totals,
}

/// One imported day of one dimension value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    pub date: NaiveDate,
    pub dim: ImportDim,
    pub value: String,
    pub totals: Totals,
}

/// A row the parser refused: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub file: String,
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.reason)
    }
}

/// What a parser made of a file.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub days: Vec<DayTotals>,
    pub breakdowns: Vec<BreakdownRow>,
    /// Data rows read (all files).
    pub rows_read: u64,
    /// Rows left out on purpose (bots, unknown tables), not errors.
    pub rows_skipped: u64,
    pub bad_rows: Vec<BadRow>,
}

impl ImportBatch {
    /// Sum over all imported days.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for d in &self.days {
            t.add(&d.totals);
        }
        t
    }

    pub fn first_date(&self) -> Option<NaiveDate> {
        self.days.iter().map(|d| d.date).min()
    }

    pub fn last_date(&self) -> Option<NaiveDate> {
        self.days.iter().map(|d| d.date).max()
    }
}

/// Why an import file was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Not a file of the expected kind (wrong format, missing columns, unreadable zip).
    #[error("{0}")]
    BadFile(String),
    /// Some rows could not be read; nothing was imported.
    #[error("{} bad row(s), nothing imported; first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    BadRows(Vec<BadRow>),
    /// A compressed upload (zip, gzip) unpacks to more than the limit; reading stopped there.
    #[error("the upload unpacks to more than {limit} bytes")]
    Unpacked { limit: u64 },
}

/// Most bad rows listed in one answer.
pub const MAX_BAD_ROWS: usize = 50;

/// Device names as HitKeep stores them (Desktop, Mobile, Tablet).
pub fn normalize_device(s: &str) -> Option<String> {
    let l = s.trim().to_ascii_lowercase();
    Some(
        match l.as_str() {
            "" => return None,
            "desktop" | "laptop" => "Desktop",
            "mobile" | "phone" | "smartphone" => "Mobile",
            "tablet" => "Tablet",
            _ => return Some(s.trim().to_string()),
        }
        .to_string(),
    )
}

/// The host of a referrer given with or without a scheme (`news.ycombinator.com/item?id=1`),
/// without `www.`; `None` when empty.
pub fn referrer_host(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let host = s.split(['/', '?', '#']).next().unwrap_or("").to_ascii_lowercase();
    let host = host.strip_prefix("www.").map(str::to_string).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// Parses the unpacked files of an upload (`(name, bytes)`; a zip's CSVs or one CSV) from
/// `source`, counting days in `tz` for raw-event sources.
pub fn parse_files(
    source: ImportSource,
    files: &[(String, Vec<u8>)],
    tz: chrono_tz::Tz,
) -> Result<ImportBatch, ImportError> {
    let single = || -> Result<&(String, Vec<u8>), ImportError> {
        match files {
            [one] => Ok(one),
            [] => Err(ImportError::BadFile("the upload is empty".into())),
            many => many
                .iter()
                .find(|(n, _)| n.contains("website_event") || n.contains("goatcounter"))
                .ok_or_else(|| ImportError::BadFile(format!("expected one CSV file, found {}", many.len()))),
        }
    };
    let batch = match source {
        ImportSource::Plausible => plausible::parse(files)?,
        ImportSource::Umami => {
            let (name, bytes) = single()?;
            umami::parse(name, bytes, tz)?
        }
        ImportSource::GoatCounter => {
            let (name, bytes) = single()?;
            goatcounter::parse(name, bytes, tz)?
        }
    };
    if batch.days.is_empty() {
        return Err(ImportError::BadFile("the file holds no data rows".into()));
    }
    Ok(batch)
}
