//! The `/api` routes over real HTTP.

use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn sites_api_needs_the_token_and_new_sites_record_at_once() {
    let data = DataDir::with_sites(&[]);
    let s = Server::start(&data, &["--api-token", "s3cret-token"]);
    s.wait_ready().await;
    let r = s.client.get(s.url("/api/sites")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized", "401 answers carry a JSON reason too");
    let r = s.client.get(s.url("/api/sites")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    let r = s
        .client
        .post(s.url("/api/sites"))
        .bearer_auth("s3cret-token")
        .json(
            &json!({"domain": "https://www.Blog.test", "timezone": "America/New_York", "hostnames": ["blog-cdn.test"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["domain"], "blog.test");
    assert_eq!(site["timezone"], "America/New_York");

    let r = s
        .client
        .post(s.url("/api/sites"))
        .bearer_auth("s3cret-token")
        .json(&json!({"domain": "blog.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = s
        .client
        .post(s.url("/api/sites"))
        .bearer_auth("s3cret-token")
        .json(&json!({"domain": "not a domain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .post(s.url("/api/sites"))
        .bearer_auth("s3cret-token")
        .json(&json!({"domain": "x.test", "timezone": "Nowhere/City"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let list: Value =
        s.client.get(s.url("/api/sites")).bearer_auth("s3cret-token").send().await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let r =
        s.post("/ingest", "https://static.blog-cdn.test", CHROME_MAC, pageview("/hello", None)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    s.wait_stored(1.0).await;
    s.stop();
    assert_eq!(data.export("blog.test").len(), 1, "the extra hostname counts for the new site");
}

#[tokio::test]
async fn openapi_document_and_docs_are_served() {
    let data = DataDir::with_sites(&[]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let spec: Value = s.client.get(s.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(spec["servers"][0]["url"], "/api");
    assert!(spec["paths"]["/sites"]["get"]["security"].is_array());
    let docs = s.client.get(s.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    s.stop();
}
