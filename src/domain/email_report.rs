//! Weekly and monthly e-mail reports: the figures (through the report service, so they match
//! the dashboard), the mail's text and HTML parts, and the schedule.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::accounts::Email;
use super::cooldown::Cooldown;
use super::email_report_text::texts;
use super::language::Language;
use super::lifecycle::{Frequency, due_period, last_full_period, local_date, period_key, previous_period, site_tz};
use super::query::{Cell, PageInput, QueryInput};
use super::reports::ReportError;
use super::site::Site;
use crate::ports::accounts::UserStore;
use crate::ports::clock::Clock;
use crate::ports::lifecycle::{Mail, MailError, Mailer, SubscriptionStore};
use crate::ports::store::{StoreError, StoreResult};
use crate::services::reports::ReportService;

/// Why a report was not sent.
#[derive(Debug, thiserror::Error)]
pub enum EmailReportError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("a report of this site was sent less than {every} seconds ago; try again in {retry_after} seconds")]
    TooSoon { every: u64, retry_after: u64 },
}

/// The numbers a report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFigures {
    pub site: String,
    pub frequency: Frequency,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub visitors: u64,
    pub pageviews: u64,
    pub previous_visitors: u64,
    pub previous_pageviews: u64,
    /// (page, visitors), most visited first.
    pub top_pages: Vec<(String, u64)>,
    /// (source, visitors).
    pub top_sources: Vec<(String, u64)>,
}

/// Rows in each top list.
pub const TOP: usize = 5;

fn int(v: &Cell) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn range(from: NaiveDate, to: NaiveDate) -> Value {
    json!([from.to_string(), to.to_string()])
}

