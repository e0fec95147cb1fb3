//! An audit entry's detail in the reader's language: the shapes the
//! server writes (`comops_core::audit_detail::Detail`) said in Russian,
//! the names inside them kept; anything else as written.

use crate::i18n::role_text;
use comops_core::audit_detail::Detail;
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
        Detail::JobsCancelled { scenario, jobs } => format!("{scenario} (заданий: {jobs})"),
        Detail::ScenarioDeleted { scenario, versions } => format!("{scenario} (версий: {versions})"),
        Detail::Resealed { values } => format!("перешифровано значений: {values}"),
        Detail::SettingsKeys { keys } if keys.is_empty() => "ключи: —".into(),
        Detail::SettingsKeys { keys } => format!("ключи: {}", keys.join(", ")),
        Detail::Other(text) => text,
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
        assert_eq!(ru("scenario.delete", "order_status (3 versions)"), "order_status (версий: 3)");
        assert_eq!(ru("scenario.cancel_jobs", "daily (1 jobs)"), "daily (заданий: 1)");
        assert_eq!(ru("keys.rotate", "12 values re-sealed"), "перешифровано значений: 12");
        assert_eq!(ru("settings.telegram", r#"keys: ["enabled", "token"]"#), "ключи: enabled, token");
        assert_eq!(ru("settings.secrets", "keys: []"), "ключи: —");
        assert_eq!(audit_detail_text(Locale::En, "settings.telegram", r#"keys: ["token"]"#), "keys: token");
        // Anything else as written.
        assert_eq!(ru("map.update", "«Путь» v3"), "«Путь» v3");
        assert_eq!(ru("user.create", "someone as nobody"), "someone as nobody");
    }
}
