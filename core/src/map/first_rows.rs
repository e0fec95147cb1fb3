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

use super::MapContent;
use serde_json::{Map, Value};

/// Cuts the rows of `content` (the stages of a CJM or a blueprint) to its
/// first `first` when it has more than `longer_than` (and more than
/// `first`); returns the ids of the rows cut, in order (empty when
/// nothing was cut). Done on the typed content, before it becomes JSON:
/// the rows cut are never turned into JSON values only to be dropped.
pub fn cut(content: &mut MapContent, first: usize, longer_than: usize) -> Vec<String> {
    match content {
        MapContent::Cjm(m) => cut_list(&mut m.stages, first, longer_than, |stage| stage.id),
        MapContent::Blueprint(m) => cut_list(&mut m.stages, first, longer_than, |stage| stage.id),
        MapContent::Communication(m) => cut_list(&mut m.rows, first, longer_than, |row| row.id),
        MapContent::Integration(m) => cut_list(&mut m.rows, first, longer_than, |row| row.id),
    }
}

/// [`cut`] on one list of rows; `id` takes a cut row's id out of it.
fn cut_list<R>(rows: &mut Vec<R>, first: usize, longer_than: usize, id: fn(R) -> String) -> Vec<String> {
    if rows.len() <= longer_than.max(first) {
        return Vec::new();
    }
    rows.drain(first..).map(id).collect()
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
    use crate::map::communication::CommRow;
    use crate::map::cjm::CjmStage;
    use crate::map::{Cjm, CommunicationMap};
    use serde_json::json;

    fn map(n: usize) -> MapContent {
        let rows = (1..=n).map(|i| CommRow { id: format!("r{i}"), event: format!("Событие №{i}"), ..Default::default() }).collect();
        MapContent::Communication(CommunicationMap { process: "Заказ".into(), rows })
    }

    #[test]
    fn a_long_map_keeps_its_first_rows_and_the_ids_of_the_rest() {
        let mut content = map(1_000);
        let rest = cut(&mut content, 44, 100);
        let mut content = content.to_value();
        assert_eq!(content["rows"].as_array().map(Vec::len), Some(44));
        assert_eq!(content["rows"][43]["event"], "Событие №44");
        assert_eq!(content["process"], "Заказ");
        assert_eq!(rest.len(), 956);
        assert_eq!((rest[0].as_str(), rest[955].as_str()), ("r45", "r1000"));
        // The first rows are as the whole map's.
        assert_eq!(content["rows"][0], map(1_000).to_value()["rows"][0]);
        // The stand-ins give the table its length back, in order, empty.
        stand_ins(&mut content, "rows", &rest);
        let rows = content["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1_000);
        assert_eq!(rows[44], json!({"id": "r45"}));
        assert_eq!(rows[999], json!({"id": "r1000"}));
        assert_eq!(rows[43]["event"], "Событие №44");
    }

    #[test]
    fn a_cjm_is_cut_at_its_stages() {
        let stages = (1..=300).map(|i| CjmStage { id: format!("s{i}"), stage: format!("Этап {i}"), ..Default::default() }).collect();
        let mut content = MapContent::Cjm(Cjm { persona: "Покупатель".into(), stages });
        let rest = cut(&mut content, 10, 100);
        assert_eq!((content.len(), rest.len()), (10, 290));
        assert_eq!((rest[0].as_str(), rest[289].as_str()), ("s11", "s300"));
        assert_eq!(content.to_value()["persona"], "Покупатель");
    }

    #[test]
    fn a_short_map_is_left_whole() {
        for (n, first) in [(100, 44), (30, 44), (150, 200)] {
            let mut content = map(n);
            assert!(cut(&mut content, first, 100).is_empty(), "{n} rows, first {first}");
            assert_eq!(content, map(n));
        }
        let mut content = map(500).to_value();
        stand_ins(&mut content, "rows", &[]);
        assert_eq!(content, map(500).to_value());
        // Not a list where one is expected: nothing happens.
        let mut odd = json!({"rows": "many"});
        stand_ins(&mut odd, "rows", &["r1".to_string()]);
        assert_eq!(odd, json!({"rows": "many"}));
    }
}
