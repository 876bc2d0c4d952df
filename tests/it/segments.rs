//! Saved segments against the real binary: personal and site-wide segments, their use as
//! `["is", "segment", [id]]` in Stats API v2 queries (hand-counted answers), and share links
//! limited to a segment.

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::{Api, Cred, invited, segment, setup_admin};
use crate::plausible_query::{SITE, TOKEN, plausible_event, server};

/// Three visitors today: two from Google on `/` (the first signs up), one direct on `/pricing`.
async fn visits(api: &Api<'_>) {
    let s = api.server;
    let google = Some("https://www.google.com/");
    for (ip, name, path, referrer) in [
        ("1.1.1.1", "pageview", "/", google),
        ("1.1.1.1", "Signup", "/", None),
        ("2.2.2.2", "pageview", "/", google),
        ("3.3.3.3", "pageview", "/pricing", None),
    ] {
        let body = json!({"n": name, "u": format!("https://shop.test{path}"), "d": SITE, "r": referrer});
        plausible_event(s, ip, body).await;
    }
    s.wait_stored(4.0).await;
}

/// `[visitors, pageviews]` of today under `filters`, as `cred` sees them.
async fn counts(api: &Api<'_>, cred: &Cred, filters: Value) -> (u16, Value) {
    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "pageviews"], "filters": filters});
    let r = api.call(cred, Method::POST, "/v2/query", Some(q)).await;
    let answer = if r.status == 200 { r.body["results"][0]["metrics"].clone() } else { r.body["message"].clone() };
    (r.status, answer)
}

fn with_filters(name: &str, kind: &str, filters: Value) -> Value {
    json!({"name": name, "type": kind, "segment_data": {"filters": filters, "labels": {"note": name}}})
}

#[tokio::test]
async fn segments_filter_queries_by_their_stored_filters() {
    let (_data, s) = server().await;
    let api = Api { server: &s };
    let admin = setup_admin(&api, "owner@example.com").await;
    let (viewer, _) = invited(&api, &admin, "viewer@example.com", Some((SITE, "viewer"))).await;
    let (other, _) = invited(&api, &admin, "other@example.com", Some((SITE, "viewer"))).await;
    visits(&api).await;
    let path = format!("/sites/{SITE}/segments");

    let google = api.ok(&admin, Method::POST, &path, Some(segment("Google", "site"))).await;
    assert_eq!(
        (google["type"].as_str(), google["segment_data"]["filters"].clone()),
        (Some("site"), json!([["is", "visit:source", ["Google"]]]))
    );
    let pricing = with_filters("Pricing", "site", json!([["is", "event:page", ["/pricing"]]]));
    let pricing = api.ok(&admin, Method::POST, &path, Some(pricing)).await["id"].as_u64().unwrap();
    let signups = json!([["is", "visit:source", ["Google"]], ["has_done", ["is", "event:name", ["Signup"]]]]);
    let mine = api.ok(&viewer, Method::POST, &path, Some(with_filters("My signups", "personal", signups))).await;
    assert_eq!(mine["segment_data"]["labels"], json!({"note": "My signups"}));
    let (google, mine) = (google["id"].as_u64().unwrap(), mine["id"].as_u64().unwrap());

    // Hand counts: 3 visitors / 3 pageviews in all; Google 2/2; Google signups 1/1; /pricing 1/1.
    assert_eq!(counts(&api, &viewer, json!([])).await, (200, json!([3, 3])));
    assert_eq!(counts(&api, &viewer, json!([["is", "segment", [google]]])).await, (200, json!([2, 2])));
    assert_eq!(counts(&api, &viewer, json!([["is", "segment", [mine]]])).await, (200, json!([1, 1])));
    assert_eq!(counts(&api, &viewer, json!([["is", "segment", [pricing]]])).await, (200, json!([1, 1])));
    let both = json!([["is", "segment", [google]], ["is", "event:page", ["/pricing"]]]);
    assert_eq!(counts(&api, &viewer, both).await, (200, json!([0, 0])), "a segment and a filter: both apply");
    assert_eq!(
        counts(&api, &viewer, json!([["is", "segment", [google, pricing]]])).await,
        (200, json!([3, 3])),
        "any of"
    );
    assert_eq!(counts(&api, &viewer, json!([["not", ["is", "segment", [google]]]])).await, (200, json!([1, 1])));

    // The echo shows the segment's filters in its place.
    let q =
        json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors"], "filters": [["is", "segment", [mine]]]});
    let echoed = api.ok(&viewer, Method::POST, "/v2/query", Some(q)).await;
    assert_eq!(
        echoed["query"]["filters"],
        json!([["is", "visit:source", ["Google"]], ["has_done", ["is", "event:name", ["Signup"]]]])
    );

    // Someone else's personal segment and unknown ids are refused with a clear message.
    let (status, message) = counts(&api, &other, json!([["is", "segment", [mine]]])).await;
    assert_eq!(
        (status, message.as_str().unwrap()),
        (400, format!("Invalid filter: segment {mine} was not found on this site.").as_str())
    );
    assert_eq!(counts(&api, &admin, json!([["is", "segment", [999]]])).await.0, 400);
    assert_eq!(counts(&api, &viewer, json!([["is_not", "segment", [google]]])).await.0, 400);

    // Lists: site-wide ones for everyone, personal ones for their owner.
    let names =
        |v: Value| v.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(api.ok(&viewer, Method::GET, &path, None).await), ["Google", "Pricing", "My signups"]);
    assert_eq!(names(api.ok(&other, Method::GET, &path, None).await), ["Google", "Pricing"]);
    let operator = Cred::Bearer(TOKEN.into());
    assert_eq!(names(api.ok(&operator, Method::GET, &path, None).await), ["Google", "Pricing"]);
    server_refusals(&api, (&admin, &viewer, &other), (google, mine)).await;
}

