//! Building report SQL safely: every value is a bound parameter; identifiers come only from
//! the fixed column map below, never from input.

use duckdb::types::Value;

use crate::domain::query::matcher::ValueMatcher;
pub use crate::domain::query::matcher::wildcard_regex;
use crate::domain::query::{Dimension, EventDim, Filter, FilterOp, Goal, GoalKind, Period, TimeGrain, VisitDim};

/// SQL text with its parameters.
#[derive(Default, Debug)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Value>,
}

impl Sql {
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a `?` bound to `v`.
    pub fn param(&mut self, v: Value) -> &mut Self {
        self.text.push('?');
        self.params.push(v);
        self
    }

    pub fn text_param(&mut self, s: &str) -> &mut Self {
        self.param(Value::Text(s.to_string()))
    }

    /// ` site_id = ? AND ts >= ? AND ts < ?`: one site's rows of a period, bound.
    pub fn site_period(&mut self, site_id: u32, period: &Period) -> &mut Self {
        self.push("site_id = ")
            .param(Value::UInt(site_id))
            .push(" AND ts >= ")
            .param(ts_param(period.start))
            .push(" AND ts < ")
            .param(ts_param(period.end))
    }
}

/// A UTC TIMESTAMP parameter from microseconds since the epoch.
pub fn ts_param(micros: i64) -> Value {
    Value::Timestamp(duckdb::types::TimeUnit::Microsecond, micros)
}

/// The events column (or expression) behind a row-level dimension; `None` for the ones that
/// need the visit (entry/exit page), goals and time.
pub fn row_column(dim: &Dimension) -> Option<&'static str> {
    Some(match dim {
        Dimension::Event(EventDim::Page) => "pathname",
        Dimension::Event(EventDim::Hostname) => "hostname",
        Dimension::Event(EventDim::Name) => "name",
        Dimension::Visit(v) => match v {
            VisitDim::Source => "coalesce(referrer_source, 'Direct / None')",
            VisitDim::Referrer => "coalesce(referrer, 'Direct / None')",
            VisitDim::Country | VisitDim::CountryName => "country",
            VisitDim::Region | VisitDim::RegionName => "region",
            VisitDim::City | VisitDim::CityName => "city",
            VisitDim::ExitPage | VisitDim::EntryPageHostname | VisitDim::ExitPageHostname => return None,
            // The other visit attributes are stored in the column named like their key.
            other => other.key(),
        },
        _ => return None,
    })
}

/// The `visit_pages` column of a visit dimension read from it.
pub fn visit_pages_column(v: VisitDim) -> &'static str {
    match v {
        VisitDim::EntryPageHostname => "entry_hostname",
        VisitDim::ExitPageHostname => "exit_hostname",
        _ => "exit_page",
    }
}

/// Local time of `column` (a UTC TIMESTAMP) in the period's zone as microseconds since the
/// epoch, from the period's offset table (no tz database needed in SQL).
pub fn local_micros(column: &str, period: &Period) -> String {
    let offsets = period.offsets();
    if offsets.len() == 1 {
        return format!("(epoch_us({column}) + {})", offsets[0].1 as i64 * 1_000_000);
    }
    let mut case = String::from("CASE");
    for w in offsets.windows(2) {
        case.push_str(&format!(" WHEN epoch_us({column}) < {} THEN {}", w[1].0, w[0].1 as i64 * 1_000_000));
    }
    case.push_str(&format!(" ELSE {} END", offsets.last().expect("non-empty").1 as i64 * 1_000_000));
    format!("(epoch_us({column}) + {case})")
}

/// The bucket of `column` at `grain` (resolved) as an integer: local hours, days or Monday-based
/// weeks since the epoch, or year * 12 + month - 1. Integers group and sort fast; labels are
/// made from them afterwards (`bucket_label`).
pub fn bucket(column: &str, period: &Period, grain: TimeGrain) -> String {
    let local = local_micros(column, period);
    match grain {
        TimeGrain::Hour => format!("({local} // 3600000000)"),
        TimeGrain::Day | TimeGrain::Auto => format!("({local} // 86400000000)"),
        // 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
        TimeGrain::Week => format!("(({local} // 86400000000 + 3) // 7)"),
        TimeGrain::Month => {
            format!("(year(make_timestamp({local})) * 12 + month(make_timestamp({local})) - 1)")
        }
    }
}

