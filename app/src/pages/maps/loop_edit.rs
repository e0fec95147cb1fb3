//! What editing the ComOps loop by hand changes in a map, without views.
//!
//! On the loop view (SPEC §6, visual editor) an architect drags a
//! communication row onto an endpoint to bind the row's API trigger to
//! it, or selects that link and presses Delete to unbind it. Each is one
//! ordinary map save of the row's map — the version the loop was drawn
//! from, changed here, saved through `api::maps::save_map` with that
//! version as its base and a note saying what the loop did — so a loop
//! drawn before someone else's save is a conflict like any editor's, the
//! server checks who may bind, and the map's history shows the change.
//!
//! Which node a pointer is over and which links are a row's binding are
//! the drawing's business (`loop_model`); here: the change to the map's
//! JSON (the trigger cell's own [`set_trigger`]) and the version note.

use crate::api::maps::BindableEndpoint;
use crate::components::editable_table::set_trigger;
use crate::i18n::{t, K};
use comops_core::Locale;
use serde_json::Value;

/// Binds row `row_id` of a communication map's content to `endpoint`, or
/// unbinds it (`None`). Returns the row's number (its «№», else its
/// place) for the note, or `None` — content untouched — when the map has
/// no such row (deleted since the loop was drawn).
pub fn bind_row(content: &mut Value, row_id: &str, endpoint: Option<&BindableEndpoint>) -> Option<i64> {
    let rows = content.get_mut("rows")?.as_array_mut()?;
    let (place, row) = rows.iter_mut().enumerate().find(|(_, r)| r.get("id").and_then(Value::as_str) == Some(row_id))?;
    set_trigger(row, endpoint);
    Some(row.get("number").and_then(Value::as_i64).unwrap_or(place as i64 + 1))
}

/// Row `row_id`'s trigger as it is (`Null` when it has none), or `None`
/// when the map has no such row: what an undo writes back, and what it
/// expects to find.
pub fn trigger_of(content: &Value, row_id: &str) -> Option<Value> {
    let rows = content.get("rows")?.as_array()?;
    let row = rows.iter().find(|r| r.get("id").and_then(Value::as_str) == Some(row_id))?;
    Some(row.get("trigger").cloned().unwrap_or(Value::Null))
}

/// Writes row `row_id`'s trigger back as it was (`trigger`: an undo puts
/// back the planned alias and the scenario too). Returns the row's number
/// as [`bind_row`] does.
pub fn restore_row(content: &mut Value, row_id: &str, trigger: &Value) -> Option<i64> {
    let rows = content.get_mut("rows")?.as_array_mut()?;
    let (place, row) = rows.iter_mut().enumerate().find(|(_, r)| r.get("id").and_then(Value::as_str) == Some(row_id))?;
    row.as_object_mut()?.insert("trigger".into(), trigger.clone());
    Some(row.get("number").and_then(Value::as_i64).unwrap_or(place as i64 + 1))
}

