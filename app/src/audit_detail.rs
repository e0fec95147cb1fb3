//! An audit entry's detail in the reader's language. The server stores
//! each detail in English, in the few shapes its audited actions write
//! (`"ann@x.ru as analyst"`, `"user 54321 → lead TG-9 (telegram)"`,
//! `"order_status (3 versions)"`); those are said in Russian, the names
//! inside them kept. Anything else is shown as written.

use crate::i18n::role_text;
use comops_core::{Locale, Role};

/// The detail of an entry of `action` in `locale`.
pub fn audit_detail_text(locale: Locale, action: &str, detail: &str) -> String {
    // A settings save lists the keys it set, once written as a Rust list.
    let detail = &match detail.strip_prefix("keys: [").and_then(|rest| rest.strip_suffix(']')) {
        Some("") => "keys: —".to_string(),
        Some(list) => format!("keys: {}", list.split(", ").map(|key| key.trim_matches('"')).collect::<Vec<_>>().join(", ")),
        None => detail.to_string(),
    };
    if locale == Locale::En {
        return detail.to_string();
    }
    let count_in = |text: &str, unit: &str| text.strip_suffix(unit).filter(|n| n.parse::<u64>().is_ok()).map(str::to_string);
    let russian = match action {
        "user.create" if detail == "first admin" => Some("первый администратор".to_string()),
        "user.create" => detail.rsplit_once(" as ").and_then(|(email, role)| Role::parse(role).ok().map(|role| format!("{email}, роль: {}", role_text(locale, role)))),
        "identity.link" => detail.strip_prefix("user ").and_then(|rest| rest.split_once(" → lead ")).map(|(user, rest)| {
            let rest = match rest.rsplit_once(" (").and_then(|(lead, n)| count_in(n, " address(es))").map(|n| (lead, n))) {
                Some((lead, n)) => format!("{lead} (адресов: {n})"),
                None => rest.to_string(),
            };
            format!("пользователь {user} → лид {rest}")
        }),
        "identity.deactivate" => count_in(detail, " link(s)").map(|n| format!("связей: {n}")),
        "scenario.cancel_jobs" => detail.rsplit_once(" (").and_then(|(name, n)| count_in(n, " jobs)").map(|n| format!("{name} (заданий: {n})"))),
        "scenario.delete" => detail.rsplit_once(" (").and_then(|(name, n)| count_in(n, " versions)").map(|n| format!("{name} (версий: {n})"))),
        "keys.rotate" => count_in(detail, " values re-sealed").map(|n| format!("перешифровано значений: {n}")),
        _ if action.starts_with("settings.") => detail.strip_prefix("keys: ").map(|keys| format!("ключи: {keys}")),
        _ => None,
    };
    russian.unwrap_or_else(|| detail.to_string())
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