/// The label of an integer bucket from `bucket`, as Plausible formats it; weeks are clipped to
/// the period's first day.
pub fn bucket_label(key: i64, grain: TimeGrain, period: &Period) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let day = |n: i64| epoch + chrono::Duration::days(n);
    match grain {
        TimeGrain::Hour => {
            format!("{} {:02}:00:00", day(key.div_euclid(24)).format("%Y-%m-%d"), key.rem_euclid(24))
        }
        TimeGrain::Day | TimeGrain::Auto => day(key).format("%Y-%m-%d").to_string(),
        TimeGrain::Week => day(key * 7 - 3).max(period.first_date).format("%Y-%m-%d").to_string(),
        TimeGrain::Month => format!("{:04}-{:02}-01", key.div_euclid(12), key.rem_euclid(12) + 1),
    }
}

/// SQL condition "the row's event completes `goal`".
pub fn goal_condition(sql: &mut Sql, goal: &Goal) {
    match &goal.kind {
        GoalKind::Event(name) => {
            sql.push("(name = ").text_param(name).push(")");
        }
        // Without a wildcard the anchored pattern is the path itself: no regex per row.
        GoalKind::Page(path) if !path.contains('*') => {
            sql.push("(name = 'pageview' AND pathname = ").text_param(path).push(")");
        }
        GoalKind::Page(pattern) => {
            sql.push("(name = 'pageview' AND regexp_full_match(pathname, ")
                .text_param(&wildcard_regex(pattern))
                .push("))");
        }
    }
}

/// Which goals a goal filter condition selects (by display name); patterns compile once.
pub fn goals_matching<'a>(goals: &'a [Goal], op: FilterOp, values: &[String], case_sensitive: bool) -> Vec<&'a Goal> {
    // Patterns were checked when the query was parsed; one that fails here selects nothing.
    let Ok(matcher) = ValueMatcher::new(op, values, case_sensitive) else { return Vec::new() };
    goals.iter().filter(|g| matcher.hit(&g.display_name)).collect()
}

/// An expression written into SQL each time it is used (it may carry its own parameters).
pub type Expr<'a> = &'a dyn Fn(&mut Sql);

/// A plain column (or fixed expression) as an `Expr`.
pub fn column(text: &'static str) -> impl Fn(&mut Sql) {
    move |sql: &mut Sql| {
        sql.push(text);
    }
}

/// Writes `expr <op> values`; NULL never matches a positive operator and always matches a negated one.
pub fn compare(sql: &mut Sql, expr: Expr, op: FilterOp, values: &[String], case_sensitive: bool) {
    let target = |sql: &mut Sql| {
        if case_sensitive {
            expr(sql);
        } else {
            sql.push("lower(");
            expr(sql);
            sql.push(")");
        }
    };
    let lit = |sql: &mut Sql, v: &str| {
        let v = if case_sensitive { v.to_string() } else { v.to_lowercase() };
        sql.text_param(&v);
    };
    sql.push(if op.is_negated() { "NOT coalesce(" } else { "coalesce(" });
    match op {
        FilterOp::Is | FilterOp::IsNot => {
            target(sql);
            sql.push(" IN (");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                lit(sql, v);
            }
            sql.push(")");
        }
        _ => {
            sql.push("(");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                match op {
                    FilterOp::Contains | FilterOp::ContainsNot => {
                        sql.push("contains(");
                        target(sql);
                        sql.push(", ");
                        lit(sql, v);
                        sql.push(")");
                    }
                    FilterOp::Matches | FilterOp::MatchesNot => {
                        sql.push("regexp_matches(");
                        expr(sql);
                        sql.push(", ").text_param(v);
                        sql.push(if case_sensitive { ")" } else { ", 'i')" });
                    }
                    _ => {
                        sql.push("regexp_full_match(");
                        expr(sql);
                        sql.push(", ").text_param(&wildcard_regex(v));
                        sql.push(if case_sensitive { ")" } else { ", 'i')" });
                    }
                }
            }
            sql.push(")");
        }
    }
    sql.push(", false)");
}

