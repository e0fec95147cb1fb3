//! What an audit entry's detail says, in the shapes the server writes. It
//! is stored as its English text ([`Detail`]'s `Display`), so the log and
//! its CSV read without the studio; the studio reads it back
//! ([`Detail::parse`]) to say it in the reader's language. Writers and
//! reader share this one type, so a detail cannot change shape on one
//! side only.

use std::fmt;

/// An audit entry's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// The first admin, made at the first start.
    FirstAdmin,
    /// A user made with a role (`"ann@x.ru as analyst"`).
    UserMade { email: String, role: String },
    /// A business id linked to a lead on one channel.
    Linked { user: String, lead: String, channel: String },
    /// A business id linked to a lead with all its addresses.
    LinkedAddresses { user: String, lead: String, addresses: usize },
    /// Links deactivated.
    Deactivated { links: usize },
    /// A scenario's scheduled jobs cancelled.
    JobsCancelled { scenario: String, jobs: usize },
    /// A scenario deleted with its versions.
    ScenarioDeleted { scenario: String, versions: usize },
    /// Stored values sealed again under the current key.
    Resealed { values: usize },
    /// Channel settings saved: the keys set (never their values).
    SettingsKeys { keys: Vec<String> },
    /// Any other detail, as written.
    Other(String),
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::FirstAdmin => f.write_str("first admin"),
            Detail::UserMade { email, role } => write!(f, "{email} as {role}"),
            Detail::Linked { user, lead, channel } => write!(f, "user {user} → lead {lead} ({channel})"),
            Detail::LinkedAddresses { user, lead, addresses } => write!(f, "user {user} → lead {lead} ({addresses} address(es))"),
            Detail::Deactivated { links } => write!(f, "{links} link(s)"),
            Detail::JobsCancelled { scenario, jobs } => write!(f, "{scenario} ({jobs} jobs)"),
            Detail::ScenarioDeleted { scenario, versions } => write!(f, "{scenario} ({versions} versions)"),
            Detail::Resealed { values } => write!(f, "{values} values re-sealed"),
            Detail::SettingsKeys { keys } if keys.is_empty() => f.write_str("keys: —"),
            Detail::SettingsKeys { keys } => write!(f, "keys: {}", keys.join(", ")),
            Detail::Other(text) => f.write_str(text),
        }
    }
}

impl Detail {
    /// The detail `text` of an entry of `action`, read back; anything not
    /// in a known shape is [`Detail::Other`].
    pub fn parse(action: &str, text: &str) -> Detail {
        Self::known(action, text).unwrap_or_else(|| Detail::Other(text.to_string()))
    }

    fn known(action: &str, text: &str) -> Option<Detail> {
        // "name (3 unit)" → ("name", 3).
        let counted = |text: &str, unit: &str| -> Option<(String, usize)> {
            let (name, n) = text.strip_suffix(unit)?.rsplit_once(" (")?;
            Some((name.to_string(), n.parse().ok()?))
        };
        let leading = |text: &str, unit: &str| text.strip_suffix(unit)?.parse::<usize>().ok();
        match action {
            "user.create" if text == "first admin" => Some(Detail::FirstAdmin),
            "user.create" => text.rsplit_once(" as ").map(|(email, role)| Detail::UserMade { email: email.into(), role: role.into() }),
            "identity.link" => {
                let (user, rest) = text.strip_prefix("user ")?.split_once(" → lead ")?;
                if let Some((lead, addresses)) = counted(rest, " address(es))") {
                    return Some(Detail::LinkedAddresses { user: user.into(), lead, addresses });
                }
                let (lead, channel) = rest.strip_suffix(')')?.rsplit_once(" (")?;
                Some(Detail::Linked { user: user.into(), lead: lead.into(), channel: channel.into() })
            }
            "identity.deactivate" => leading(text, " link(s)").map(|links| Detail::Deactivated { links }),
            "scenario.cancel_jobs" => counted(text, " jobs)").map(|(scenario, jobs)| Detail::JobsCancelled { scenario, jobs }),
            "scenario.delete" => counted(text, " versions)").map(|(scenario, versions)| Detail::ScenarioDeleted { scenario, versions }),
            "keys.rotate" => leading(text, " values re-sealed").map(|values| Detail::Resealed { values }),
            _ if action.starts_with("settings.") => {
                let keys = text.strip_prefix("keys: ")?;
                // Written as a Rust list before 2026-12-06: `["enabled", "token"]`.
                let keys = keys.strip_prefix('[').and_then(|k| k.strip_suffix(']')).unwrap_or(keys);
                let keys = match keys {
                    "" | "—" => Vec::new(),
                    list => list.split(", ").map(|key| key.trim_matches('"').to_string()).collect(),
                };
                Some(Detail::SettingsKeys { keys })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_reads_back_as_written() {
        let written = [
            ("user.create", Detail::FirstAdmin),
            ("user.create", Detail::UserMade { email: "ann@example.com".into(), role: "analyst".into() }),
            ("identity.link", Detail::Linked { user: "54321".into(), lead: "TG-9072612".into(), channel: "telegram".into() }),
            ("identity.link", Detail::LinkedAddresses { user: "54321".into(), lead: "TG-9".into(), addresses: 2 }),
            ("identity.deactivate", Detail::Deactivated { links: 3 }),
            ("scenario.cancel_jobs", Detail::JobsCancelled { scenario: "daily (old)".into(), jobs: 1 }),
            ("scenario.delete", Detail::ScenarioDeleted { scenario: "order_status".into(), versions: 3 }),
            ("keys.rotate", Detail::Resealed { values: 12 }),
            ("settings.telegram", Detail::SettingsKeys { keys: vec!["enabled".into(), "token".into()] }),
            ("settings.secrets", Detail::SettingsKeys { keys: vec![] }),
            ("map.update", Detail::Other("«Путь» v3".into())),
        ];
        for (action, detail) in written {
            assert_eq!(Detail::parse(action, &detail.to_string()), detail, "{action}: {detail}");
        }
        assert_eq!(Detail::parse("settings.telegram", r#"keys: ["enabled", "token"]"#), Detail::SettingsKeys { keys: vec!["enabled".into(), "token".into()] });
        assert_eq!(Detail::parse("settings.secrets", "keys: []"), Detail::SettingsKeys { keys: vec![] });
        assert_eq!(Detail::parse("identity.deactivate", "many link(s)"), Detail::Other("many link(s)".into()));
    }
}