/// Who may change what: viewers their own personal segments, site managers the site-wide ones.
async fn server_refusals(api: &Api<'_>, (admin, viewer, other): (&Cred, &Cred, &Cred), (google, mine): (u64, u64)) {
    let path = format!("/sites/{SITE}/segments");
    let status = |r: crate::accounts::Reply| (r.status, r.body["error"].as_str().unwrap_or_default().to_string());
    let site_wide = api.call(viewer, Method::POST, &path, Some(segment("Mine too", "site"))).await;
    assert_eq!(site_wide.status, 403, "viewers save personal segments only");
    let renamed = api.call(viewer, Method::PATCH, &format!("{path}/{google}"), Some(json!({"name": "Mine"}))).await;
    assert_eq!(renamed.status, 403);
    assert_eq!(api.call(other, Method::DELETE, &format!("{path}/{mine}"), None).await.status, 404, "not theirs");
    let nested = with_filters("n", "personal", json!([["is", "segment", [google]]]));
    assert_eq!(status(api.call(viewer, Method::POST, &path, Some(nested)).await), (400, "invalid_segment".into()));
    let bad = with_filters("n", "personal", json!([["is", "visit:nonsense", ["x"]]]));
    assert_eq!(api.call(viewer, Method::POST, &path, Some(bad)).await.status, 400);

    let patch = json!({"name": " Google visitors ", "segment_data": {"filters": [["is", "visit:source", ["Google"]], ["is", "event:page", ["/"]]]}});
    let changed = api.ok(admin, Method::PATCH, &format!("{path}/{google}"), Some(patch)).await;
    assert_eq!((changed["name"].as_str(), changed["type"].as_str()), (Some("Google visitors"), Some("site")));
    assert_eq!(counts(api, viewer, json!([["is", "segment", [google]]])).await, (200, json!([2, 2])));
    let renamed = api.ok(viewer, Method::PATCH, &format!("{path}/{mine}"), Some(json!({"name": "Signups"}))).await;
    assert_eq!(renamed["segment_data"]["filters"].as_array().unwrap().len(), 2, "filters kept");
    assert_eq!(api.call(viewer, Method::DELETE, &format!("{path}/{mine}"), None).await.status, 204);
    assert_eq!(counts(api, viewer, json!([["is", "segment", [mine]]])).await.0, 400, "a deleted segment is gone");
}

#[tokio::test]
async fn share_links_limited_to_a_segment_see_only_its_visitors() {
    let (_data, s) = server().await;
    let api = Api { server: &s };
    let admin = setup_admin(&api, "owner@example.com").await;
    visits(&api).await;
    let path = format!("/sites/{SITE}/segments");
    let google = api.ok(&admin, Method::POST, &path, Some(segment("Google", "site"))).await["id"].as_u64().unwrap();
    let personal = api.ok(&admin, Method::POST, &path, Some(segment("Mine", "personal"))).await["id"].as_u64().unwrap();

    let shares = format!("/sites/{SITE}/shares");
    let refused = api.call(&admin, Method::POST, &shares, Some(json!({"name": "p", "segment_id": personal}))).await;
    assert_eq!((refused.status, refused.body["error"].as_str()), (400, Some("invalid_segment")), "{}", refused.body);
    let share = api.ok(&admin, Method::POST, &shares, Some(json!({"name": "g", "segment_id": google}))).await;
    assert_eq!(share["segment_id"], google);
    let listed = api.ok(&admin, Method::GET, &shares, None).await;
    assert_eq!(listed[0]["segment_id"], google);
    let token = share["token"].as_str().unwrap();
    let access = api.ok(&Cred::None, Method::POST, &format!("/share/{token}"), Some(json!({}))).await;
    let bearer = Cred::Bearer(access["access_token"].as_str().unwrap().to_string());

    // Without filters the link sees Google's 2 of 3 visitors; its filters narrow further.
    assert_eq!(counts(&api, &bearer, json!([])).await, (200, json!([2, 2])));
    assert_eq!(counts(&api, &bearer, json!([["is", "event:page", ["/pricing"]]])).await, (200, json!([0, 0])));
    assert_eq!(
        counts(&api, &bearer, json!([["is", "segment", [personal]]])).await.0,
        400,
        "not the owner's personal ones"
    );
    let by_source =
        json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors"], "dimensions": ["visit:source"]});
    let rows = api.ok(&bearer, Method::POST, "/v2/query", Some(by_source)).await;
    assert_eq!(rows["results"], json!([{"dimensions": ["Google"], "metrics": [2]}]));
    assert_eq!(api.call(&bearer, Method::POST, &path, Some(segment("x", "site"))).await.status, 403);
    let vitals = api.call(&bearer, Method::GET, &format!("/sites/{SITE}/web-vitals"), None).await;
    assert_eq!(vitals.status, 403, "reports a segment cannot narrow are refused: {}", vitals.body);
    let live = api.call(&bearer, Method::GET, &format!("/sites/{SITE}/realtime"), None).await;
    assert_eq!(live.status, 403, "a realtime count would count every visitor: {}", live.body);

    // Deleting the segment closes the link's queries rather than widening them.
    assert_eq!(api.call(&admin, Method::DELETE, &format!("{path}/{google}"), None).await.status, 204);
    assert_eq!(counts(&api, &bearer, json!([])).await.0, 400);
}
