//! Integration API tokens and their scopes.
//!
//! A token names what it may reach: bots (none = all), endpoint aliases or
//! alias prefixes (none = all non-isolated), and actions. The secret is
//! `comops_<id>_<64 hex>`; the store keeps only its SHA-256, found by the
//! id part and compared in constant time.

use crate::alias::{Alias, AliasPattern};
use crate::id::{BotId, TokenId};
use crate::validation::{required_text, FieldError, Problem};
use crate::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAction {
    /// Start communications with `call/{alias}`.
    Call,
    /// Dry runs only: validate and preview, never send.
    DryRun,
    /// Read the admin API (endpoints, traces, identities).
    AdminRead,
    /// Change through the admin API (import endpoints, schedule jobs, links).
    AdminWrite,
}

impl TokenAction {
    pub const ALL: [TokenAction; 4] = [TokenAction::Call, TokenAction::DryRun, TokenAction::AdminRead, TokenAction::AdminWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAction::Call => "call",
            TokenAction::DryRun => "dry_run",
            TokenAction::AdminRead => "admin_read",
            TokenAction::AdminWrite => "admin_write",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        TokenAction::ALL.into_iter().find(|a| a.as_str() == raw.trim())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenScope {
    /// Bots this token may reach; empty = every bot.
    #[serde(default)]
    pub bots: Vec<BotId>,
    /// Aliases or `prefix/*` patterns; empty = every non-isolated alias.
    #[serde(default)]
    pub aliases: Vec<AliasPattern>,
    #[serde(default)]
    pub actions: Vec<TokenAction>,
}

/// A token as listed in the studio (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub scope: TokenScope,
    pub expires_at: Option<Millis>,
    /// Requests per minute this token may make (0 = no limit).
    pub rate_per_minute: u32,
    pub created_by: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// Why a token may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Expired,
    Revoked,
    OtherBot,
    AliasOutOfScope,
    /// The endpoint is isolated and the token does not name it.
    Isolated,
    Action(TokenAction),
}

impl Denial {
    /// The message for the JSON error body.
    pub fn message(&self) -> String {
        match self {
            Denial::Expired => "Token expired".into(),
            Denial::Revoked => "Token revoked".into(),
            Denial::OtherBot => "Token is not valid for this bot".into(),
            Denial::AliasOutOfScope => "Token does not cover this endpoint".into(),
            Denial::Isolated => "Isolated endpoint: the token must name it explicitly".into(),
            Denial::Action(action) => format!("Token lacks the '{}' scope", action.as_str()),
        }
    }

    /// 401 for tokens that are no longer valid, 403 for valid tokens
    /// outside their scope.
    pub fn is_authentication(&self) -> bool {
        matches!(self, Denial::Expired | Denial::Revoked)
    }
}

/// How a permitted call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    Live,
    Dry,
}

impl ApiToken {
    /// Not revoked and not expired at `now`.
    pub fn live(&self, now: Millis) -> Result<(), Denial> {
        if self.revoked_at.is_some() {
            return Err(Denial::Revoked);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Denial::Expired);
        }
        Ok(())
    }

    /// Whether this token may call `alias` on `bot`, and how: a token with
    /// only `dry_run` turns every call into a dry run.
    pub fn check_call(&self, bot: &BotId, alias: &Alias, isolated: bool, dry_requested: bool, now: Millis) -> Result<CallMode, Denial> {
        self.live(now)?;
        self.check_bot(bot)?;
        if isolated {
            if !self.scope.aliases.iter().any(|p| p.names(alias)) {
                return Err(Denial::Isolated);
            }
        } else if !self.scope.aliases.is_empty() && !self.scope.aliases.iter().any(|p| p.matches(alias)) {
            return Err(Denial::AliasOutOfScope);
        }
        let can_call = self.scope.actions.contains(&TokenAction::Call);
        let can_dry = self.scope.actions.contains(&TokenAction::DryRun);
        match (dry_requested, can_call, can_dry) {
            (false, true, _) => Ok(CallMode::Live),
            (_, _, true) | (true, true, _) => Ok(CallMode::Dry),
            _ => Err(Denial::Action(TokenAction::Call)),
        }
    }

    /// Whether this token may use the admin API on `bot` for `action`.
    pub fn check_admin(&self, bot: &BotId, action: TokenAction, now: Millis) -> Result<(), Denial> {
        self.live(now)?;
        self.check_bot(bot)?;
        let allowed = self.scope.actions.contains(&action)
            || (action == TokenAction::AdminRead && self.scope.actions.contains(&TokenAction::AdminWrite));
        if allowed {
            Ok(())
        } else {
            Err(Denial::Action(action))
        }
    }

    /// Whether this token's scope includes `bot` (every bot when it names none).
    pub fn check_bot(&self, bot: &BotId) -> Result<(), Denial> {
        if self.scope.bots.is_empty() || self.scope.bots.contains(bot) {
            Ok(())
        } else {
            Err(Denial::OtherBot)
        }
    }
}

