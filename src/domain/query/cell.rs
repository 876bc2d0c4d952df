//! One value of an answer row: a dimension value or a metric value, typed as the engine produced
//! it. The HTTP edge turns cells into JSON once ([`Cell::to_json`]); integers stay integers and
//! rounded ratios stay decimals, so answers keep their number formats.

use std::cmp::Ordering;

use serde_json::Value;

/// A typed answer value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (a visit without an exit page, an unset property).
    Null,
    Bool(bool),
    /// A count or a rounded whole number.
    Int(i64),
    /// A count too large for `Int`.
    UInt(u64),
    /// A ratio or a percentage (rounded by the engine).
    Float(f64),
    /// A page, a source, a time bucket label...
    Text(String),
    /// An amount of money in one currency (ISO 4217 code), shown as Plausible shows revenue.
    Money {
        amount: f64,
        currency: String,
    },
}

impl Cell {
    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::UInt(u) => Some(*u as f64),
            Cell::Float(f) => Some(*f),
            Cell::Money { amount, .. } => Some(*amount),
            _ => None,
        }
    }

    /// A non-negative whole number, if this is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Cell::Int(i) => u64::try_from(*i).ok(),
            Cell::UInt(u) => Some(*u),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    /// The value as the answers show it.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Int(i) => Value::from(*i),
            Cell::UInt(u) => Value::from(*u),
            // Non-finite numbers have no JSON form; they show as null, as before.
            Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Money { amount, currency } => serde_json::json!({
                "value": serde_json::Number::from_f64(*amount).map_or(Value::Null, Value::Number),
                "currency": currency,
                "short": super::money::short(*amount, currency),
                "long": super::money::long(*amount, currency),
            }),
        }
    }

    /// The JSON text of the value: a key for grouping equal values.
    pub fn key(&self) -> String {
        self.to_json().to_string()
    }

    /// Ordering used when sorting merged rows: nulls last, numbers by value, the rest by text.
    pub fn sort_cmp(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Null, Cell::Null) => Ordering::Equal,
            (Cell::Null, _) => Ordering::Greater,
            (_, Cell::Null) => Ordering::Less,
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.key().cmp(&b.key()),
            },
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_keeps_number_formats() {
        assert_eq!(Cell::Int(3).to_json().to_string(), "3");
        assert_eq!(Cell::Float(2.0).to_json().to_string(), "2.0");
        assert_eq!(Cell::Float(f64::NAN).to_json(), Value::Null);
        assert_eq!(Cell::from("/a\"b").to_json(), json!("/a\"b"));
    }

    #[test]
    fn sorts_nulls_last_and_numbers_by_value() {
        assert_eq!(Cell::Null.sort_cmp(&Cell::Int(1)), Ordering::Greater);
        assert_eq!(Cell::Int(2).sort_cmp(&Cell::Float(10.5)), Ordering::Less);
        assert_eq!(Cell::from("b").sort_cmp(&Cell::from("a")), Ordering::Greater);
    }
}
