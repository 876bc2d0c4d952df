//! Saved segments: named filter sets of a site, personal (seen by their owner) or site-wide,
//! and the expansion of Plausible's `["is", "segment", [id]]` filter into the stored filters.

use serde_json::{Value, json};

use super::accounts::{Principal, Scope};

/// Longest segment name, as Plausible allows.
pub const MAX_NAME_CHARS: usize = 255;
/// Most filters one segment holds (top-level entries).
pub const MAX_FILTERS: usize = 10;

/// Who sees a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// Seen and changed by its owner only.
    Personal,
    /// Seen by everyone who reads the site; changed by its admins and owners.
    Site,
}

impl SegmentKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "personal" => Some(Self::Personal),
            "site" => Some(Self::Site),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::Site => "site",
        }
    }
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: u32,
    pub site_id: u32,
    pub name: String,
    pub kind: SegmentKind,
    /// The user who created it (the owner of a personal segment).
    pub owner: Option<u32>,
    /// Stats API v2 filters, as the caller wrote them.
    pub filters: Vec<Value>,
    /// Display labels the dashboard keeps with the filters (Plausible's `segment_data.labels`).
    pub labels: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A segment's content as written: name, kind, filters and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentDraft {
    pub name: String,
    pub kind: SegmentKind,
    pub filters: Vec<Value>,
    pub labels: Value,
}

/// What a caller may do with segments on one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentViewer {
    /// The user acting, whose personal segments are visible.
    pub user: Option<u32>,
    /// May save segments: a person, a token without read-only scope, the operator (site-wide
    /// segments only: it is no person).
    pub may_write: bool,
    /// May change site-wide segments (an admin or owner of the site).
    pub may_manage: bool,
    /// The segment a share link is limited to.
    pub limited_to: Option<u32>,
}

impl SegmentViewer {
    /// The viewer for `principal`; `may_manage` is whether it may manage the site.
    pub fn of(principal: &Principal, may_manage: bool) -> Self {
        let (user, may_write, limited_to) = match principal {
            Principal::User { id, .. } => (Some(id.0), true, None),
            Principal::Token { user, scope, .. } => (Some(user.0), *scope != Scope::Read, None),
            Principal::Share { segment, .. } => (None, false, *segment),
            Principal::Operator => (None, true, None),
        };
        Self { user, may_write, may_manage, limited_to }
    }

    /// Whether the segment is visible: site-wide ones to all, personal ones to their owner.
    pub fn sees(&self, s: &Segment) -> bool {
        s.kind == SegmentKind::Site || (s.owner.is_some() && s.owner == self.user)
    }
}

/// The ids of a segment filter (`["is", "segment", [ids]]`), `None` for any other filter.
pub fn segment_ids(filter: &Value) -> Option<Result<Vec<u32>, String>> {
    let parts = filter.as_array()?;
    if parts.get(1).and_then(Value::as_str) != Some("segment") {
        return None;
    }
    let invalid = || format!("Invalid filter {filter}: a segment filter is [\"is\", \"segment\", [id]].");
    if parts.len() != 3 || parts[0].as_str() != Some("is") {
        return Some(Err(invalid()));
    }
    let ids =
        parts[2].as_array().filter(|l| !l.is_empty()).ok_or_else(invalid).and_then(|l| {
            l.iter().map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(invalid)).collect()
        });
    Some(ids)
}

/// Whether a filter (at any depth) names a segment.
pub fn mentions_segment(filter: &Value) -> bool {
    segment_ids(filter).is_some() || filter.as_array().is_some_and(|parts| parts.iter().any(mentions_segment))
}

/// Replaces segment filters with the filters they stand for: at the top level the stored
/// filters take its place (as Plausible echoes them), nested ones become `["and", filters]`, and
/// a list of several ids means any of them. `find` answers a visible segment's filters.
pub fn expand(filters: &[Value], find: &impl Fn(u32) -> Option<Vec<Value>>) -> Result<Vec<Value>, String> {
    let mut out = Vec::with_capacity(filters.len());
    for f in filters {
        match segment_ids(f) {
            Some(ids) => {
                let sets = ids?.into_iter().map(|id| stored(id, find)).collect::<Result<Vec<_>, _>>()?;
                match <[Vec<Value>; 1]>::try_from(sets) {
                    Ok([one]) => out.extend(one),
                    Err(many) => {
                        out.push(json!(["or", many.into_iter().map(|s| json!(["and", s])).collect::<Vec<_>>()]))
                    }
                }
            }
            None => out.push(expand_nested(f, find)?),
        }
    }
    Ok(out)
}

