//! A write turn as one trip to the database: on SQLite one text, which
//! the connection's thread runs back to back; on PostgreSQL one statement
//! (data-modifying `WITH`s), which commits on its own.
//!
//! sqlx runs each SQLite statement on the connection's own thread, so
//! every statement is a trip there and back: two thread switches, and
//! under load a wait for a core each way (a quarter of the server's CPU
//! under a stream of calls went to switching threads). The hot turns
//! whose shape allows it are therefore one text — `BEGIN IMMEDIATE`, the
//! statements, `COMMIT` — with their rows as one JSON array per statement
//! ([`ROWS`]), so the text is the same for every batch and stays
//! prepared. Their binds are anonymous (`?`) and run on across the
//! statements, in the order of the text.
//!
//! On PostgreSQL each statement is a round trip over the socket and a
//! wakeup of the server's backend, and a transaction adds two more
//! (`BEGIN`, `COMMIT`); a turn whose statements do not read each other's
//! results is one statement instead, its rows from
//! `jsonb_array_elements` (numbered binds, `pg_rows`).

/// SQLite: the rows of a bind holding a JSON array of rows, each a JSON
/// array, as a table of one column `value` (read with [`fields`]). The
/// rows are taken out once each, as SQLite's binary JSON: `json_each`'s
/// `value` is computed anew for every reference, so `value ->> i` over 14
/// fields rendered a row back to text 14 times and parsed it again (a
/// batch of 64 trace rows took 0.5 ms where this takes 0.3).
pub(crate) const ROWS: &str = "(WITH batch_rows AS MATERIALIZED (SELECT jsonb(value) AS value FROM json_each(?)) SELECT value FROM batch_rows)";

/// `value ->> 0, …, value ->> (n − 1)`: the fields of a row of [`ROWS`]
/// (or of [`pg_rows`] on PostgreSQL), a JSON array.
pub(crate) fn fields(n: usize) -> String {
    (0..n).map(|i| format!("value ->> {i}")).collect::<Vec<_>>().join(", ")
}

/// PostgreSQL: `value ->> 0, …` as [`fields`], with the fields at
/// `bigints` cast to `BIGINT` (PostgreSQL does not cast text to a number
/// column on insert). The rows come from [`pg_rows`], whose column is
/// also named `value`.
pub(crate) fn pg_fields(n: usize, bigints: &[usize]) -> String {
    (0..n).map(|i| if bigints.contains(&i) { format!("(value ->> {i})::bigint") } else { format!("value ->> {i}") }).collect::<Vec<_>>().join(", ")
}

/// PostgreSQL: the rows of the JSON array in bind `$bind`, as `jsonb`.
/// Parsed once for the statement: each `->>` of a `json` row lexed its
/// text again from the start, so a row of 14 fields was read 14 times
/// (JSON lexing was ~9 % of the machine's samples under `call_api`'s
/// PostgreSQL row, 2026-12-05).
pub(crate) fn pg_rows(bind: usize) -> String {
    format!("jsonb_array_elements(${bind}::jsonb)")
}

/// After a failed turn: whichever statement failed, its transaction may
/// still be open.
pub(crate) async fn roll_back(conn: &mut sqlx::AnyConnection) {
    let _ = sqlx::query("ROLLBACK").execute(conn).await;
}

/// Runs a turn's text; rolled back if it fails (PostgreSQL's one
/// statement rolls itself back).
pub(crate) async fn run<'q>(conn: &mut sqlx::AnyConnection, dialect: super::Dialect, turn: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>) -> Result<(), sqlx::Error> {
    match turn.execute(&mut *conn).await {
        Ok(_) => Ok(()),
        Err(err) => {
            if dialect == super::Dialect::Sqlite {
                roll_back(conn).await;
            }
            Err(err)
        }
    }
}
