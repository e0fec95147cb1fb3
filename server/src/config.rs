//! Server configuration: command-line flags, then environment variables,
//! then an optional TOML file (`--config` / `COMOPS_CONFIG`), then
//! defaults. Flags and variables are declared together with clap's `env`.

use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Flags shared by every command.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// TOML file with any of: database_url, listen, site_root, data_dir,
    /// secure_cookies, tls_cert, tls_key, telegram_api_base,
    /// trace_retention_days, channel_limits.
    #[arg(long, global = true, env = "COMOPS_CONFIG")]
    pub config: Option<PathBuf>,
    /// `sqlite://path/to/file.db` (default: `<data_dir>/comops.db`) or
    /// `postgres://user@host/db`.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, global = true, env = "COMOPS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder holding `pkg/` (the built wasm, JS and CSS).
    #[arg(long, global = true, env = "COMOPS_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
    /// Folder for the embedded SQLite database.
    #[arg(long, global = true, env = "COMOPS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Mark cookies `Secure` (when the studio is served over HTTPS).
    #[arg(long, global = true, env = "COMOPS_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, global = true, env = "COMOPS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, global = true, env = "COMOPS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Base URL of the Telegram Bot API (default https://api.telegram.org).
    #[arg(long, global = true, env = "COMOPS_TELEGRAM_API_BASE")]
    pub telegram_api_base: Option<String>,
    /// How long one send may take before the message counts as interrupted
    /// (ms, default 30000).
    #[arg(long, global = true, env = "COMOPS_SEND_LEASE_MS", hide = true)]
    pub send_lease_ms: Option<i64>,
    /// How long a claimed run stays one worker's before another may take
    /// it over (ms, default 120000); an advance extends it before a step
    /// that may take longer. Tests shorten it.
    #[arg(long, global = true, env = "COMOPS_RUN_LEASE_MS", hide = true)]
    pub run_lease_ms: Option<i64>,
    /// First delay before a failed send is retried (ms, default 1650);
    /// it triples per attempt, so the 8th comes ~30 min after the first.
    /// Tests shorten it to reach the dead letter.
    #[arg(long, global = true, env = "COMOPS_SEND_RETRY_BASE_MS", hide = true)]
    pub send_retry_base_ms: Option<i64>,
    /// Days a trace is kept (default 90; 0 keeps every trace). Calls stay
    /// counted in the all-time figures after their traces go.
    #[arg(long, global = true, env = "COMOPS_TRACE_RETENTION_DAYS")]
    pub trace_retention_days: Option<u32>,
    /// Send limits per channel, messages a second per bot and per chat,
    /// over the documented ones: `vk=20/3,telegram=25/1`.
    #[arg(long, global = true, env = "COMOPS_CHANNEL_LIMITS")]
    pub channel_limits: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    site_root: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    secure_cookies: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    telegram_api_base: Option<String>,
    send_lease_ms: Option<i64>,
    run_lease_ms: Option<i64>,
    send_retry_base_ms: Option<i64>,
    trace_retention_days: Option<u32>,
    channel_limits: Option<String>,
}

/// Days a trace is kept unless configured.
pub const TRACE_RETENTION_DAYS: u32 = 90;

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub site_root: PathBuf,
    /// Always true with TLS on.
    pub secure_cookies: bool,
    /// (certificate chain, private key) PEM files: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub telegram_api_base: String,
    pub send_lease_ms: i64,
    /// See the `--run-lease-ms` argument.
    pub run_lease_ms: i64,
    pub send_retry_base_ms: i64,
    /// Days a trace is kept; 0 keeps them all.
    pub trace_retention_days: u32,
    /// Send limits configured over the documented ones.
    pub channel_limits: crate::engine::ChannelLimits,
}

