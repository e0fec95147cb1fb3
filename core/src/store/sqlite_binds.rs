//! Multi-row statements written with anonymous `?` binds for SQLite.
//!
//! The store writes binds as `$1, $2, …` (what PostgreSQL needs; SQLite
//! takes them too). sqlx binds each value by asking SQLite for the name of
//! each parameter, and SQLite finds a name by walking the statement's list
//! of named parameters, so a statement of n named binds costs n²/2 steps
//! to bind: at the 448 binds of 32 trace rows that was 6 % of the
//! server's CPU under a stream of calls, all of it on the write lane's
//! thread. Anonymous `?` binds have no name to look up. They are only
//! equivalent when `$1 … $n` appear once each, in order, which is how the
//! multi-row INSERTs are written; any other statement is left as it is.

use std::borrow::Cow;

/// `sql` as the connection binds it fastest: on SQLite with `?` when its
/// binds are `$1 … $n` in order (see the module doc), otherwise unchanged.
pub(crate) fn for_connection<'a>(conn: &sqlx::AnyConnection, sql: &'a str) -> Cow<'a, str> {
    if conn.backend_name() != "SQLite" {
        return Cow::Borrowed(sql);
    }
    match anonymous(sql) {
        Some(sql) => Cow::Owned(sql),
        None => Cow::Borrowed(sql),
    }
}

/// `sql` with every `$N` outside quotes written `?`, if they are `$1 …
/// $n` in order, each once; `None` otherwise (or with no binds).
fn anonymous(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1usize;
    let mut quoted = false;
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            let number: usize = rest[1..1 + digits].parse().ok()?;
            if number != expected {
                return None;
            }
            expected += 1;
            out.push('?');
            rest = &rest[1 + digits..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
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
    }

    #[test]
    fn other_statements_stay_as_they_are() {
        assert_eq!(anonymous("UPDATE t SET a = $2 WHERE id = $1"), None, "out of order");
        assert_eq!(anonymous("INSERT INTO t VALUES ($1, $2, $2)"), None, "a bind used twice");
        assert_eq!(anonymous("SELECT $ FROM t"), None, "a lone dollar");
        assert_eq!(anonymous("SELECT 1"), None, "no binds");
    }
}
