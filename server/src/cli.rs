//! The command line: `serve`, `migrate`, `user create`, `token issue`,
//! `keygen`, `rotate-key`.

use crate::config::{Config, ConfigArgs};
use clap::{Parser, Subcommand};
use comops_core::auth::{generate_password, hash_password};
use comops_core::store::{NewUser, Store, StoreError};
use comops_core::user::PASSWORD_MIN;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::{Email, Locale, Role};

#[derive(Parser, Debug)]
#[command(name = "comops", version, about = "ComOps: Deep Messaging Integration platform")]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the studio, the integration API and the workers.
    Serve {
        /// Seed the demo project (the methodology's cases: bots, endpoints,
        /// scenarios) if it is missing.
        #[arg(long, env = "COMOPS_DEMO")]
        demo: bool,
        /// Seed only the demo project and its four bots (for tests that
        /// bring their own endpoints).
        #[arg(long, conflicts_with = "demo")]
        demo_bots: bool,
        /// With --demo: link the endpoints' example users to leads on
        /// Telegram (the shop's 54321, REHAU's and the helpdesk's 125, the
        /// Fmlst family's 1–4), so the examples reach someone.
        #[arg(long)]
        demo_leads: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print a new random data key (for COMOPS_DATA_KEY).
    Keygen,
    /// Re-seal every sealed value with the current COMOPS_DATA_KEY (reading
    /// old ones with COMOPS_DATA_KEY_PREVIOUS), and seal values stored
    /// before a key was set. Safe to re-run.
    RotateKey,
    /// Manage studio users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage integration API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user; prints a generated password unless one is given.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "viewer")]
        role: String,
        /// The password (or set COMOPS_USER_PASSWORD); generated if absent.
        #[arg(long, env = "COMOPS_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long, default_value = "en")]
        locale: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a scoped API token; prints its secret once.
    Issue {
        /// Who uses it (shown as source_system in traces), e.g. "REHAU portal".
        #[arg(long)]
        name: String,
        /// Bot ids, comma-separated; empty = every bot.
        #[arg(long, default_value = "")]
        bots: String,
        /// Aliases or `prefix/*`, comma-separated; empty = every non-isolated alias.
        #[arg(long, default_value = "")]
        aliases: String,
        /// Comma-separated: call, dry_run, admin_read, admin_write.
        #[arg(long, default_value = "call")]
        actions: String,
        /// Days until it expires; 0 = never.
        #[arg(long, default_value_t = 0)]
        expires_in_days: u32,
        /// Requests per minute; 0 = no limit.
        #[arg(long, default_value_t = 0)]
        rate_per_minute: u32,
    },
}