impl Config {
    pub fn load(args: &ConfigArgs) -> Result<Self, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("comops.db").display()));
        let tls = match (args.tls_cert.clone().or(file.tls_cert), args.tls_key.clone().or(file.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("tls_cert and tls_key go together".into()),
        };
        let channel_limits = crate::engine::ChannelLimits::parse(args.channel_limits.as_deref().or(file.channel_limits.as_deref()).unwrap_or(""))?;
        Ok(Config {
            database_url,
            listen: args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
            site_root: args.site_root.clone().or(file.site_root).unwrap_or_else(|| PathBuf::from("target/site")),
            // Cookies sent over HTTPS are marked so browsers never send
            // them over plain HTTP.
            secure_cookies: tls.is_some() || args.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            tls,
            telegram_api_base: args
                .telegram_api_base
                .clone()
                .or(file.telegram_api_base)
                .unwrap_or_else(|| comops_core::channel::telegram::DEFAULT_BASE_URL.to_string()),
            send_lease_ms: args.send_lease_ms.or(file.send_lease_ms).unwrap_or(30_000).clamp(1_000, 600_000),
            run_lease_ms: args.run_lease_ms.or(file.run_lease_ms).unwrap_or(crate::engine::executor::LEASE_MS).clamp(1_000, 600_000),
            send_retry_base_ms: args.send_retry_base_ms.or(file.send_retry_base_ms).unwrap_or(crate::engine::dispatch::DEFAULT_RETRY_BASE_MS).clamp(1, 60_000),
            trace_retention_days: args.trace_retention_days.or(file.trace_retention_days).unwrap_or(TRACE_RETENTION_DAYS),
            channel_limits,
        })
    }

    /// The database URL without its password, for messages.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("comops-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("comops.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:4000\"\ndata_dir = \"/var/lib/comops\"\n").unwrap();
        let args = ConfigArgs { config: Some(file.clone()), ..Default::default() };
        let config = Config::load(&args).unwrap();
        assert_eq!(config.listen.port(), 4000);
        assert_eq!(config.database_url, "sqlite:///var/lib/comops/comops.db");

        let args = ConfigArgs { config: Some(file.clone()), listen: Some("127.0.0.1:5000".parse().unwrap()), ..Default::default() };
        assert_eq!(Config::load(&args).unwrap().listen.port(), 5000);
        assert_eq!(Config::load(&ConfigArgs::default()).unwrap().listen.port(), 3000);
        assert_eq!(Config::load(&ConfigArgs::default()).unwrap().trace_retention_days, TRACE_RETENTION_DAYS);
        // Channel limits: from the file, a flag over it, a clear refusal.
        std::fs::write(&file, "channel_limits = \"vk=10/2\"\n").unwrap();
        let args = ConfigArgs { config: Some(file.clone()), ..Default::default() };
        assert_eq!(Config::load(&args).unwrap().channel_limits.of("vk"), Some((10, 2)));
        let args = ConfigArgs { config: Some(file.clone()), channel_limits: Some("vk=5/1".into()), ..Default::default() };
        assert_eq!(Config::load(&args).unwrap().channel_limits.of("vk"), Some((5, 1)));
        let args = ConfigArgs { channel_limits: Some("vk=five/1".into()), ..Default::default() };
        assert!(Config::load(&args).unwrap_err().contains("channel limit `vk=five/1`"));
        std::fs::write(&file, "trace_retention_days = 0\n").unwrap();
        let args = ConfigArgs { config: Some(file.clone()), ..Default::default() };
        assert_eq!(Config::load(&args).unwrap().trace_retention_days, 0, "0 keeps every trace");
        let args = ConfigArgs { config: Some(file), trace_retention_days: Some(7), ..Default::default() };
        assert_eq!(Config::load(&args).unwrap().trace_retention_days, 7);
    }

    #[test]
    fn rejects_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("comops-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("comops.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:4000\"\n").unwrap();
        let err = Config::load(&ConfigArgs { config: Some(file), ..Default::default() }).unwrap_err();
        assert!(err.contains("unknown field `lisen`"), "{err}");
    }

    #[test]
    fn tls_needs_both_files_and_makes_cookies_secure() {
        let dir = std::env::temp_dir().join(format!("comops-config-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("comops.toml");
        std::fs::write(&file, "tls_cert = \"/etc/comops/cert.pem\"\n").unwrap();
        let err = Config::load(&ConfigArgs { config: Some(file.clone()), ..Default::default() }).unwrap_err();
        assert!(err.contains("go together"), "{err}");
        std::fs::write(&file, "tls_cert = \"/etc/comops/cert.pem\"\ntls_key = \"/etc/comops/key.pem\"\nsecure_cookies = false\n").unwrap();
        let config = Config::load(&ConfigArgs { config: Some(file), ..Default::default() }).unwrap();
        assert!(config.tls.is_some() && config.secure_cookies);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://bob:hunter2@db/comops"), "postgres://bob:***@db/comops");
        assert_eq!(redact_url("sqlite://data/comops.db"), "sqlite://data/comops.db");
    }
}
