//! Test harness: starts the real `comops` binary on a loopback port with a
//! fresh database and talks to it over HTTP like a browser would.

#![allow(dead_code)]

pub mod fanout;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// 429s the strict fake Bot API may give a correctly paced fan-out on a
/// loaded two-core machine: slots are 34 ms apart, so a send delayed by
/// more than ~20 ms puts 31 messages in one 1 s window. A budget that is
/// not kept, or not shared between processes, gives hundreds.
#[allow(dead_code)]
pub const JITTER_REFUSALS: u64 = 5;

pub const ADMIN_EMAIL: &str = "admin@comops.local";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running `comops serve` process; killed on drop.
pub struct TestServer {
    pub base: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Extra environment of the process (and of [`TestServer::cli`]), e.g.
    /// `COMOPS_DATA_KEY`.
    pub env: Vec<(String, String)>,
    child: Child,
}

impl TestServer {
    /// A server on a fresh SQLite file.
    pub fn sqlite() -> Self {
        let data_dir = scratch_dir();
        let url = format!("sqlite://{}/comops.db", data_dir.display());
        Self::start(url, data_dir, &[])
    }

    /// A server on `database_url`, with extra `serve` flags.
    pub fn start(database_url: String, data_dir: PathBuf, extra: &[&str]) -> Self {
        Self::spawn(database_url, data_dir, extra, &[], "warn", Stdio::inherit())
    }

    /// Like [`TestServer::start`] with extra environment variables.
    pub fn start_with_env(database_url: String, data_dir: PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn(database_url, data_dir, extra, env, "warn", Stdio::inherit())
    }

    /// Like [`TestServer::start`], logging at `debug` (every crate) into
    /// `log` — for tests that read what the server writes.
    pub fn start_logged(database_url: String, data_dir: PathBuf, extra: &[&str], log: &std::path::Path) -> Self {
        let file = std::fs::File::create(log).expect("log file");
        Self::spawn(database_url, data_dir, extra, &[], "debug", Stdio::from(file))
    }

    /// [`TestServer::start_logged`] with extra environment variables.
    pub fn start_logged_with_env(database_url: String, data_dir: PathBuf, extra: &[&str], env: &[(&str, &str)], log: &std::path::Path) -> Self {
        let file = std::fs::File::create(log).expect("log file");
        Self::spawn(database_url, data_dir, extra, env, "debug", Stdio::from(file))
    }

    fn spawn(database_url: String, data_dir: PathBuf, extra: &[&str], env: &[(&str, &str)], rust_log: &str, stderr: Stdio) -> Self {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_comops"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            // Only what a test asks for: no data key from the outer shell.
            .env_remove("COMOPS_DATA_KEY")
            .env_remove("COMOPS_DATA_KEY_PREVIOUS")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("DATABASE_URL", &database_url)
            .env("COMOPS_DATA_DIR", &data_dir)
            .env("COMOPS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("COMOPS_ADMIN_EMAIL")
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn comops");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("comops listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(60)).expect("comops did not start listening within 60 s");
        TestServer { base, data_dir, database_url, env, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client: keeps cookies, sends our Origin, follows no
    /// redirects (tests look at them).
    pub fn client(&self) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser { http, base: self.base.clone() }
    }

    /// Runs a `comops` CLI command against this server's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_comops"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env_remove("COMOPS_USER_PASSWORD")
            .env_remove("COMOPS_DATA_KEY")
            .env_remove("COMOPS_DATA_KEY_PREVIOUS")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run comops cli")
    }
}

impl TestServer {
    /// Kills the process with SIGKILL (no graceful shutdown) and waits.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Opens the server's database directly (tests arrange data here), with
    /// the server's data keys.
    pub async fn store(&self) -> comops_core::store::Store {
        let key = |name: &str| self.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let previous = key("COMOPS_DATA_KEY_PREVIOUS").unwrap_or_default();
        let previous: Vec<&str> = previous.split(',').filter(|k| !k.is_empty()).collect();
        let keyring = comops_core::seal::Keyring::new(key("COMOPS_DATA_KEY").as_deref(), &previous).expect("test data keys");
        let store = comops_core::store::Store::connect(&self.database_url).await.expect("open test database").with_keyring(keyring);
        store.migrate().await.expect("migrate");
        store
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

impl Browser {
    /// Calls a server function with form-encoded arguments (what Leptos'
    /// client sends) from our own origin.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Origin", &self.base)
            .form(form)
            .send()
            .await
            .expect("server function request")
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.call("login", &[("email", email), ("password", password)]).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("GET")
    }
}

/// Polls `check` every 50 ms for up to 10 s; panics naming `what` if it
/// never holds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("comops-test-{}", comops_core::auth::new_secret().0.split_at(16).0));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Tells the fake Telegram to post the bot's updates to `url` with
/// `secret` in `X-Telegram-Bot-Api-Secret-Token`, as `setWebhook` does.
pub async fn set_telegram_webhook(telegram: &comops_fakes::FakeTelegram, url: String, secret: &str) {
    let set: serde_json::Value = reqwest::Client::new()
        .post(telegram.method_url("setWebhook"))
        .json(&serde_json::json!({"url": url, "secret_token": secret}))
        .send()
        .await
        .expect("setWebhook answered")
        .json()
        .await
        .expect("setWebhook's JSON");
    assert_eq!(set["ok"], true, "{set}");
}
