//! An audit entry's detail in the reader's language: the shapes the
//! server writes (`comops_core::audit_detail::Detail`) said in Russian,
//! the names inside them kept; anything else as written.

use crate::i18n::role_text;
use comops_core::audit_detail::{Detail, LinksCut};
use comops_core::{Locale, Role};

/// The detail of an entry of `action` in `locale`.
pub fn audit_detail_text(locale: Locale, action: &str, detail: &str) -> String {
    let detail = Detail::parse(action, detail);
    if locale == Locale::En {
        return detail.to_string();
    }
    match detail {
        Detail::FirstAdmin => "первый администратор".into(),
        Detail::UserMade { email, role } => match Role::parse(&role) {
            Ok(role) => format!("{email}, роль: {}", role_text(locale, role)),
            Err(_) => Detail::UserMade { email, role }.to_string(),
        },
        Detail::Linked { user, lead, channel } => format!("пользователь {user} → лид {lead} ({channel})"),
        Detail::LinkedAddresses { user, lead, addresses } => format!("пользователь {user} → лид {lead} (адресов: {addresses})"),
        Detail::Deactivated { links } => format!("связей: {links}"),
        Detail::LeadUnlinked { lead, channel, links } => format!("лид {lead} ({channel}), связей: {links}"),
        Detail::JobsCancelled { scenario, jobs } => format!("{scenario} (заданий: {jobs})"),
        Detail::ScenarioDeleted { scenario, versions } => format!("{scenario} (версий: {versions})"),
        Detail::Resealed { values } => format!("перешифровано значений: {values}"),
        Detail::SettingsKeys { keys } if keys.is_empty() => "ключи: —".into(),
        Detail::SettingsKeys { keys } => format!("ключи: {}", keys.join(", ")),
        Detail::MapMade { kind, title } => format!("{} «{title}»", kind_ru(&kind)),
        Detail::MapVersion { title, version, links: None } => format!("«{title}» v{version}"),
        Detail::MapVersion { title, version, links: Some(links) } => format!("«{title}» v{version}; {}", links_ru(&links)),
        Detail::MapDeleted { kind, title, version, versions, holders } => {
            let mut text = format!("{} «{title}» v{version}, версий: {versions}", kind_ru(&kind));
            if holders > 0 {
                text.push_str(&format!("; связи с ней убраны из карт: {holders}"));
            }
            text
        }
        Detail::RoleSet { role } => match Role::parse(&role) {
            Ok(parsed) => format!("роль: {}", role_text(locale, parsed)),
            Err(_) => role,
        },
        Detail::ProjectImported { bots, endpoints, scenarios, maps } => format!("ботов: {bots}, эндпоинтов: {endpoints}, сценариев: {scenarios}, карт: {maps}"),
        Detail::Synced { created, updated, unchanged } => format!("создано: {created}, изменено: {updated}, без изменений: {unchanged}"),
        Detail::LeadStatus { lead, status } => {
            let status = match status.as_str() {
                "active" => crate::i18n::t(locale, crate::i18n::K::Active).to_string(),
                "stopped" => crate::i18n::t(locale, crate::i18n::K::LeadsStopped).to_string(),
                _ => status,
            };
            format!("лид {lead} → {status}")
        }
        Detail::Other(text) => text,
    }
}

/// A map kind's name (`cjm`) in Russian, as the map list says it.
fn kind_ru(kind: &str) -> String {
    match comops_core::map::MapKind::parse(kind) {
        Some(kind) => crate::i18n::t(Locale::Ru, crate::pages::maps::model::kind_label(kind)).to_string(),
        None => kind.to_string(),
    }
}

/// The links a version lost or took from others, in Russian: the words
/// of the holder's own version note (`K::MapNote…`).
fn links_ru(links: &LinksCut) -> String {
    use crate::i18n::{t2, K};
    match links {
        LinksCut::ToStagesOf { of, links } => t2(Locale::Ru, K::MapNoteStageLinksCut, of, links),
        LinksCut::ToDeletedMap { of, links } => t2(Locale::Ru, K::MapNoteDeletedMapLinksCut, of, links),
        LinksCut::OutOf { maps } => format!("связи с её удалёнными этапами убраны из карт: {maps}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_shapes_are_said_in_russian_names_kept() {
        let ru = |action: &str, detail: &str| audit_detail_text(Locale::Ru, action, detail);
        assert_eq!(ru("user.create", "ann@example.com as analyst"), "ann@example.com, роль: аналитик");
        assert_eq!(ru("user.create", "first admin"), "первый администратор");
        assert_eq!(ru("identity.link", "user 54321 → lead TG-9072612 (telegram)"), "пользователь 54321 → лид TG-9072612 (telegram)");
        assert_eq!(ru("identity.link", "user 54321 → lead TG-9 (2 address(es))"), "пользователь 54321 → лид TG-9 (адресов: 2)");
        assert_eq!(ru("identity.deactivate", "3 link(s)"), "связей: 3");
        assert_eq!(ru("identity.deactivate", "TG-9 telegram (1)"), "лид TG-9 (telegram), связей: 1");
        assert_eq!(ru("scenario.delete", "order_status (3 versions)"), "order_status (версий: 3)");
        assert_eq!(ru("scenario.cancel_jobs", "daily (1 jobs)"), "daily (заданий: 1)");
        assert_eq!(ru("keys.rotate", "12 values re-sealed"), "перешифровано значений: 12");
        assert_eq!(ru("settings.telegram", r#"keys: ["enabled", "token"]"#), "ключи: enabled, token");
        assert_eq!(ru("settings.secrets", "keys: []"), "ключи: —");
        assert_eq!(audit_detail_text(Locale::En, "settings.telegram", r#"keys: ["token"]"#), "keys: token");
        assert_eq!(ru("map.save", "«REHAU» v7; links to stages deleted in «Регистрация» taken out (3)"), "«REHAU» v7; убраны связи с этапами, удалёнными в «Регистрация» (3)");
        assert_eq!(ru("map.csv_import", "«Регистрация» v5; links to its deleted stages taken out of 2 map(s)"), "«Регистрация» v5; связи с её удалёнными этапами убраны из карт: 2");
        assert_eq!(ru("map.delete", "cjm «Регистрация» v2, 2 version(s); links to it taken out of 3 map(s)"), "Карта пути клиента (CJM) «Регистрация» v2, версий: 2; связи с ней убраны из карт: 3");
        assert_eq!(ru("user.role", "analyst"), "роль: аналитик");
        assert_eq!(ru("lead.status", "TG-9 → stopped"), "лид TG-9 → остановлен");
        // The audit entry's English is the holder's version note's.
        use crate::i18n::{t2, K};
        assert_eq!(LinksCut::ToStagesOf { of: "CJM".into(), links: 2 }.to_string(), t2(Locale::En, K::MapNoteStageLinksCut, "CJM", 2));
        assert_eq!(LinksCut::ToDeletedMap { of: "CJM".into(), links: 1 }.to_string(), t2(Locale::En, K::MapNoteDeletedMapLinksCut, "CJM", 1));
        assert_eq!(ru("project.import", "2 bots, 5 endpoints, 3 scenarios, 4 maps"), "ботов: 2, эндпоинтов: 5, сценариев: 3, карт: 4");
        assert_eq!(ru("map.import", "created 0, updated 1, unchanged 7"), "создано: 0, изменено: 1, без изменений: 7");
        // Anything else as written.
        assert_eq!(ru("map.update", "«Путь» v3"), "«Путь» v3");
        assert_eq!(ru("user.create", "someone as nobody"), "someone as nobody");
    }
}
