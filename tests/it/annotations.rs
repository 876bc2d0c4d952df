//! Annotations: site admins write dated notes, viewers read them; `hitkeep annotate` adds one
//! through a running server for deploy scripts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::{Api, Cred, invited, setup_admin};
use crate::harness::{DataDir, Server, cli};

const TOKEN: &str = "annotations-operator-token";
const PATH: &str = "/sites/shop.test/annotations";

fn notes(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|a| (a["date"].as_str().unwrap().to_string(), a["note"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn admins_write_viewers_read_and_the_cli_annotates_through_the_api() {
    let data = DataDir::with_sites(&["shop.test", "blog.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let api = Api { server: &s };
    let admin = setup_admin(&api, "owner@example.com").await;
    let (viewer, _) = invited(&api, &admin, "viewer@example.com", Some(("shop.test", "viewer"))).await;

    let launch = api.ok(&admin, Method::POST, PATH, Some(json!({"date": "2026-11-02", "note": " Launched v2 "}))).await;
    assert_eq!((launch["date"].as_str(), launch["note"].as_str()), (Some("2026-11-02"), Some("Launched v2")));
    assert!(launch["author"].as_str().unwrap().starts_with("user:"), "{launch}");
    api.ok(&admin, Method::POST, PATH, Some(json!({"date": "2026-10-01", "note": "Before the period"}))).await;
    let r = api.call(&viewer, Method::POST, PATH, Some(json!({"date": "2026-11-03", "note": "mine"}))).await;
    assert_eq!(r.status, 403, "viewers do not write: {}", r.body);
    for bad in [json!({"date": "03.11.2026", "note": "x"}), json!({"date": "2026-11-03", "note": "  "})] {
        let r = api.call(&admin, Method::POST, PATH, Some(bad)).await;
        assert_eq!((r.status, r.body["error"].as_str()), (400, Some("invalid_annotation")), "{}", r.body);
    }

    // Deploy script: the CLI through the API with the operator token; today by default.
    let (ok, out, err) = cli(&[
        "annotate",
        "--server",
        &s.base,
        "--token",
        TOKEN,
        "--site",
        "shop.test",
        "--date",
        "2026-11-05",
        "Deployed v2.3",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("annotated shop.test on 2026-11-05: Deployed v2.3"), "{out}");
    let (ok, _, err) = cli(&["annotate", "--server", &s.base, "--token", "wrong", "--site", "shop.test", "x"]);
    assert!(!ok && err.contains("401"), "a bad token is refused: {err}");
    let (ok, out, err) = cli(&["annotate", "--server", &s.base, "--token", TOKEN, "--site", "shop.test", "Hotfix"]);
    assert!(ok, "{err}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(out.contains(&format!("on {today}: Hotfix")), "{out}");
    let todays = api.ok(&viewer, Method::GET, &format!("{PATH}?date_range=day"), None).await;
    assert_eq!(notes(&todays), [(today, "Hotfix".to_string())]);

    let list = api.ok(&viewer, Method::GET, &format!("{PATH}?date_range=2026-11-01,2026-11-10"), None).await;
    let expected =
        [("2026-11-02".to_string(), "Launched v2".to_string()), ("2026-11-05".into(), "Deployed v2.3".into())];
    assert_eq!(notes(&list), expected, "the period's notes, by date");
    assert_eq!(list[1]["author"], "operator");
    let other =
        api.ok(&admin, Method::GET, "/sites/blog.test/annotations?date_range=2026-11-01,2026-11-10", None).await;
    assert_eq!(notes(&other), [], "another site's notes are its own");

    let id = launch["id"].as_u64().unwrap();
    let edit = json!({"date": "2026-11-03", "note": "Launched v2 (EU)"});
    let r = api.call(&viewer, Method::PUT, &format!("{PATH}/{id}"), Some(edit.clone())).await;
    assert_eq!(r.status, 403, "viewers do not edit: {}", r.body);
    let r =
        api.call(&admin, Method::PUT, &format!("{PATH}/{id}"), Some(json!({"date": "2026-11-03", "note": " "}))).await;
    assert_eq!(r.status, 400, "an empty note: {}", r.body);
    let edited = api.ok(&admin, Method::PUT, &format!("{PATH}/{id}"), Some(edit.clone())).await;
    assert_eq!((edited["id"].as_u64(), &edited["author"]), (Some(id), &launch["author"]), "the same note, same author");
    let list = api.ok(&viewer, Method::GET, &format!("{PATH}?date_range=2026-11-01,2026-11-10"), None).await;
    let expected =
        [("2026-11-03".to_string(), "Launched v2 (EU)".to_string()), ("2026-11-05".into(), "Deployed v2.3".into())];
    assert_eq!(notes(&list), expected, "moved and reworded");
    let r = api.call(&admin, Method::PUT, "/sites/blog.test/annotations/1", Some(edit)).await;
    assert_eq!(r.status, 404, "not through another site: {}", r.body);

    assert_eq!(api.call(&viewer, Method::DELETE, &format!("{PATH}/{id}"), None).await.status, 403);
    assert_eq!(api.call(&admin, Method::DELETE, &format!("{PATH}/{id}"), None).await.status, 204);
    assert_eq!(api.call(&admin, Method::DELETE, &format!("{PATH}/{id}"), None).await.status, 404);
    let list = api.ok(&viewer, Method::GET, &format!("{PATH}?date_range=2026-11-01,2026-11-10"), None).await;
    assert_eq!(notes(&list), [("2026-11-05".to_string(), "Deployed v2.3".to_string())]);
    assert_eq!(api.call(&Cred::None, Method::GET, PATH, None).await.status, 401);
    s.stop();
}
