//! E-mail reports in the recipient's language: the language a user picks in the dashboard
//! (`PATCH /api/me`) is remembered on their account and is the language of the reports mailed
//! to their address; anyone else gets English.

use std::time::Duration;

use chrono::Datelike;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle_data::{part, seed, smtp_sink};

const TOKEN: &str = "report-language-token";
const PASSWORD: &str = "correct horse battery";

/// Calls `/api{path}` as a browser with the session `cookie` would.
async fn as_user(s: &Server, cookie: &str, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = s
        .client
        .request(method, s.url(&format!("/api{path}")))
        .header("cookie", format!("hk_session={cookie}"))
        .header("origin", &s.base)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn session(r: &reqwest::Response) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().strip_prefix("hk_session=").unwrap().to_string()
}

/// Sends last week's report of `site` to `email` now; returns the subject and the mail's text and HTML parts.
async fn report(
    s: &Server,
    mails: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    site: &str,
    email: &str,
) -> (String, String, String) {
    let r = s
        .client
        .post(s.url(&format!("/api/sites/{site}/email-reports/send")))
        .bearer_auth(TOKEN)
        .json(&json!({"email": email, "period": "week"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sent: Value = r.json().await.unwrap();
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv()).await.unwrap().unwrap().replace('\r', "");
    (sent["subject"].as_str().unwrap().to_string(), part(&mail, "text/plain"), part(&mail, "text/html"))
}

/// Last week's pageviews of `site`, from the query API.
async fn pageviews(s: &Server, site: &str, from: chrono::NaiveDate, to: chrono::NaiveDate) -> u64 {
    let q = json!({"site_id": site, "date_range": [from.to_string(), to.to_string()], "metrics": ["pageviews"]});
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&q).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    v["results"][0]["metrics"][0].as_u64().unwrap_or_else(|| panic!("{v}"))
}

#[tokio::test]
async fn a_german_user_gets_a_german_report_and_an_english_user_an_english_one() {
    let data = DataDir::with_sites(&["shop.test", "blog.test", "docs.test"]);
    seed(&data, "shop.test", 6000, 10);
    seed(&data, "blog.test", 6000, 10);
    let (port, mut mails) = smtp_sink().await;
    let smtp = format!("smtp://127.0.0.1:{port}");
    let s = Server::start(&data, &["--api-token", TOKEN, "--smtp-url", &smtp, "--smtp-from", "reports@hitkeep.test"]);
    s.wait_ready().await;

    // The first user picks German in the account menu; the choice is validated and remembered.
    let r = s
        .client
        .post(s.url("/api/setup"))
        .json(&json!({"email": "chef@shop.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let chef = session(&r);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["language"], Value::Null, "not chosen yet");
    let (status, body) = as_user(&s, &chef, reqwest::Method::PATCH, "/me", json!({"language": "klingon"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = as_user(&s, &chef, reqwest::Method::PATCH, "/me", json!({"language": "de"})).await;
    assert_eq!((status, &body["language"]), (200, &json!("de")), "{body}");
    let (_, me) = as_user(&s, &chef, reqwest::Method::GET, "/me", Value::Null).await;
    assert_eq!(me["language"], "de");
    assert_eq!(me["email"], "chef@shop.test");

    // A second user chooses English.
    let (_, invite) = as_user(&s, &chef, reqwest::Method::POST, "/invites", json!({"email": "editor@blog.test"})).await;
    let token = invite["token"].as_str().unwrap_or_else(|| panic!("{invite}"));
    let r = s
        .client
        .post(s.url(&format!("/api/invites/{token}/accept")))
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let editor = session(&r);
    let (status, _) = as_user(&s, &editor, reqwest::Method::PATCH, "/me", json!({"language": "en"})).await;
    assert_eq!(status, 200);

    let today = chrono::Utc::now().date_naive();
    let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64);
    let (from, to) = (monday - chrono::Duration::days(7), monday - chrono::Duration::days(1));
    let german_pageviews = pageviews(&s, "shop.test", from, to).await;
    let english_pageviews = pageviews(&s, "blog.test", from, to).await;
    assert!(german_pageviews >= 1000 && english_pageviews >= 1000, "four-digit counts show the grouping");
    let grouped = |n: u64, sep: &str| format!("{}{sep}{:03}", n / 1000, n % 1000);

    let (subject, text, html) = report(&s, &mut mails, "shop.test", "chef@shop.test").await;
    let dmy = |d: chrono::NaiveDate| d.format("%d.%m.%Y").to_string();
    assert!(
        subject.starts_with("Wochenbericht für shop.test: ")
            && subject.ends_with(&format!("({} bis {})", dmy(from), dmy(to))),
        "{subject}"
    );
    assert!(text.contains(&format!("Seitenaufrufe: {} (", grouped(german_pageviews, "."))), "{text}");
    assert!(text.contains("ggü. Vorzeitraum") && text.contains("Besucher: ") && text.contains("Top-Quellen"), "{text}");
    assert!(!text.contains("Visitors") && !text.contains("Pageviews"), "{text}");
    assert!(html.contains("<html lang=\"de\">") && html.contains("<h2>Top-Seiten</h2>"), "{html}");

    let (subject, text, html) = report(&s, &mut mails, "blog.test", "editor@blog.test").await;
    let mdy = |d: chrono::NaiveDate| d.format("%b %-d, %Y").to_string();
    assert!(
        subject.starts_with("Weekly report for blog.test: ")
            && subject.ends_with(&format!("({} to {})", mdy(from), mdy(to))),
        "{subject}"
    );
    assert!(text.contains(&format!("Pageviews: {} (", grouped(english_pageviews, ","))), "{text}");
    assert!(text.contains("vs. previous period") && text.contains("Top sources"), "{text}");
    assert!(!text.contains("Besucher"), "{text}");
    assert!(html.contains("<html lang=\"en\">"), "{html}");

    // An address that is no user's gets English.
    let (subject, _, _) = report(&s, &mut mails, "docs.test", "stranger@elsewhere.test").await;
    assert!(subject.starts_with("Weekly report for docs.test: 0 visitors"), "{subject}");
    s.stop();
}
