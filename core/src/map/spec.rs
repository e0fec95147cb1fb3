//! The seed's «Шаблон технического задания (ТЗ) на DMI-проект», generated
//! from what a project really has: its maps, bots and channels, live
//! endpoints, scenarios, tokens, and the fixed parts of ComOps (identity
//! scheme, SPEC §8 metric definitions, security measures).
//!
//! The ten sections follow the seed in order (Цель, Системы, Каналы,
//! Коммуникационные сценарии, API и события, Идентификация, Метрики,
//! Безопасность, Артефакты, Сроки и роли); the CJM and blueprint tables
//! follow as appendices. Markdown with plain tables, so it prints and
//! pastes anywhere. Russian as in the seed, or English for a reader of
//! the English studio (the studio's [`Locale`]); the maps' texts stay as
//! written. [`markdown`] is pure: the caller gathers a [`SpecInput`].

use super::blueprint::Lane;
use super::{communication, Map, MapContent, MapKind};
use crate::token::ApiToken;
use crate::{BotId, Endpoint, Locale};
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

/// The text of a pair in `language`.
fn pick<'a>(language: Locale, ru: &'a str, en: &'a str) -> &'a str {
    match language {
        Locale::Ru => ru,
        Locale::En => en,
    }
}

/// The spec as Markdown, in `language` (the maps' own texts stay as
/// written).
pub fn markdown(input: &SpecInput, language: Locale) -> String {
    let w = |ru: &'static str, en: &'static str| pick(language, ru, en);
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", w("Техническое задание на DMI-проект", "DMI project specification"), input.project_name.trim());

    // 1. Цель
    let _ = writeln!(out, "## 1. {}\n", w("Цель", "Goal"));
    let processes: Vec<String> = maps_of(input, MapKind::Communication)
        .map(|m| match &m.content {
            MapContent::Communication(c) if !c.process.trim().is_empty() => c.process.trim().to_string(),
            _ => m.title.clone(),
        })
        .collect();
    let goal = if input.project_description.trim().is_empty() { input.project_name.trim() } else { input.project_description.trim() };
    let _ = writeln!(out, "{}: {goal}\n", w("Интеграция мессенджеров в бизнес-процессы", "Messengers integrated into the business processes"));
    if !processes.is_empty() {
        let _ = writeln!(out, "{}:\n", w("Процессы (одна карта коммуникаций на процесс)", "Processes (one communication map per process)"));
        for p in &processes {
            let _ = writeln!(out, "- {p}");
        }
        out.push('\n');
    }
    for m in maps_of(input, MapKind::Cjm) {
        if let MapContent::Cjm(c) = &m.content {
            if !c.persona.trim().is_empty() {
                let _ = writeln!(out, "{} ({}): {}\n", w("Персона", "Persona"), m.title, c.persona.trim());
            }
        }
    }

    // 2. Системы
    let _ = writeln!(out, "## 2. {}\n", w("Системы", "Systems"));
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
    let _ = writeln!(out, "## 3. {}\n", w("Каналы", "Channels"));
    table(
        &mut out,
        &[w("Бот", "Bot"), "Id", "Username", w("Каналы", "Channels"), w("Назначение", "Purpose")],
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
    let _ = writeln!(out, "## 4. {}\n", w("Коммуникационные сценарии", "Communication scenarios"));
    for m in maps_of(input, MapKind::Communication) {
        let MapContent::Communication(c) = &m.content else { continue };
        let _ = writeln!(out, "### {} «{}» (v{})\n", w("Карта коммуникаций", "Communication map"), m.title, m.version);
        let mut header = vec![w("№", "No.")];
        header.extend(communication::COLUMNS.iter().map(|(_, ru, en)| w(ru, en)));
        header.extend([w("API / триггер", "API / trigger"), w("Сценарий", "Scenario")]);
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
        let _ = writeln!(out, "### {}\n", w("Сценарии ботов", "The bots' scenarios"));
        table(
            &mut out,
            &[w("Бот", "Bot"), w("Сценарий", "Scenario"), w("Версия", "Version"), w("Описание", "Description")],
            input.scenarios.iter().map(|s| vec![format!("`{}`", s.bot_id), format!("`{}`", s.name), s.version.to_string(), s.description.clone()]),
        );
    }

    // 5. API и события
    let _ = writeln!(out, "## 5. {}\n", w("API и события", "API and events"));
    out.push_str(w(
        "Бизнес-система вызывает `POST /bots/{botId}/call/{alias}` с `Authorization: Bearer {token}` и JSON-телом; \
         ответ `200 {\"success\": true, \"message\": \"Communication sent\", \"trace_id\": \"…\"}` после надёжного сохранения \
         события. Ошибки — JSON `{\"success\": false, \"message\": …}`: 401, 403, 404, 409, 413, 422 (по полям), 429, 500. \
         Документация и OpenAPI каждого бота: `/docs/{botId}`, `/docs/{botId}/openapi.json`.\n\n",
        "The business system calls `POST /bots/{botId}/call/{alias}` with `Authorization: Bearer {token}` and a JSON body; \
         the answer is `200 {\"success\": true, \"message\": \"Communication sent\", \"trace_id\": \"…\"}` once the event \
         is stored durably. Errors are JSON `{\"success\": false, \"message\": …}`: 401, 403, 404, 409, 413, 422 (per field), \
         429, 500. Each bot's documentation and OpenAPI: `/docs/{botId}`, `/docs/{botId}/openapi.json`.\n\n",
    ));
    table(
        &mut out,
        &["Endpoint Alias", "Method", "URL", w("Описание", "Description"), "Request Params", "Response", "Owner", w("Сценарий", "Scenario"), w("Режим", "Mode")],
        input.endpoints.iter().map(|e| {
            let mut mode: Vec<String> = Vec::new();
            if !e.enabled {
                mode.push(w("выключен", "disabled").into());
            }
            if e.isolated {
                mode.push(w("изолированный", "isolated").into());
            }
            if !e.on_blocked.is_empty() {
                mode.push(format!("{} `{}`", w("о блокировке сообщает", "a block is reported to"), e.on_blocked));
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
        let _ = writeln!(out, "### {} «{}» (v{})\n", w("Карта точек интеграции", "Integration points map"), m.title, m.version);
        let mut header = vec!["Endpoint Alias"];
        header.extend(super::integration::COLUMNS.iter().map(|(_, ru, en)| w(ru, en)));
        header.push(w("Привязка", "Bound to"));
        table(
            &mut out,
            &header,
            c.rows.iter().map(|r| {
                let mut row = vec![r.alias.as_ref().map(|a| format!("`{a}`")).unwrap_or_default()];
                row.extend(super::integration::COLUMNS.iter().map(|(f, _, _)| r.column(f).to_string()));
                let live = r.binding().map(|b| {
                    let exists = input.endpoints.iter().any(|e| e.bot_id == b.bot_id && e.alias == b.alias);
                    format!("`{}`{}", b.bot_id, if exists { "" } else { w(" (нет такого эндпоинта)", " (no such endpoint)") })
                });
                row.push(live.unwrap_or_default());
                row
            }),
        );
    }

    // 6. Идентификация
    let _ = writeln!(out, "## 6. {}\n", w("Идентификация пользователей", "User identification"));
    out.push_str(w(
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
        "End-to-end identity: `userId` (the business system) ↔ `leadId` (ComOps, e.g. `TG-9072612`) ↔ `chatId` \
         (the messenger). The link table keeps, for each link, `userId`, `leadId`, `chatId`, the channel, `isActive`, \
         `source` and `connected_at`; one lead may have several addresses in different channels.\n\n\
         How a link is made:\n\n\
         - deep link: the system asks `POST /bots/{botId}/links` for its `userId` and sends the person \
         `t.me/<bot>?start=<one-time code>`; pressing Start links `userId ↔ leadId ↔ chatId`;\n\
         - sign-in in the bot: a scenario asks for the phone or email, finds the user in the system and tells it \
         (`POST /users/connect-bot`);\n\
         - the identity API: `GET/POST /bots/{botId}/identities` (search, link, deactivate).\n\n\
         An API call's recipients: `userId`/`user_id` (through the link table), `userIds` (fan-out) or `leadId`. \
         An address that blocked the bot becomes inactive, its lead `stopped`.\n\n",
    ));
    let identity: Vec<&Endpoint> =
        input.endpoints.iter().filter(|e| e.alias.as_str().starts_with("users/")).collect();
    if !identity.is_empty() {
        out.push_str(w("Эндпоинты идентификации проекта: ", "The project's identity endpoints: "));
        out.push_str(&identity.iter().map(|e| format!("`{}` ({})", e.alias, e.bot_id)).collect::<Vec<_>>().join(", "));
        out.push_str("\n\n");
    }

    // 7. Метрики
    let _ = writeln!(out, "## 7. {}\n", w("Метрики", "Metrics"));
    table(
        &mut out,
        &[w("Метрика", "Metric"), w("Определение", "Definition")],
        [
            ("Delivery Rate", w("доставленные / отправленные сообщения", "delivered / sent messages")),
            ("Engagement Rate", w("лиды, ответившие в течение 24 ч / лиды, которым писали", "leads who replied within 24 h / leads messaged")),
            ("Response Time", w("медиана времени от сообщения бота до ответа лида", "median time from the bot's message to the lead's reply")),
            ("Conversion Rate", w("запуски, дошедшие до `end` с целью (`goal`) / все запуски", "runs that reached an `end` with a `goal` / all runs")),
            ("CSAT", w("среднее ответов-оценок (1–5)", "mean of the rating replies (1–5)")),
            ("Error Rate", w("неуспешные исходящие вызовы API / все исходящие вызовы API", "failed outbound API calls / all outbound API calls")),
        ]
        .into_iter()
        .map(|(a, b)| vec![format!("**{a}**"), b.to_string()]),
    );
    out.push_str(w(
        "Срезы: по эндпоинту, карте, сценарию, периоду; воронка Событие → Коммуникация → Ответ → Действие. Метрики также доступны на `/metrics` (Prometheus).\n\n",
        "Slices: per endpoint, map, scenario and period; the funnel Event → Communication → Reply → Action. The metrics are also on `/metrics` (Prometheus).\n\n",
    ));

    // 8. Безопасность
    let _ = writeln!(out, "## 8. {}\n", w("Безопасность", "Security"));
    // What this installation does now; what it lacks is said as a to-do.
    out.push_str(if input.security.https {
        w("- Все вызовы по HTTPS. ", "- Every call over HTTPS. ")
    } else {
        w(
            "- **Сервер отвечает по HTTP, не по HTTPS:** до запуска включить HTTPS (`comops serve --tls-cert … --tls-key …` или обратный прокси). ",
            "- **The server answers over HTTP, not HTTPS:** before going live, turn HTTPS on (`comops serve --tls-cert … --tls-key …` or a reverse proxy). ",
        )
    });
    out.push_str(w(
        "Каждый вызов API — с Bearer-токеном, токены хранятся хешированными и сравниваются за постоянное время.\n\
         - Токены ограничены по ботам, алиасам (или префиксам), действиям (`call`, `dry_run`, чтение/запись admin API) и сроку; секрет показывается один раз.\n\
         - Изолированные эндпоинты доступны только токенам, которые называют их явно.\n",
        "Every API call carries a Bearer token; tokens are stored hashed and compared in constant time.\n\
         - Tokens are limited to bots, aliases (or prefixes), actions (`call`, `dry_run`, reading/writing the admin API) and a lifetime; the secret is shown once.\n\
         - Isolated endpoints are reachable only by tokens that name them.\n",
    ));
    out.push_str(if input.security.encrypted_at_rest {
        w(
            "- Секреты каналов и интеграций и персональные данные (телефон, email, ответы людей) шифруются ключом из окружения (`COMOPS_DATA_KEY`); секреты не попадают в логи и трассы.\n",
            "- Channel and integration secrets and personal data (phone, email, people's replies) are encrypted with a key from the environment (`COMOPS_DATA_KEY`); no secret reaches a log or a trace.\n",
        )
    } else {
        w(
            "- **Ключ шифрования не задан (`COMOPS_DATA_KEY`):** секреты каналов и персональные данные хранятся без шифрования; до запуска задать ключ и выполнить `comops rotate-key`. Секреты не попадают в логи и трассы.\n",
            "- **No encryption key is set (`COMOPS_DATA_KEY`):** channel secrets and personal data are stored unencrypted; before going live, set a key and run `comops rotate-key`. No secret reaches a log or a trace.\n",
        )
    });
    out.push_str(w(
        "- Входящие вебхуки каналов проверяются по подписи или секрету; ограничение размера тела и частоты запросов.\n\
         - Роли (admin, architect, analyst, operator, viewer) проверяются на сервере; действия администраторов журналируются.\n\n",
        "- The channels' inbound webhooks are checked by signature or secret; request bodies and rates are limited.\n\
         - Roles (admin, architect, analyst, operator, viewer) are checked on the server; administrators' actions are audited.\n\n",
    ));
    let isolated: Vec<String> = input.endpoints.iter().filter(|e| e.isolated).map(|e| format!("`{}` ({})", e.alias, e.bot_id)).collect();
    let none = w("нет", "none").to_string();
    let _ = writeln!(out, "{}: {}\n", w("Изолированные эндпоинты", "Isolated endpoints"), if isolated.is_empty() { none } else { isolated.join(", ") });
    match &input.tokens {
        None => out.push_str(w("Токены доступа видны администраторам.\n\n", "Access tokens are shown to administrators.\n\n")),
        Some(tokens) if tokens.is_empty() => {}
        Some(tokens) => table(
            &mut out,
            &[w("Токен", "Token"), w("Боты", "Bots"), w("Алиасы", "Aliases"), w("Действия", "Actions"), w("Действует до", "Valid until"), w("Статус", "Status")],
            tokens.iter().map(|t| {
                let list = |v: Vec<String>, all: &str| if v.is_empty() { all.to_string() } else { v.join(", ") };
                vec![
                    t.name.clone(),
                    list(t.scope.bots.iter().map(|b| b.to_string()).collect(), w("все", "all")),
                    list(t.scope.aliases.iter().map(|a| a.to_string()).collect(), w("все неизолированные", "all not isolated")),
                    list(t.scope.actions.iter().map(|a| a.as_str().to_string()).collect(), "—"),
                    t.expires_at.map(date).unwrap_or_else(|| w("бессрочно", "no expiry").into()),
                    if t.revoked_at.is_some() { w("отозван", "revoked").into() } else { w("активен", "active").into() },
                ]
            }),
        ),
    }

    // 9. Артефакты
    let _ = writeln!(out, "## 9. {}\n", w("Артефакты", "Artifacts"));
    table(
        &mut out,
        &[w("Артефакт", "Artifact"), w("Название", "Title"), w("Версия", "Version"), w("Строк", "Rows"), w("Обновлено", "Updated"), w("Автор", "Author")],
        input.maps.iter().map(|m| {
            vec![w(m.kind.title_ru(), m.kind.title_en()).to_string(), m.title.clone(), m.version.to_string(), m.content.len().to_string(), date(m.updated_at), m.author.clone()]
        }),
    );
    let _ = match language {
        Locale::Ru => writeln!(
            out,
            "Таблица эндпоинтов: {} шт. (раздел 5); JSON-сценарии: {} шт. (раздел 4); экспорт проекта в JSON — `comops.project/v1`.\n",
            input.endpoints.len(),
            input.scenarios.len()
        ),
        Locale::En => writeln!(
            out,
            "Endpoint table: {} (section 5); JSON scenarios: {} (section 4); the project's JSON export is `comops.project/v1`.\n",
            input.endpoints.len(),
            input.scenarios.len()
        ),
    };

    // 10. Сроки и роли
    let _ = writeln!(out, "## 10. {}\n", w("Сроки и роли", "Timeline and roles"));
    let mut owners: Vec<Vec<String>> = Vec::new();
    for m in maps_of(input, MapKind::Cjm) {
        if let MapContent::Cjm(c) = &m.content {
            owners.extend(c.stages.iter().filter(|s| !s.owner.trim().is_empty()).map(|s| vec![format!("{} «{}»", w("Этап CJM", "CJM stage"), s.stage), s.owner.clone(), String::new()]));
        }
    }
    for e in &input.endpoints {
        if !e.owner.trim().is_empty() {
            owners.push(vec![format!("{} `{}`", w("Эндпоинт", "Endpoint"), e.alias), e.owner.clone(), String::new()]);
        }
    }
    if !owners.is_empty() {
        table(&mut out, &[w("Что", "What"), w("Ответственный", "Owner"), w("Срок", "Due")], owners);
    }
    table(
        &mut out,
        &[w("Этап внедрения", "Rollout step"), w("Действие", "Action"), w("Результат", "Result"), w("Срок", "Due")],
        [
            (
                w("1. Анализ процессов", "1. Process analysis"),
                w("выбираем ключевые сценарии (регистрация, заказ, поддержка)", "choose the key scenarios (registration, order, support)"),
                w("выявлены 3-5 процессов", "3–5 processes found"),
            ),
            (w("2. Построение карт коммуникаций", "2. Communication maps"), w("документируем все события и роли", "document every event and role"), w("готов набор карт", "a set of maps is ready")),
            (
                w("3. Определение точек интеграции", "3. Integration points"),
                w("проектируем эндпоинты, тело запроса, ответ", "design the endpoints, request bodies, answers"),
                w("API-документация согласована", "API documentation agreed"),
            ),
            (
                w("4. Реализация и тестирование", "4. Build and test"),
                w("создаём сценарии, интеграции, авторизацию", "build the scenarios, integrations, sign-in"),
                w("рабочий MVP", "a working MVP"),
            ),
            (w("5. Мониторинг и аналитика", "5. Monitoring and analytics"), w("подключаем BI, собираем метрики", "connect BI, collect the metrics"), w("контроль эффективности", "effectiveness under control")),
            (w("6. Масштабирование", "6. Scaling"), w("добавляем новые процессы", "add new processes"), w("зрелая коммуникационная инфраструктура", "a mature communication infrastructure")),
        ]
        .into_iter()
        .map(|(a, b, c)| vec![a.to_string(), b.to_string(), c.to_string(), String::new()]),
    );

    // Appendices: the strategic maps in full.
    for m in maps_of(input, MapKind::Cjm) {
        let MapContent::Cjm(c) = &m.content else { continue };
        let _ = writeln!(out, "## {}: Customer Journey Map «{}» (v{})\n", w("Приложение", "Appendix"), m.title, m.version);
        let mut header: Vec<&str> = super::cjm::COLUMNS.iter().map(|(_, ru, en)| w(ru, en)).collect();
        header.insert(4, w("Оценка эмоции", "Emotion score"));
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
        let _ = writeln!(out, "## {}: Service Blueprint «{}» (v{})\n", w("Приложение", "Appendix"), m.title, m.version);
        let mut header = vec![w("Уровень / Этап", "Lane / stage")];
        header.extend(b.stages.iter().map(|s| s.name.as_str()));
        let rows = Lane::ALL.iter().map(|lane| {
            let mut row = vec![format!("**{}**", lane.name(language))];
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
            let _ = writeln!(out, "- {} · {}: {}{}", c.line.name(language), stage, c.note, if c.upward { " (↑)" } else { " (↓)" });
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
