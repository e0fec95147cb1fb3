//! [`Locale`]: the studio's two languages.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Ru,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Ru];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
        }
    }

    /// Parses `en`/`ru` (also `ru-RU`, `EN_us`); anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let lang = raw.trim().get(..2)?.to_ascii_lowercase();
        match lang.as_str() {
            "en" => Some(Locale::En),
            "ru" => Some(Locale::Ru),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header.split(',').find_map(|part| Locale::parse(part.split(';').next().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_and_accept_language() {
        assert_eq!(Locale::parse("ru-RU"), Some(Locale::Ru));
        assert_eq!(Locale::parse("de"), None);
        assert_eq!(Locale::from_accept_language("de-DE,ru;q=0.8,en;q=0.5"), Some(Locale::Ru));
        assert_eq!(Locale::from_accept_language("fr"), None);
    }
}
