//! The database behind ComOps.
//!
//! One [`Store`] wraps a `sqlx` [`AnyPool`] so the same code runs on the
//! embedded SQLite default and on PostgreSQL (for several `comops`
//! processes). Queries stay in the SQL both share, with `$n` placeholders;
//! timestamps are Unix milliseconds and flags are 0/1 `BIGINT`s. Each
//! submodule adds the queries of one entity to `Store`.

mod audit;
mod cache;
mod checkpointer;
mod doubtful_claims;
mod blocked;
mod bots;
pub mod call_tallies;
pub mod conversations;
mod endpoint_history;
pub mod map_sync;
mod split_progress;
mod endpoints;
pub mod endpoint_figures;
pub mod events;
mod group_commit;
pub mod identities;
pub mod inbound;
pub mod jobs;
pub mod leads;
mod leases;
mod metrics;
mod one_trip;
mod analytics;
pub mod links;
pub mod maps;
pub mod outbox;
mod projects;
pub mod runs;
pub mod scenarios;
pub mod scenario_history;
pub mod scenario_figures;
pub mod scratch;
pub mod sealing;
pub mod send_clocks;
pub mod send_hand_off;
mod sessions;
mod statement_texts;
pub mod studio_leads;
mod throttle;
mod tokens;
mod traces;
mod conditions;
pub(crate) use traces::time_ordered_id;
mod users;
pub mod webchat;
pub mod writer;
mod wal_writeback;
mod write_lane;

pub use cache::TTL as CACHE_TTL;
pub use sessions::SESSION_TTL_MS;
pub use throttle::LoginThrottle;
pub use users::{NewUser, UserChange};
pub use blocked::is_report as is_block_report;
pub use endpoints::EndpointImport;
pub use write_lane::{LaneUse, Work, WriteTurn};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use std::str::FromStr;
use std::time::Duration;

/// Which database a [`Store`] talks to, for the few places SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// SQL for the length of the array under `key` of the JSON text in
    /// `column` (NULL when there is none).
    pub(crate) fn json_array_length(self, column: &str, key: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_array_length({column}, '$.{key}')"),
            Dialect::Postgres => format!("json_array_length({column}::json -> '{key}')"),
        }
    }

    /// The dialect `conn` speaks.
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Self {
        if conn.backend_name() == "SQLite" {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }
}

