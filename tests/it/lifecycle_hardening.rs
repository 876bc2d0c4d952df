//! Hardening of the data lifecycle (issue #13): backups hold no visitor salts and a restore
//! starts with fresh ones (#8), archives never lose rows to a late event (#11), CSV cells never
//! run as spreadsheet formulas (#16), and the parts that were already right stay right (#17).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "hardening-token";

fn db_file(dir: &Path) -> PathBuf {
    dir.join("hitkeep.db")
}

/// The visitor salts stored in a database file.
fn salts_in(file: &Path) -> Vec<Vec<u8>> {
    let conn = duckdb::Connection::open(file).unwrap();
    let mut stmt = conn.prepare("SELECT salt FROM salts").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// Sends `body` to an ingest path as a trusted server-side sender (may set `timestamp`).
async fn send(s: &Server, path: &str, origin: &str, body: Value) {
    let r = s.post(path, origin, CHROME_MAC, body.to_string()).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn backups_hold_no_visitor_salt_and_a_restore_starts_with_fresh_ones() {
    let data = DataDir::with_sites(&["shop.test"]);
    let backups = tempfile::tempdir().unwrap();
    let root = backups.path().to_str().unwrap();
    let s = Server::start(
        &data,
        &["--api-token", TOKEN, "--backup-dir", root, "--backup-every", "0.0005", "--backup-keep", "7"],
    );
    s.wait_ready().await;
    send(&s, "/ingest", "https://shop.test", json!({"path": "/before"})).await;
    s.wait_stored(1.0).await;
    let r = s.client.post(s.url("/api/admin/backup")).bearer_auth(TOKEN).json(&json!({"to": "api"})).send().await;
    assert_eq!(r.unwrap().status(), 201);
    let (ok, _, err) =
        cli(&["backup", "--to", backups.path().join("cli").to_str().unwrap(), "--server", &s.base, "--token", TOKEN]);
    assert!(ok, "{err}");
    let scheduled = || {
        std::fs::read_dir(backups.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("hitkeep-") && db_file(p).is_file())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while scheduled().is_empty() {
        assert!(Instant::now() < deadline, "no scheduled backup in 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.stop();
    let offline = backups.path().join("offline");
    let (ok, _, err) = cli(&["backup", "--to", offline.to_str().unwrap(), "--data-dir", data.path_str()]);
    assert!(ok, "{err}");

    let live = salts_in(&db_file(data.dir.path()));
    assert!(!live.is_empty(), "the running database keeps today's salt");
    let mut files = vec![db_file(&backups.path().join("api")), db_file(&backups.path().join("cli")), db_file(&offline)];
    files.extend(scheduled().iter().map(|d| db_file(d)));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for salt in &live {
            assert!(
                !bytes.windows(salt.len()).any(|w| w == salt.as_slice()),
                "{} holds a salt's bytes",
                file.display()
            );
        }
        assert_eq!(salts_in(file), Vec::<Vec<u8>>::new(), "{} holds salts", file.display());
    }

    // A database copied by hand (or a backup from an older version) holds the salt; a restore
    // drops it, so the restored server hashes the same visitor under a new salt.
    let copied = tempfile::tempdir().unwrap();
    std::fs::copy(db_file(data.dir.path()), copied.path().join("hitkeep.db")).unwrap();
    let target = DataDir::with_sites(&[]);
    let (ok, out, err) =
        cli(&["restore", "--from", copied.path().to_str().unwrap(), "--data-dir", target.path_str(), "--force"]);
    assert!(ok, "restore: {err}");
    assert!(out.contains("visitor salts start fresh"), "{out}");
    assert!(salts_in(&db_file(target.dir.path())).is_empty());
    let s = Server::start(&target, &["--api-token", TOKEN]);
    s.wait_ready().await;
    send(&s, "/ingest", "https://shop.test", json!({"path": "/after"})).await;
    s.wait_stored(1.0).await;
    s.stop();
    let events = target.export("shop.test");
    assert_eq!(events.len(), 2);
    assert_ne!(events[0]["visitor_id"], events[1]["visitor_id"], "the same client under a new salt: {events:?}");
}

/// Pathnames in an archive file, in time order.
fn archived(file: &Path) -> Vec<String> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let sql =
        format!("SELECT pathname FROM read_parquet('{}') ORDER BY ts", file.display().to_string().replace('\'', "''"));
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// Records `hits` (path, time) through a server, then runs `hitkeep retention --archive`.
async fn record(data: &DataDir, hits: Vec<(&str, &str)>) {
    let s = Server::start(data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    for (path, at) in &hits {
        send(&s, "/ingest", "https://late.test", json!({"path": path, "timestamp": at})).await;
    }
    s.wait_stored(hits.len() as f64).await;
    s.stop();
    let (ok, out, err) = cli(&["retention", "--data-dir", data.path_str(), "--archive"]);
    assert!(ok, "retention: {err}");
    assert!(out.contains(&format!("late.test: deleted {} events", hits.len())), "{out}");
}

#[tokio::test]
async fn a_backfilled_event_in_an_archived_month_keeps_every_archived_row() {
    let data = DataDir::with_sites(&["late.test"]);
    let (ok, _, err) = cli(&["site", "retention", "late.test", "30", "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    record(&data, vec![("/a", "2024-03-10T12:00:00Z"), ("/b", "2024-03-20T12:00:00Z"), ("/c", "2024-03-25T12:00:00Z")])
        .await;
    let file = data.dir.path().join("archive/late.test/2024-03.parquet");
    assert_eq!(archived(&file), ["/a", "/b", "/c"]);
    // Backfilled afterwards, earlier in the month than every archived row.
    record(&data, vec![("/late", "2024-03-01T08:00:00Z")]).await;
    assert_eq!(archived(&file), ["/late", "/a", "/b", "/c"], "the second run keeps the first run's rows");
    assert!(data.export("late.test").is_empty());
}

/// The CSV records of a body, header first.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect()
}

/// The cells of `column` in an export's CSV.
fn column(records: &[Vec<String>], column: &str) -> Vec<String> {
    let i = records[0].iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
    records[1..].iter().map(|r| r[i].clone()).collect()
}

const FORMULA: &str = "=HYPERLINK(\"http://evil.test\",\"x\")";

fn assert_export_is_safe(text: &str) {
    let records = csv_records(text);
    assert_eq!(records.len(), 3, "{text}");
    assert!(column(&records, "utm_source").contains(&format!("'{FORMULA}")), "{text}");
    assert!(column(&records, "utm_medium").contains(&"'-2+3".to_string()), "{text}");
    assert!(column(&records, "utm_campaign").contains(&"'@SUM(A1)".to_string()), "{text}");
    assert!(column(&records, "utm_term").contains(&"'+1".to_string()), "{text}");
    assert!(column(&records, "name").contains(&"'-1+1".to_string()), "{text}");
    assert!(column(&records, "pathname").iter().all(|p| p == "/p"), "plain text stays as it was: {text}");
    for id in column(&records, "visit_id").iter().chain(column(&records, "visitor_id").iter()) {
        assert!(id.parse::<u64>().is_ok(), "numbers stay numbers: {id}");
    }
}

#[tokio::test]
async fn csv_exports_and_csv_answers_do_not_carry_formulas() {
    let data = DataDir::with_sites(&["csv.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let at = "2024-05-01T10:00:00Z";
    let utm =
        json!({"path": "/p", "u_src": FORMULA, "u_med": "-2+3", "u_cmp": "@SUM(A1)", "u_trm": "+1", "timestamp": at});
    send(&s, "/ingest", "https://csv.test", utm).await;
    send(&s, "/ingest/event", "https://csv.test", json!({"n": "-1+1", "u": "/p", "timestamp": at})).await;
    s.wait_stored(2.0).await;

    let r = s
        .client
        .get(s.url("/api/sites/csv.test/export?from=2024-05-01&to=2024-05-01&format=csv"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_export_is_safe(&r.text().await.unwrap());

    let r = s
        .client
        .post(s.url("/api/v2/query"))
        .bearer_auth(TOKEN)
        .header("accept", "text/csv")
        .json(&json!({"site_id": "csv.test", "date_range": ["2024-05-01", "2024-05-01"], "metrics": ["visitors", "pageviews"], "dimensions": ["visit:utm_source"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let records = csv_records(&r.text().await.unwrap());
    let row: Vec<String> = vec![format!("'{FORMULA}"), "1".into(), "1".into()];
    assert!(records.contains(&row), "{records:?}");
    assert!(records.iter().all(|r| !r[0].starts_with(['=', '+', '-', '@'])), "{records:?}");
    s.stop();

    let (ok, out, err) = cli(&["export", "--site", "csv.test", "--format", "csv", "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    assert_export_is_safe(&out);
}

const ATTACK: &str = "'; DROP TABLE events; --";

async fn query(s: &Server, q: Value) -> (u16, Value) {
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&q).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn values_are_bound_and_names_come_from_fixed_lists() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    for path in ["/", "/it's", &format!("/{ATTACK}")] {
        send(&s, "/ingest", "https://shop.test", json!({"path": path})).await;
    }
    s.wait_stored(3.0).await;
    let pageviews = |filters: Value| json!({"site_id": "shop.test", "date_range": "day", "metrics": ["pageviews"], "filters": filters});
    for (filters, expected) in [
        (json!([["is", "event:page", [ATTACK]]]), 0),
        (json!([["is", "event:page", ["/it's"]]]), 1),
        (json!([["contains", "event:page", [ATTACK]]]), 1),
        (json!([["is_not", "event:page", [ATTACK]]]), 3),
        (json!([["is", "event:props:x' OR '1'='1", [ATTACK]]]), 0),
    ] {
        let (status, v) = query(&s, pageviews(filters.clone())).await;
        assert_eq!(status, 200, "{filters}: {v}");
        assert_eq!(v["results"][0]["metrics"][0], expected, "{filters}: {v}");
    }
    let (status, v) = query(&s, json!({"site_id": ATTACK, "date_range": "day", "metrics": ["visitors"]})).await;
    assert!(status == 400 || status == 404, "{status} {v}");
    let r =
        s.client.get(s.url("/api/sites/x'%3B%20DROP%20TABLE%20events%3B%20--/export?from=2024-01-01&to=2024-01-02"));
    let status = r.bearer_auth(TOKEN).send().await.unwrap().status();
    assert!(status == 400 || status == 404, "{status}");

    // Identifiers come from fixed lists: an unknown name is refused and named.
    for (q, name) in [
        (json!({"metrics": [format!("visitors{ATTACK}")]}), format!("visitors{ATTACK}")),
        (
            json!({"metrics": ["visitors"], "dimensions": [format!("visit:source{ATTACK}")]}),
            format!("visit:source{ATTACK}"),
        ),
        (json!({"metrics": ["visitors"], "filters": [["is", "visit:nope", ["x"]]]}), "nope".to_string()),
        (json!({"metrics": ["visitors"], "order_by": [[ATTACK, "desc"]]}), ATTACK.to_string()),
    ] {
        let mut q = q;
        q["site_id"] = json!("shop.test");
        q["date_range"] = json!("day");
        let (status, v) = query(&s, q.clone()).await;
        assert_eq!(status, 400, "{q}: {v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.contains(&name) || message.contains(&json!(name).to_string()), "{q}: {v}");
    }
    let (_, v) = query(&s, pageviews(json!([]))).await;
    assert_eq!(v["results"][0]["metrics"][0], 3, "the data survived");
    s.stop();
    assert_eq!(data.export("shop.test").len(), 3);
}

#[tokio::test]
async fn backup_targets_stay_inside_the_backup_directory() {
    let data = DataDir::with_sites(&["shop.test"]);
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("backups");
    let s = Server::start(&data, &["--api-token", TOKEN, "--backup-dir", root.to_str().unwrap()]);
    s.wait_ready().await;
    let outside = parent.path().join("x");
    for to in [
        "../x".to_string(),
        "a/../../x".to_string(),
        outside.display().to_string(),
        "/tmp/hitkeep-hardening-x".to_string(),
        "bad\u{7}name".to_string(),
        "new\nline".to_string(),
        "./".to_string(),
    ] {
        let r = s.client.post(s.url("/api/admin/backup")).bearer_auth(TOKEN).json(&json!({"to": to})).send().await;
        let r = r.unwrap();
        assert_eq!(r.status(), 400, "{to:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "invalid_target", "{to:?}: {v}");
    }
    assert!(!outside.exists() && !Path::new("/tmp/hitkeep-hardening-x").exists());
    let r = s.client.post(s.url("/api/admin/backup")).bearer_auth(TOKEN).json(&json!({"to": "fine"})).send().await;
    assert_eq!(r.unwrap().status(), 201);
    assert!(db_file(&root.join("fine")).is_file());
    s.stop();
}

#[tokio::test]
async fn cross_site_text_plain_posts_with_a_cookie_are_refused() {
    let data = DataDir::with_sites(&[]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let r = s
        .client
        .post(s.url("/api/setup"))
        .json(&json!({"email": "root@example.com", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    // A form or `fetch(..., {mode: "no-cors"})` from another site: text/plain needs no preflight.
    let r = s
        .client
        .post(s.url("/api/sites"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(json!({"domain": "evil.test"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "csrf");
    let r = s
        .client
        .post(s.url("/api/sites"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "text/plain")
        .body(json!({"domain": "evil2.test"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "csrf");
    let r = s.client.get(s.url("/api/sites")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]), "nothing was created");
    s.stop();
}
