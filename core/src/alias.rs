//! [`Alias`]: the name of an integration endpoint, the `{alias}` of
//! `POST /bots/{botId}/call/{alias}` (`order/thank-you`, `users/connect-bot`).

use crate::validation::Problem;
use serde::{Deserialize, Serialize};

/// Lowercase segments of `a-z`, `0-9`, `-`, `_`, joined by `/`; no empty
/// segment; at most 128 characters. A leading `/` (as the methodology's
/// tables write them: `/order/thank-you`) is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alias(String);

impl Alias {
    pub const MAX: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        let raw = raw.strip_prefix('/').unwrap_or(raw);
        if raw.is_empty() {
            return Err(Problem::Required);
        }
        if raw.len() > Self::MAX {
            return Err(Problem::TooLong { max: Self::MAX });
        }
        let segment_ok = |s: &str| {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        if raw.split('/').all(segment_ok) {
            Ok(Self(raw.to_string()))
        } else {
            Err(Problem::BadAlias)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of this endpoint's section on its bot's docs page.
    pub fn docs_anchor(&self) -> String {
        docs_anchor(&self.0)
    }
}

/// The id of endpoint `alias`'s section on its bot's docs page
/// (`order/thank-you` → `ep-order--thank-you`), for the page and for the
/// studio's links to it.
pub fn docs_anchor(alias: &str) -> String {
    format!("ep-{}", alias.replace('/', "--"))
}

impl TryFrom<String> for Alias {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Alias::parse(&value).map_err(|p| format!("{p:?}"))
    }
}

impl From<Alias> for String {
    fn from(value: Alias) -> Self {
        value.0
    }
}

impl std::fmt::Display for Alias {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token's alias scope: one alias exactly, or every alias under a prefix
/// (`order/*` matches `order/status` and `order/thank-you`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AliasPattern {
    Exact(Alias),
    Prefix(Alias),
}

impl AliasPattern {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        match raw.strip_suffix("/*") {
            Some(prefix) => Alias::parse(prefix).map(AliasPattern::Prefix),
            None => Alias::parse(raw).map(AliasPattern::Exact),
        }
    }

    pub fn matches(&self, alias: &Alias) -> bool {
        match self {
            AliasPattern::Exact(exact) => exact == alias,
            AliasPattern::Prefix(prefix) => alias
                .as_str()
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
        }
    }

    /// Whether this pattern names `alias` explicitly (isolated endpoints
    /// accept only such tokens; a prefix is not explicit).
    pub fn names(&self, alias: &Alias) -> bool {
        matches!(self, AliasPattern::Exact(exact) if exact == alias)
    }
}

impl std::fmt::Display for AliasPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AliasPattern::Exact(alias) => write!(f, "{alias}"),
            AliasPattern::Prefix(alias) => write!(f, "{alias}/*"),
        }
    }
}

impl TryFrom<String> for AliasPattern {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AliasPattern::parse(&value).map_err(|p| format!("{p:?}"))
    }
}

impl From<AliasPattern> for String {
    fn from(value: AliasPattern) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_methodology_aliases() {
        for raw in ["order/thank-you", "/users/connect-bot", "comment/new", "events/webinar-invite", "order_thankyou"] {
            assert!(Alias::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(Alias::parse("/order/status").unwrap().as_str(), "order/status");
    }

    #[test]
    fn rejects_bad_aliases() {
        for raw in ["Order/New", "order//new", "order/", "order new", "order/new?x=1", "заказ/новый"] {
            assert_eq!(Alias::parse(raw), Err(Problem::BadAlias), "{raw}");
        }
        assert_eq!(Alias::parse(""), Err(Problem::Required));
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let order = AliasPattern::parse("order/*").unwrap();
        assert!(order.matches(&Alias::parse("order/status").unwrap()));
        assert!(!order.matches(&Alias::parse("orders/status").unwrap()));
        assert!(!order.matches(&Alias::parse("order").unwrap()));
        assert!(!order.names(&Alias::parse("order/status").unwrap()));
        let exact = AliasPattern::parse("payments/refund").unwrap();
        assert!(exact.names(&Alias::parse("payments/refund").unwrap()));
    }
}
