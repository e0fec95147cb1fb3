//! Throw-away databases for tests and benchmarks.

use super::{StoreError, StoreResult};
use std::time::Duration;

/// The PostgreSQL server tests use unless `COMOPS_TEST_PG_URL` says otherwise.
pub const DEFAULT_TEST_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How long a scratch database may take to be made. A server that accepts
/// the connection and then says nothing (a stopped or wedged postmaster)
/// is a clear failure after this, not a test that hangs.
const SCRATCH_TIMEOUT: Duration = Duration::from_secs(60);

/// The error for a server that took the connection but did not answer
/// within [`SCRATCH_TIMEOUT`].
fn silent() -> StoreError {
    StoreError::Unavailable("PostgreSQL took the connection but did not answer within 60 s")
}

/// Creates a new, empty PostgreSQL database next to the one `base_url`
/// names and returns its URL. Returns `Ok(None)` when the server cannot be
/// reached, so callers decide whether that is a skip or a failure.
pub async fn scratch_postgres(base_url: &str, label: &str) -> StoreResult<Option<String>> {
    use sqlx::Connection;
    let connect = tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::postgres::PgConnection::connect(base_url));
    let mut conn = match connect.await.map_err(|_| silent())? {
        Ok(conn) => conn,
        Err(sqlx::Error::Io(_)) | Err(sqlx::Error::PoolTimedOut) => return Ok(None),
        Err(other) => return Err(StoreError::Database(other)),
    };
    let name = format!("comops_{}_{}", label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"), crate::id::random_suffix());
    let create = format!("CREATE DATABASE {name}");
    tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::query(&create).execute(&mut conn)).await.map_err(|_| silent())??;
    conn.close().await?;
    let (prefix, _) = base_url.rsplit_once('/').ok_or_else(|| StoreError::BadUrl(base_url.into()))?;
    Ok(Some(format!("{prefix}/{name}")))
}

/// The PostgreSQL URL for tests, or `None` (with a note on stderr) when no
/// server answers. Panics in CI (`CI=true`), where PostgreSQL must run.
pub async fn test_postgres(label: &str) -> Option<String> {
    let base = std::env::var("COMOPS_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_TEST_PG_URL.into());
    match scratch_postgres(&base, label).await {
        Ok(Some(url)) => Some(url),
        Ok(None) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("PostgreSQL at {base} is not reachable; skipping the PostgreSQL half of {label}");
            None
        }
        Ok(None) => panic!("CI=true but PostgreSQL at {base} is not reachable"),
        Err(err) => panic!("cannot create a scratch database on {base}: {err}"),
    }
}
