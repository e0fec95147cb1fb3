//! The text of the store's multi-row statements, built once per shape.
//!
//! A multi-row `INSERT` or `UPDATE … FROM (VALUES …)` has one of three
//! shapes (`row_chunks`: 32, 8 or 1 rows), so its text is written once per
//! shape and connection kind and then shared, rather than formatted again
//! for every batch (a few KB of `format!` on the write lane's turns).
//!
//! On SQLite the text uses anonymous `?` binds. The store writes binds as
//! `$1, $2, …` (what PostgreSQL needs; SQLite takes them too), and sqlx
//! binds each value by asking SQLite for the name of each parameter, which
//! SQLite finds by walking the statement's list of named parameters: a
//! statement of n named binds cost n²/2 steps to bind, and at the 448 binds
//! of 32 trace rows that was 6 % of the server's CPU under a stream of
//! calls, all of it inside the write lane. Anonymous binds have no name to
//! look up. They are only equivalent when `$1 … $n` appear once each, in
//! order, which is how the multi-row statements are written; any other
//! text is left as it is.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// A statement's name, its rows, and whether it is for SQLite.
type Shape = (&'static str, usize, bool);

/// Texts built so far.
static TEXTS: LazyLock<Mutex<HashMap<Shape, Arc<str>>>> = LazyLock::new(Default::default);

/// The text of the statement `name` for `rows` rows as `conn` runs it:
/// `build`'s text, made anonymous on SQLite (see the module doc), built
/// the first time and shared after. `build`'s text may depend only on
/// `rows`: one name is one statement.
pub(crate) fn multi_row(conn: &sqlx::AnyConnection, name: &'static str, rows: usize, build: impl FnOnce() -> String) -> Arc<str> {
    let sqlite = conn.backend_name() == "SQLite";
    let key = (name, rows, sqlite);
    if let Some(text) = TEXTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&key) {
        return text.clone();
    }
    let mut text = build();
    if sqlite {
        let converted = anonymous(&text);
        // Every statement given here is written for it: one that is not
        // would still run, only slower, so the tests say so instead.
        debug_assert!(converted.is_some(), "statement {name} does not bind $1 … $n once each, in order");
        text = converted.unwrap_or(text);
    }
    let text: Arc<str> = text.into();
    TEXTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(key, text.clone());
    text
}

/// `sql` with every `$N` outside quotes written `?`, if they are `$1 …
/// $n` in order, each once; `None` otherwise (or with no binds).
fn anonymous(sql: &str) -> Option<String> {
    // `$`, `'` and digits are ASCII, so byte positions are char
    // boundaries; the text between binds is copied whole.
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1usize;
    let mut quoted = false;
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\'' => quoted = !quoted,
            b'$' if !quoted => {
                let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let number: usize = sql[at + 1..at + 1 + digits].parse().ok()?;
                if number != expected {
                    return None;
                }
                expected += 1;
                out.push_str(&sql[copied..at]);
                out.push('?');
                at += 1 + digits;
                copied = at;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    out.push_str(&sql[copied..]);
    (expected > 1).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::anonymous;

    #[test]
    fn binds_in_order_become_anonymous() {
        assert_eq!(anonymous("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)").as_deref(), Some("INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"));
        assert_eq!(anonymous("SELECT 1 WHERE a = $1 AND b = '$2' AND c = $2").as_deref(), Some("SELECT 1 WHERE a = ? AND b = '$2' AND c = ?"), "quoted text is not a bind");
        assert_eq!(anonymous("VALUES ($9), ($10), ($11)"), None, "not from $1");
        assert_eq!(anonymous("SELECT 'é$1', $1, 'ü'").as_deref(), Some("SELECT 'é$1', ?, 'ü'"), "text around binds is kept as it is");
        assert_eq!(anonymous("VALUES ($1), ($2), ($3), ($4), ($5), ($6), ($7), ($8), ($9), ($10), ($11)").as_deref(), Some("VALUES (?), (?), (?), (?), (?), (?), (?), (?), (?), (?), (?)"));
    }

    #[test]
    fn other_statements_stay_as_they_are() {
        assert_eq!(anonymous("UPDATE t SET a = $2 WHERE id = $1"), None, "out of order");
        assert_eq!(anonymous("INSERT INTO t VALUES ($1, $2, $2)"), None, "a bind used twice");
        assert_eq!(anonymous("SELECT $ FROM t"), None, "a lone dollar");
        assert_eq!(anonymous("SELECT 1"), None, "no binds");
    }
}
