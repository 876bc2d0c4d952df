//! Web server access log lines: the NCSA combined format (nginx's and Apache's default) and
//! Caddy's JSON access log, read into what a crawler fetch needs.

use chrono::DateTime;
use serde_json::Value;

use super::page::Page;

/// The formats `hitkeep import-logs` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLogFormat {
    /// `$remote_addr - $remote_user [$time_local] "$request" $status $bytes "$referer" "$user_agent"`;
    /// carries no host, so the site is named on the command line.
    Combined,
    /// Caddy's `log` directive output: one JSON object per line with `ts`, `request.host`,
    /// `request.uri` and `request.headers.User-Agent`.
    CaddyJson,
}

/// One request of an access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    /// The requested host, when the format records it.
    pub host: Option<String>,
    pub pathname: String,
    pub user_agent: String,
    /// Unix microseconds.
    pub ts: i64,
}

/// Why a line was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadLine(pub String);

fn bad<T>(why: &str) -> Result<T, BadLine> {
    Err(BadLine(why.to_string()))
}

/// Reads one line in `format`.
pub fn parse_line(format: AccessLogFormat, line: &str) -> Result<AccessLine, BadLine> {
    match format {
        AccessLogFormat::Combined => combined(line),
        AccessLogFormat::CaddyJson => caddy(line),
    }
}

/// The pathname of a request target (query and fragment dropped, as for hits).
fn pathname(target: &str) -> Result<String, BadLine> {
    if !target.starts_with('/') {
        return bad("the request target is not a path");
    }
    Page::parse(target, false).map(|p| p.pathname).map_err(|e| BadLine(e.to_string()))
}

/// The text between the first pair of `open` / `close` at or after `from`, and where it ends.
fn delimited(line: &str, from: usize, open: char, close: char) -> Option<(&str, usize)> {
    let start = from + line[from..].find(open)? + 1;
    // Quoted fields escape quotes as \" (nginx) : skip escaped closers.
    let mut end = start;
    loop {
        end += line[end..].find(close)?;
        if close != '"' || !line[start..end].ends_with('\\') {
            return Some((&line[start..end], end + 1));
        }
        end += 1;
    }
}

fn combined(line: &str) -> Result<AccessLine, BadLine> {
    let Some((time, after_time)) = delimited(line, 0, '[', ']') else { return bad("no [time]") };
    let ts = DateTime::parse_from_str(time, "%d/%b/%Y:%H:%M:%S %z")
        .map_err(|_| BadLine(format!("unreadable time {time:?}")))?
        .timestamp_micros();
    let Some((request, after_request)) = delimited(line, after_time, '"', '"') else { return bad("no \"request\"") };
    let target = request.split_whitespace().nth(1).unwrap_or("");
    let Some((_referer, after_referer)) = delimited(line, after_request, '"', '"') else { return bad("no referer") };
    let Some((user_agent, _)) = delimited(line, after_referer, '"', '"') else { return bad("no user agent") };
    Ok(AccessLine { host: None, pathname: pathname(target)?, user_agent: user_agent.replace("\\\"", "\""), ts })
}

fn caddy(line: &str) -> Result<AccessLine, BadLine> {
    let v: Value = serde_json::from_str(line).map_err(|e| BadLine(format!("not JSON: {e}")))?;
    let request = &v["request"];
    let Some(uri) = request["uri"].as_str() else { return bad("no request.uri") };
    let Some(seconds) = v["ts"].as_f64() else { return bad("no ts") };
    let user_agent = request["headers"]["User-Agent"][0].as_str().unwrap_or("").to_string();
    Ok(AccessLine {
        host: request["host"].as_str().map(str::to_string),
        pathname: pathname(uri)?,
        user_agent,
        ts: (seconds * 1e6).round() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_combined_lines() {
        let line = r#"203.0.113.9 - - [02/Nov/2026:13:55:36 +0100] "GET /blog/post?utm=x HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)""#;
        let l = parse_line(AccessLogFormat::Combined, line).unwrap();
        assert_eq!(l.pathname, "/blog/post");
        assert_eq!(l.user_agent, "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)");
        assert_eq!(l.ts, 1_793_624_136_000_000, "12:55:36 UTC");
        assert_eq!(l.host, None);
        assert!(parse_line(AccessLogFormat::Combined, "garbage").is_err());
        let odd = r#"1.2.3.4 - - [02/Nov/2026:13:55:36 +0000] "CONNECT example.test:443 HTTP/1.1" 400 0 "-" "x""#;
        assert!(parse_line(AccessLogFormat::Combined, odd).is_err(), "no path");
    }

    #[test]
    fn reads_caddy_json_lines() {
        let line = r#"{"level":"info","ts":1793624136.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"203.0.113.9","method":"GET","host":"shop.test","uri":"/a?b=c","headers":{"User-Agent":["ClaudeBot/1.0"]}},"status":200}"#;
        let l = parse_line(AccessLogFormat::CaddyJson, line).unwrap();
        assert_eq!(
            (l.host.as_deref(), l.pathname.as_str(), l.user_agent.as_str()),
            (Some("shop.test"), "/a", "ClaudeBot/1.0")
        );
        assert_eq!(l.ts, 1_793_624_136_500_000);
        assert!(parse_line(AccessLogFormat::CaddyJson, "{}").is_err());
    }
}
