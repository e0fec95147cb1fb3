//! The demo project: the seed methodology's cases as data, so a newcomer's
//! first `comops serve --demo` shows something real.
//!
//! One project, four bots — e-commerce order notifications, REHAU
//! installers, the Fmlst family site and a helpdesk. Ids are fixed
//! (`prj_demo`, `bot_shop`, …) so the README's examples work as written.
//! Later layers (endpoints, maps, scenarios) add their part of each case in
//! their own seed functions.
//!
//! The maps ([`DEMO_MAPS`]) are the seed's tables, in Russian as written
//! there: the registration CJM and the onboarding Service Blueprint, the
//! communication maps of REHAU, e-commerce, Fmlst (both of its tables),
//! the helpdesk and the registration example, the communication-map
//! template and the integration-points template. Rows whose
//! endpoint the demo has are bound to it, and the registration case is
//! linked through the whole ComOps loop (CJM stage → map rows → blueprint
//! cells → endpoint).

use crate::bot::BotDraft;
use crate::project::ProjectDraft;
use crate::store::{Store, StoreError, StoreResult};
use crate::{BotId, ProjectId};

pub const DEMO_PROJECT: &str = "prj_demo";

/// The four demo bots: id, name, Telegram username, what it does.
pub const DEMO_BOTS: [(&str, &str, &str, &str); 4] = [
    (
        "bot_shop",
        "Shop notifications",
        "comops_shop_bot",
        "E-commerce: order thank-you, status, delivery, review (/order/thank-you, /order/status, /order/delivered, /order/review).",
    ),
    (
        "bot_rehau",
        "REHAU installers",
        "rehau_installers_bot",
        "REHAU portal ↔ installers in Telegram: registration, webinar invites, feedback (/users/connect-bot, /events/webinar-invite).",
    ),
    (
        "bot_fmlst",
        "Fmlst family",
        "fmlst_family_bot",
        "Family site: new posts, comments and members reach every family member (/post/new, /comment/new, /users/new).",
    ),
    (
        "bot_helpdesk",
        "Helpdesk",
        "helpdesk_support_bot",
        "Helpdesk ⇌ Telegram / web chat: ticket created, operator replied, rate the service (/ticket/new, /ticket/reply, /ticket/feedback).",
    ),
];

/// Creates the demo project and its bots unless the project exists (or
/// existed: someone deleted it, and its bots' ids are retired), and
/// with `integration` also their endpoints, scenarios and the seed's maps
/// (tests that bring their own endpoints ask for the bots only). Returns whether anything was
/// created.
pub async fn seed(store: &Store, integration: bool) -> StoreResult<bool> {
    let Some(project_id) = ProjectId::parse(DEMO_PROJECT) else { return Ok(false) };
    match store.project(&project_id).await {
        Ok(_) => return Ok(false),
        Err(StoreError::NotFound) => {}
        Err(other) => return Err(other),
    }
    let draft = ProjectDraft {
        name: "ComOps demo".into(),
        slug: "demo".into(),
        description: "The DMI methodology's cases: e-commerce, REHAU installers, Fmlst family site, helpdesk.".into(),
    };
    let valid = draft.validate().map_err(|_| StoreError::NotFound)?;
    // A demo someone deleted stays deleted: its bots' ids are retired,
    // and a bot made under one would take over what the old one left.
    for (id, ..) in DEMO_BOTS {
        if let Some(id) = BotId::parse(id) {
            if store.bot_id_retired(&id).await? {
                return Ok(false);
            }
        }
    }
    store.create_project(&valid, None, Some(project_id.clone())).await?;
    for (id, name, username, description) in DEMO_BOTS {
        let draft = BotDraft { name: name.into(), username: username.into(), description: description.into(), enabled: true };
        let valid = draft.validate().map_err(|_| StoreError::NotFound)?;
        store.create_bot(&project_id, &valid, BotId::parse(id)).await?;
    }
    if integration {
        seed_integration(store).await?;
        seed_maps(store, &project_id).await?;
    }
    Ok(true)
}

