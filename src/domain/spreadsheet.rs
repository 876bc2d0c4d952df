//! Text cells that spreadsheets would run as formulas (CSV injection). A visitor controls page
//! paths, UTM values, event names and referrers; a CSV export opened in a spreadsheet must show
//! them, never evaluate them. OWASP's guidance: prefix such a cell with a single quote.

use std::borrow::Cow;

/// First characters that make a spreadsheet treat a cell as a formula (or split it into one).
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as it is safe to write into CSV: with a leading `'` when it starts with a
/// formula trigger. Only for text: numeric columns stay numbers (a negative number is data).
pub fn spreadsheet_safe(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_TRIGGERS) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_and_others_stay() {
        for cell in ["=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
        }
        for cell in ["/pricing", "Google", "", "a=b", "1-2", "'quoted"] {
            assert_eq!(spreadsheet_safe(cell), cell);
        }
    }
}
