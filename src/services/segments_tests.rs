use serde_json::json;

use super::*;
use crate::adapters::memory::segments::MemorySegments;
use crate::ports::clock::FixedClock;

const NOW: i64 = 1_764_460_800_000_000;

fn service() -> SegmentService {
    SegmentService::new(Arc::new(MemorySegments::default()), Arc::new(FixedClock(NOW)))
}

fn viewer(user: u32) -> SegmentViewer {
    SegmentViewer { user: Some(user), may_write: true, may_manage: false, limited_to: None }
}

fn admin(user: u32) -> SegmentViewer {
    SegmentViewer { may_manage: true, ..viewer(user) }
}

fn draft(name: &str, kind: SegmentKind) -> SegmentDraft {
    SegmentDraft {
        name: name.into(),
        kind,
        filters: vec![json!(["is", "visit:source", ["Google"]])],
        labels: json!({}),
    }
}

#[tokio::test]
async fn viewers_save_personal_segments_and_admins_site_wide_ones() {
    let segments = service();
    let mine = segments.add(1, viewer(7), draft(" Mine ", SegmentKind::Personal)).await.unwrap();
    assert_eq!((mine.name.as_str(), mine.owner, mine.created_at), ("Mine", Some(7), NOW));
    let refused = segments.add(1, viewer(7), draft("Site", SegmentKind::Site)).await;
    assert!(matches!(refused, Err(SegmentError::Forbidden(SITE_WIDE))));
    let site = segments.add(1, admin(8), draft("Site", SegmentKind::Site)).await.unwrap();
    let names = |list: Vec<Segment>| list.into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(names(segments.segments(1, viewer(7)).await.unwrap()), ["Mine", "Site"]);
    assert_eq!(names(segments.segments(1, viewer(9)).await.unwrap()), ["Site"], "others' personal ones are hidden");
    let read_only = SegmentViewer { may_write: false, ..viewer(7) };
    assert!(matches!(
        segments.add(1, read_only, draft("x", SegmentKind::Personal)).await,
        Err(SegmentError::Forbidden(_))
    ));

    assert!(matches!(segments.delete(1, viewer(9), mine.id).await, Err(SegmentError::NotFound)), "not theirs");
    assert!(matches!(segments.delete(1, viewer(7), site.id).await, Err(SegmentError::Forbidden(SITE_WIDE))));
    let renamed =
        segments.update(1, viewer(7), mine.id, SegmentPatch { name: Some("Renamed".into()), ..Default::default() });
    let renamed = renamed.await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.filters.as_slice()), ("Renamed", mine.filters.as_slice()));
    segments.delete(1, admin(8), site.id).await.unwrap();
    assert_eq!(names(segments.segments(1, admin(8)).await.unwrap()), Vec::<String>::new());
}

#[tokio::test]
async fn segments_hold_valid_filters_only() {
    let segments = service();
    let message = |r: Result<Segment, SegmentError>| match r {
        Err(SegmentError::Invalid(m)) => m,
        other => panic!("expected invalid, got {other:?}"),
    };
    let with = |filters: Vec<Value>| SegmentDraft { filters, ..draft("s", SegmentKind::Personal) };
    assert_eq!(message(segments.add(1, viewer(1), with(vec![])).await), "a segment has 1 to 10 filters");
    let nested = with(vec![json!(["is", "segment", [1]])]);
    assert_eq!(message(segments.add(1, viewer(1), nested).await), "a segment cannot contain a segment filter");
    let unknown = with(vec![json!(["is", "visit:nonsense", ["x"]])]);
    assert!(message(segments.add(1, viewer(1), unknown).await).contains("unknown dimension"));
    let blank = SegmentDraft { name: "  ".into(), ..draft("", SegmentKind::Personal) };
    assert_eq!(message(segments.add(1, viewer(1), blank).await), "name must be 1 to 255 characters");
}

#[tokio::test]
async fn queries_get_the_filters_of_visible_segments_and_share_links_their_segment() {
    let segments = service();
    let site = segments.add(1, admin(8), draft("Google", SegmentKind::Site)).await.unwrap();
    let mine = segments.add(1, viewer(7), draft("Mine", SegmentKind::Personal)).await.unwrap();
    let other = json!(["is", "event:page", ["/"]]);
    let expanded = segments.expand(1, viewer(9), vec![json!(["is", "segment", [site.id]]), other.clone()]).await;
    assert_eq!(expanded.unwrap(), [json!(["is", "visit:source", ["Google"]]), other.clone()]);
    let foreign = segments.expand(1, viewer(9), vec![json!(["is", "segment", [mine.id]])]).await;
    assert!(matches!(foreign, Err(SegmentError::Invalid(m)) if m.contains("was not found")), "another's personal one");
    let elsewhere = segments.expand(2, viewer(8), vec![json!(["is", "segment", [site.id]])]).await;
    assert!(matches!(elsewhere, Err(SegmentError::Invalid(_))), "another site's");
    let share = SegmentViewer { limited_to: Some(site.id), ..SegmentViewer::default() };
    assert_eq!(
        segments.expand(1, share, vec![other.clone()]).await.unwrap(),
        [other, json!(["is", "visit:source", ["Google"]])]
    );
    assert!(segments.for_share(1, mine.id).await.is_err(), "share links take site-wide segments only");
    assert_eq!(segments.for_share(1, site.id).await.unwrap().id, site.id);
}
