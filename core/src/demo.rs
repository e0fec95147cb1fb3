//! The demo project: the seed methodology's cases as data, so a newcomer's
//! first `comops serve --demo` shows something real.
//!
//! One project, four bots — e-commerce order notifications, REHAU
//! installers, the Fmlst family site and a helpdesk. Ids are fixed
//! (`prj_demo`, `bot_shop`, …) so the README's examples work as written.
//! Later layers (endpoints, maps, scenarios) add their part of each case in
//! their own seed functions.

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

/// Creates the demo project and its bots unless the project exists, and
/// with `integration` also their endpoints and scenarios (tests that bring
/// their own endpoints ask for the bots only). Returns whether anything was
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
    store.create_project(&valid, None, Some(project_id.clone())).await?;
    for (id, name, username, description) in DEMO_BOTS {
        let draft = BotDraft { name: name.into(), username: username.into(), description: description.into(), enabled: true };
        let valid = draft.validate().map_err(|_| StoreError::NotFound)?;
        store.create_bot(&project_id, &valid, BotId::parse(id)).await?;
    }
    if integration {
        seed_integration(store).await?;
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
const DEMO_SCENARIOS: &[(&str, &str)] = &[
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