/// The methodology's integration-point tables as endpoints: (bot, alias,
/// description, owner, scenario, request fields `name:type[!]`, example).
const DEMO_ENDPOINTS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    ("bot_shop", "order/thank-you", "Благодарность за заказ", "ecommerce-team", "order_thank_you", "order_id:integer! user_id:string! amount:number status:string", r#"{"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"}"#),
    ("bot_shop", "order/status", "Сообщаем об отправке", "ecommerce-team", "order_status", "orderId:integer! userId:string! status:string", r#"{"orderId": 9821, "userId": "54321", "status": "shipped"}"#),
    ("bot_shop", "order/delivered", "Просим оставить отзыв", "ecommerce-team", "order_delivered", "orderId:integer! userId:string!", r#"{"orderId": 9821, "userId": "54321"}"#),
    ("bot_shop", "order/review", "Отправляем бонус за отзыв", "ecommerce-team", "order_review", "orderId:integer! userId:string!", r#"{"orderId": 9821, "userId": "54321"}"#),
    ("bot_rehau", "users/connect-bot", "Привязка пользователя к боту", "REHAU portal", "registration_flow", "userId:integer!", r#"{"userId": 125}"#),
    ("bot_rehau", "events/webinar-invite", "Вы приглашены на обучение", "REHAU portal", "webinar_invite", "userId:integer! title:string! date:string!", r#"{"userId": 125, "title": "Монтаж RAUTHERM", "date": "сегодня в 10:00"}"#),
    ("bot_rehau", "events/webinar-feedback", "Оцените качество обучения", "REHAU portal", "webinar_feedback", "userId:integer!", r#"{"userId": 125}"#),
    ("bot_rehau", "feedback/received", "Спасибо за обратную связь", "REHAU BI", "", "userId:integer!", r#"{"userId": 125}"#),
    ("bot_fmlst", "post/new", "В семье новое событие", "Fmlst CMS", "post_notice", "postId:integer! userIds:array!", r#"{"postId": 7, "userIds": [1, 2, 3]}"#),
    ("bot_fmlst", "comment/new", "Кто-то прокомментировал ваш пост", "Fmlst CMS", "comment_notice", "postId:integer! authorId:integer! userIds:array!", r#"{"postId": 7, "authorId": 1, "userIds": [2]}"#),
    ("bot_fmlst", "users/new", "Добро пожаловать в семью", "Fmlst CMS", "", "userId:integer! userIds:array!", r#"{"userId": 4, "userIds": [1, 2, 3]}"#),
    ("bot_helpdesk", "ticket/new", "Ваша заявка создана", "Helpdesk", "ticket_created", "ticketId:integer! userId:string!", r#"{"ticketId": 501, "userId": "125"}"#),
    ("bot_helpdesk", "ticket/reply", "Ваш вопрос решён?", "Helpdesk", "", "ticketId:integer! userId:string!", r#"{"ticketId": 501, "userId": "125"}"#),
    ("bot_helpdesk", "ticket/feedback", "Пожалуйста, оцените качество", "Helpdesk", "", "ticketId:integer! userId:string!", r#"{"ticketId": 501, "userId": "125"}"#),
];

/// Scenarios of the demo (JSON as the studio and API store them).
pub const DEMO_SCENARIOS: &[(&str, &str)] = &[
    ("bot_shop", r#"{"name": "order_thank_you", "start": "thanks", "steps": [
        {"id": "thanks", "type": "message", "text": "Спасибо за покупку! Заказ №{{ params.order_id }} на {{ params.amount }} ₽ оплачен.", "next": "done"},
        {"id": "done", "type": "end", "goal": "thanked"}]}"#),
    ("bot_shop", r#"{"name": "order_status", "start": "shipped", "steps": [
        {"id": "shipped", "type": "message", "text": "Ваш заказ №{{ params.orderId }} отправлен!", "next": "done"},
        {"id": "done", "type": "end"}]}"#),
    ("bot_shop", r#"{"name": "order_delivered", "start": "rate", "steps": [
        {"id": "rate", "type": "ask", "prompt": "Заказ №{{ params.orderId }} доставлен. Оцените доставку от 1 до 5", "expect": "rating", "var": "rating", "timeout_sec": 86400, "next": "thanks", "on_no_reply": "done"},
        {"id": "thanks", "type": "message", "text": "Спасибо за оценку!", "next": "reviewed"},
        {"id": "reviewed", "type": "end", "goal": "reviewed"},
        {"id": "done", "type": "end"}]}"#),
    ("bot_shop", r#"{"name": "order_review", "start": "bonus", "steps": [
        {"id": "bonus", "type": "message", "text": "Спасибо за отзыв о заказе №{{ params.orderId }}! Мы начислили вам 200 бонусов.", "next": "tag"},
        {"id": "tag", "type": "set", "add_tags": ["reviewer"], "next": "done"},
        {"id": "done", "type": "end", "goal": "bonus_sent"}]}"#),
    ("bot_fmlst", r#"{"name": "post_notice", "start": "notice", "steps": [
        {"id": "notice", "type": "message", "text": "В семье новое событие: пост №{{ params.postId }}. Загляните!", "next": "done"},
        {"id": "done", "type": "end"}]}"#),
    ("bot_fmlst", r#"{"name": "comment_notice", "start": "notice", "steps": [
        {"id": "notice", "type": "message", "text": "Кто-то прокомментировал ваш пост №{{ params.postId }}.", "next": "done"},
        {"id": "done", "type": "end"}]}"#),
    ("bot_helpdesk", r#"{"name": "ticket_created", "start": "created", "steps": [
        {"id": "created", "type": "message", "text": "Ваша заявка №{{ params.ticketId }} создана. Мы ответим в течение дня.", "next": "done"},
        {"id": "done", "type": "end"}]}"#),
    ("bot_helpdesk", r#"{"name": "menu", "description": "Entry scenario: whoever writes in without a waiting run", "start": "ask", "steps": [
        {"id": "ask", "type": "ask", "prompt": "Здравствуйте! Это поддержка. Опишите проблему одной фразой — или позовите оператора.", "expect": "text", "var": "problem",
         "buttons": [{"label": "Позвать оператора", "kind": "inline", "value": "operator"}], "next": "route"},
        {"id": "route", "type": "if", "condition": "vars.problem == 'operator'", "then": "human", "otherwise": "thanks"},
        {"id": "human", "type": "handover", "note": "asked for an operator", "next": "wait_note"},
        {"id": "wait_note", "type": "message", "text": "Передаю разговор оператору, он скоро ответит.", "next": "done"},
        {"id": "thanks", "type": "message", "text": "Заявка принята: «{{ vars.problem }}». Мы ответим здесь.", "next": "remember"},
        {"id": "remember", "type": "set", "attributes": {"last_problem": "{{ vars.problem }}"}, "add_tags": ["helpdesk"], "next": "done"},
        {"id": "done", "type": "end", "goal": "ticket"}]}"#),
    ("bot_rehau", r#"{"name": "registration_flow", "start": "greet", "steps": [
        {"id": "greet", "type": "message", "text": "Здравствуйте! Чтобы продолжить, авторизуйтесь.", "next": "phone"},
        {"id": "phone", "type": "ask", "prompt": "Подтвердите ваш номер телефона кнопкой ниже.", "expect": "contact", "var": "phone", "next": "confirm"},
        {"id": "confirm", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/user/confirm", "body": "{\"userId\": \"{{ params.userId }}\", \"phone\": \"{{ vars.phone }}\"}", "save_as": "crm", "next": "welcome", "on_error": "sorry"},
        {"id": "welcome", "type": "message", "text": "Добро пожаловать, {{ vars.crm.json.name }}! Ваш личный кабинет активирован.", "next": "done"},
        {"id": "sorry", "type": "message", "text": "Не получилось активировать кабинет, мы уже разбираемся.", "next": "failed"},
        {"id": "done", "type": "end", "goal": "registered"},
        {"id": "failed", "type": "end"}]}"#),
    ("bot_rehau", r#"{"name": "webinar_invite", "start": "invite", "steps": [
        {"id": "invite", "type": "message", "text": "Вы приглашены на обучение «{{ params.title }}» {{ params.date }}", "next": "done"},
        {"id": "done", "type": "end", "goal": "invited"}]}"#),
    ("bot_rehau", r#"{"name": "webinar_feedback", "start": "rate", "steps": [
        {"id": "rate", "type": "ask", "prompt": "Оцените качество обучения от 1 до 5", "expect": "rating", "var": "rating", "timeout_sec": 172800, "next": "thanks", "on_no_reply": "done"},
        {"id": "thanks", "type": "message", "text": "Спасибо за обратную связь!", "next": "rated"},
        {"id": "rated", "type": "end", "goal": "feedback"},
        {"id": "done", "type": "end"}]}"#),
];

/// The endpoints' example users as leads of the demo bots, linked on
/// Telegram: (bot, business user id, chat id). With them the examples'
/// bodies (`"userId": 125`, `"userIds": [1, 2, 3]`, …) reach someone: a
/// test event names the lead and shows what they would get, and a call
/// runs the scenario for them (its messages are dead letters, which an
/// admin can re-drive, until the bot has a Telegram token and the chats
/// are real ones).
pub const DEMO_LEADS: [(&str, &str, &str); 7] = [
    ("bot_shop", "54321", "7000101"),
    ("bot_rehau", "125", "7000201"),
    ("bot_fmlst", "1", "7000301"),
    ("bot_fmlst", "2", "7000302"),
    ("bot_fmlst", "3", "7000303"),
    ("bot_fmlst", "4", "7000304"),
    ("bot_helpdesk", "125", "7000401"),
];

/// Links [`DEMO_LEADS`] to leads `TG-<chat id>` (`comops serve --demo
/// --demo-leads`); a user with any link on that bot (active or not) is
/// left as they are, so a restart links nobody twice nor brings back a
/// link someone took away, and a demo bot that was deleted is passed
/// over. How many were linked.
pub async fn seed_leads(store: &Store) -> StoreResult<usize> {
    use crate::store::identities::IdentityLink;
    use crate::store::leads::IdentityFilter;
    let mut linked = 0;
    for (bot, user, chat) in DEMO_LEADS {
        let Some(bot) = BotId::parse(bot) else { continue };
        match store.bot(&bot).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => continue,
            Err(other) => return Err(other),
        }
        let filter = IdentityFilter { user_id: Some(user.to_string()), ..Default::default() };
        if !store.identities(&bot, &filter, 1).await?.is_empty() {
            continue;
        }
        store.link_identity(&bot, &IdentityLink::telegram(user, &format!("TG-{chat}"), chat, "demo")).await?;
        linked += 1;
    }
    Ok(linked)
}

/// Endpoints and scenarios of the demo bots.
async fn seed_integration(store: &Store) -> StoreResult<()> {
    use crate::endpoint::EndpointDraft;
    use crate::schema::{FieldKind, RequestSchema, SchemaField};
    for (bot, alias, description, owner, scenario, fields, example) in DEMO_ENDPOINTS {
        let fields = fields
            .split_whitespace()
            .filter_map(|spec| {
                let (name, kind) = spec.split_once(':')?;
                let required = kind.ends_with('!');
                let kind = FieldKind::parse(kind.trim_end_matches('!'))?;
                Some(SchemaField { name: name.into(), kind, required, enum_values: vec![], format: None, description: String::new() })
            })
            .collect();
        let draft = EndpointDraft {
            alias: (*alias).into(),
            description: (*description).into(),
            owner: (*owner).into(),
            schema: RequestSchema { fields },
            example: (*example).into(),
            response_description: r#"{"success": true, "message": "Communication sent", "trace_id": "…"}"#.into(),
            enabled: true,
            scenario: (*scenario).into(),
            ..Default::default()
        };
        let (Some(bot), Ok(valid)) = (BotId::parse(bot), draft.validate()) else { continue };
        store.create_endpoint(&bot, &valid).await?;
    }
    for (bot, json) in DEMO_SCENARIOS {
        let parsed = serde_json::from_str::<crate::scenario::Scenario>(json);
        let (Some(bot), Ok(scenario)) = (BotId::parse(bot), parsed) else {
            tracing::error!("a demo scenario does not parse; skipped");
            continue;
        };
        match scenario.validate() {
            Ok(()) => {
                store.save_scenario(&bot, &scenario, "demo", "demo").await?;
            }
            Err(errors) => tracing::error!(scenario = %scenario.name, ?errors, "a demo scenario is invalid; skipped"),
        }
    }
    // Whoever writes to the helpdesk bot (e.g. in its web chat) meets its menu.
    if let Some(helpdesk) = BotId::parse("bot_helpdesk") {
        store.set_bot_channel(&helpdesk, "entry", &serde_json::json!({"scenario": "menu"})).await?;
    }
    Ok(())
}

/// The demo maps: (id, title, kind).
pub const DEMO_MAPS: [(&str, &str, crate::map::MapKind); 10] = {
    use crate::map::MapKind::*;
    [
        ("map_registration-cjm", "Регистрация и онбординг в Telegram-боте", Cjm),
        ("map_onboarding-blueprint", "Онбординг нового клиента в сервисе", Blueprint),
        ("map_rehau", "Коммуникационная карта для REHAU", Communication),
        ("map_shop", "Карта коммуникаций eCommerce", Communication),
        ("map_fmlst", "Семейный сервис Fmlst", Communication),
        ("map_helpdesk", "Helpdesk-интеграция", Communication),
        ("map_registration", "Коммуникационная карта регистрации пользователя", Communication),
        ("map_fmlst-feed", "Пример из кейса Fm1st (семейный сайт)", Communication),
        ("map_template", "Шаблон карты коммуникаций", Communication),
        ("map_integration-points", "Шаблон таблицы точек интеграции", Integration),
    ]
};

/// A link to an item of a demo map.
fn item(map: &str, item: &str) -> serde_json::Value {
    serde_json::json!({"map": map, "item": item})
}

/// A communication-map row: (number, event, communication, participants,
/// channel, user action, result, bot, alias, scenario) + links.
#[allow(clippy::too_many_arguments)]
fn comm_row(
    n: i64,
    event: &str,
    communication: &str,
    participants: &str,
    channel: &str,
    user_action: &str,
    result: &str,
    bot: Option<&str>,
    alias: &str,
    scenario: &str,
    stages: Vec<serde_json::Value>,
    cells: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "id": format!("r{n}"), "number": n, "event": event, "communication": communication,
        "participants": participants, "channel": channel, "user_action": user_action, "result": result,
        "trigger": {"bot_id": bot, "alias": alias, "scenario": scenario},
        "stages": stages, "cells": cells,
    })
}

