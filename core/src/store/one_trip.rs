//! SQLite: a write turn as one text, which the connection's thread runs
//! back to back.
//!
//! sqlx runs each SQLite statement on the connection's own thread, so
//! every statement is a trip there and back: two thread switches, and
//! under load a wait for a core each way (a quarter of the server's CPU
//! under a stream of calls went to switching threads). The hot turns
//! whose shape allows it are therefore one text — `BEGIN IMMEDIATE`, the
//! statements, `COMMIT` — with their rows as one JSON array per statement
//! (`json_each`), so the text is the same for every batch and stays
//! prepared. Their binds are anonymous (`?`) and run on across the
//! statements, in the order of the text.

/// `value ->> 0, …, value ->> (n − 1)`: the fields of a `json_each` row
/// that is a JSON array.
pub(crate) fn fields(n: usize) -> String {
    (0..n).map(|i| format!("value ->> {i}")).collect::<Vec<_>>().join(", ")
}

/// After a failed turn: whichever statement failed, its transaction may
/// still be open.
pub(crate) async fn roll_back(conn: &mut sqlx::AnyConnection) {
    let _ = sqlx::query("ROLLBACK").execute(conn).await;
}

/// Runs a turn's text; rolled back if it fails.
pub(crate) async fn run<'q>(conn: &mut sqlx::AnyConnection, turn: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>) -> Result<(), sqlx::Error> {
    match turn.execute(&mut *conn).await {
        Ok(_) => Ok(()),
        Err(err) => {
            roll_back(conn).await;
            Err(err)
        }
    }
}