/// The version note of a binding made on the loop: "loop: row 3 →
/// users/connect-bot", or for an unbinding "loop: row 3 unbound from
/// users/connect-bot" (`was`, the alias it had).
pub fn note(locale: Locale, number: i64, endpoint: Option<&BindableEndpoint>, was: &str) -> String {
    let (key, alias) = match endpoint {
        Some(e) => (K::LoopNoteBind, e.alias.as_str()),
        None => (K::LoopNoteUnbind, was),
    };
    t(locale, key).replacen("{}", &number.to_string(), 1).replacen("{}", alias, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connect_bot() -> BindableEndpoint {
        BindableEndpoint {
            bot_id: "bot_rehau".into(),
            alias: "users/connect-bot".into(),
            scenario: "registration_flow".into(),
            enabled: true,
            calls: 0,
            errors: 0,
            last_call_at: None,
        }
    }

    /// The demo's registration map: rows designed with an alias, bound to no bot.
    fn registration() -> Value {
        json!({"process": "Регистрация пользователя", "rows": [
            {"id": "r1", "number": 1, "event": "Пользователь зарегистрировался", "trigger": {"bot_id": null, "alias": "user/register", "scenario": "registration_flow"}},
            {"id": "r2", "number": 7, "event": "Email не подтверждён", "trigger": {"bot_id": null, "alias": "user/email", "scenario": "email_confirm"}},
            {"id": "r3", "event": "Профиль заполнен"},
        ]})
    }

    #[test]
    fn a_row_dropped_on_an_endpoint_takes_its_bot_alias_and_scenario() {
        let mut map = registration();
        assert_eq!(bind_row(&mut map, "r2", Some(&connect_bot())), Some(7));
        assert_eq!(map["rows"][1]["trigger"], json!({"bot_id": "bot_rehau", "alias": "users/connect-bot", "scenario": "registration_flow"}));
        // The other rows and the map's own fields stay as they were.
        assert_eq!(map["rows"][0], registration()["rows"][0]);
        assert_eq!(map["process"], "Регистрация пользователя");
        // A row without a trigger or a number: one is made, the place is its number.
        assert_eq!(bind_row(&mut map, "r3", Some(&connect_bot())), Some(3));
        assert_eq!(map["rows"][2]["trigger"]["alias"], "users/connect-bot");
        // An endpoint with no scenario leaves the row's scenario alone.
        let bare = BindableEndpoint { scenario: String::new(), alias: "feedback/received".into(), ..connect_bot() };
        bind_row(&mut map, "r1", Some(&bare));
        assert_eq!(map["rows"][0]["trigger"], json!({"bot_id": "bot_rehau", "alias": "feedback/received", "scenario": "registration_flow"}));
    }

    #[test]
    fn unbinding_clears_bot_and_alias_and_keeps_the_scenario() {
        let mut map = registration();
        bind_row(&mut map, "r1", Some(&connect_bot()));
        assert_eq!(bind_row(&mut map, "r1", None), Some(1));
        assert_eq!(map["rows"][0]["trigger"], json!({"bot_id": null, "alias": null, "scenario": "registration_flow"}));
    }

    #[test]
    fn an_undo_writes_the_trigger_back_as_it_was() {
        let mut map = registration();
        let before = trigger_of(&map, "r1").unwrap();
        bind_row(&mut map, "r1", Some(&connect_bot()));
        assert_ne!(trigger_of(&map, "r1"), Some(before.clone()));
        assert_eq!(restore_row(&mut map, "r1", &before), Some(1));
        assert_eq!(map, registration(), "the planned alias and the scenario are back");
        assert_eq!(trigger_of(&map, "r3"), Some(Value::Null));
        assert_eq!(trigger_of(&map, "r9"), None);
    }

    #[test]
    fn a_row_deleted_since_the_loop_was_drawn_changes_nothing() {
        let mut map = registration();
        assert_eq!(bind_row(&mut map, "r9", Some(&connect_bot())), None);
        assert_eq!(map, registration());
        let mut cjm = json!({"stages": [{"id": "r1"}]});
        assert_eq!(bind_row(&mut cjm, "r1", None), None);
        assert_eq!(bind_row(&mut Value::Null, "r1", None), None);
    }

    #[test]
    fn the_note_says_what_the_loop_did_in_both_languages() {
        assert_eq!(note(Locale::En, 3, Some(&connect_bot()), ""), "loop: row 3 → users/connect-bot");
        assert_eq!(note(Locale::Ru, 3, Some(&connect_bot()), ""), "петля: строка 3 → users/connect-bot");
        assert_eq!(note(Locale::En, 12, None, "order/status"), "loop: row 12 unbound from order/status");
        assert_eq!(note(Locale::Ru, 12, None, "order/status"), "петля: строка 12 отвязана от order/status");
    }
}