/// The content of demo map `id` (JSON as the studio submits it).
fn demo_map_content(id: &str) -> serde_json::Value {
    use serde_json::json;
    const CJM: &str = "map_registration-cjm";
    const BP: &str = "map_onboarding-blueprint";
    // The seed's emotion column was emoji pictures; they are written out
    // here with a score for the curve.
    let stage = |id: &str, cols: [&str; 9], emotions: &str, score: i8| {
        json!({"id": id, "stage": cols[0], "goal": cols[1], "actions": cols[2], "emotions": emotions, "emotion_score": score,
               "needs": cols[3], "touchpoints": cols[4], "communication": cols[5], "integrations": cols[6],
               "opportunities": cols[7], "owner": cols[8]})
    };
    let lanes = |id: &str, name: &str, cells: [&str; 4], cjm: Option<&str>| {
        json!({"id": id, "name": name,
               "customer_actions": {"text": cells[0]}, "front_stage": {"text": cells[1]},
               "back_stage": {"text": cells[2]}, "support": {"text": cells[3]},
               "cjm_stages": cjm.map(|s| vec![item(CJM, s)]).unwrap_or_default()})
    };
    match id {
        CJM => json!({
            "persona": "Новый пользователь, пришедший из соцсетей или по ссылке друга; хочет быстро понять ценность сервиса без установки приложений.",
            "stages": [
                stage("awareness", ["Осведомленность", "Узнать о сервисе", "Читает пост / получает ссылку от друга", "Не хочет тратить время на установку приложений", "Соцсети, лендинг", "Сообщение бота «Привет! Расскажу, как всё работает без регистрации»", "Tilda, UTM-метки", "Добавить СТА с быстрым переходом в бот", "Маркетолог"], "🤔 любопытство", 0),
                stage("registration", ["Регистрация", "Создать профиль", "Пишет в бот, вводит номер", "Беспокоится о безопасности данных", "Telegram", "Сценарий registration_flow — запрос контакта", "CRM / API /users/connect-bot", "Сократить шагов регистрации", "Архитектор ComOps"], "😟 тревога", -1),
                stage("first-use", ["Первое использование", "Проверить, как работает", "Проходит интродуктор", "Хочет быстро понять ценность", "Telegram бот", "Сценарий welcome_tour — мини-онбординг", "Metabot / CMS", "Добавить короткое видеодемо", "Продакт"], "🙂 интерес", 1),
                stage("feedback", ["Обратная связь", "Поделиться впечатлением", "Оценивает опыт", "Хочет, чтобы отзыв был учтён", "Telegram", "Сценарий feedback_form — опрос NPS", "BI / Webhook /feedback/received", "Добавить благодарственное сообщение", "Аналитик"], "😐 ожидание", 0),
                stage("retention", ["Повторное взаимодействие", "Получить пользу повторно", "Возвращается по напоминанию", "Хочет регулярных советов", "Telegram, Email", "Сценарий retention_tips — серия полезных сообщений", "CRM, Mailer", "Тестировать контент-пуши", "Маркетолог"], "😊 доверие", 2),
            ]
        }),
        BP => {
            let mut registration = lanes("registration", "Registration", ["Вводит номер, получает приветствие", "Бот: сценарий registration_flow", "Сервис Metabot создаёт запись leadId ↔ userId", "CRM, API /users/connect-bot"], Some("registration"));
            registration["support"]["endpoints"] = json!([{"bot_id": "bot_rehau", "alias": "users/connect-bot"}]);
            json!({
                "persona": "Новый клиент сервиса: онбординг от первого касания до продления.",
                "stages": [
                    lanes("awareness", "Awareness", ["Видит пост в Telegram и переходит в бот", "Сообщение от маркетолога, ссылка на бот", "CRM создаёт лид по ссылке UTM", "Telegram Ads, Analytics"], Some("awareness")),
                    registration,
                    lanes("first-use", "First Use", ["Проходит мини-инструкцию", "Бот: сценарий welcome_tour", "Система Metabot обновляет атрибуты", "Metabot Runtime, JS scripts"], Some("first-use")),
                    lanes("support", "Support", ["Задает вопрос в чате", "Оператор отвечает вручную", "Support CRM создаёт тикет", "Helpdesk, Knowledge Base"], None),
                    lanes("feedback", "Feedback", ["Оценивает опыт", "Бот: feedback_form", "BI фиксирует NPS-ответ", "BI, PostgreSQL, DataLens"], Some("feedback")),
                    lanes("renewal", "Renewal", ["Получает напоминание о продлении", "Email или бот: renewal_offer", "CRM обновляет статус подписки", "CRM + Mailer"], Some("retention")),
                ],
                "crossings": [
                    {"id": "x1", "stage": "registration", "line": "interaction", "note": "Пользователь отправляет контакт боту"},
                    {"id": "x2", "stage": "registration", "line": "visibility", "note": "Бот вызывает /users/connect-bot — CRM связывает userId с ботом"},
                    {"id": "x3", "stage": "feedback", "line": "internal_interaction", "upward": true, "note": "Webhook /feedback/received из BI"},
                ]
            })
        }
        "map_rehau" => json!({
            "process": "Коммуникации REHAU с монтажниками: портал → ComOps → Telegram → ответ в CRM и BI",
            "rows": [
                comm_row(1, "Монтажник зарегистрировался на портале", "“Добро пожаловать!”", "Монтажник", "Telegram", "Подтверждает телефон", "Личный кабинет активирован", Some("bot_rehau"), "users/connect-bot", "registration_flow",
                    vec![item(CJM, "registration")], vec![item(BP, "registration:front_stage"), item(BP, "registration:support")]),
                comm_row(2, "Назначен новый вебинар", "“Вы приглашены на обучение”", "Монтажник", "Telegram", "—", "Приглашение получено", Some("bot_rehau"), "events/webinar-invite", "webinar_invite", vec![], vec![]),
                comm_row(3, "Вебинар завершён", "“Оцените качество обучения”", "Монтажник", "Telegram", "Ставит оценку 1–5", "Оценка уходит в CRM и BI", Some("bot_rehau"), "events/webinar-feedback", "webinar_feedback",
                    vec![item(CJM, "feedback")], vec![item(BP, "feedback:front_stage")]),
                comm_row(4, "Отзыв отправлен", "“Спасибо за обратную связь”", "Монтажник", "Telegram", "—", "Новая строка в аналитике BI", Some("bot_rehau"), "feedback/received", "", vec![item(CJM, "feedback")], vec![]),
            ]
        }),
        "map_shop" => json!({
            "process": "Заказ в интернет-магазине: от оплаты до отзыва",
            "rows": [
                comm_row(1, "Новый заказ", "“Спасибо за покупку!”", "Клиент", "Telegram", "—", "Отправляем благодарность и детали заказа", Some("bot_shop"), "order/thank-you", "order_thank_you", vec![], vec![]),
                comm_row(2, "Статус заказа изменён", "“Ваш заказ отправлен!”", "Клиент", "Telegram, Email", "Подтверждение доставки", "Сообщаем об отправке", Some("bot_shop"), "order/status", "order_status", vec![], vec![]),
                comm_row(3, "Доставка завершена", "“Оцените доставку”", "Клиент", "Telegram", "Ответить оценкой", "Просим оставить отзыв", Some("bot_shop"), "order/delivered", "order_delivered", vec![], vec![]),
                comm_row(4, "Новый отзыв", "“Спасибо за отзыв!”", "Клиент", "Telegram", "—", "Отправляем бонус", Some("bot_shop"), "order/review", "order_review", vec![], vec![]),
            ]
        }),
        "map_fmlst" => json!({
            "process": "Fmlst CMS → ComOps → Telegram → пользователи семьи",
            "rows": [
                comm_row(1, "Новая публикация", "“В семье новое событие!”", "Все члены семьи", "Telegram", "—", "Получили уведомление и ссылку", Some("bot_fmlst"), "post/new", "post_notice", vec![], vec![]),
                comm_row(2, "Новый комментарий", "“Кто-то прокомментировал пост”", "Автор публикации", "Telegram", "—", "Переход в диалог", Some("bot_fmlst"), "comment/new", "comment_notice", vec![], vec![]),
                comm_row(3, "Новый участник семьи", "“Добро пожаловать в семью!”", "Все пользователи", "Telegram", "—", "Подтверждение изменений", Some("bot_fmlst"), "users/new", "", vec![], vec![]),
            ]
        }),
        "map_helpdesk" => json!({
            "process": "Helpdesk ⇌ ComOps ⇌ Telegram / Webchat",
            "rows": [
                comm_row(1, "Новый тикет", "“Ваша заявка создана”", "Клиент, оператор", "Telegram", "Может ответить", "Клиент получает ответ мгновенно", Some("bot_helpdesk"), "ticket/new", "ticket_created", vec![], vec![item(BP, "support:back_stage")]),
                comm_row(2, "Ответ оператора", "“Ваш вопрос решён?”", "Клиент", "Telegram", "Может ответить", "Поддержка видит ответ в CRM", Some("bot_helpdesk"), "ticket/reply", "", vec![], vec![item(BP, "support:front_stage")]),
                comm_row(3, "Оценка обслуживания", "“Пожалуйста, оцените качество”", "Клиент", "Telegram", "Может оценить", "Тикет закрывается при подтверждении", Some("bot_helpdesk"), "ticket/feedback", "", vec![], vec![]),
            ]
        }),
        "map_registration" => json!({
            "process": "Регистрация пользователя",
            "rows": [
                comm_row(1, "Пользователь зарегистрировался", "Приветствие + сбор данных", "Пользователь", "Telegram", "Ввести имя, город", "", None, "user/register", "registration_flow", vec![item(CJM, "registration")], vec![]),
                comm_row(2, "Email не подтверждён", "Напоминание о подтверждении", "Пользователь", "Telegram", "Нажать кнопку “Подтвердить”", "", None, "user/email", "email_confirm", vec![item(CJM, "registration")], vec![]),
                comm_row(3, "Профиль заполнен", "Спасибо + стартовая инструкция", "Пользователь", "Telegram", "—", "", None, "user/complete", "welcome_final", vec![item(CJM, "first-use")], vec![]),
            ]
        }),
        // The methodology's first Fmlst table: the family feed, with the
        // profile update that has no endpoint yet (a gap in the loop).
        "map_fmlst-feed" => json!({
            "process": "Живая лента событий семьи",
            "rows": [
                comm_row(1, "Создана новая публикация", "“В семье появилось новое событие!”", "Все участники семьи", "Telegram", "", "Получили уведомление и ссылку", Some("bot_fmlst"), "post/new", "post_notice", vec![], vec![]),
                comm_row(2, "Добавлен комментарий", "“Кто-то прокомментировал ваш пост”", "Автор публикации", "Telegram", "", "Переход в диалог", Some("bot_fmlst"), "comment/new", "comment_notice", vec![], vec![]),
                comm_row(3, "Обновлена анкета", "“Новые данные в профиле семьи”", "Владельцы профиля", "Telegram", "", "Подтверждение изменений", None, "", "", vec![], vec![]),
            ]
        }),
        // The practical template: its third row plans `/order/feedback`,
        // which the shop does not have yet (the shop asks for the review
        // at `/order/delivered`).
        "map_template" => json!({
            "process": "Рабочая таблица при проектировании DMI",
            "rows": [
                comm_row(1, "Новый заказ", "“Спасибо за заказ”", "Клиент", "Telegram", "—", "", Some("bot_shop"), "order/thank-you", "order_thank_you", vec![], vec![]),
                comm_row(2, "Изменился статус заказа", "“Ваш заказ отправлен”", "Клиент", "Telegram", "Подтверждение доставки", "", Some("bot_shop"), "order/status", "order_status", vec![], vec![]),
                comm_row(3, "Заказ доставлен", "“Пожалуйста, оставьте отзыв”", "Клиент", "Telegram", "Ответить оценкой", "", None, "order/feedback", "", vec![], vec![]),
            ]
        }),
        "map_integration-points" => json!({
            "rows": [
                {"id": "r1", "alias": "users/connect-bot", "bot_id": "bot_rehau", "method": "POST", "url": "/bots/{botId}/call/users/connect-bot", "description": "Привязка пользователя к боту", "request": "{ userId }", "response": "{ success: true }", "owner": "REHAU portal"},
                {"id": "r2", "alias": "order/thank-you", "bot_id": "bot_shop", "method": "POST", "url": "/bots/{botId}/call/order/thank-you", "description": "Благодарность за заказ", "request": "{ orderId, userId }", "response": "{ success: true }", "owner": "ecommerce-team"},
                {"id": "r3", "alias": "comment/new", "bot_id": "bot_fmlst", "method": "POST", "url": "/bots/{botId}/call/comment/new", "description": "Новый комментарий", "request": "{ postId, authorId, userIds }", "response": "{ success: true }", "owner": "Fmlst CMS"},
            ]
        }),
        _ => json!({}),
    }
}

/// The seed's maps in the demo project.
async fn seed_maps(store: &Store, project: &ProjectId) -> StoreResult<()> {
    let start = crate::store::now_millis();
    for (i, (id, title, kind)) in DEMO_MAPS.into_iter().enumerate() {
        let (Some(map_id), content) = (crate::map::MapId::parse(id), crate::map::MapContent::from_value(kind, &demo_map_content(id)))
        else {
            continue;
        };
        match content {
            Ok(content) => {
                store.create_map_with_id(project, map_id, title, &content, "demo", start + i as i64).await?;
            }
            Err(errors) => tracing::error!(map = id, ?errors, "a demo map is invalid; skipped"),
        }
    }
    Ok(())
}