/// Gathers a report's figures for `site` over `from..=to`.
pub fn figures(
    reports: &ReportService,
    site: &Site,
    frequency: Frequency,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<ReportFigures, ReportError> {
    let domain = site.domain.as_str();
    let ask = |a: NaiveDate, b: NaiveDate, metrics: &[&str]| QueryInput {
        site_id: domain.to_string(),
        date_range: Some(range(a, b)),
        metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
        ..QueryInput::default()
    };
    let totals = |a: NaiveDate, b: NaiveDate| -> Result<(u64, u64), ReportError> {
        let answer = reports.query_blocking(site, &ask(a, b, &["visitors", "pageviews"]))?;
        Ok(answer.rows.first().map_or((0, 0), |r| (int(&r.metrics[0]), int(&r.metrics[1]))))
    };
    let top = |dim: &str| -> Result<Vec<(String, u64)>, ReportError> {
        let input = QueryInput {
            dimensions: vec![dim.to_string()],
            pagination: PageInput { limit: Some(TOP as u64), offset: None },
            ..ask(from, to, &["visitors"])
        };
        let answer = reports.query_blocking(site, &input)?;
        Ok(answer
            .rows
            .iter()
            .map(|r| (r.dimensions[0].as_str().unwrap_or("(none)").to_string(), int(&r.metrics[0])))
            .collect())
    };
    let (visitors, pageviews) = totals(from, to)?;
    let (pf, pt) = previous_period(frequency, from);
    let (previous_visitors, previous_pageviews) = totals(pf, pt)?;
    Ok(ReportFigures {
        site: domain.to_string(),
        frequency,
        from,
        to,
        visitors,
        pageviews,
        previous_visitors,
        previous_pageviews,
        top_pages: top("event:page")?,
        top_sources: top("visit:source")?,
    })
}

/// `+25%`, `-10%`, `0%`; `new` when the previous period had none, in `lang`'s format.
pub fn change_label(now: u64, before: u64, lang: Language) -> String {
    if before == 0 {
        return if now == 0 { lang.percent(0) } else { texts(lang).new.into() };
    }
    lang.percent(((now as f64 - before as f64) / before as f64 * 100.0).round() as i64)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The mail for `to` in `lang`: subject, plain text and HTML with the same numbers.
pub fn compose(f: &ReportFigures, to: &str, lang: Language) -> Mail {
    let w = texts(lang);
    let n = |v: u64| lang.number(v);
    let title = match f.frequency {
        Frequency::Week => w.weekly,
        Frequency::Month => w.monthly,
    };
    let period = w.period.replace("{from}", &lang.date(f.from)).replace("{to}", &lang.date(f.to));
    let count = w.visitor_count.replace("{n}", &n(f.visitors));
    let subject = format!("{}: {count} ({period})", title.replace("{site}", &f.site));
    let vc = change_label(f.visitors, f.previous_visitors, lang);
    let pc = change_label(f.pageviews, f.previous_pageviews, lang);
    let (v, pv, p, pp) = (n(f.visitors), n(f.previous_visitors), n(f.pageviews), n(f.previous_pageviews));
    let (visitors, pageviews, vs, previous) = (w.visitors, w.pageviews, w.vs_previous, w.previous);
    let mut text = format!(
        "{}, {period}\n\n{visitors}: {v} ({vc} {vs}: {pv})\n{pageviews}: {p} ({pc} {vs}: {pp})\n",
        title.replace("{site}", &f.site)
    );
    let mut html = format!(
        "<!doctype html><html lang=\"{lang}\"><body style=\"font-family:sans-serif\"><h1>{heading}</h1><p>{period}</p>\
         <table><tr><th align=\"left\">{visitors}</th><td>{v}</td><td>{vc}</td><td>{previous}: {pv}</td></tr>\
         <tr><th align=\"left\">{pageviews}</th><td>{p}</td><td>{pc}</td><td>{previous}: {pp}</td></tr></table>",
        lang = lang.as_str(),
        heading = escape(&title.replace("{site}", &f.site)),
    );
    for (list_title, list) in [(w.top_pages, &f.top_pages), (w.top_sources, &f.top_sources)] {
        text.push_str(&format!("\n{list_title} ({}):\n", w.per_visitors));
        html.push_str(&format!(
            "<h2>{list_title}</h2><table><tr><th align=\"left\">{}</th><th>{visitors}</th></tr>",
            w.name
        ));
        if list.is_empty() {
            text.push_str(&format!("  {}\n", w.none));
        }
        for (name, count) in list {
            let count = n(*count);
            text.push_str(&format!("  {count:>8}  {name}\n"));
            html.push_str(&format!("<tr><td>{}</td><td align=\"right\">{count}</td></tr>", escape(name)));
        }
        html.push_str("</table>");
    }
    html.push_str(&format!("<p style=\"color:#666\">{}</p></body></html>", w.footer));
    Mail { to: to.to_string(), subject, text, html }
}

/// "Send now" sends at most one report per site per this many seconds: each costs report
/// queries and mails an address of the caller's choosing.
pub const SEND_NOW_EVERY_SECS: u64 = 60;

/// Sends reports now and on schedule.
pub struct EmailReports {
    pub reports: Arc<ReportService>,
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    /// Whose language a recipient chose, when the recipient is a user.
    pub users: Arc<dyn UserStore>,
    /// Paces `send_now` per site.
    pub send_now_pace: Cooldown<u32>,
}

impl EmailReports {
    pub fn new(
        reports: Arc<ReportService>,
        subscriptions: Arc<dyn SubscriptionStore>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        users: Arc<dyn UserStore>,
    ) -> Self {
        Self { reports, subscriptions, mailer, clock, users, send_now_pace: Cooldown::new(SEND_NOW_EVERY_SECS) }
    }

    /// The language the user with this address chose in the dashboard; English for anyone else.
    pub fn language_of(&self, email: &str) -> Language {
        let user = Email::parse(email).ok().and_then(|e| self.users.user_by_email(&e).ok().flatten());
        user.and_then(|u| u.language).unwrap_or_default()
    }

    /// Sends the report of the last complete week or month to `email` at once; at most one per
    /// site per `SEND_NOW_EVERY_SECS` reaches the mail server.
    pub fn send_now(&self, site: &Site, email: &str, frequency: Frequency) -> Result<Mail, EmailReportError> {
        let now = self.clock.now_micros();
        let pace = &self.send_now_pace;
        pace.start(&site.id.0, now)
            .map_err(|retry_after| EmailReportError::TooSoon { every: pace.every_secs(), retry_after })?;
        let sent = (|| {
            let (from, to) = last_full_period(frequency, local_date(site_tz(site), now));
            let mail = compose(&figures(&self.reports, site, frequency, from, to)?, email, self.language_of(email));
            self.mailer.send(&mail)?;
            Ok(mail)
        })();
        // Only attempts that reached the mail server count, not "mail is not configured".
        let reached_server = matches!(&sent, Ok(_) | Err(EmailReportError::Mail(MailError::Delivery(_))));
        if !reached_server {
            pace.forget(&site.id.0);
        }
        sent
    }

    /// Subscribes `email`; the first scheduled mail is the next one due (a new subscriber does not
    /// get the last period's report at once: `send_now` does that). `false` when it existed.
    pub fn subscribe(&self, site: &Site, email: &str, frequency: Frequency) -> StoreResult<bool> {
        let created = self.subscriptions.subscribe(site.id.0, email, frequency)?;
        if created {
            let (tz, now) = (site_tz(site), self.clock.now_micros());
            let key = match due_period(frequency, tz, now) {
                Some((key, _, _)) => key,
                // Before the last full period's send time (Monday or the 1st, before 08:00) the
                // period before it is the last one that was due.
                None => {
                    let (from, _) = last_full_period(frequency, local_date(tz, now));
                    period_key(frequency, previous_period(frequency, from).0)
                }
            };
            self.subscriptions.mark_sent(site.id.0, email, frequency, &key)?;
        }
        Ok(created)
    }

    /// Sends every report whose time has come and that was not sent yet; returns how many went out.
    pub fn send_due(&self, sites: &[Site]) -> Result<usize, EmailReportError> {
        let mut sent = 0;
        for sub in self.subscriptions.subscriptions(None)? {
            let Some(site) = sites.iter().find(|s| s.id.0 == sub.site_id) else { continue };
            let Some((key, from, to)) = due_period(sub.frequency, site_tz(site), self.clock.now_micros()) else {
                continue;
            };
            if sub.last_period.as_deref() == Some(key.as_str()) {
                continue;
            }
            let figures = figures(&self.reports, site, sub.frequency, from, to)?;
            let mail = compose(&figures, &sub.email, self.language_of(&sub.email));
            match self.mailer.send(&mail) {
                Ok(()) => {
                    self.subscriptions.mark_sent(sub.site_id, &sub.email, sub.frequency, &key)?;
                    sent += 1;
                }
                // One bad address must not hold up the others; the next tick retries.
                Err(e) => tracing::warn!(site = %site.domain, error = %e, "could not send an e-mail report"),
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A week of a.test; each test changes what it is about.
    fn week() -> ReportFigures {
        ReportFigures {
            site: "a.test".into(),
            frequency: Frequency::Week,
            from: day("2026-11-16"),
            to: day("2026-11-22"),
            visitors: 150,
            pageviews: 400,
            previous_visitors: 100,
            previous_pageviews: 400,
            top_pages: vec![("/<b>".into(), 90)],
            top_sources: vec![],
        }
    }

    #[test]
    fn both_parts_carry_the_numbers() {
        let f = week();
        let m = compose(&f, "x@y.test", Language::En);
        assert!(m.text.contains("Visitors: 150 (+50% vs. previous period: 100)"));
        assert!(m.html.contains("<td>150</td><td>+50%</td>"));
        assert!(m.html.contains("/&lt;b&gt;"));
        assert_eq!(m.subject, "Weekly report for a.test: 150 visitors (Nov 16, 2026 to Nov 22, 2026)");
        assert_eq!(change_label(0, 0, Language::En), "0%");
        assert_eq!(change_label(5, 0, Language::En), "new");
        assert_eq!(change_label(90, 100, Language::En), "-10%");
    }

    #[test]
    fn a_german_report_speaks_german() {
        let f = ReportFigures {
            frequency: Frequency::Month,
            from: day("2026-10-01"),
            to: day("2026-10-31"),
            visitors: 1234,
            pageviews: 5000,
            previous_visitors: 0,
            previous_pageviews: 4000,
            top_pages: vec![],
            top_sources: vec![("Google".into(), 1001)],
            ..week()
        };
        let m = compose(&f, "x@y.test", Language::De);
        assert_eq!(m.subject, "Monatsbericht für a.test: 1.234 Besucher (01.10.2026 bis 31.10.2026)");
        assert!(m.text.contains("Besucher: 1.234 (neu ggü. Vorzeitraum: 0)"), "{}", m.text);
        assert!(m.text.contains("Seitenaufrufe: 5.000 (+25\u{a0}% ggü. Vorzeitraum: 4.000)"), "{}", m.text);
        assert!(m.text.contains("(keine)") && m.text.contains("1.001  Google"));
        assert!(m.html.contains("<html lang=\"de\">") && m.html.contains("<h2>Top-Quellen</h2>"));
    }
}
