//! [`Email`]: a login or contact address, parsed once at the edge.

use crate::validation::Problem;
use serde::{Deserialize, Serialize};

/// A syntactically plausible email address, lowercased. We check shape, not
/// deliverability: one `@`, a non-empty local part, a dotted or `localhost`
/// domain, no whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Problem::Required);
        }
        if raw.len() > Self::MAX {
            return Err(Problem::TooLong { max: Self::MAX });
        }
        let Some((local, domain)) = raw.split_once('@') else {
            return Err(Problem::BadEmail);
        };
        let domain_ok = domain == "localhost"
            || (domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
        if local.is_empty()
            || domain.contains('@')
            || !domain_ok
            || raw.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Problem::BadEmail);
        }
        Ok(Self(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value).map_err(|p| format!("{p:?}"))
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_trims() {
        assert_eq!(Email::parse(" Alena@Example.COM ").unwrap().as_str(), "alena@example.com");
        assert!(Email::parse("admin@localhost").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["alena", "@example.com", "a@b", "a@.com", "a b@example.com", "a@b@c.com"] {
            assert_eq!(Email::parse(bad), Err(Problem::BadEmail), "{bad}");
        }
        assert_eq!(Email::parse(""), Err(Problem::Required));
    }
}
