//! The seed's «Шаблон технического задания (ТЗ) на DMI-проект», generated
//! from what a project really has: its maps, bots and channels, live
//! endpoints, scenarios, tokens, and the fixed parts of ComOps (identity
//! scheme, SPEC §8 metric definitions, security measures).
//!
//! The ten sections follow the seed in order (Цель, Системы, Каналы,
//! Коммуникационные сценарии, API и события, Идентификация, Метрики,
//! Безопасность, Артефакты, Сроки и роли); the CJM and blueprint tables
//! follow as appendices. Markdown with plain tables, so it prints and
//! pastes anywhere. [`markdown`] is pure: the caller gathers a
//! [`SpecInput`].

use super::blueprint::Lane;
use super::{communication, Map, MapContent, MapKind};
use crate::token::ApiToken;
use crate::{BotId, Endpoint};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// A bot of the project and the channels it has settings for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecBot {
    pub id: BotId,
    pub name: String,
    pub username: String,
    pub description: String,
    /// Channel kinds configured for the bot (`telegram`, `webchat`, …).
    pub channels: Vec<String>,
}

/// A scenario of a bot (its current version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecScenario {
    pub bot_id: BotId,
    pub name: String,
    pub description: String,
    pub version: i64,
}

/// Everything the spec is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecInput {
    pub project_name: String,
    pub project_description: String,
    pub bots: Vec<SpecBot>,
    pub endpoints: Vec<Endpoint>,
    pub scenarios: Vec<SpecScenario>,
    pub maps: Vec<Map>,
    /// Tokens that may reach the project's bots (never their secrets);
    /// `None` when the reader may not see tokens (not an admin).
    pub tokens: Option<Vec<ApiToken>>,
    /// What this installation does, not what it could: section 8 says so.
    pub security: SpecSecurity,
}

/// The security settings the spec reports as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecSecurity {
    /// A data key is set: channel secrets and personal data are sealed.
    pub encrypted_at_rest: bool,
    /// The studio and the API are served over HTTPS (by comops or a proxy).
    pub https: bool,
}

/// A Markdown table cell: pipes escaped, line breaks as `<br>`.
fn cell(text: &str) -> String {
    let text = text.trim().replace('|', "\\|").replace("\r\n", "<br>").replace('\n', "<br>");
    if text.is_empty() {
        "—".into()
    } else {
        text
    }
}

fn table(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn maps_of(input: &SpecInput, kind: MapKind) -> impl Iterator<Item = &Map> {
    input.maps.iter().filter(move |m| m.kind == kind)
}

/// `{ order_id*, user_id* }` from an endpoint's schema (`*` = required).
fn request_params(endpoint: &Endpoint) -> String {
    let fields: Vec<String> =
        endpoint.schema.fields.iter().map(|f| format!("{}{}", f.name, if f.required { "*" } else { "" })).collect();
    if fields.is_empty() {
        "—".into()
    } else {
        format!("{{ {} }}", fields.join(", "))
    }
}

fn distinct(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        for part in value.split([',', ';', '\n']) {
            let part = part.trim().to_string();
            if !part.is_empty() && part != "—" && !out.iter().any(|v| v.eq_ignore_ascii_case(&part)) {
                out.push(part);
            }
        }
    }
    out
}