/// The value of custom property `key` (NULL when the event lacks it).
pub fn prop_value(key: &str) -> impl Fn(&mut Sql) + '_ {
    move |sql: &mut Sql| {
        sql.push("map_extract_value(props, ").text_param(key).push(")");
    }
}

/// Writes a filter tree as a boolean expression over `base` rows.
/// `visit_pages` is the CTE with (visit_id, entry_page, exit_page).
pub fn filter_expr(sql: &mut Sql, f: &Filter, goals: &[Goal]) {
    match f {
        Filter::And(children) | Filter::Or(children) => {
            let joiner = if matches!(f, Filter::And(_)) { " AND " } else { " OR " };
            sql.push("(");
            for (i, c) in children.iter().enumerate() {
                if i > 0 {
                    sql.push(joiner);
                }
                filter_expr(sql, c, goals);
            }
            sql.push(")");
        }
        Filter::Not(inner) => {
            sql.push("(NOT ");
            filter_expr(sql, inner, goals);
            sql.push(")");
        }
        Filter::HasDone(inner) | Filter::HasNotDone(inner) => {
            sql.push(if matches!(f, Filter::HasDone(_)) { "(visit_id IN (" } else { "(visit_id NOT IN (" });
            sql.push("SELECT visit_id FROM base WHERE ");
            filter_expr(sql, inner, goals);
            sql.push("))");
        }
        Filter::Condition { op, dimension, values, case_sensitive } => {
            condition_expr(sql, dimension, *op, values, *case_sensitive, goals)
        }
    }
}

/// Writes one filter condition as a boolean expression over `base` rows.
fn condition_expr(
    sql: &mut Sql,
    dimension: &Dimension,
    op: FilterOp,
    values: &[String],
    case_sensitive: bool,
    goals: &[Goal],
) {
    match dimension {
        Dimension::Event(EventDim::Goal) => {
            let selected = goals_matching(goals, op, values, case_sensitive);
            if op.is_negated() {
                sql.push("(NOT ");
            }
            if selected.is_empty() {
                sql.push("false");
            } else {
                sql.push("(");
                for (i, g) in selected.iter().enumerate() {
                    if i > 0 {
                        sql.push(" OR ");
                    }
                    goal_condition(sql, g);
                }
                sql.push(")");
            }
            if op.is_negated() {
                sql.push(")");
            }
        }
        Dimension::Event(EventDim::Prop(key)) => {
            compare(sql, &prop_value(key), op, values, case_sensitive);
        }
        Dimension::Visit(VisitDim::CountryName) => {
            // Names are matched here (each pattern compiled once, not once per country);
            // the table holds codes.
            let codes: Vec<String> = match ValueMatcher::new(op, values, case_sensitive) {
                Ok(matcher) => crate::domain::countries::all()
                    .filter(|(_, name)| matcher.hit(name))
                    .map(|(code, _)| code.to_string())
                    .collect(),
                Err(_) => Vec::new(),
            };
            sql.push(if op.is_negated() { "NOT coalesce(country IN (" } else { "coalesce(country IN (" });
            if codes.is_empty() {
                sql.push("NULL");
            }
            for (i, c) in codes.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.text_param(c);
            }
            sql.push("), false)");
        }
        Dimension::Visit(v) if v.from_visit_pages() => {
            sql.push("(visit_id IN (SELECT visit_id FROM visit_pages WHERE ");
            compare(sql, &column(visit_pages_column(*v)), op, values, case_sensitive);
            sql.push("))");
        }
        other => {
            let col = row_column(other).expect("row-level dimension");
            compare(sql, &column(col), op, values, case_sensitive);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_reach_sql_text() {
        let mut sql = Sql::default();
        let f = Filter::Condition {
            op: FilterOp::Contains,
            dimension: Dimension::Event(EventDim::Page),
            values: vec!["'; DROP TABLE events; --".into()],
            case_sensitive: false,
        };
        filter_expr(&mut sql, &f, &[]);
        assert!(!sql.text.contains("DROP"));
        assert_eq!(sql.params.len(), 1);
    }
}