fn stored(id: u32, find: &impl Fn(u32) -> Option<Vec<Value>>) -> Result<Vec<Value>, String> {
    find(id).ok_or_else(|| format!("Invalid filter: segment {id} was not found on this site."))
}

/// A filter below the top level: segment filters inside it become `["and", filters]`.
fn expand_nested(f: &Value, find: &impl Fn(u32) -> Option<Vec<Value>>) -> Result<Value, String> {
    if let Some(ids) = segment_ids(f) {
        let sets =
            ids?.into_iter().map(|id| stored(id, find).map(|s| json!(["and", s]))).collect::<Result<Vec<_>, _>>()?;
        return Ok(if sets.len() == 1 { sets.into_iter().next().unwrap_or_default() } else { json!(["or", sets]) });
    }
    let Some(parts) = f.as_array().filter(|_| mentions_segment(f)) else { return Ok(f.clone()) };
    let expanded = parts
        .iter()
        .map(|p| match p {
            Value::Array(children) if children.iter().all(Value::is_array) && !children.is_empty() => {
                children.iter().map(|c| expand_nested(c, find)).collect::<Result<Vec<_>, _>>().map(Value::Array)
            }
            Value::Array(_) => expand_nested(p, find),
            other => Ok(other.clone()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Array(expanded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(id: u32) -> Option<Vec<Value>> {
        match id {
            1 => Some(vec![json!(["is", "visit:source", ["Google"]])]),
            2 => Some(vec![json!(["is", "visit:country", ["DE"]]), json!(["is", "event:page", ["/"]])]),
            _ => None,
        }
    }

    #[test]
    fn a_top_level_segment_filter_becomes_its_stored_filters() {
        let filters = [json!(["is", "segment", [2]]), json!(["is", "visit:os", ["Mac"]])];
        let out = expand(&filters, &find).unwrap();
        assert_eq!(
            out,
            [
                json!(["is", "visit:country", ["DE"]]),
                json!(["is", "event:page", ["/"]]),
                json!(["is", "visit:os", ["Mac"]])
            ]
        );
    }

    #[test]
    fn several_ids_mean_any_and_nested_ones_are_anded() {
        let out = expand(&[json!(["is", "segment", [1, 2]])], &find).unwrap();
        let any = json!(["or", [["and", [["is", "visit:source", ["Google"]]]], ["and", find(2).unwrap()]]]);
        assert_eq!(out, [any]);
        let nested = expand(&[json!(["not", ["is", "segment", [1]]])], &find).unwrap();
        assert_eq!(nested, [json!(["not", ["and", [["is", "visit:source", ["Google"]]]]])]);
        let within = expand(&[json!(["or", [["is", "segment", [1]], ["is", "event:page", ["/a"]]]])], &find).unwrap();
        assert_eq!(
            within,
            [json!(["or", [["and", [["is", "visit:source", ["Google"]]]], ["is", "event:page", ["/a"]]]])]
        );
    }

    #[test]
    fn unknown_ids_and_bad_shapes_are_refused_with_a_message() {
        assert_eq!(
            expand(&[json!(["is", "segment", [9]])], &find).unwrap_err(),
            "Invalid filter: segment 9 was not found on this site."
        );
        for bad in [json!(["is_not", "segment", [1]]), json!(["is", "segment", []]), json!(["is", "segment", ["x"]])] {
            assert!(expand(std::slice::from_ref(&bad), &find).unwrap_err().contains("a segment filter is"), "{bad}");
        }
        assert!(!mentions_segment(&json!(["is", "visit:source", ["segment"]])));
        assert!(mentions_segment(&json!(["and", [["is", "segment", [1]]]])));
    }

    #[test]
    fn personal_segments_are_seen_by_their_owner_only() {
        let s = |kind, owner| Segment {
            id: 1,
            site_id: 1,
            name: "s".into(),
            kind,
            owner,
            filters: vec![],
            labels: Value::Null,
            created_at: 0,
            updated_at: 0,
        };
        let me = SegmentViewer { user: Some(7), ..Default::default() };
        assert!(me.sees(&s(SegmentKind::Personal, Some(7))));
        assert!(!me.sees(&s(SegmentKind::Personal, Some(8))));
        assert!(me.sees(&s(SegmentKind::Site, Some(8))));
        assert!(!SegmentViewer::default().sees(&s(SegmentKind::Personal, None)));
    }
}