/// Errors of the store layer. Callers map them to HTTP in one place each;
/// database details are logged there, never shown to users.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value (named by the field) is already used.
    #[error("{0} is already taken")]
    Taken(&'static str),
    /// A save started from a version that is no longer current: someone
    /// else saved `current` (as `author`) meanwhile. Nothing was written;
    /// the caller offers to reload or merge.
    #[error("version conflict: v{current} by {author} is current")]
    Conflict { current: i64, author: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid database url: {0}")]
    BadUrl(String),
    /// A sealed value does not open (no key, unknown key, or tampered).
    #[error("{0}")]
    Sealed(#[from] crate::seal::SealError),
    /// A background part of the store (the event writer) is gone.
    #[error("store unavailable: {0}")]
    Unavailable(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database could not be reached or dropped the connection (it is
    /// restarting, the network is cut): the same work may succeed in a
    /// moment. The API answers 503 for it; the engine tries its saves again.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Database(err) if unreachable(err))
    }

    /// The database's error, if it is one.
    pub(crate) fn database(&self) -> Option<&sqlx::Error> {
        match self {
            StoreError::Database(err) => Some(err),
            _ => None,
        }
    }

    /// A copy for each caller of a shared commit (errors do not clone): the
    /// message, and whether the database was unreachable.
    pub(crate) fn copy(&self) -> StoreError {
        match self {
            StoreError::Database(err) => StoreError::Database(copy_error(err)),
            other => StoreError::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

/// Whether `err` says the database is out of reach rather than that the
/// statement was wrong.
fn unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and 57P01–57P03 (the
        // server is shutting down, crashed, or not accepting connections yet).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// A copy of a database error (see [`StoreError::copy`]).
pub(crate) fn copy_error(err: &sqlx::Error) -> sqlx::Error {
    match err {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        err if unreachable(err) => sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, err.to_string())),
        err => sqlx::Error::Protocol(err.to_string()),
    }
}

/// Turns a unique-constraint violation into [`StoreError::Taken`].
pub(crate) trait OnUnique<T> {
    fn on_unique(self, field: &'static str) -> StoreResult<T>;
}

impl<T> OnUnique<T> for Result<T, sqlx::Error> {
    fn on_unique(self, field: &'static str) -> StoreResult<T> {
        self.map_err(|err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Taken(field),
            _ => StoreError::Database(err),
        })
    }
}

/// The shared handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    cache: std::sync::Arc<cache::ReadCache>,
    /// The hot writes' queue (SQLite: one at a time, on one connection;
    /// see [`Store::write_turn`]).
    lane: std::sync::Arc<write_lane::WriteLane>,
    /// Group commit of run saves and delivery results, started on first use.
    run_saves: std::sync::Arc<std::sync::OnceLock<group_commit::GroupCommit<runs::ProgressSave>>>,
    delivery_saves: std::sync::Arc<std::sync::OnceLock<group_commit::GroupCommit<outbox::DeliverySave>>>,
    /// Group commit of single trace events (dry runs, refused calls).
    trace_saves: std::sync::Arc<std::sync::OnceLock<group_commit::GroupCommit<crate::trace::TraceEvent>>>,
    /// SQLite: where run saves hand the messages they take straight to
    /// `sending` ([`Store::hand_sends_to`]).
    send_hand_off: std::sync::Arc<std::sync::OnceLock<send_hand_off::SendHandOff>>,
    /// Seals secrets and personal data on write, opens them on read
    /// (`crate::seal`); plaintext until [`Store::with_keyring`].
    keyring: crate::seal::Keyring,
    /// Claims whose answer was lost, handed back at the next claim.
    doubtful_claims: std::sync::Arc<doubtful_claims::DoubtfulClaims>,
    /// `/metrics`' last week of engagement, response time and CSAT per
    /// bot, kept for [`metrics::RATES_KEPT`] (`metrics.rs`).
    recent_rates: std::sync::Arc<metrics::RecentRates>,
    /// SQLite: keeps the WAL checkpointing task going while the store lives.
    _checkpoints: Option<std::sync::Arc<checkpointer::Checkpoints>>,
}

/// Per-connection SQLite settings: WAL for concurrent readers, foreign keys
/// enforced, and a busy timeout instead of immediate `SQLITE_BUSY`; then
/// the URL's [`Synchronous`].
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    // Statement journals (a multi-row statement inside a transaction keeps
    // one) in memory rather than in temporary files.
    "PRAGMA temp_store = MEMORY",
    // Checkpoints are the `checkpointer` task's; a writer does one only
    // past its backstop.
    checkpointer::BACKSTOP,
];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). For SQLite the
    /// file and its folder are created if missing, WAL mode is on and foreign
    /// keys are enforced.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(StoreError::BadUrl("expected sqlite:… or postgres://…".into()));
        };
        let (url, synchronous) = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => (url.to_string(), Synchronous::Normal),
        };
        let options = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            // A PostgreSQL connection can go stale (a restarted server), so
            // it is pinged before use; a SQLite connection is a file handle
            // in this process, and the ping was a round trip to its thread
            // on every read that missed the cache.
            .test_before_acquire(dialect == Dialect::Postgres);
        let options = match dialect {
            Dialect::Sqlite => options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    for pragma in SQLITE_PRAGMAS {
                        conn.execute(*pragma).await?;
                    }
                    conn.execute(synchronous.pragma()).await?;
                    Ok(())
                })
            }),
            Dialect::Postgres => options,
        };
        let pool = options.connect(&url).await?;
        let checkpoints = (dialect == Dialect::Sqlite).then(|| checkpointer::start(pool.clone()));
        if let (Some(running), Some(db)) = (&checkpoints, sqlite_file(&url)) {
            wal_writeback::start(db, std::sync::Arc::downgrade(running));
        }
        let lane = std::sync::Arc::new(write_lane::WriteLane::new(pool.clone(), dialect == Dialect::Sqlite));
        Ok(Self { pool, dialect, cache: std::sync::Arc::new(cache::ReadCache::new()), lane, run_saves: Default::default(), delivery_saves: Default::default(), trace_saves: Default::default(), send_hand_off: Default::default(), keyring: Default::default(), doubtful_claims: Default::default(), recent_rates: Default::default(), _checkpoints: checkpoints })
    }

    /// From now on run saves write the messages the executor planned a
    /// send slot for `sending` and hand them to `hand_off` (the process's
    /// dispatcher; `send_hand_off`). Set once, on SQLite (one process
    /// pacing on its own clocks); false if it was set already or the
    /// database is PostgreSQL (processes share its clocks).
    pub fn hand_sends_to(&self, hand_off: send_hand_off::SendHandOff) -> bool {
        self.dialect == Dialect::Sqlite && self.send_hand_off.set(hand_off).is_ok()
    }

    /// This store with `keyring` sealing what it writes (see `seal.rs`).
    pub fn with_keyring(mut self, keyring: crate::seal::Keyring) -> Self {
        self.keyring = keyring;
        self
    }

    pub fn keyring(&self) -> &crate::seal::Keyring {
        &self.keyring
    }

    /// Applies pending migrations from `migrations/`.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        self.write_first_endpoint_versions().await
    }

    /// Waits for this process's turn to write the engine's hot rows
    /// (`write_lane`: on SQLite one writer at a time, on one connection
    /// that keeps its cache; on PostgreSQL at once). Write through the
    /// turn's connection or transaction, hold it until the commit, and
    /// never take a second turn while holding one.
    pub async fn write_turn(&self, work: Work) -> WriteTurn<'_> {
        self.lane.turn(work).await
    }

    /// Runs a batch writer's task where the write lane wants it (its own
    /// thread on SQLite).
    pub(crate) fn spawn_writer(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.lane.spawn(task);
    }

    /// How each kind of work has used the write lane in this process.
    pub fn write_lane_figures(&self) -> Vec<LaneUse> {
        self.lane.figures()
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (used before a process exits).
    pub async fn close(&self) {
        self.lane.release().await;
        self.pool.close().await;
    }
}