/// Splits a presented secret `comops_<suffix>_<hex>` into the token id it
/// claims; anything else is `None` (→ 401 Invalid token).
pub fn token_id_of_secret(secret: &str) -> Option<TokenId> {
    let rest = secret.strip_prefix("comops_")?;
    let (suffix, hex) = rest.split_once('_')?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    TokenId::parse(&format!("{}{suffix}", TokenId::PREFIX))
}

/// What an admin submits to issue a token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenDraft {
    pub name: String,
    /// Bot ids, separated by commas or spaces; empty = all bots.
    pub bots: String,
    /// Aliases or `prefix/*`, separated by commas or spaces; empty = all.
    pub aliases: String,
    pub actions: Vec<TokenAction>,
    /// Days until expiry; 0 = never.
    pub expires_in_days: u32,
    /// Requests per minute; 0 = no limit.
    pub rate_per_minute: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidToken {
    pub name: String,
    pub scope: TokenScope,
    pub expires_in_days: u32,
    pub rate_per_minute: u32,
}

impl TokenDraft {
    pub fn validate(&self) -> Result<ValidToken, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required_text("name", &self.name, 120, &mut errors);
        let words = |text: &str| text.split([',', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect::<Vec<_>>();
        let mut bots = Vec::new();
        // `123` names `bot_123`, as in the URLs (`BotId::in_path`).
        for raw in words(&self.bots) {
            match BotId::in_path(&raw) {
                Some(bot) => bots.push(bot),
                None => {
                    errors.push(FieldError::new("bots", Problem::Unknown));
                    break;
                }
            }
        }
        let mut aliases = Vec::new();
        for raw in words(&self.aliases) {
            match AliasPattern::parse(&raw) {
                Ok(pattern) => aliases.push(pattern),
                Err(problem) => {
                    errors.push(FieldError::new("aliases", problem));
                    break;
                }
            }
        }
        if self.actions.is_empty() {
            errors.push(FieldError::new("actions", Problem::Required));
        }
        if self.expires_in_days > 3650 {
            errors.push(FieldError::new("expires_in_days", Problem::OutOfRange));
        }
        if self.rate_per_minute > 1_000_000 {
            errors.push(FieldError::new("rate_per_minute", Problem::OutOfRange));
        }
        let mut actions = self.actions.clone();
        actions.sort_by_key(|a| a.as_str());
        actions.dedup();
        if errors.is_empty() {
            Ok(ValidToken {
                name,
                scope: TokenScope { bots, aliases, actions },
                expires_in_days: self.expires_in_days,
                rate_per_minute: self.rate_per_minute,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_are_named_as_such() {
        let draft = TokenDraft { name: "CRM".into(), actions: vec![TokenAction::Call], expires_in_days: u32::MAX, rate_per_minute: u32::MAX, ..Default::default() };
        let fields: Vec<_> = draft.validate().unwrap_err().into_iter().map(|e| (e.field, e.problem)).collect();
        assert_eq!(fields, [("expires_in_days".to_string(), Problem::OutOfRange), ("rate_per_minute".to_string(), Problem::OutOfRange)]);
    }

    #[test]
    fn bots_are_named_by_id_or_by_the_digits_of_one() {
        let draft = TokenDraft { name: "Site".into(), bots: "123, bot_shop".into(), actions: vec![TokenAction::Call], ..Default::default() };
        assert_eq!(draft.validate().unwrap().scope.bots, [bot("bot_123"), bot("bot_shop")]);
        let draft = TokenDraft { bots: "shop".into(), ..draft };
        assert_eq!(draft.validate().unwrap_err()[0], FieldError::new("bots", Problem::Unknown));
    }

    fn token(scope: TokenScope) -> ApiToken {
        ApiToken {
            id: TokenId::parse("tok_test").unwrap(),
            name: "CRM".into(),
            scope,
            expires_at: None,
            rate_per_minute: 0,
            created_by: "admin".into(),
            created_at: 0,
            last_used_at: None,
            revoked_at: None,
        }
    }

    fn alias(raw: &str) -> Alias {
        Alias::parse(raw).unwrap()
    }

    fn bot(raw: &str) -> BotId {
        BotId::parse(raw).unwrap()
    }

    #[test]
    fn a_call_token_for_one_bot_and_a_prefix() {
        let t = token(TokenScope {
            bots: vec![bot("bot_shop")],
            aliases: vec![AliasPattern::parse("order/*").unwrap()],
            actions: vec![TokenAction::Call],
        });
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("order/status"), false, false, 0), Ok(CallMode::Live));
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("order/status"), false, true, 0), Ok(CallMode::Dry));
        assert_eq!(t.check_call(&bot("bot_rehau"), &alias("order/status"), false, false, 0), Err(Denial::OtherBot));
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("ticket/new"), false, false, 0), Err(Denial::AliasOutOfScope));
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("order/refund"), true, false, 0), Err(Denial::Isolated));
    }

    #[test]
    fn isolated_endpoints_need_the_exact_alias() {
        let t = token(TokenScope { aliases: vec![AliasPattern::parse("payments/refund").unwrap()], actions: vec![TokenAction::Call], ..Default::default() });
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("payments/refund"), true, false, 0), Ok(CallMode::Live));
        let everything = token(TokenScope { actions: vec![TokenAction::Call], ..Default::default() });
        assert_eq!(everything.check_call(&bot("bot_shop"), &alias("payments/refund"), true, false, 0), Err(Denial::Isolated));
    }

    #[test]
    fn dry_run_only_tokens_never_send() {
        let t = token(TokenScope { actions: vec![TokenAction::DryRun], ..Default::default() });
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("order/status"), false, false, 0), Ok(CallMode::Dry));
        let reader = token(TokenScope { actions: vec![TokenAction::AdminRead], ..Default::default() });
        assert_eq!(reader.check_call(&bot("bot_shop"), &alias("order/status"), false, false, 0), Err(Denial::Action(TokenAction::Call)));
    }

    #[test]
    fn expired_and_revoked_tokens_are_refused() {
        let mut t = token(TokenScope { actions: vec![TokenAction::Call], ..Default::default() });
        t.expires_at = Some(100);
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("a"), false, false, 100), Err(Denial::Expired));
        t.expires_at = None;
        t.revoked_at = Some(1);
        assert_eq!(t.check_call(&bot("bot_shop"), &alias("a"), false, false, 0), Err(Denial::Revoked));
    }

    #[test]
    fn secrets_name_their_token() {
        let secret = format!("comops_ab12cd_{}", "f".repeat(64));
        assert_eq!(token_id_of_secret(&secret).unwrap().as_str(), "tok_ab12cd");
        assert!(token_id_of_secret("comops_ab12cd_short").is_none());
        assert!(token_id_of_secret("Bearer x").is_none());
    }

    #[test]
    fn drafts_parse_lists() {
        let draft = TokenDraft {
            name: "REHAU portal".into(),
            bots: "bot_rehau, bot_shop".into(),
            aliases: "users/connect-bot events/*".into(),
            actions: vec![TokenAction::Call, TokenAction::Call],
            ..Default::default()
        };
        let valid = draft.validate().unwrap();
        assert_eq!(valid.scope.bots.len(), 2);
        assert_eq!(valid.scope.aliases[1].to_string(), "events/*");
        assert_eq!(valid.scope.actions, vec![TokenAction::Call]);
        let bad = TokenDraft { name: "".into(), aliases: "Bad Alias".into(), ..Default::default() };
        let fields: Vec<_> = bad.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "aliases", "actions"]);
    }
}
