//! Traffic alerts: a spike or drop is the last hour's pageviews against the same hour's typical
//! level over the past weeks (same weekday, same time of day), with a minimum volume so a quiet
//! site does not page anyone over three visits. One alert per kind per window (an hour).

use serde_json::{Value, json};

/// One hour: the window compared, and the least time between two alerts of a kind.
pub const WINDOW_MICROS: i64 = 3_600_000_000;
const WEEK_MICROS: i64 = 7 * 24 * WINDOW_MICROS;

/// A spike or a drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    Spike,
    Drop,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spike => "spike",
            Self::Drop => "drop",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Spike, Self::Drop].into_iter().find(|k| k.as_str() == s)
    }

    /// The webhook event an alert of this kind is delivered as.
    pub fn event(self) -> super::webhooks::WebhookEvent {
        match self {
            Self::Spike => super::webhooks::WebhookEvent::TrafficSpike,
            Self::Drop => super::webhooks::WebhookEvent::TrafficDrop,
        }
    }
}

/// A site's alert thresholds and who is told by e-mail.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub enabled: bool,
    /// A spike: the last hour has at least this many times the typical pageviews.
    pub spike_factor: f64,
    /// A drop: the last hour has at most this fraction of the typical pageviews.
    pub drop_factor: f64,
    /// Neither is raised below this many pageviews (the last hour's for a spike, the typical
    /// level for a drop).
    pub min_pageviews: u64,
    /// Weeks of history the typical level is taken from.
    pub weeks: u32,
    /// Addresses mailed on an alert (webhooks subscribe to `traffic.spike|drop` themselves).
    pub emails: Vec<String>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self { enabled: true, spike_factor: 2.0, drop_factor: 0.5, min_pageviews: 20, weeks: 4, emails: Vec::new() }
    }
}

impl AlertSettings {
    /// Checks the thresholds are meaningful.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.spike_factor > 1.0 && self.spike_factor <= 1000.0) {
            return Err("spike_factor must be more than 1 and at most 1000".into());
        }
        if !(self.drop_factor > 0.0 && self.drop_factor < 1.0) {
            return Err("drop_factor must be between 0 and 1".into());
        }
        if !(1..=12).contains(&self.weeks) {
            return Err("weeks must be 1 to 12".into());
        }
        if self.min_pageviews == 0 {
            return Err("min_pageviews must be at least 1".into());
        }
        if self.emails.len() > 20 {
            return Err("at most 20 e-mail addresses".into());
        }
        Ok(())
    }
}

/// A raised alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub site_id: u32,
    pub kind: AlertKind,
    /// The window compared, `[from, to)` in microseconds.
    pub from: i64,
    pub to: i64,
    pub pageviews: u64,
    pub typical: f64,
}

impl Alert {
    /// What webhooks receive as `data`.
    pub fn data(&self) -> Value {
        let iso = |m: i64| chrono::DateTime::from_timestamp_micros(m).unwrap_or_default().to_rfc3339();
        json!({"kind": self.kind.as_str(), "from": iso(self.from), "to": iso(self.to),
               "pageviews": self.pageviews, "typical": (self.typical * 10.0).round() / 10.0})
    }
}

/// The windows whose pageviews an evaluation at `now` needs: the last hour first, then the same
/// hour one, two, ... `weeks` weeks ago, skipping weeks before `first_event` (the site had no data).
pub fn windows(now: i64, weeks: u32, first_event: Option<i64>) -> Vec<(i64, i64)> {
    let mut list = vec![(now - WINDOW_MICROS, now)];
    let Some(first) = first_event else { return list };
    for k in 1..=i64::from(weeks) {
        let to = now - k * WEEK_MICROS;
        if to > first {
            list.push((to - WINDOW_MICROS, to));
        }
    }
    list
}

/// Where the oldest history window an evaluation at `now` may use starts.
pub fn history_start(now: i64, weeks: u32) -> i64 {
    now - i64::from(weeks) * WEEK_MICROS - WINDOW_MICROS
}

/// The alert `counts` (pageviews per window of `windows`) call for, if any.
pub fn evaluate(site_id: u32, s: &AlertSettings, windows: &[(i64, i64)], counts: &[u64]) -> Option<Alert> {
    let (&(from, to), &current) = (windows.first()?, counts.first()?);
    let history = &counts[1..];
    if !s.enabled || history.is_empty() {
        return None;
    }
    let typical = history.iter().sum::<u64>() as f64 / history.len() as f64;
    let alert = |kind| Some(Alert { site_id, kind, from, to, pageviews: current, typical });
    if current >= s.min_pageviews && current as f64 >= typical * s.spike_factor {
        return alert(AlertKind::Spike);
    }
    if typical >= s.min_pageviews as f64 && (current as f64) <= typical * s.drop_factor {
        return alert(AlertKind::Drop);
    }
    None
}

/// Whether an alert of a kind last raised at `last` may be raised again at `now`.
pub fn may_raise(last: Option<i64>, now: i64) -> bool {
    last.is_none_or(|t| now - t >= WINDOW_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_500_000_000_000;

    #[test]
    fn history_windows_skip_weeks_before_the_first_event() {
        assert_eq!(windows(NOW, 4, None).len(), 1);
        let w = windows(NOW, 4, Some(NOW - 2 * WEEK_MICROS - 60_000_000));
        assert_eq!(w.len(), 3, "{w:?}");
        assert_eq!(w[1], (NOW - WEEK_MICROS - WINDOW_MICROS, NOW - WEEK_MICROS));
    }

    #[test]
    fn spikes_and_drops_need_volume() {
        let s = AlertSettings::default();
        let w = windows(NOW, 4, Some(0));
        let spike = evaluate(1, &s, &w, &[40, 5, 5, 5, 5]).unwrap();
        assert_eq!((spike.kind, spike.pageviews, spike.typical), (AlertKind::Spike, 40, 5.0));
        assert!(evaluate(1, &s, &w, &[12, 1, 1, 1, 1]).is_none(), "below min_pageviews");
        assert!(evaluate(1, &s, &w, &[30, 20, 20, 20, 20]).is_none(), "1.5x is not a spike");
        assert_eq!(evaluate(1, &s, &w, &[10, 40, 40, 40, 40]).unwrap().kind, AlertKind::Drop);
        assert!(evaluate(1, &s, &w, &[0, 4, 4, 4, 4]).is_none(), "a quiet site's drop is noise");
        assert!(evaluate(1, &s, &w[..1], &[40]).is_none(), "no history, no typical level");
        let off = AlertSettings { enabled: false, ..s };
        assert!(evaluate(1, &off, &w, &[40, 5, 5, 5, 5]).is_none());
    }

    #[test]
    fn at_most_one_alert_per_window() {
        assert!(may_raise(None, NOW));
        assert!(!may_raise(Some(NOW - 60_000_000), NOW));
        assert!(may_raise(Some(NOW - WINDOW_MICROS), NOW));
    }

    #[test]
    fn settings_are_checked() {
        assert!(AlertSettings::default().validate().is_ok());
        assert!(AlertSettings { spike_factor: 1.0, ..Default::default() }.validate().is_err());
        assert!(AlertSettings { drop_factor: 1.5, ..Default::default() }.validate().is_err());
        assert!(AlertSettings { weeks: 0, ..Default::default() }.validate().is_err());
    }
}