/// A SQLite URL's path and query (either may be empty).
fn sqlite_path_and_query(url: &str) -> (&str, &str) {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.split_once('?').unwrap_or((rest, ""))
}

/// The database file of a SQLite URL, if it names one (not `:memory:`
/// nor an in-memory mode).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let (path, query) = sqlite_path_and_query(url);
    (path != ":memory:" && !path.is_empty() && !query.contains("mode=memory")).then(|| path.into())
}

/// How a SQLite commit is made durable: the URL's `synchronous=` (`normal`
/// when absent). With `normal` in WAL mode a commit survives the process
/// being killed, and a power loss or OS crash may take the last commits
/// back; with `full` the WAL is synced at each commit, so those survive
/// too (docs/decisions.md, "How durable a SQLite commit is").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Normal,
    Full,
}

impl Synchronous {
    fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "normal" => Some(Self::Normal),
            "full" => Some(Self::Full),
            _ => None,
        }
    }

    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "PRAGMA synchronous = NORMAL",
            Self::Full => "PRAGMA synchronous = FULL",
        }
    }
}

/// Makes sure the SQLite file's folder exists and the file is created;
/// takes ComOps's own `synchronous=` out of the URL's query (SQLite's
/// driver knows no such parameter).
fn prepare_sqlite_url(url: &str) -> StoreResult<(String, Synchronous)> {
    let (path, query) = sqlite_path_and_query(url);
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::BadUrl(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let mut synchronous = Synchronous::Normal;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("synchronous", value)) => {
                synchronous = Synchronous::parse(value).ok_or_else(|| StoreError::BadUrl(format!("synchronous={value}: expected normal or full")))?;
            }
            _ => kept.push(pair),
        }
    }
    if !kept.iter().any(|p| p.starts_with("mode=")) {
        kept.push("mode=rwc");
    }
    let query = kept.join("&");
    // Validate early so a typo is a clear error, not a pool timeout.
    sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{path}?{query}"))
        .map_err(|e| StoreError::BadUrl(e.to_string()))?;
    Ok((format!("sqlite://{path}?{query}"), synchronous))
}

/// Current time in Unix milliseconds.
pub fn now_millis() -> crate::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A `LIKE … ESCAPE '\\'` pattern matching text that contains `query`
/// in lower case (compare with `LOWER(column)`).
pub(crate) fn contains_pattern(query: &str) -> String {
    contains_pattern_as_typed(&query.to_lowercase())
}

