//! `hitkeep annotate`: adds a dated note to a site's charts through a running server's API, so
//! deploy scripts can mark releases while the server keeps the data directory.

use anyhow::Context;
use clap::Args;

#[derive(Args, Debug)]
pub struct AnnotateArgs {
    /// The note (one line, at most 200 characters), e.g. "Deployed v2.3".
    pub note: String,
    /// The site's domain.
    #[arg(long)]
    pub site: String,
    /// The day it marks (YYYY-MM-DD); default: today in the site's time zone.
    #[arg(long)]
    pub date: Option<String>,
    /// The running server's base URL.
    #[arg(long, env = "HITKEEP_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// An API token that may manage the site (write scope), or the server's `--api-token`.
    #[arg(long, env = "HITKEEP_API_TOKEN", hide_env_values = true)]
    pub token: String,
}

/// POSTs `body` as JSON to `path` on a running server with a bearer token; its JSON answer, or
/// an error with the server's message. `what` names the action in errors.
pub fn post_to_server(
    server: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
    what: &str,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("{}{path}", server.trim_end_matches('/'));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (status, text) = runtime.block_on(async {
        let r = crate::adapters::http_client::client()
            .post(&url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = r.status();
        anyhow::Ok((status, r.text().await.unwrap_or_default()))
    })?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        anyhow::bail!("the server refused the {what} ({status}): {message}");
    }
    serde_json::from_str(&text).context("unexpected answer")
}

/// Runs `annotate`.
pub fn annotate(args: AnnotateArgs) -> anyhow::Result<()> {
    let site = percent_encoding::utf8_percent_encode(&args.site, percent_encoding::NON_ALPHANUMERIC);
    let body = serde_json::json!({"date": args.date, "note": args.note});
    let v = post_to_server(&args.server, &format!("/api/sites/{site}/annotations"), &args.token, &body, "annotation")?;
    println!("annotated {} on {}: {} (id {})", args.site, v["date"].as_str().unwrap_or("?"), args.note, v["id"]);
    Ok(())
}
