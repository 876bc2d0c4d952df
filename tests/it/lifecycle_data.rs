//! The data lifecycle on real data directories with the real binary: retention with archives,
//! exports, backup and restore, imports from other tools, e-mail reports.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Datelike;
use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "lifecycle-test-token";

fn fixture(name: &str) -> PathBuf {
    crate::harness::checkout().join("tests/fixtures/imports").join(name)
}

pub(crate) fn seed(data: &DataDir, site: &str, events: u32, days: u32) {
    let (ok, _, err) = cli(&[
        "seed",
        "--site",
        site,
        "--events",
        &events.to_string(),
        "--days",
        &days.to_string(),
        "--data-dir",
        data.path_str(),
    ]);
    assert!(ok, "seed: {err}");
}

fn micros(ts: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts.as_str().expect("ts")).expect("rfc3339").timestamp_micros()
}

fn midnight(date: chrono::NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros()
}

/// Rows in a Parquet file, counted by DuckDB.
fn parquet_rows(file: &Path, filter: &str) -> i64 {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.query_row(
        &format!(
            "SELECT count(*) FROM read_parquet('{}') WHERE {filter}",
            file.display().to_string().replace('\'', "''")
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

async fn query(s: &Server, body: Value) -> Value {
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test]
async fn retention_deletes_exactly_what_is_older_than_the_cutoff_and_archives_it() {
    let data = DataDir::with_sites(&["keep.test", "forever.test"]);
    seed(&data, "keep.test", 3000, 20);
    seed(&data, "forever.test", 500, 20);
    let before = data.export("keep.test");
    let forever_before = data.export("forever.test").len();
    let today = chrono::Utc::now().date_naive();
    let cutoff = midnight(today - chrono::Duration::days(7));
    let old = before.iter().filter(|e| micros(&e["ts"]) < cutoff).count();
    assert!(old > 1000 && old < before.len(), "the seed spans the cut-off ({old} of {})", before.len());

    let (ok, _, err) = cli(&["site", "retention", "keep.test", "7", "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    let now = format!("{today}T12:00:00Z");
    let (ok, out, err) = cli(&["retention", "--data-dir", data.path_str(), "--now", &now, "--archive"]);
    assert!(ok, "retention: {err}");
    assert!(out.contains(&format!("keep.test: deleted {old} events")), "{out}");

    let after = data.export("keep.test");
    assert_eq!(after.len(), before.len() - old, "exactly the old events are gone");
    assert!(after.iter().all(|e| micros(&e["ts"]) >= cutoff));
    assert_eq!(data.export("forever.test").len(), forever_before, "retention 0 keeps everything");

    let dir = data.dir.path().join("archive").join("keep.test");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("web-vitals"))
        .collect();
    assert!(!files.is_empty());
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(name.len() == "2026-11.parquet".len() && name.ends_with(".parquet"), "one file per month: {name}");
    }
    let archived: i64 = files.iter().map(|f| parquet_rows(f, "true")).sum();
    assert_eq!(archived as usize, old, "every deleted event is in the archive");
    let newer: i64 = files.iter().map(|f| parquet_rows(f, &format!("epoch_us(ts) >= {cutoff}"))).sum();
    assert_eq!(newer, 0);

    // A later run with a later cut-off extends the month files without duplicating rows.
    let later = format!("{}T12:00:00Z", today + chrono::Duration::days(2));
    let cutoff2 = midnight(today + chrono::Duration::days(2) - chrono::Duration::days(7));
    let old2 = after.iter().filter(|e| micros(&e["ts"]) < cutoff2).count();
    let (ok, out, err) = cli(&["retention", "--data-dir", data.path_str(), "--now", &later, "--archive"]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("deleted {old2} events")), "{out}");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("web-vitals"))
        .collect();
    let archived: i64 = files.iter().map(|f| parquet_rows(f, "true")).sum();
    assert_eq!(archived as usize, old + old2);

    let (ok, _, err) = cli(&["retention", "--data-dir", data.path_str(), "--now", "last tuesday"]);
    assert!(!ok && err.contains("--now"), "a bad --now is refused: {err}");
}

fn csv_rows(bytes: &[u8]) -> usize {
    let mut r = csv::Reader::from_reader(bytes);
    assert!(r.headers().unwrap().iter().any(|h| h == "visitor_id"));
    let mut n = 0;
    for record in r.records() {
        record.expect("valid csv");
        n += 1;
    }
    n
}

#[tokio::test]
async fn exports_have_one_row_per_event_in_every_format_from_cli_and_api() {
    let data = DataDir::with_sites(&["shop.test"]);
    seed(&data, "shop.test", 2500, 10);
    let today = chrono::Utc::now().date_naive();
    let (from, to) = ((today - chrono::Duration::days(4)).to_string(), today.to_string());
    let all = data.export("shop.test");
    let n = all.iter().filter(|e| micros(&e["ts"]) >= midnight(today - chrono::Duration::days(4))).count();
    assert!(n > 500 && n < all.len(), "the range holds part of the data ({n} of {})", all.len());

    let out = tempfile::tempdir().unwrap();
    for format in ["csv", "parquet", "ndjson"] {
        let file = out.path().join(format!("events.{format}"));
        let (ok, _, err) = cli(&[
            "export",
            "--site",
            "shop.test",
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            format,
            "--out",
            file.to_str().unwrap(),
            "--data-dir",
            data.path_str(),
        ]);
        assert!(ok, "export {format}: {err}");
        assert!(err.contains(&format!("exported {n} rows")), "progress on stderr: {err}");
        let rows = match format {
            "csv" => csv_rows(&std::fs::read(&file).unwrap()),
            "parquet" => parquet_rows(&file, "true") as usize,
            _ => std::fs::read_to_string(&file).unwrap().lines().count(),
        };
        assert_eq!(rows, n, "{format} via the CLI");
    }
    let (ok, stdout, _) =
        cli(&["export", "--site", "shop.test", "--from", &from, "--to", &to, "--data-dir", data.path_str()]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), n, "NDJSON on stdout");
    let (ok, _, err) = cli(&[
        "export",
        "--site",
        "shop.test",
        "--from",
        &to,
        "--to",
        &from,
        "--format",
        "csv",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(!ok && err.contains("before"), "a reversed range is refused: {err}");

    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    for (format, ctype) in [
        ("csv", "text/csv; charset=utf-8"),
        ("parquet", "application/vnd.apache.parquet"),
        ("ndjson", "application/x-ndjson"),
    ] {
        let r = s
            .client
            .get(s.url(&format!("/api/sites/shop.test/export?from={from}&to={to}&format={format}")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{format}");
        assert_eq!(r.headers()["content-type"], ctype);
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.contains(&format!("shop.test-events-{from}-{to}.{format}")), "{disposition}");
        let bytes = r.bytes().await.unwrap();
        let rows = match format {
            "csv" => csv_rows(&bytes),
            "parquet" => {
                let f = out.path().join("api.parquet");
                std::fs::write(&f, &bytes).unwrap();
                parquet_rows(&f, "true") as usize
            }
            _ => bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count(),
        };
        assert_eq!(rows, n, "{format} via the API");
    }
    let tmp = data.dir.path().join("tmp");
    assert_eq!(std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0), 0, "no staged export is left behind");
    for (q, word) in [
        (format!("from={from}&to={to}&format=xml"), "format"),
        (format!("from=2026-13-01&to={to}"), "from"),
        (format!("from={to}&to={from}"), "before"),
        (format!("to={to}"), "from"),
    ] {
        let r =
            s.client.get(s.url(&format!("/api/sites/shop.test/export?{q}"))).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let body: Value = r.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(word), "{q}: {body}");
    }
    let r = s.client.get(s.url(&format!("/api/sites/shop.test/export?from={from}&to={to}"))).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .client
        .get(s.url(&format!("/api/sites/nope.test/export?from={from}&to={to}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    s.stop();
}

fn dashboard_queries() -> Vec<Value> {
    let q = |extra: Value| {
        let mut body = json!({"site_id": "shop.test", "date_range": "30d",
            "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    vec![
        q(json!({})),
        q(json!({"dimensions": ["time:day"]})),
        q(json!({"dimensions": ["visit:source"]})),
        q(json!({"dimensions": ["event:page"], "pagination": {"limit": 20}})),
        q(json!({"dimensions": ["visit:country"], "filters": [["is", "visit:device", ["Desktop"]]]})),
    ]
}

#[tokio::test]
async fn backup_of_a_running_server_restores_to_identical_answers() {
    let data = DataDir::with_sites(&["shop.test"]);
    seed(&data, "shop.test", 3000, 12);
    let seeded = data.export("shop.test").len();
    let backups = tempfile::tempdir().unwrap();
    let s = Server::start(&data, &["--api-token", TOKEN, "--backup-dir", backups.path().to_str().unwrap()]);
    s.wait_ready().await;
    for i in 0..20 {
        let r = s
            .post("/ingest", "https://shop.test", CHROME_MAC, pageview(&format!("/live/{i}"), None))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    s.wait_stored(20.0).await;
    let mut answers = Vec::new();
    for q in dashboard_queries() {
        answers.push(query(&s, q).await["results"].clone());
    }
    let target = backups.path().join("b1");
    let (ok, out, err) = cli(&["backup", "--to", target.to_str().unwrap(), "--server", &s.base, "--token", TOKEN]);
    assert!(ok, "backup: {err}");
    assert!(out.contains("backup written by the server"), "{out}");
    let (ok, _, err) = cli(&["backup", "--to", target.to_str().unwrap(), "--server", &s.base, "--token", TOKEN]);
    assert!(!ok && err.contains("already holds a backup"), "a second backup into the same place is refused: {err}");
    let (ok, _, err) =
        cli(&["backup", "--to", backups.path().join("b2").to_str().unwrap(), "--server", &s.base, "--token", "wrong"]);
    assert!(!ok && err.contains("401"), "{err}");
    let outside = tempfile::tempdir().unwrap();
    let (ok, _, err) =
        cli(&["backup", "--to", outside.path().to_str().unwrap(), "--server", &s.base, "--token", TOKEN]);
    assert!(!ok && err.contains("under"), "the API writes only under its backup directory: {err}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    let (ok, _, err) =
        cli(&["backup", "--to", backups.path().join("b3").to_str().unwrap(), "--data-dir", data.path_str()]);
    assert!(!ok && err.contains("--server"), "a running server's directory points to --server: {err}");
    s.stop();

    let (ok, _, err) = cli(&["restore", "--from", target.to_str().unwrap(), "--data-dir", data.path_str()]);
    assert!(!ok && err.contains("--force"), "restore refuses a non-empty target: {err}");
    let offline = backups.path().join("offline");
    let (ok, out, err) = cli(&["backup", "--to", offline.to_str().unwrap(), "--data-dir", data.path_str()]);
    assert!(ok && out.contains("backup written"), "a stopped data directory is backed up directly: {err}");
    assert!(offline.join("hitkeep.db").is_file());
    // Wipe.
    std::fs::remove_dir_all(data.dir.path()).unwrap();
    let (ok, _, err) =
        cli(&["restore", "--from", backups.path().join("missing").to_str().unwrap(), "--data-dir", data.path_str()]);
    assert!(!ok && err.contains("not a backup"), "{err}");
    let (ok, out, err) = cli(&["restore", "--from", target.to_str().unwrap(), "--data-dir", data.path_str()]);
    assert!(ok, "restore: {err}");
    assert!(out.contains(&format!("1 sites, {} events", seeded + 20)), "{out}");

    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    for (q, expected) in dashboard_queries().into_iter().zip(answers) {
        let got = query(&s, q.clone()).await["results"].clone();
        assert_eq!(got, expected, "same answer after restore for {q}");
    }
    // The restored database keeps its sequences: a new site gets a fresh id.
    let r = s
        .client
        .post(s.url("/api/sites"))
        .bearer_auth(TOKEN)
        .json(&json!({"domain": "new.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    s.stop();
}

async fn post_import(s: &Server, site: &str, source: &str, dry_run: bool, bytes: Vec<u8>) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(&format!("/api/sites/{site}/imports?source={source}&dry_run={dry_run}")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn totals_query(site: &str, range: Value, imports: bool) -> Value {
    json!({"site_id": site, "date_range": range, "include": {"imports": imports},
           "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration", "views_per_visit"]})
}

#[tokio::test]
async fn plausible_zip_import_matches_the_file_and_shows_only_when_asked() {
    let data = DataDir::with_sites(&["example.test"]);
    let zip = fixture("plausible_export.zip");
    let (ok, out, err) = cli(&[
        "import",
        "--site",
        "example.test",
        "--from-plausible",
        zip.to_str().unwrap(),
        "--dry-run",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("dry run") && out.contains("30 visitors, 35 visits, 75 pageviews"), "{out}");
    let bad = fixture("plausible_bad_rows.zip");
    let (ok, _, err) = cli(&[
        "import",
        "--site",
        "example.test",
        "--from-plausible",
        bad.to_str().unwrap(),
        "--dry-run",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(!ok, "bad rows fail the dry run");
    assert!(err.contains("line 3: date must be a date") && err.contains("line 4: visitors must be"), "{err}");

    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let range = json!(["2024-01-01", "2024-01-03"]);
    let v = query(&s, totals_query("example.test", range.clone(), true)).await;
    assert_eq!(v["results"][0]["metrics"], json!([0, 0, 0, 0, 0, 0.0]), "the dry run stored nothing");

    let bytes = std::fs::read(&zip).unwrap();
    let (status, body) = post_import(&s, "example.test", "plausible", true, bytes.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dry_run"], true);
    let (status, body) = post_import(&s, "example.test", "plausible", false, bytes).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["totals"],
        json!({"visitors": 30, "visits": 35, "pageviews": 75, "bounces": 12, "visit_duration": 1750})
    );
    assert_eq!((body["days"].as_u64(), body["first_date"].as_str()), (Some(3), Some("2024-01-01")));

    let v = query(&s, totals_query("example.test", range.clone(), false)).await;
    assert_eq!(v["results"][0]["metrics"], json!([0, 0, 0, 0, 0, 0.0]), "imports only when asked");
    let v = query(&s, totals_query("example.test", range.clone(), true)).await;
    assert_eq!(v["results"][0]["metrics"], json!([30, 35, 75, 34, 50, 2.14]), "{v}");
    assert_eq!(v["meta"]["imports_included"], true);

    let mut by_day = totals_query("example.test", range.clone(), true);
    by_day["metrics"] = json!(["visitors", "pageviews"]);
    by_day["dimensions"] = json!(["time:day"]);
    let v = query(&s, by_day).await;
    let days: Vec<(Value, Value)> =
        v["results"].as_array().unwrap().iter().map(|r| (r["dimensions"][0].clone(), r["metrics"].clone())).collect();
    assert_eq!(
        days,
        vec![
            (json!("2024-01-01"), json!([10, 25])),
            (json!("2024-01-02"), json!([8, 20])),
            (json!("2024-01-03"), json!([12, 30]))
        ]
    );
    for (dim, expected) in [
        ("visit:source", json!([[["Google"], [12]], [["Direct / None"], [11]], [["Hacker News"], [7]]])),
        ("visit:country", json!([[["DE"], [14]], [["FR"], [12]], [["US"], [4]]])),
        ("visit:device", json!([[["Desktop"], [15]], [["Mobile"], [15]]])),
        ("visit:os", json!([[["iOS"], [12]], [["Linux"], [8]], [["Mac"], [6]], [["Windows"], [4]]])),
        ("event:page", json!([[["/"], [27]], [["/blog"], [5]], [["/pricing"], [4]]])),
    ] {
        let body = json!({"site_id": "example.test", "date_range": range, "include": {"imports": true},
                          "metrics": ["visitors"], "dimensions": [dim]});
        let v = query(&s, body).await;
        let got: Vec<Value> =
            v["results"].as_array().unwrap().iter().map(|r| json!([r["dimensions"], r["metrics"]])).collect();
        assert_eq!(Value::Array(got), expected, "{dim}");
    }
    let mut pages = json!({"site_id": "example.test", "date_range": range, "include": {"imports": true},
                           "metrics": ["pageviews", "visits", "bounce_rate"], "dimensions": ["event:page"]});
    let v = query(&s, pages.clone()).await;
    assert_eq!(v["results"][0]["metrics"], json!([53, 30, 33]), "views from pages, visits from entry pages: {v}");
    pages["dimensions"] = json!(["visit:city"]);
    let v = query(&s, pages).await;
    assert_eq!(v["meta"]["imports_included"], false);
    assert!(v["meta"]["imports_warning"].as_str().unwrap().contains("city"), "{v}");

    // Bad uploads: named problems, nothing stored.
    let (status, body) =
        post_import(&s, "example.test", "plausible", false, std::fs::read(fixture("plausible_bad_rows.zip")).unwrap())
            .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "bad_rows");
    assert_eq!(body["bad_rows"][0]["line"], 3);
    assert!(body["bad_rows"][0]["file"].as_str().unwrap().starts_with("imported_visitors"));
    let (status, body) = post_import(&s, "example.test", "plausible", false, b"not a zip at all".to_vec()).await;
    assert_eq!(status, 422);
    assert!(body["message"].as_str().unwrap().contains("imported_visitors"), "{body}");
    let (status, body) = post_import(&s, "example.test", "matomo", false, b"x".to_vec()).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("plausible, umami or goatcounter"), "{body}");
    let v = query(&s, totals_query("example.test", range, true)).await;
    assert_eq!(v["results"][0]["metrics"], json!([30, 35, 75, 34, 50, 2.14]), "refused uploads changed nothing");
    s.stop();
}

#[tokio::test]
async fn umami_and_goatcounter_imports_count_like_the_files() {
    let data = DataDir::with_sites(&["example.test"]);
    let gc = fixture("goatcounter_export.csv");
    let (ok, out, err) = cli(&[
        "import",
        "--site",
        "example.test",
        "--from-goatcounter",
        gc.to_str().unwrap(),
        "--data-dir",
        data.path_str(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("6 rows read (1 skipped), 2 days"), "{out}");
    let (ok, _, err) = cli(&[
        "import",
        "--site",
        "example.test",
        "--from-goatcounter",
        fixture("umami_website_event.csv").to_str().unwrap(),
        "--data-dir",
        data.path_str(),
    ]);
    assert!(!ok && err.contains("GoatCounter CSV export"), "a file of another tool is refused: {err}");
    let (ok, _, err) =
        cli(&["import", "--site", "example.test", "--from-umami", "/nonexistent.csv", "--data-dir", data.path_str()]);
    assert!(!ok && err.contains("cannot read"), "{err}");
    let (ok, _, err) = cli(&["import", "--site", "example.test", "--data-dir", data.path_str()]);
    assert!(!ok && err.contains("--from-plausible"), "{err}");

    let s = Server::start(&data, &["--api-token", TOKEN, "--max-import-bytes", "4000"]);
    s.wait_ready().await;
    let v = query(&s, totals_query("example.test", json!(["2024-03-04", "2024-03-05"]), true)).await;
    assert_eq!(v["results"][0]["metrics"], json!([3, 3, 4, 67, 40, 1.33]), "GoatCounter totals: {v}");
    let sources = query(
        &s,
        json!({"site_id": "example.test", "date_range": ["2024-03-04", "2024-03-05"],
        "include": {"imports": true}, "metrics": ["visitors"], "dimensions": ["visit:source"]}),
    )
    .await;
    assert_eq!(sources["results"].as_array().unwrap().len(), 3, "{sources}");

    let umami = std::fs::read(fixture("umami_website_event.csv")).unwrap();
    let (status, body) = post_import(&s, "example.test", "umami", true, umami.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["totals"],
        json!({"visitors": 5, "visits": 5, "pageviews": 8, "bounces": 3, "visit_duration": 420})
    );
    let v = query(&s, totals_query("example.test", json!(["2024-02-01", "2024-02-02"]), true)).await;
    assert_eq!(v["results"][0]["metrics"][0], 0, "dry run stored nothing");
    let (status, body) = post_import(&s, "example.test", "umami", false, umami).await;
    assert_eq!(status, 201, "{body}");
    let v = query(&s, totals_query("example.test", json!(["2024-02-01", "2024-02-02"]), true)).await;
    assert_eq!(v["results"][0]["metrics"], json!([5, 5, 8, 60, 84, 1.6]), "Umami totals: {v}");
    let (status, _) =
        post_import(&s, "example.test", "umami", false, std::fs::read(fixture("umami_website_event.csv")).unwrap())
            .await;
    assert_eq!(status, 201);
    let v = query(&s, totals_query("example.test", json!(["2024-02-01", "2024-02-02"]), true)).await;
    assert_eq!(v["results"][0]["metrics"], json!([5, 5, 8, 60, 84, 1.6]), "importing again replaces, never adds: {v}");

    let (status, body) =
        post_import(&s, "example.test", "umami", false, std::fs::read(fixture("umami_bad_rows.csv")).unwrap()).await;
    assert_eq!(status, 422);
    let lines: Vec<u64> = body["bad_rows"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4], "{body}");
    assert!(body["bad_rows"][1]["reason"].as_str().unwrap().contains("event_type"));
    let (status, body) = post_import(&s, "example.test", "umami", false, vec![b'x'; 5000]).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["message"].as_str().unwrap().contains("4000"));
    s.stop();
}

#[tokio::test]
async fn days_with_native_events_never_count_imported_numbers_twice() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    for i in 0..3 {
        let r = s
            .post("/ingest", "https://shop.test", CHROME_MAC, pageview(&format!("/today/{i}"), None))
            .header("x-forwarded-for", format!("10.1.0.{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    s.wait_stored(3.0).await;
    let today = chrono::Utc::now().date_naive();
    let yesterday = today - chrono::Duration::days(1);
    // An Umami export that overlaps today (10 pageviews) and covers yesterday (4 pageviews).
    let mut csv = String::from("session_id,visit_id,created_at,url_path,event_type\n");
    for i in 0..10 {
        csv.push_str(&format!("t{i},t{i},{today} 00:00:{i:02},/imported,1\n"));
    }
    for i in 0..4 {
        csv.push_str(&format!("y{i},y{i},{yesterday} 12:00:{i:02},/imported,1\n"));
    }
    let (status, body) = post_import(&s, "shop.test", "umami", false, csv.into_bytes()).await;
    assert_eq!(status, 201, "{body}");
    let range = json!([yesterday.to_string(), today.to_string()]);
    let native = query(&s, json!({"site_id": "shop.test", "date_range": range, "metrics": ["pageviews"]})).await;
    assert_eq!(native["results"][0]["metrics"], json!([3]));
    let both = query(
        &s,
        json!({"site_id": "shop.test", "date_range": range, "metrics": ["pageviews"], "include": {"imports": true}}),
    )
    .await;
    assert_eq!(both["results"][0]["metrics"], json!([7]), "today native only (3) + yesterday imported (4): {both}");
    let daily = query(
        &s,
        json!({"site_id": "shop.test", "date_range": range, "metrics": ["pageviews"],
        "dimensions": ["time:day"], "include": {"imports": true}}),
    )
    .await;
    let got: Vec<Value> = daily["results"].as_array().unwrap().iter().map(|r| r["metrics"][0].clone()).collect();
    assert_eq!(got, vec![json!(4), json!(3)], "{daily}");
    s.stop();
}

/// A minimal SMTP sink: accepts every message and hands over each DATA section.
pub(crate) async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(buf) = data.as_mut() {
                        if line == "." {
                            let _ = tx.send(data.take().unwrap());
                            w.write_all(b"250 OK queued\r\n").await.unwrap();
                        } else {
                            buf.push_str(line.strip_prefix('.').unwrap_or(&line));
                            buf.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink.test\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 end with .\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 not implemented\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

/// Decodes quoted-printable soft breaks and escapes (lettre picks it for long lines).
fn unqp(s: &str) -> String {
    let joined = s.replace("=\n", "");
    let mut out = Vec::new();
    let b = joined.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() && u8::from_str_radix(&joined[i + 1..i + 3], 16).is_ok() {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into()
}

/// The body of the MIME part with `content_type`.
pub(crate) fn part(mail: &str, content_type: &str) -> String {
    let start = mail
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in\n{mail}"));
    let rest = &mail[start..];
    let body_start = rest.find("\n\n").unwrap() + 2;
    let body = &rest[body_start..];
    let end = body.find("\n--").unwrap_or(body.len());
    unqp(&body[..end])
}

#[tokio::test]
async fn report_mail_carries_the_right_numbers_in_text_and_html() {
    let data = DataDir::with_sites(&["shop.test"]);
    seed(&data, "shop.test", 3000, 21);
    let (port, mut mails) = smtp_sink().await;
    let smtp = format!("smtp://127.0.0.1:{port}");
    let s = Server::start(
        &data,
        &["--api-token", TOKEN, "--smtp-url", &smtp, "--smtp-from", "HitKeep <reports@hitkeep.test>"],
    );
    s.wait_ready().await;
    let url = s.url("/api/sites/shop.test/email-reports");
    let r = s
        .client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"email": "owner@shop.test", "frequency": "week"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = s
        .client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"email": "not an address", "frequency": "week"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"email": "a@b.test", "frequency": "daily"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let list: Value = s.client.get(&url).bearer_auth(TOKEN).send().await.unwrap().json().await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let monday = today - chrono::Duration::days(chrono::Datelike::weekday(&today).num_days_from_monday() as i64);
    let last_week = monday - chrono::Duration::days(7);
    let key = |d: chrono::NaiveDate| format!("{}-W{:02}", d.iso_week().year(), d.iso_week().week());
    // Subscribing marks the period already due as sent: the first scheduled mail is the next one.
    let due = if chrono::Utc::now().naive_utc() >= monday.and_hms_opt(8, 0, 0).unwrap() {
        key(last_week)
    } else {
        key(last_week - chrono::Duration::days(7))
    };
    assert_eq!(list, json!([{"email": "owner@shop.test", "frequency": "week", "last_period": due}]));

    let r = s
        .client
        .post(s.url("/api/sites/shop.test/email-reports/send"))
        .bearer_auth(TOKEN)
        .json(&json!({"email": "owner@shop.test", "period": "week"}))
        .send()
        .await
        .unwrap();
    let sent: Value = r.json().await.unwrap();
    assert!(sent["subject"].as_str().unwrap().starts_with("Weekly report for shop.test"), "{sent}");
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv()).await.unwrap().unwrap().replace('\r', "");
    assert!(mail.contains("multipart/alternative"), "{mail}");
    let r =
        s.client.delete(format!("{url}?email=owner@shop.test&frequency=week")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 204);
    s.stop();

    // The numbers, counted independently from the raw events.
    let (from, to) = (last_week, monday);
    let (pf, pt) = (from - chrono::Duration::days(7), from);
    let events = data.export("shop.test");
    let count = |a: chrono::NaiveDate, b: chrono::NaiveDate| {
        let rows: Vec<&Value> =
            events.iter().filter(|e| (midnight(a)..midnight(b)).contains(&micros(&e["ts"]))).collect();
        let visitors: HashSet<&str> = rows.iter().map(|e| e["visitor_id"].as_str().unwrap()).collect();
        (visitors.len(), rows.iter().filter(|e| e["name"] == "pageview").count())
    };
    let (visitors, pageviews) = count(from, to);
    let (prev_visitors, _) = count(pf, pt);
    assert!(visitors > 100, "the seeded week has traffic");
    let text = part(&mail, "text/plain");
    let html = part(&mail, "text/html");
    assert!(text.contains(&format!("Visitors: {visitors} (")), "{text}");
    assert!(text.contains(&format!("previous period: {prev_visitors})")), "{text}");
    assert!(text.contains(&format!("Pageviews: {pageviews} (")), "{text}");
    assert!(text.contains("Top pages") && text.contains("Top sources"));
    assert!(html.contains(&format!("<td>{visitors}</td>")), "{html}");
    assert!(html.contains(&format!("<td>{pageviews}</td>")), "{html}");
    assert!(html.contains(&format!("previous: {prev_visitors}")), "{html}");

    // The CLI sends the same report from a stopped data directory.
    // The sink runs on this test's runtime: the CLI waits on another thread.
    let args: Vec<String> = [
        "report",
        "send",
        "--site",
        "shop.test",
        "--email",
        "cli@shop.test",
        "--period",
        "week",
        "--smtp-url",
        &smtp,
        "--smtp-from",
        "reports@hitkeep.test",
        "--data-dir",
        data.path_str(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || cli(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("cli@shop.test"));
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv()).await.unwrap().unwrap().replace('\r', "");
    assert!(part(&mail, "text/plain").contains(&format!("Visitors: {visitors} (")));
    let (ok, _, err) = cli(&[
        "report",
        "send",
        "--site",
        "shop.test",
        "--email",
        "cli@shop.test",
        "--period",
        "year",
        "--smtp-url",
        &smtp,
        "--smtp-from",
        "reports@hitkeep.test",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(!ok && err.contains("--period"), "{err}");
}

#[tokio::test]
async fn retention_through_the_api_and_scheduled_backups_keep_the_last_n() {
    let data = DataDir::with_sites(&["shop.test"]);
    seed(&data, "shop.test", 1500, 15);
    let before = data.export("shop.test");
    let today = chrono::Utc::now().date_naive();
    let cutoff = midnight(today - chrono::Duration::days(7));
    let old = before.iter().filter(|e| micros(&e["ts"]) < cutoff).count();
    assert!(old > 0);
    let backups = tempfile::tempdir().unwrap();
    let archive = tempfile::tempdir().unwrap();
    let s = Server::start(
        &data,
        &[
            "--api-token",
            TOKEN,
            "--archive",
            "--archive-dir",
            archive.path().to_str().unwrap(),
            "--backup-every",
            "0.0005",
            "--backup-dir",
            backups.path().to_str().unwrap(),
            "--backup-keep",
            "2",
        ],
    );
    s.wait_ready().await;
    let site = s.url("/api/sites/shop.test");
    let r = s.client.patch(&site).bearer_auth(TOKEN).json(&json!({"retention_days": 99999})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = s.client.patch(&site).bearer_auth(TOKEN).json(&json!({"retention_days": 7})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["retention_days"], 7);
    let r = s.client.post(s.url("/api/admin/retention")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = s.client.post(s.url("/api/admin/retention")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let runs: Value = r.json().await.unwrap();
    assert_eq!(runs[0]["site"], "shop.test");
    assert_eq!(runs[0]["deleted_events"], old as u64, "{runs}");
    assert!(!runs[0]["archives"].as_array().unwrap().is_empty());
    assert!(archive.path().join("shop.test").is_dir());

    tokio::time::sleep(Duration::from_secs(8)).await;
    s.stop();
    let kept: Vec<PathBuf> = std::fs::read_dir(backups.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 2, "only the newest two backups stay: {kept:?}");
    assert!(kept.iter().all(|d| d.join("hitkeep.db").is_file()));
    assert_eq!(data.export("shop.test").len(), before.len() - old);
}
