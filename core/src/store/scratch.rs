//! Throw-away databases for tests and benchmarks.

use super::{StoreError, StoreResult};
use std::time::Duration;

/// The PostgreSQL server tests use unless `COMOPS_TEST_PG_URL` says otherwise.
pub const DEFAULT_TEST_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How long a scratch database may take to be made. A server that accepts
/// the connection and then says nothing (a stopped or wedged postmaster)
/// is a clear failure after this, not a test that hangs.
const SCRATCH_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a scratch database is kept: a test does not drop its own
/// (a run makes dozens, ~1.5 GB here), so the first scratch database a
/// process makes drops those made longer ago than this, by their names.
/// Long enough that no run still going loses one.
const KEPT: Duration = Duration::from_secs(6 * 3600);

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
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SWEPT.swap(true, std::sync::atomic::Ordering::Relaxed) {
        sweep(&mut conn, now).await;
    }
    // At most 30 characters of the label: PostgreSQL cuts a name at 63.
    let label: String = label.chars().take(30).map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let name = format!("comops_{label}_t{now}_{}", crate::id::random_suffix());
    let create = format!("CREATE DATABASE {name}");
    tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::query(&create).execute(&mut conn)).await.map_err(|_| silent())??;
    conn.close().await?;
    let (prefix, _) = base_url.rsplit_once('/').ok_or_else(|| StoreError::BadUrl(base_url.into()))?;
    Ok(Some(format!("{prefix}/{name}")))
}

/// When a scratch database was made (seconds since the Unix epoch), from
/// its name (`comops_<label>_t<seconds>_<random>`); None for any other name.
fn made_at(name: &str) -> Option<u64> {
    let (head, _random) = name.strip_prefix("comops_")?.rsplit_once('_')?;
    let (_, seconds) = head.rsplit_once("_t")?;
    if seconds.is_empty() || !seconds.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    seconds.parse().ok()
}

/// Drops the scratch databases made more than [`KEPT`] before `now`. Best
/// effort: another process may be dropping the same one.
async fn sweep(conn: &mut sqlx::postgres::PgConnection, now: u64) {
    let names: Vec<String> = match tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'comops\\_%'").fetch_all(&mut *conn)).await {
        Ok(Ok(names)) => names,
        _ => return,
    };
    for name in names.into_iter().filter(|name| made_at(name).is_some_and(|made| made + KEPT.as_secs() < now)) {
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let _ = tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::query(&drop).execute(&mut *conn)).await;
    }
}

/// Drops a database [`scratch_postgres`] made (`url` is what it returned),
/// closing any connection still open to it; from the server's own
/// `postgres` database, since a database cannot be dropped from itself.
pub async fn drop_scratch_postgres(url: &str) -> StoreResult<()> {
    use sqlx::Connection;
    let (prefix, name) = url.rsplit_once('/').ok_or_else(|| StoreError::BadUrl(url.into()))?;
    if !name.starts_with("comops_") || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::BadUrl(format!("{url} is not a scratch database")));
    }
    let connect = tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::postgres::PgConnection::connect(&format!("{prefix}/postgres")));
    let mut conn = connect.await.map_err(|_| silent())??;
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    tokio::time::timeout(SCRATCH_TIMEOUT, sqlx::query(&drop).execute(&mut conn)).await.map_err(|_| silent())??;
    conn.close().await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::{drop_scratch_postgres, made_at, sweep, test_postgres, KEPT};

    #[test]
    fn a_scratch_database_says_when_it_was_made() {
        assert_eq!(made_at("comops_store_t1764950000_x3k9q"), Some(1_764_950_000));
        assert_eq!(made_at("comops_bench_engine_t12_ab_t1764950001_x3k9q"), Some(1_764_950_001));
        for other in ["comops_store_x3k9q", "comops_tx_store_x3k9q", "comops_store_t_x3k9q", "test", "comops_t12", "other_store_t12_x"] {
            assert_eq!(made_at(other), None, "{other}");
        }
    }

    #[tokio::test]
    async fn the_scratch_databases_of_runs_long_ended_are_swept_and_no_other() {
        use sqlx::Connection;
        let Some(fresh) = test_postgres("sweep_fresh").await else { return };
        let (prefix, _) = fresh.rsplit_once('/').expect("a database url");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
        let old = format!("comops_sweep_old_t{}_{}", now - KEPT.as_secs() - 60, crate::id::random_suffix());
        let mut conn = sqlx::postgres::PgConnection::connect(&format!("{prefix}/postgres")).await.expect("the server's own database");
        sqlx::query(&format!("CREATE DATABASE {old}")).execute(&mut conn).await.expect("an old one");
        sweep(&mut conn, now).await;
        assert!(!exists(&format!("{prefix}/{old}")).await, "{old} was kept");
        assert!(exists(&fresh).await, "{fresh} was swept");
        assert!(exists(&format!("{prefix}/test")).await);
        drop_scratch_postgres(&fresh).await.expect("dropped");
    }

    /// What the database has, by name.
    async fn exists(url: &str) -> bool {
        use sqlx::Connection;
        let (prefix, name) = url.rsplit_once('/').expect("a database url");
        let mut conn = sqlx::postgres::PgConnection::connect(&format!("{prefix}/postgres")).await.expect("the server's own database");
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1").bind(name).fetch_one(&mut conn).await.expect("pg_database") == 1
    }

    #[tokio::test]
    async fn a_scratch_database_is_dropped_with_a_connection_still_open_to_it() {
        let Some(url) = test_postgres("dropped").await else { return };
        assert!(exists(&url).await);
        let store = crate::store::Store::connect(&url).await.expect("store");
        drop_scratch_postgres(&url).await.expect("dropped");
        assert!(!exists(&url).await, "{url} still there");
        drop(store);
        let (prefix, _) = url.rsplit_once('/').expect("a database url");
        assert!(drop_scratch_postgres(&format!("{prefix}/test")).await.is_err(), "only a scratch database is dropped");
    }
}
