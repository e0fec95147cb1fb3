//! A long map opened in two parts: its first rows, then the whole.
//!
//! The first answer carries the rows the editor draws first and the ids
//! of all the others ([`cut`]), so it is a few kB where the whole of a
//! 1,000-row map is ~420 kB. The editor puts an empty row with that id in
//! each cut row's place ([`stand_ins`]), so the table has its full length
//! (scroll height, row count) from the first paint, and allows no edit
//! (the table is inert) until the whole map has come in and replaced the
//! stand-ins. The save paths never see a stand-in: a save is refused until
//! then.

use serde_json::{Map, Value};

/// Cuts the list `list` of `content` to its first `first` rows when it
/// has more than `longer_than` (and more than `first`); returns the ids
/// of the rows cut, in order (empty when nothing was cut).
pub fn cut(content: &mut Value, list: &str, first: usize, longer_than: usize) -> Vec<String> {
    let Some(Value::Array(rows)) = content.get_mut(list) else { return Vec::new() };
    if rows.len() <= longer_than.max(first) {
        return Vec::new();
    }
    rows.drain(first..).map(|row| row.get("id").and_then(Value::as_str).unwrap_or_default().to_string()).collect()
}

/// Appends to the list `list` of `content` one row per id of `rest`,
/// holding only that id: the cut rows' places until they come.
pub fn stand_ins(content: &mut Value, list: &str, rest: &[String]) {
    if rest.is_empty() {
        return;
    }
    let Some(Value::Array(rows)) = content.get_mut(list) else { return };
    rows.extend(rest.iter().map(|id| {
        let mut row = Map::new();
        row.insert("id".to_string(), Value::String(id.clone()));
        Value::Object(row)
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(n: usize) -> Value {
        json!({"process": "Заказ", "rows": (1..=n).map(|i| json!({"id": format!("r{i}"), "event": format!("Событие №{i}")})).collect::<Vec<_>>()})
    }

    #[test]
    fn a_long_map_keeps_its_first_rows_and_the_ids_of_the_rest() {
        let mut content = map(1_000);
        let rest = cut(&mut content, "rows", 44, 100);
        assert_eq!(content["rows"].as_array().map(Vec::len), Some(44));
        assert_eq!(content["rows"][43]["event"], "Событие №44");
        assert_eq!(content["process"], "Заказ");
        assert_eq!(rest.len(), 956);
        assert_eq!((rest[0].as_str(), rest[955].as_str()), ("r45", "r1000"));
        // The stand-ins give the table its length back, in order, empty.
        stand_ins(&mut content, "rows", &rest);
        let rows = content["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1_000);
        assert_eq!(rows[44], json!({"id": "r45"}));
        assert_eq!(rows[999], json!({"id": "r1000"}));
        assert_eq!(rows[43]["event"], "Событие №44");
    }

    #[test]
    fn a_short_map_or_another_list_is_left_whole() {
        for (n, first) in [(100, 44), (30, 44), (150, 200)] {
            let mut content = map(n);
            assert!(cut(&mut content, "rows", first, 100).is_empty(), "{n} rows, first {first}");
            assert_eq!(content, map(n));
        }
        let mut content = map(500);
        assert!(cut(&mut content, "stages", 44, 100).is_empty());
        stand_ins(&mut content, "rows", &[]);
        assert_eq!(content, map(500));
        // Not a list where one is expected: nothing happens.
        let mut odd = json!({"rows": "many"});
        assert!(cut(&mut odd, "rows", 1, 0).is_empty());
        stand_ins(&mut odd, "rows", &["r1".to_string()]);
        assert_eq!(odd, json!({"rows": "many"}));
    }
}