pub async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve { demo, demo_bots, demo_leads } => {
            // Checked here, not by clap: a COMOPS_DEMO=false in the
            // environment would count as --demo being given.
            if demo_leads && !demo {
                return Err("--demo-leads links the demo's example users: it needs --demo (or COMOPS_DEMO=true)".into());
            }
            let seed = match (demo, demo_bots) {
                (true, _) => Some(true),
                (false, true) => Some(false),
                (false, false) => None,
            };
            crate::serve::serve(config, seed, demo_leads).await
        }
        Command::Keygen => {
            println!("{}", comops_core::seal::generate_key());
            Ok(())
        }
        Command::RotateKey => {
            let store = open_store(&config).await?;
            if !store.keyring().is_enabled() {
                return Err(format!("set {} to the new key first (see `comops keygen`)", comops_core::seal::KEY_ENV));
            }
            let report = store.reseal_all().await.map_err(|e| e.to_string())?;
            let census = store.seal_census().await.map_err(|e| e.to_string())?;
            store.audit("cli", "keys.rotate", store.keyring().current_id().unwrap_or(""), &comops_core::audit_detail::Detail::Resealed { values: report.resealed as usize }.to_string()).await.map_err(|e| e.to_string())?;
            println!(
                "re-sealed {} values with key {} ({} already were)",
                report.resealed,
                store.keyring().current_id().unwrap_or(""),
                report.unchanged
            );
            let others: Vec<String> =
                census.sealed.iter().filter(|(id, _)| Some(id.as_str()) != store.keyring().current_id()).map(|(id, n)| format!("{n} under {id}")).collect();
            if others.is_empty() {
                println!("every sealed value uses the current key; previous keys may be dropped");
            } else {
                println!("still sealed with other keys: {} (run again)", others.join(", "));
            }
            store.close().await;
            Ok(())
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!("migrations applied to {}", config.redacted_database_url());
            store.close().await;
            Ok(())
        }
        Command::User { command: UserCommand::Create { email, role, password, locale } } => {
            let store = open_store(&config).await?;
            let email = Email::parse(&email).map_err(|p| format!("email: {}", comops_core::FieldError::new("email", p)))?;
            let role = Role::parse(&role).map_err(|_| format!("role must be one of: {}", role_names()))?;
            let locale = Locale::parse(&locale).ok_or("locale must be en or ru")?;
            let (password, generated) = match password {
                Some(p) if p.chars().count() >= PASSWORD_MIN => (p, false),
                Some(_) => return Err(format!("password must be at least {PASSWORD_MIN} characters")),
                None => (generate_password(), true),
            };
            let user = store
                .create_user(NewUser { email, password_hash: hash_password(&password), role, locale, display_name: String::new() })
                .await
                .map_err(|e| match e {
                    StoreError::Taken(_) => "a user with this email already exists".to_string(),
                    other => other.to_string(),
                })?;
            store.audit("cli", "user.create", user.id.as_str(), &comops_core::audit_detail::Detail::UserMade { email: user.email.to_string(), role: user.role.to_string() }.to_string()).await.map_err(|e| e.to_string())?;
            println!("created {} ({}) as {}", user.email, user.id, user.role);
            if generated {
                println!("password (shown once): {password}");
            }
            store.close().await;
            Ok(())
        }
        Command::Token { command: TokenCommand::Issue { name, bots, aliases, actions, expires_in_days, rate_per_minute } } => {
            let mut parsed = Vec::new();
            for raw in actions.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                parsed.push(TokenAction::parse(raw).ok_or_else(|| {
                    format!("unknown action {raw:?}; use call, dry_run, admin_read, admin_write")
                })?);
            }
            let draft = TokenDraft { name, bots, aliases, actions: parsed, expires_in_days, rate_per_minute };
            let valid = draft.validate().map_err(|errors| {
                errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            })?;
            let store = open_store(&config).await?;
            // Scripts may issue a token before its bot is created (the
            // studio refuses instead): a typo is said, not fatal.
            let missing = store.missing_bots(&valid).await.map_err(|e| e.to_string())?;
            if !missing.is_empty() {
                let names = missing.iter().map(|b| b.as_str()).collect::<Vec<_>>().join(", ");
                eprintln!("warning: no such bot yet: {names} (the token covers it once it exists)");
            }
            let (token, secret) = store.issue_token(&valid, "cli").await.map_err(|e| e.to_string())?;
            store.audit("cli", "token.issue", token.id.as_str(), &token.name).await.map_err(|e| e.to_string())?;
            println!("issued {} ({})", token.id, token.name);
            println!("secret (shown once): {secret}");
            store.close().await;
            Ok(())
        }
    }
}

fn role_names() -> String {
    Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

/// Connects and migrates: every command works on an up-to-date schema. The
/// store seals with the keys in `COMOPS_DATA_KEY`/`COMOPS_DATA_KEY_PREVIOUS`.
pub async fn open_store(config: &Config) -> Result<Store, String> {
    let keyring = comops_core::seal::Keyring::from_env().map_err(|e| e.to_string())?;
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", config.redacted_database_url()))?
        .with_keyring(keyring);
    store.migrate().await.map_err(|e| format!("cannot migrate database: {e}"))?;
    Ok(store)
}
