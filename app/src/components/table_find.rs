//! Find in a map: every place a text occurs in the map's cells, the rows a
//! long map has not drawn included (the browser's own find-in-page sees
//! only the rows in the page, see `row_window`).
//!
//! Matching ignores case (Cyrillic too) and takes «ё» for «е», as Russian
//! readers do. Where a match lies in its cell is counted in UTF-16 units,
//! as a text box's selection is, so the editor can select it. This file is
//! the search only; `editable_table.rs` shows the bar and walks the hits.

use serde_json::Value;

/// At most this many hits are listed (a one-letter query on a 1,000-row
/// map would find tens of thousands); the bar then says "10000+".
pub const MAX_HITS: usize = 10_000;

/// One place the text occurs: a row (its index in the map's list), a
/// column (its dotted path) and where in that cell's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub row: usize,
    pub field: &'static str,
    /// The match's first UTF-16 unit in the cell's text.
    pub start: u32,
    /// One past its last.
    pub end: u32,
}

/// One character as matching sees it: lower case, «ё» as «е».
fn fold(c: char) -> impl Iterator<Item = char> {
    c.to_lowercase().map(|c| if c == 'ё' { 'е' } else { c })
}

/// The hits of `query` in the cells `fields` of `rows`, row by row and, in
/// a row, column by column (the order the table shows them), at most
/// [`MAX_HITS`]. A blank query finds nothing.
pub fn hits(rows: &[Value], fields: &[&'static str], query: &str) -> Vec<Hit> {
    let needle: Vec<char> = query.chars().flat_map(fold).collect();
    let mut found = Vec::new();
    if query.trim().is_empty() {
        return found;
    }
    for (row, value) in rows.iter().enumerate() {
        for &field in fields {
            let Some(text) = super::editable_table::get_path(value, field).and_then(cell_str) else { continue };
            if in_cell(&text, &needle, |start, end| found.push(Hit { row, field, start, end })) && found.len() >= MAX_HITS {
                found.truncate(MAX_HITS);
                return found;
            }
        }
    }
    found
}

/// A cell's text as the table shows it (strings as they are, numbers
/// written out; nothing for objects, lists and nulls).
fn cell_str(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        _ => None,
    }
}

/// Calls `hit(start, end)` for each non-overlapping match of `needle` in
/// `text`; says whether there was one.
fn in_cell(text: &str, needle: &[char], mut hit: impl FnMut(u32, u32)) -> bool {
    // Each folded character with the UTF-16 span of the character it came
    // from (one character may fold to two, e.g. «İ»).
    let mut folded: Vec<(char, u32, u32)> = Vec::with_capacity(text.len());
    let mut at = 0u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // A text box holds "\r\n" (a CSV import's line ends) as one "\n".
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        let next = at + c.len_utf16() as u32;
        folded.extend(fold(c).map(|f| (f, at, next)));
        at = next;
    }
    let mut any = false;
    let mut i = 0;
    while i + needle.len() <= folded.len() {
        if folded[i..i + needle.len()].iter().map(|f| f.0).eq(needle.iter().copied()) {
            hit(folded[i].1, folded[i + needle.len() - 1].2);
            any = true;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    any
}

/// The hit after (`forward`) or before `current` among `count`, going
/// round at either end.
pub fn step(current: usize, count: usize, forward: bool) -> usize {
    match (count, forward) {
        (0, _) => 0,
        (_, true) => (current + 1) % count,
        (_, false) => (current + count - 1) % count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: [&str; 3] = ["event", "message", "trigger.alias"];

    #[test]
    fn finds_every_cell_in_table_order_ignoring_case_and_yo() {
        let rows = [
            json!({"event": "Заказ оформлен", "message": "Ваш заказ принят. Заказ №1", "trigger": {"alias": "order"}}),
            json!({"event": "Оплата", "message": "Ещё не оплачено"}),
            json!({"event": "ORDER shipped", "trigger": {"alias": "order-shipped"}}),
        ];
        let found = hits(&rows, &FIELDS, "заказ");
        assert_eq!(
            found.iter().map(|h| (h.row, h.field, h.start, h.end)).collect::<Vec<_>>(),
            [(0, "event", 0, 5), (0, "message", 4, 9), (0, "message", 18, 23)]
        );
        // «е» finds «ё»; the span is the original text's.
        assert_eq!(hits(&rows, &FIELDS, "еще"), [Hit { row: 1, field: "message", start: 0, end: 3 }]);
        assert_eq!(hits(&rows, &FIELDS, "Order").iter().map(|h| (h.row, h.field)).collect::<Vec<_>>(), [
            (0, "trigger.alias"),
            (2, "event"),
            (2, "trigger.alias")
        ]);
        assert!(hits(&rows, &FIELDS, "  ").is_empty());
        assert!(hits(&rows, &FIELDS, "нет такого").is_empty());
    }

    #[test]
    fn spans_count_utf16_units_and_matches_do_not_overlap() {
        // "📦" is two UTF-16 units, as a text box counts them.
        let rows = [json!({"event": "📦 aaaa", "message": 42})];
        assert_eq!(hits(&rows, &FIELDS, "aa"), [
            Hit { row: 0, field: "event", start: 3, end: 5 },
            Hit { row: 0, field: "event", start: 5, end: 7 }
        ]);
        // Line ends as a text box counts them: "\r\n" is one.
        let rows = [json!({"event": "a\r\nb"}), json!({"event": 42})];
        assert_eq!(hits(&rows, &FIELDS, "b"), [Hit { row: 0, field: "event", start: 2, end: 3 }]);
        // Numbers are searched as written.
        assert_eq!(hits(&rows, &FIELDS, "42"), [Hit { row: 1, field: "event", start: 0, end: 2 }]);
    }

    #[test]
    fn hits_stop_at_the_limit() {
        let rows: Vec<Value> = (0..MAX_HITS + 5).map(|_| json!({"event": "a"})).collect();
        assert_eq!(hits(&rows, &FIELDS, "A").len(), MAX_HITS);
    }

    #[test]
    fn stepping_goes_round() {
        assert_eq!(step(2, 3, true), 0);
        assert_eq!(step(0, 3, false), 2);
        assert_eq!(step(1, 3, true), 2);
        assert_eq!(step(0, 0, true), 0);
    }
}
