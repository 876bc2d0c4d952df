//! Revenue goals in one currency: exchange rates the operator provides (`--revenue-rates`), and
//! which currency a query's revenue is converted to. Without a rate nothing is converted: mixed
//! currencies stay mixed and are reported, never guessed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::query::{Dimension, EventDim, Filter, FilterOp, Goal, Query};
use super::revenue::is_currency;

/// Exchange rates: `rate(from, to)` is what one unit of `from` is worth in `to`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RevenueRates {
    pairs: BTreeMap<(String, String), f64>,
}

pub use super::query::money::RevenueConversion;

impl RevenueRates {
    /// Reads rates from JSON (`{"USD": {"EUR": 0.92}}`: one USD is 0.92 EUR) or CSV (lines of
    /// `from,to,rate`; a header line and `#` comments are skipped). The inverse of each given
    /// rate is implied unless given too.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut given = Vec::new();
        if text.trim_start().starts_with('{') {
            let v: Value = serde_json::from_str(text).map_err(|e| format!("revenue rates: invalid JSON: {e}"))?;
            for (from, targets) in v.as_object().into_iter().flatten() {
                let targets =
                    targets.as_object().ok_or_else(|| format!("revenue rates: {from}: expected an object"))?;
                for (to, rate) in targets {
                    let rate = rate.as_f64().ok_or_else(|| format!("revenue rates: {from}->{to}: not a number"))?;
                    given.push((from.clone(), to.clone(), rate));
                }
            }
        } else {
            for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                if line.is_empty() || line.starts_with('#') || (n == 1 && cells[0].eq_ignore_ascii_case("from")) {
                    continue;
                }
                let [from, to, rate] = cells[..] else { return Err(format!("revenue rates line {n}: from,to,rate")) };
                let rate = rate.parse().map_err(|_| format!("revenue rates line {n}: {rate:?} is not a number"))?;
                given.push((from.to_string(), to.to_string(), rate));
            }
        }
        let mut pairs = BTreeMap::new();
        for (from, to, rate) in &given {
            let (from, to) = (from.to_ascii_uppercase(), to.to_ascii_uppercase());
            if !is_currency(&from) || !is_currency(&to) || !rate.is_finite() || *rate <= 0.0 {
                return Err(format!("revenue rates: {from}->{to} {rate}: ISO 4217 codes and a positive rate"));
            }
            pairs.insert((from.clone(), to.clone()), *rate);
        }
        for ((from, to), rate) in pairs.clone() {
            pairs.entry((to, from)).or_insert(1.0 / rate);
        }
        Ok(Self { pairs })
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The rates into `currency`, by source currency.
    pub fn into_currency(&self, currency: &str) -> Vec<(String, f64)> {
        self.pairs.iter().filter(|((_, to), _)| to == currency).map(|((from, _), r)| (from.clone(), *r)).collect()
    }
}

/// The conversion for a query's revenue metrics: to the one currency of the revenue goals the
/// query filters on, else to the one currency of all the site's revenue goals; none when the
/// query asks no revenue or the goals disagree on a currency (then mixed currencies are reported).
pub fn conversion(goals: &[Goal], q: &Query, rates: &RevenueRates) -> Option<RevenueConversion> {
    if !q.metrics.iter().any(|m| m.is_revenue()) {
        return None;
    }
    let named: Vec<&str> = goal_filter_values(&q.filters);
    let in_query = |g: &&Goal| named.is_empty() || named.contains(&g.display_name.as_str());
    let mut currencies: Vec<&str> = goals.iter().filter(in_query).filter_map(|g| g.currency.as_deref()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let [currency] = currencies[..] else { return None };
    Some(RevenueConversion { currency: currency.to_string(), rates: rates.into_currency(currency) })
}

/// The goal names `is event:goal` filters (at any depth) name.
fn goal_filter_values(filters: &[Filter]) -> Vec<&str> {
    filters
        .iter()
        .flat_map(|f| f.conditions())
        .filter_map(|c| match c {
            Filter::Condition { op: FilterOp::Is, dimension: Dimension::Event(EventDim::Goal), values, .. } => {
                Some(values.iter().map(String::as_str))
            }
            _ => None,
        })
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::{GoalKind, parse_query};
    use serde_json::json;

    #[test]
    fn revenue_is_converted_to_the_currency_of_the_goals_the_query_names() {
        let goal = |id, name: &str, currency: Option<&str>| Goal {
            id,
            display_name: name.into(),
            kind: GoalKind::Event(name.into()),
            currency: currency.map(str::to_string),
        };
        let goals = [goal(1, "Purchase", Some("EUR")), goal(2, "Donate", Some("USD")), goal(3, "Signup", None)];
        let rates = RevenueRates::parse("USD,EUR,0.5").unwrap();
        let query = |metric: &str, filters: Value| {
            let body = json!({"site_id": "a.test", "date_range": "day", "metrics": [metric], "filters": filters});
            parse_query(&body, chrono_tz::UTC, 1_764_460_800_000_000, None).unwrap()
        };
        let purchase = json!([["is", "event:goal", ["Purchase"]]]);
        let to_eur = RevenueConversion { currency: "EUR".into(), rates: vec![("USD".into(), 0.5)] };
        assert_eq!(conversion(&goals, &query("total_revenue", purchase.clone()), &rates), Some(to_eur));
        assert_eq!(conversion(&goals, &query("total_revenue", json!([])), &rates), None, "EUR and USD goals");
        assert_eq!(conversion(&goals, &query("visitors", purchase), &rates), None, "no revenue asked");
        let donate = query("average_revenue", json!([["is", "event:goal", ["Donate"]]]));
        assert_eq!(conversion(&goals, &donate, &rates).map(|c| c.rates), Some(vec![("EUR".into(), 2.0)]));
    }

    #[test]
    fn rates_from_json_or_csv_with_inverses() {
        let json = RevenueRates::parse(r#"{"USD": {"EUR": 0.5}, "gbp": {"EUR": 1.25}}"#).unwrap();
        let csv = RevenueRates::parse("from,to,rate\n# daily\nUSD,EUR,0.5\nGBP, EUR ,1.25\n").unwrap();
        assert_eq!(json, csv);
        assert_eq!(json.into_currency("EUR"), [("GBP".to_string(), 1.25), ("USD".to_string(), 0.5)]);
        assert_eq!(json.into_currency("USD"), [("EUR".to_string(), 2.0)], "the inverse is implied");
        assert!(RevenueRates::parse("USD,XXY,2").unwrap_err().contains("ISO 4217"));
        assert!(RevenueRates::parse("USD,EUR").unwrap_err().contains("line 1"));
        assert!(RevenueRates::parse(r#"{"USD": {"EUR": -1}}"#).is_err());
    }
}