fn date(millis: crate::Millis) -> String {
    // Civil date from Unix days (Howard Hinnant's algorithm): no clock or
    // calendar crate in the wasm-safe core.
    let days = millis.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The spec as Markdown.
pub fn markdown(input: &SpecInput) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Техническое задание на DMI-проект: {}\n", input.project_name.trim());

    // 1. Цель
    out.push_str("## 1. Цель\n\n");
    let processes: Vec<String> = maps_of(input, MapKind::Communication)
        .map(|m| match &m.content {
            MapContent::Communication(c) if !c.process.trim().is_empty() => c.process.trim().to_string(),
            _ => m.title.clone(),
        })
        .collect();
    let goal = if input.project_description.trim().is_empty() { input.project_name.trim() } else { input.project_description.trim() };
    let _ = writeln!(out, "Интеграция мессенджеров в бизнес-процессы: {goal}\n");
    if !processes.is_empty() {
        out.push_str("Процессы (одна карта коммуникаций на процесс):\n\n");
        for p in &processes {
            let _ = writeln!(out, "- {p}");
        }
        out.push('\n');
    }
    for m in maps_of(input, MapKind::Cjm) {
        if let MapContent::Cjm(c) = &m.content {
            if !c.persona.trim().is_empty() {
                let _ = writeln!(out, "Персона ({}): {}\n", m.title, c.persona.trim());
            }
        }
    }

    // 2. Системы
    out.push_str("## 2. Системы\n\n");
    let mut systems = vec!["ComOps (Dialog Bus)".to_string()];
    for m in maps_of(input, MapKind::Cjm) {
        if let MapContent::Cjm(c) = &m.content {
            systems.extend(distinct(c.stages.iter().map(|s| s.integrations.clone())));
        }
    }
    systems.extend(distinct(input.endpoints.iter().map(|e| e.owner.clone())));
    for s in distinct(systems) {
        let _ = writeln!(out, "- {s}");
    }
    out.push('\n');

    // 3. Каналы
    out.push_str("## 3. Каналы\n\n");
    table(
        &mut out,
        &["Бот", "Id", "Username", "Каналы", "Назначение"],
        input.bots.iter().map(|b| {
            vec![
                b.name.clone(),
                format!("`{}`", b.id),
                if b.username.is_empty() { String::new() } else { format!("@{}", b.username) },
                b.channels.join(", "),
                b.description.clone(),
            ]
        }),
    );

    // 4. Коммуникационные сценарии
    out.push_str("## 4. Коммуникационные сценарии\n\n");
    for m in maps_of(input, MapKind::Communication) {
        let MapContent::Communication(c) = &m.content else { continue };
        let _ = writeln!(out, "### Карта коммуникаций «{}» (v{})\n", m.title, m.version);
        let mut header = vec!["№"];
        header.extend(communication::COLUMNS.iter().map(|(_, ru, _)| *ru));
        header.extend(["API / триггер", "Сценарий"]);
        table(
            &mut out,
            &header,
            c.rows.iter().map(|r| {
                let mut row = vec![r.number.to_string()];
                row.extend(communication::COLUMNS.iter().map(|(f, _, _)| r.column(f).to_string()));
                row.push(if r.trigger.url().is_empty() { String::new() } else { format!("`{}`", r.trigger.url()) });
                row.push(if r.trigger.scenario.is_empty() { String::new() } else { format!("`{}`", r.trigger.scenario) });
                row
            }),
        );
    }
    if !input.scenarios.is_empty() {
        out.push_str("### Сценарии ботов\n\n");
        table(
            &mut out,
            &["Бот", "Сценарий", "Версия", "Описание"],
            input.scenarios.iter().map(|s| vec![format!("`{}`", s.bot_id), format!("`{}`", s.name), s.version.to_string(), s.description.clone()]),
        );
    }

    // 5. API и события
    out.push_str("## 5. API и события\n\n");
    out.push_str(
        "Бизнес-система вызывает `POST /bots/{botId}/call/{alias}` с `Authorization: Bearer {token}` и JSON-телом; \
         ответ `200 {\"success\": true, \"message\": \"Communication sent\", \"trace_id\": \"…\"}` после надёжного сохранения \
         события. Ошибки — JSON `{\"success\": false, \"message\": …}`: 401, 403, 404, 409, 413, 422 (по полям), 429, 500. \
         Документация и OpenAPI каждого бота: `/docs/{botId}`, `/docs/{botId}/openapi.json`.\n\n",
    );
    table(
        &mut out,
        &["Endpoint Alias", "Method", "URL", "Описание", "Request Params", "Response", "Owner", "Сценарий", "Режим"],
        input.endpoints.iter().map(|e| {
            let mut mode: Vec<String> = Vec::new();
            if !e.enabled {
                mode.push("выключен".into());
            }
            if e.isolated {
                mode.push("изолированный".into());
            }
            if !e.on_blocked.is_empty() {
                mode.push(format!("о блокировке сообщает `{}`", e.on_blocked));
            }
            vec![
                format!("`{}`", e.alias),
                "POST".into(),
                format!("`/bots/{}/call/{}`", e.bot_id, e.alias),
                e.description.clone(),
                request_params(e),
                e.response_description.clone(),
                e.owner.clone(),
                e.scenario.clone(),
                mode.join(", "),
            ]
        }),
    );
    for m in maps_of(input, MapKind::Integration) {
        let MapContent::Integration(c) = &m.content else { continue };
        let _ = writeln!(out, "### Карта точек интеграции «{}» (v{})\n", m.title, m.version);
        let mut header = vec!["Endpoint Alias"];
        header.extend(super::integration::COLUMNS.iter().map(|(_, ru, _)| *ru));
        header.push("Привязка");
        table(
            &mut out,
            &header,
            c.rows.iter().map(|r| {
                let mut row = vec![r.alias.as_ref().map(|a| format!("`{a}`")).unwrap_or_default()];
                row.extend(super::integration::COLUMNS.iter().map(|(f, _, _)| r.column(f).to_string()));
                let live = r.binding().map(|b| {
                    let exists = input.endpoints.iter().any(|e| e.bot_id == b.bot_id && e.alias == b.alias);
                    format!("`{}`{}", b.bot_id, if exists { "" } else { " (нет такого эндпоинта)" })
                });
                row.push(live.unwrap_or_default());
                row
            }),
        );
    }

    // 6. Идентификация
    out.push_str("## 6. Идентификация пользователей\n\n");
    out.push_str(
        "Сквозная идентификация: `userId` (бизнес-система) ↔ `leadId` (ComOps, например `TG-9072612`) ↔ `chatId` \
         (мессенджер). Таблица связей хранит для каждой связи `userId`, `leadId`, `chatId`, канал, `isActive`, \
         `source`, `connected_at`; у одного лида может быть несколько адресов в разных каналах.\n\n\
         Как устанавливается связь:\n\n\
         - глубокая ссылка: система запрашивает `POST /bots/{botId}/links` для своего `userId` и отправляет человеку \
         `t.me/<bot>?start=<одноразовый код>`; нажатие Start связывает `userId ↔ leadId ↔ chatId`;\n\
         - авторизация в боте: сценарий спрашивает телефон или email, находит пользователя в системе и сообщает ей \
         (`POST /users/connect-bot`);\n\
         - API связей: `GET/POST /bots/{botId}/identities` (поиск, привязка, деактивация).\n\n\
         Получатели вызова API: `userId`/`user_id` (через таблицу связей), `userIds` (рассылка) или `leadId`. \
         Заблокировавший бота адрес становится неактивным, лид — `stopped`.\n\n",
    );
    let identity: Vec<&Endpoint> =
        input.endpoints.iter().filter(|e| e.alias.as_str().starts_with("users/")).collect();
    if !identity.is_empty() {
        out.push_str("Эндпоинты идентификации проекта: ");
        out.push_str(&identity.iter().map(|e| format!("`{}` ({})", e.alias, e.bot_id)).collect::<Vec<_>>().join(", "));
        out.push_str("\n\n");
    }

    // 7. Метрики
    out.push_str("## 7. Метрики\n\n");
    table(
        &mut out,
        &["Метрика", "Определение"],
        [
            ("Delivery Rate", "доставленные / отправленные сообщения"),
            ("Engagement Rate", "лиды, ответившие в течение 24 ч / лиды, которым писали"),
            ("Response Time", "медиана времени от сообщения бота до ответа лида"),
            ("Conversion Rate", "запуски, дошедшие до `end` с целью (`goal`) / все запуски"),
            ("CSAT", "среднее ответов-оценок (1–5)"),
            ("Error Rate", "неуспешные исходящие вызовы API / все исходящие вызовы API"),
        ]
        .into_iter()
        .map(|(a, b)| vec![format!("**{a}**"), b.to_string()]),
    );
    out.push_str("Срезы: по эндпоинту, карте, сценарию, периоду; воронка Событие → Коммуникация → Ответ → Действие. Метрики также доступны на `/metrics` (Prometheus).\n\n");

    // 8. Безопасность
    out.push_str("## 8. Безопасность\n\n");
    // What this installation does now; what it lacks is said as a to-do.
    out.push_str(if input.security.https {
        "- Все вызовы по HTTPS. "
    } else {
        "- **Сервер отвечает по HTTP, не по HTTPS:** до запуска включить HTTPS (`comops serve --tls-cert … --tls-key …` или обратный прокси). "
    });
    out.push_str(
        "Каждый вызов API — с Bearer-токеном, токены хранятся хешированными и сравниваются за постоянное время.\n\
         - Токены ограничены по ботам, алиасам (или префиксам), действиям (`call`, `dry_run`, чтение/запись admin API) и сроку; секрет показывается один раз.\n\
         - Изолированные эндпоинты доступны только токенам, которые называют их явно.\n",
    );
    out.push_str(if input.security.encrypted_at_rest {
        "- Секреты каналов и интеграций и персональные данные (телефон, email, ответы людей) шифруются ключом из окружения (`COMOPS_DATA_KEY`); секреты не попадают в логи и трассы.\n"
    } else {
        "- **Ключ шифрования не задан (`COMOPS_DATA_KEY`):** секреты каналов и персональные данные хранятся без шифрования; до запуска задать ключ и выполнить `comops rotate-key`. Секреты не попадают в логи и трассы.\n"
    });
    out.push_str(
        "- Входящие вебхуки каналов проверяются по подписи или секрету; ограничение размера тела и частоты запросов.\n\
         - Роли (admin, architect, analyst, operator, viewer) проверяются на сервере; действия администраторов журналируются.\n\n",
    );
    let isolated: Vec<String> = input.endpoints.iter().filter(|e| e.isolated).map(|e| format!("`{}` ({})", e.alias, e.bot_id)).collect();
    let _ = writeln!(out, "Изолированные эндпоинты: {}\n", if isolated.is_empty() { "нет".into() } else { isolated.join(", ") });
    match &input.tokens {
        None => out.push_str("Токены доступа видны администраторам.\n\n"),
        Some(tokens) if tokens.is_empty() => {}
        Some(tokens) => table(
            &mut out,
            &["Токен", "Боты", "Алиасы", "Действия", "Действует до", "Статус"],
            tokens.iter().map(|t| {
                let list = |v: Vec<String>, all: &str| if v.is_empty() { all.to_string() } else { v.join(", ") };
                vec![
                    t.name.clone(),
                    list(t.scope.bots.iter().map(|b| b.to_string()).collect(), "все"),
                    list(t.scope.aliases.iter().map(|a| a.to_string()).collect(), "все неизолированные"),
                    list(t.scope.actions.iter().map(|a| a.as_str().to_string()).collect(), "—"),
                    t.expires_at.map(date).unwrap_or_else(|| "бессрочно".into()),
                    if t.revoked_at.is_some() { "отозван".into() } else { "активен".into() },
                ]
            }),
        ),
    }

    // 9. Артефакты
    out.push_str("## 9. Артефакты\n\n");
    table(
        &mut out,
        &["Артефакт", "Название", "Версия", "Строк", "Обновлено", "Автор"],
        input.maps.iter().map(|m| {
            vec![m.kind.title_ru().to_string(), m.title.clone(), m.version.to_string(), m.content.len().to_string(), date(m.updated_at), m.author.clone()]
        }),
    );
    let _ = writeln!(
        out,
        "Таблица эндпоинтов: {} шт. (раздел 5); JSON-сценарии: {} шт. (раздел 4); экспорт проекта в JSON — `comops.project/v1`.\n",
        input.endpoints.len(),
        input.scenarios.len()
    );

    // 10. Сроки и роли
    out.push_str("## 10. Сроки и роли\n\n");
    let mut owners: Vec<Vec<String>> = Vec::new();
    for m in maps_of(input, MapKind::Cjm) {
        if let MapContent::Cjm(c) = &m.content {
            owners.extend(c.stages.iter().filter(|s| !s.owner.trim().is_empty()).map(|s| vec![format!("Этап CJM «{}»", s.stage), s.owner.clone(), String::new()]));
        }
    }
    for e in &input.endpoints {
        if !e.owner.trim().is_empty() {
            owners.push(vec![format!("Эндпоинт `{}`", e.alias), e.owner.clone(), String::new()]);
        }
    }
    if !owners.is_empty() {
        table(&mut out, &["Что", "Ответственный", "Срок"], owners);
    }
    table(
        &mut out,
        &["Этап внедрения", "Действие", "Результат", "Срок"],
        [
            ("1. Анализ процессов", "выбираем ключевые сценарии (регистрация, заказ, поддержка)", "выявлены 3-5 процессов"),
            ("2. Построение карт коммуникаций", "документируем все события и роли", "готов набор карт"),
            ("3. Определение точек интеграции", "проектируем эндпоинты, тело запроса, ответ", "API-документация согласована"),
            ("4. Реализация и тестирование", "создаём сценарии, интеграции, авторизацию", "рабочий MVP"),
            ("5. Мониторинг и аналитика", "подключаем BI, собираем метрики", "контроль эффективности"),
            ("6. Масштабирование", "добавляем новые процессы", "зрелая коммуникационная инфраструктура"),
        ]
        .into_iter()
        .map(|(a, b, c)| vec![a.to_string(), b.to_string(), c.to_string(), String::new()]),
    );

    // Appendices: the strategic maps in full.
    for m in maps_of(input, MapKind::Cjm) {
        let MapContent::Cjm(c) = &m.content else { continue };
        let _ = writeln!(out, "## Приложение: Customer Journey Map «{}» (v{})\n", m.title, m.version);
        let mut header: Vec<&str> = super::cjm::COLUMNS.iter().map(|(_, ru, _)| *ru).collect();
        header.insert(4, "Оценка эмоции");
        table(
            &mut out,
            &header,
            c.stages.iter().map(|s| {
                let mut row: Vec<String> = super::cjm::COLUMNS.iter().map(|(f, _, _)| s.column(f).to_string()).collect();
                row.insert(4, s.emotion_score.map(|n| format!("{n:+}")).unwrap_or_default());
                row
            }),
        );
    }
    for m in maps_of(input, MapKind::Blueprint) {
        let MapContent::Blueprint(b) = &m.content else { continue };
        let _ = writeln!(out, "## Приложение: Service Blueprint «{}» (v{})\n", m.title, m.version);
        let mut header = vec!["Уровень / Этап"];
        header.extend(b.stages.iter().map(|s| s.name.as_str()));
        let rows = Lane::ALL.iter().map(|lane| {
            let mut row = vec![format!("**{}**", lane.title())];
            row.extend(b.stages.iter().map(|s| {
                let cell = s.cell(*lane);
                let bound: Vec<String> = cell.endpoints.iter().map(|e| format!("`{}`", e.url())).collect();
                if bound.is_empty() {
                    cell.text.clone()
                } else {
                    format!("{}\n{}", cell.text, bound.join(", "))
                }
            }));
            row
        });
        table(&mut out, &header, rows);
        for c in &b.crossings {
            let stage = b.stages.iter().find(|s| s.id == c.stage).map(|s| s.name.as_str()).unwrap_or(&c.stage);
            let _ = writeln!(out, "- {} · {}: {}{}", c.line.title(), stage, c.note, if c.upward { " (↑)" } else { " (↓)" });
        }
        if !b.crossings.is_empty() {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc"), "a\\|b<br>c");
        assert_eq!(cell("  "), "—");
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_795_564_800_000), "2026-11-25");
    }
}
