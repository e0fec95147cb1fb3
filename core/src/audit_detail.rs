//! What an audit entry's detail says, in the shapes the server writes. It
//! is stored as its English text ([`Detail`]'s `Display`), so the log and
//! its CSV read without the studio; the studio reads it back
//! ([`Detail::parse`]) to say it in the reader's language. Writers and
//! reader share this one type, so a detail cannot change shape on one
//! side only.

use std::fmt;

/// The links a map's version lost with another map's stages, or that
/// other maps lost with its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinksCut {
    /// This map's links to stages deleted in map(s) `of` (their titles,
    /// joined by `», «`).
    ToStagesOf { of: String, links: usize },
    /// This map's links to the deleted map `of`.
    ToDeletedMap { of: String, links: usize },
    /// The links `maps` other maps held to the stages this version took out.
    OutOf { maps: usize },
}

impl fmt::Display for LinksCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinksCut::ToStagesOf { of, links } => write!(f, "links to stages deleted in «{of}» taken out ({links})"),
            LinksCut::ToDeletedMap { of, links } => write!(f, "links to the deleted map «{of}» taken out ({links})"),
            LinksCut::OutOf { maps } => write!(f, "links to its deleted stages taken out of {maps} map(s)"),
        }
    }
}

impl LinksCut {
    fn parse(text: &str) -> Option<LinksCut> {
        let counted = |prefix: &str| -> Option<(String, usize)> {
            let (of, links) = text.strip_prefix(prefix)?.strip_suffix(')')?.rsplit_once("» taken out (")?;
            Some((of.to_string(), links.parse().ok()?))
        };
        if let Some((of, links)) = counted("links to stages deleted in «") {
            return Some(LinksCut::ToStagesOf { of, links });
        }
        if let Some((of, links)) = counted("links to the deleted map «") {
            return Some(LinksCut::ToDeletedMap { of, links });
        }
        let maps = text.strip_prefix("links to its deleted stages taken out of ")?.strip_suffix(" map(s)")?;
        Some(LinksCut::OutOf { maps: maps.parse().ok()? })
    }
}

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
    /// A lead's links on one channel deactivated in the studio (its lead
    /// and channel, never the address).
    LeadUnlinked { lead: String, channel: String, links: usize },
    /// A scenario's scheduled jobs cancelled.
    JobsCancelled { scenario: String, jobs: usize },
    /// A scenario deleted with its versions.
    ScenarioDeleted { scenario: String, versions: usize },
    /// Stored values sealed again under the current key.
    Resealed { values: usize },
    /// Channel settings saved: the keys set (never their values).
    SettingsKeys { keys: Vec<String> },
    /// A map made (`map.create`): its kind's name (`cjm`) and title.
    MapMade { kind: String, title: String },
    /// A map's new version (`map.save`, `map.restore`, `map.csv_import`),
    /// and the links that went with it, if any.
    MapVersion { title: String, version: i64, links: Option<LinksCut> },
    /// A map deleted with its versions (`map.delete`), and from how many
    /// other maps the links to it went.
    MapDeleted { kind: String, title: String, version: i64, versions: i64, holders: usize },
    /// A user's role set (`user.role`): the role's name.
    RoleSet { role: String },
    /// A project imported (`project.import`).
    ProjectImported { bots: usize, endpoints: usize, scenarios: usize, maps: usize },
    /// Endpoints or maps put back by id (`endpoint.import`, `map.import`).
    Synced { created: usize, updated: usize, unchanged: usize },
    /// A lead's status set by hand (`lead.status`).
    LeadStatus { lead: String, status: String },
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
            Detail::LeadUnlinked { lead, channel, links } => write!(f, "{lead} {channel} ({links})"),
            Detail::JobsCancelled { scenario, jobs } => write!(f, "{scenario} ({jobs} jobs)"),
            Detail::ScenarioDeleted { scenario, versions } => write!(f, "{scenario} ({versions} versions)"),
            Detail::Resealed { values } => write!(f, "{values} values re-sealed"),
            Detail::SettingsKeys { keys } if keys.is_empty() => f.write_str("keys: —"),
            Detail::SettingsKeys { keys } => write!(f, "keys: {}", keys.join(", ")),
            Detail::MapMade { kind, title } => write!(f, "{kind} «{title}»"),
            Detail::MapVersion { title, version, links: None } => write!(f, "«{title}» v{version}"),
            Detail::MapVersion { title, version, links: Some(links) } => write!(f, "«{title}» v{version}; {links}"),
            Detail::MapDeleted { kind, title, version, versions, holders } => {
                write!(f, "{kind} «{title}» v{version}, {versions} version(s)")?;
                if *holders > 0 {
                    write!(f, "; links to it taken out of {holders} map(s)")?;
                }
                Ok(())
            }
            Detail::RoleSet { role } => f.write_str(role),
            Detail::ProjectImported { bots, endpoints, scenarios, maps } => write!(f, "{bots} bots, {endpoints} endpoints, {scenarios} scenarios, {maps} maps"),
            Detail::Synced { created, updated, unchanged } => write!(f, "created {created}, updated {updated}, unchanged {unchanged}"),
            Detail::LeadStatus { lead, status } => write!(f, "{lead} → {status}"),
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
            "identity.deactivate" => match leading(text, " link(s)") {
                Some(links) => Some(Detail::Deactivated { links }),
                None => {
                    let (lead, channel, links) = counted(text, ")").and_then(|(head, links)| head.split_once(' ').map(|(lead, channel)| (lead.to_string(), channel.to_string(), links)))?;
                    (!channel.contains(' ')).then_some(Detail::LeadUnlinked { lead, channel, links })
                }
            },
            "scenario.cancel_jobs" => counted(text, " jobs)").map(|(scenario, jobs)| Detail::JobsCancelled { scenario, jobs }),
            "scenario.delete" => counted(text, " versions)").map(|(scenario, versions)| Detail::ScenarioDeleted { scenario, versions }),
            "keys.rotate" => leading(text, " values re-sealed").map(|values| Detail::Resealed { values }),
            "map.create" => {
                let (kind, title) = text.strip_suffix('»')?.split_once(" «")?;
                Some(Detail::MapMade { kind: kind.into(), title: title.into() })
            }
            "map.save" | "map.restore" | "map.csv_import" => {
                let version = |head: &str| -> Option<(String, i64)> {
                    let (title, version) = head.strip_prefix('«')?.rsplit_once("» v")?;
                    Some((title.into(), version.parse().ok()?))
                };
                // The links' words after the first "; links to " that reads
                // whole (a title may hold those words too).
                let with_links = text.match_indices("; links to ").find_map(|(at, _)| {
                    let links = LinksCut::parse(&text[at + 2..])?;
                    let (title, version) = version(&text[..at])?;
                    Some(Detail::MapVersion { title, version, links: Some(links) })
                });
                with_links.or_else(|| version(text).map(|(title, version)| Detail::MapVersion { title, version, links: None }))
            }
            "map.delete" => {
                let (head, holders) = match text.rsplit_once("; links to it taken out of ") {
                    Some((head, tail)) => (head, tail.strip_suffix(" map(s)")?.parse().ok()?),
                    None => (text, 0),
                };
                let (head, versions) = head.strip_suffix(" version(s)")?.rsplit_once(", ")?;
                let (head, version) = head.rsplit_once("» v")?;
                let (kind, title) = head.split_once(" «")?;
                Some(Detail::MapDeleted { kind: kind.into(), title: title.into(), version: version.parse().ok()?, versions: versions.parse().ok()?, holders })
            }
            "user.role" => (!text.is_empty() && !text.contains(' ')).then(|| Detail::RoleSet { role: text.into() }),
            "project.import" => {
                let mut counts = text.split(", ").zip([" bots", " endpoints", " scenarios", " maps"]).map(|(part, unit)| part.strip_suffix(unit)?.parse::<usize>().ok());
                let mut next = || counts.next().flatten();
                let (bots, endpoints, scenarios, maps) = (next()?, next()?, next()?, next()?);
                (text.split(", ").count() == 4).then_some(Detail::ProjectImported { bots, endpoints, scenarios, maps })
            }
            "endpoint.import" | "map.import" => {
                let mut counts = text.split(", ").zip(["created ", "updated ", "unchanged "]).map(|(part, word)| part.strip_prefix(word)?.parse::<usize>().ok());
                let mut next = || counts.next().flatten();
                let (created, updated, unchanged) = (next()?, next()?, next()?);
                (text.split(", ").count() == 3).then_some(Detail::Synced { created, updated, unchanged })
            }
            "lead.status" => text.split_once(" → ").map(|(lead, status)| Detail::LeadStatus { lead: lead.into(), status: status.into() }),
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
            ("identity.deactivate", Detail::LeadUnlinked { lead: "TG-9072612".into(), channel: "telegram".into(), links: 1 }),
            ("scenario.cancel_jobs", Detail::JobsCancelled { scenario: "daily (old)".into(), jobs: 1 }),
            ("scenario.delete", Detail::ScenarioDeleted { scenario: "order_status".into(), versions: 3 }),
            ("keys.rotate", Detail::Resealed { values: 12 }),
            ("settings.telegram", Detail::SettingsKeys { keys: vec!["enabled".into(), "token".into()] }),
            ("settings.secrets", Detail::SettingsKeys { keys: vec![] }),
            ("map.update", Detail::Other("«Путь» v3".into())),
            ("map.create", Detail::MapMade { kind: "cjm".into(), title: "Путь «клиента»".into() }),
            ("map.save", Detail::MapVersion { title: "Путь".into(), version: 3, links: None }),
            ("map.restore", Detail::MapVersion { title: "Путь; v2".into(), version: 4, links: Some(LinksCut::OutOf { maps: 2 }) }),
            ("map.save", Detail::MapVersion { title: "REHAU".into(), version: 7, links: Some(LinksCut::ToStagesOf { of: "CJM», «Blueprint".into(), links: 3 }) }),
            ("map.save", Detail::MapVersion { title: "REHAU".into(), version: 8, links: Some(LinksCut::ToDeletedMap { of: "CJM".into(), links: 1 }) }),
            ("map.save", Detail::MapVersion { title: "A; links to B".into(), version: 2, links: Some(LinksCut::OutOf { maps: 1 }) }),
            ("map.save", Detail::MapVersion { title: "A; links to B".into(), version: 3, links: None }),
            ("map.delete", Detail::MapDeleted { kind: "cjm".into(), title: "Регистрация, v2".into(), version: 2, versions: 2, holders: 0 }),
            ("map.delete", Detail::MapDeleted { kind: "blueprint".into(), title: "Онбординг".into(), version: 5, versions: 5, holders: 3 }),
            ("user.role", Detail::RoleSet { role: "architect".into() }),
            ("project.import", Detail::ProjectImported { bots: 2, endpoints: 5, scenarios: 3, maps: 4 }),
            ("endpoint.import", Detail::Synced { created: 1, updated: 2, unchanged: 0 }),
            ("map.import", Detail::Synced { created: 0, updated: 1, unchanged: 7 }),
            ("lead.status", Detail::LeadStatus { lead: "TG-9".into(), status: "stopped".into() }),
        ];
        for (action, detail) in written {
            assert_eq!(Detail::parse(action, &detail.to_string()), detail, "{action}: {detail}");
        }
        assert_eq!(Detail::parse("settings.telegram", r#"keys: ["enabled", "token"]"#), Detail::SettingsKeys { keys: vec!["enabled".into(), "token".into()] });
        assert_eq!(Detail::parse("settings.secrets", "keys: []"), Detail::SettingsKeys { keys: vec![] });
        assert_eq!(Detail::parse("identity.deactivate", "many link(s)"), Detail::Other("many link(s)".into()));
    }
}
