//! Conformance of the annotation repository.

use chrono::NaiveDate;

use crate::domain::annotations::AnnotationDraft;
use crate::ports::annotations::AnnotationRepository;

/// The annotation repository: annotations per site in date order within a period, deletes
/// scoped to the site.
pub fn annotation_repository<R: AnnotationRepository>(make: impl Fn() -> R) {
    let repo = make();
    let d = |n: u32| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
    let draft = |day: &str, note: &str| AnnotationDraft::parse(day, note).unwrap();
    assert!(repo.annotations(1, d(1), d(30)).unwrap().is_empty());
    let late = repo.add_annotation(1, &draft("2026-11-20", "Newsletter"), "ann@shop.test", 200).unwrap();
    let early = repo.add_annotation(1, &draft("2026-11-02", "Launched v2"), "cli", 100).unwrap();
    let other = repo.add_annotation(2, &draft("2026-11-02", "Elsewhere"), "bob@blog.test", 300).unwrap();
    assert_ne!(late.id, early.id, "ids are distinct");
    assert_eq!(
        (early.date, early.note.as_str(), early.author.as_str(), early.created_at),
        (d(2), "Launched v2", "cli", 100)
    );
    assert_eq!(repo.annotations(1, d(1), d(30)).unwrap(), [early.clone(), late.clone()], "in date order");
    assert_eq!(repo.annotations(1, d(1), d(19)).unwrap(), std::slice::from_ref(&early), "only the period's");
    assert_eq!(repo.annotations(1, d(20), d(20)).unwrap(), std::slice::from_ref(&late), "the last day is included");
    let moved = repo.update_annotation(1, late.id, &draft("2026-11-21", "Newsletter #2")).unwrap().unwrap();
    assert_eq!(
        (moved.id, moved.date, moved.note.as_str(), moved.author.as_str(), moved.created_at),
        (late.id, d(21), "Newsletter #2", "ann@shop.test", 200),
        "date and note change, author and creation time stay"
    );
    assert_eq!(repo.update_annotation(1, other.id, &draft("2026-11-03", "Mine")).unwrap(), None, "not another site's");
    assert_eq!(repo.annotations(2, d(1), d(30)).unwrap(), std::slice::from_ref(&other));
    let late = moved;
    assert!(!repo.delete_annotation(1, other.id).unwrap(), "another site's annotation is not deleted");
    assert!(repo.delete_annotation(1, early.id).unwrap());
    assert!(!repo.delete_annotation(1, early.id).unwrap(), "a deleted annotation is gone");
    assert_eq!(repo.annotations(1, d(1), d(30)).unwrap(), [late]);
    assert_eq!(repo.annotations(2, d(1), d(30)).unwrap(), [other]);
}
