//! [`Slug`]: a short lowercase identifier typed by people (project slugs).

use crate::validation::Problem;
use serde::{Deserialize, Serialize};

/// Lowercase ASCII letters, digits, `-` and `_`; starts with a letter or
/// digit; 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Problem::Required);
        }
        if raw.len() > Self::MAX {
            return Err(Problem::TooLong { max: Self::MAX });
        }
        let first_ok = raw.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let all_ok = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if first_ok && all_ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(Problem::BadSlug)
        }
    }

    /// A slug suggested from a human name ("Магазин Shop 1" → "shop-1").
    pub fn suggest(name: &str) -> String {
        let mut out = String::new();
        for c in name.trim().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_end_matches('-').chars().take(Self::MAX).collect()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value).map_err(|p| format!("{p:?}"))
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_words() {
        assert_eq!(Slug::parse(" rehau-installers ").unwrap().as_str(), "rehau-installers");
        assert_eq!(Slug::parse("shop_2").unwrap().as_str(), "shop_2");
    }

    #[test]
    fn rejects_upper_case_spaces_and_leading_dash() {
        assert_eq!(Slug::parse("Shop"), Err(Problem::BadSlug));
        assert_eq!(Slug::parse("my shop"), Err(Problem::BadSlug));
        assert_eq!(Slug::parse("-shop"), Err(Problem::BadSlug));
        assert_eq!(Slug::parse("   "), Err(Problem::Required));
        assert_eq!(Slug::parse(&"a".repeat(65)), Err(Problem::TooLong { max: 64 }));
    }

    #[test]
    fn suggests_from_names() {
        assert_eq!(Slug::suggest("REHAU Installers"), "rehau-installers");
        assert_eq!(Slug::suggest("Магазин Shop 1"), "shop-1");
    }
}
