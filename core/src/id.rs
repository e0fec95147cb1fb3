//! Typed ids. Every entity id is a short lowercase string (`prj_…`, `bot_…`)
//! so a `BotId` can never be passed where a `ProjectId` is expected, and ids
//! read well in URLs like `/bots/{botId}/call/{alias}`.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        // Read through `parse`: an id from outside is checked where it enters.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                $name::parse(&value).ok_or_else(|| format!("not a {} id: {value}", $prefix.trim_end_matches('_')))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Accepts ids of this kind only: the prefix, then 1–40
            /// lowercase letters, digits or `-`.
            pub fn parse(raw: &str) -> Option<Self> {
                let rest = raw.strip_prefix(Self::PREFIX)?;
                let ok = !rest.is_empty()
                    && rest.len() <= 40
                    && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                ok.then(|| Self(raw.to_string()))
            }

            /// A fresh random id.
            #[cfg(feature = "backend")]
            pub fn generate() -> Self {
                Self(format!("{}{}", Self::PREFIX, crate::id::random_suffix()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value read back from our own store.
            #[cfg(feature = "backend")]
            #[allow(dead_code)]
            pub(crate) fn from_store(raw: String) -> Self {
                Self(raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(
    /// A DMI project (a company's integration project).
    ProjectId, "prj_"
);
typed_id!(
    /// A bot inside a project; the `{botId}` of the integration API.
    BotId, "bot_"
);
typed_id!(
    /// A studio user.
    UserId, "usr_"
);
typed_id!(
    /// An integration endpoint of a bot.
    EndpointId, "end_"
);
typed_id!(
    /// An integration API token.
    TokenId, "tok_"
);
typed_id!(
    /// A business event accepted by `call/{alias}`.
    EventId, "evt_"
);
typed_id!(
    /// A studio map (CJM, blueprint, communication or integration points).
    MapId, "map_"
);

impl BotId {
    /// The bot a URL's `{botId}` names: its id, or for a bot whose id is
    /// `bot_` and digits (`bot_123`) the digits alone, as business systems
    /// moved from other platforms call it (`/bots/123/call/order/thank-you`
    /// in the methodology).
    pub fn in_path(raw: &str) -> Option<Self> {
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            return Self::parse(&format!("{}{raw}", Self::PREFIX));
        }
        Self::parse(raw)
    }

    /// The id someone chose for a new bot: empty for a generated one,
    /// otherwise `bot_…` or what follows `bot_` (`123`, `installers`),
    /// checked as [`BotId::parse`] checks it.
    pub fn chosen(raw: &str) -> Result<Option<Self>, crate::Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let suffix = raw.strip_prefix(Self::PREFIX).unwrap_or(raw);
        Self::parse(&format!("{}{suffix}", Self::PREFIX)).map(Some).ok_or(crate::Problem::BadId)
    }
}

#[cfg(feature = "backend")]
impl EventId {
    /// A fresh event id that sorts by `now` (time, a sequence, then random
    /// characters): the events table's key grows at its end rather than
    /// touching a page anywhere in its index for every accepted call.
    pub fn ordered(now: crate::Millis) -> Self {
        Self(crate::store::time_ordered_id(Self::PREFIX, now))
    }
}

/// Ten random lowercase base-36 characters (~51 bits).
#[cfg(feature = "backend")]
pub(crate) fn random_suffix() -> String {
    let mut suffix = String::with_capacity(10);
    push_random_suffix(&mut suffix);
    suffix
}

/// Appends [`random_suffix`]'s ten characters to `out`: the digits of one
/// random number, not ten draws (ids are made on every accepted call).
#[cfg(feature = "backend")]
pub(crate) fn push_random_suffix(out: &mut String) {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    /// 36^10: the number of suffixes (below 2^52, so the bias of taking a
    /// random u64 modulo it is under one in 4,000).
    const SUFFIXES: u64 = 3_656_158_440_062_976;
    let mut n = rand::thread_rng().gen::<u64>() % SUFFIXES;
    let mut digits = [b'0'; 10];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(n % 36) as usize];
        n /= 36;
    }
    out.extend(digits.iter().map(|&d| d as char));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_to_their_kind() {
        assert!(BotId::parse("bot_shop").is_some());
        assert!(BotId::parse("prj_shop").is_none());
        assert!(ProjectId::parse("prj_").is_none());
        assert!(ProjectId::parse("prj_Demo").is_none());
        assert!(ProjectId::parse("prj_demo-1").is_some());
    }

    #[test]
    fn a_bot_of_digits_is_named_by_them_in_urls() {
        assert_eq!(BotId::in_path("123"), BotId::parse("bot_123"));
        assert_eq!(BotId::in_path("bot_123"), BotId::parse("bot_123"));
        assert_eq!(BotId::in_path("bot_shop"), BotId::parse("bot_shop"));
        for refused in ["", "shop", "12a", "-1", "1234567890123456789012345678901234567890123", "bot_"] {
            assert_eq!(BotId::in_path(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_chosen_bot_id_may_leave_out_its_prefix() {
        assert_eq!(BotId::chosen("  "), Ok(None));
        assert_eq!(BotId::chosen("123"), Ok(BotId::parse("bot_123")));
        assert_eq!(BotId::chosen(" bot_installers "), Ok(BotId::parse("bot_installers")));
        for refused in ["Shop", "bot_", "a b", "bot_bot_x", "магазин"] {
            assert_eq!(BotId::chosen(refused), Err(crate::Problem::BadId), "{refused:?}");
        }
    }

    #[cfg(feature = "backend")]
    #[test]
    fn random_suffixes_are_ten_base36_characters_spread_over_every_place() {
        use std::collections::HashSet;
        let suffixes: HashSet<String> = (0..2_000).map(|_| random_suffix()).collect();
        assert_eq!(suffixes.len(), 2_000, "no repeats in 2,000 draws of ~51 bits");
        for suffix in &suffixes {
            assert!(suffix.len() == 10 && suffix.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()), "{suffix:?}");
        }
        for place in 0..10 {
            let seen: HashSet<u8> = suffixes.iter().map(|s| s.as_bytes()[place]).collect();
            assert_eq!(seen.len(), 36, "place {place} takes every character");
        }
    }

    #[cfg(feature = "backend")]
    #[test]
    fn ordered_event_ids_parse_and_sort_by_time() {
        let (earlier, later) = (EventId::ordered(1_764_000_000_000), EventId::ordered(1_764_000_000_001));
        assert!(EventId::parse(earlier.as_str()).is_some(), "{earlier:?}");
        assert!(earlier < later);
        assert_ne!(earlier, EventId::ordered(1_764_000_000_000));
    }
}