/// A `LIKE … ESCAPE '\\'` pattern matching text that contains `query`
/// as it is written (`%`, `_` and `\\` stand for themselves).
pub(crate) fn contains_pattern_as_typed(query: &str) -> String {
    let mut pattern = String::from("%");
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `$first, $first+1, …` for `count` bound values (an `IN (…)` list).
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($1, …, $width), ($width+1, …)`: `rows` rows of binds for a
/// multi-row `INSERT … VALUES`.
pub(crate) fn row_placeholders(width: usize, rows: usize) -> String {
    values_rows(1, width, rows, |first| format!("({})", placeholders(first, width)))
}

/// `rows` rows of a multi-row `VALUES` list whose binds start at `$first`,
/// `width` binds a row; `row` writes one row from its first bind's number
/// (for rows that repeat a bind or hold a literal or a subquery).
pub(crate) fn values_rows(first: usize, width: usize, rows: usize, row: impl Fn(usize) -> String) -> String {
    (0..rows).map(|r| row(first + r * width)).collect::<Vec<_>>().join(", ")
}

/// Splits `rows` into chunks of 32, 8 and 1 rows (largest first), so a
/// multi-row statement has one of three shapes whatever the batch size:
/// each shape stays in the connection's prepared-statement cache, where a
/// shape per batch size would crowd out the hot single-row statements and
/// make every statement be parsed again.
pub(crate) fn row_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        let size = [32, 8, 1].into_iter().find(|&size| rest.len() >= size)?;
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// Reads a 0/1 flag column.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}

#[cfg(test)]
mod sqlite_file_tests {
    use std::path::PathBuf;

    #[test]
    fn a_sqlite_url_names_its_file_unless_it_is_in_memory() {
        let file = super::sqlite_file;
        assert_eq!(file("sqlite://data/comops.db?mode=rwc"), Some(PathBuf::from("data/comops.db")));
        assert_eq!(file("sqlite:///var/lib/comops/comops.db"), Some(PathBuf::from("/var/lib/comops/comops.db")));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://:memory:?mode=rwc"), None);
        assert_eq!(file("sqlite://shared.db?mode=memory&cache=shared"), None);
    }

    #[test]
    fn a_sqlite_url_says_how_durable_a_commit_is_and_sqlite_never_sees_it() {
        use super::{prepare_sqlite_url, Synchronous};
        let dir = std::env::temp_dir().join(format!("comops-sync-{}", std::process::id()));
        let at = |query: &str| prepare_sqlite_url(&format!("sqlite://{}/c.db{query}", dir.display()));
        let url = |rest: &str| format!("sqlite://{}/c.db?{rest}", dir.display());
        assert_eq!(at("").unwrap(), (url("mode=rwc"), Synchronous::Normal));
        assert_eq!(at("?synchronous=full").unwrap(), (url("mode=rwc"), Synchronous::Full));
        assert_eq!(at("?mode=ro&synchronous=FULL&cache=shared").unwrap(), (url("mode=ro&cache=shared"), Synchronous::Full));
        assert_eq!(at("?synchronous=normal").unwrap(), (url("mode=rwc"), Synchronous::Normal));
        let refused = at("?synchronous=off").unwrap_err().to_string();
        assert!(refused.contains("synchronous=off: expected normal or full"), "{refused}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_connection_commits_as_its_url_says() {
        let dir = std::env::temp_dir().join(format!("comops-sync-connect-{}", std::process::id()));
        for (query, level) in [("", 1), ("?synchronous=full", 2)] {
            let store = super::Store::connect(&format!("sqlite://{}/c{level}.db{query}", dir.display())).await.unwrap();
            let (got,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(&store.pool).await.unwrap();
            assert_eq!(got, level, "{query}: 1 is NORMAL, 2 FULL");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod row_chunk_tests {
    #[test]
    fn batches_split_into_three_shapes_largest_first() {
        let sizes = |n: usize| super::row_chunks(&vec![0u8; n]).map(<[u8]>::len).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(50), [32, 8, 8, 1, 1]);
        assert_eq!(sizes(128), [32, 32, 32, 32]);
    }
}
