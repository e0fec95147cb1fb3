//! The maps' pure tools, on the seed's own tables: CSV of every kind of
//! map out and back in (exactly), CSV mistakes reported by line and column in both languages,
//! the side-by-side diff of two versions, the «ТЗ на DMI-проект» export
//! and the ComOps loop.

use comops_core::map::csv::{self, CsvProblem};
use comops_core::map::diff::{diff, Change};
use comops_core::map::links::loop_view;
use comops_core::map::spec::{markdown, SpecBot, SpecInput, SpecScenario, SpecSecurity};
use comops_core::map::{Map, MapContent, MapId, MapKind};
use comops_core::validation::Problem;
use comops_core::{BotId, Locale, ProjectId};
use serde_json::json;

fn content(kind: MapKind, value: serde_json::Value) -> MapContent {
    MapContent::from_value(kind, &value).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The seed's registration CJM, with the awkward characters spreadsheets meet.
fn registration_cjm() -> MapContent {
    content(
        MapKind::Cjm,
        json!({"persona": "Новый пользователь", "stages": [
            {"id": "awareness", "stage": "Осведомленность", "goal": "Узнать о сервисе", "actions": "Читает пост / получает ссылку от друга",
             "emotions": "🤔", "emotion_score": 0, "needs": "Не хочет тратить время на установку приложений", "touchpoints": "Соцсети, лендинг",
             "communication": "Сообщение бота «Привет! Расскажу, как всё работает без регистрации»", "integrations": "Tilda, UTM-метки",
             "opportunities": "Добавить СТА с быстрым переходом в бот", "owner": "Маркетолог"},
            {"id": "registration", "stage": "Регистрация", "goal": "Создать профиль", "actions": "Пишет в бот; вводит номер",
             "emotions": "😟 \"тревога\"", "emotion_score": -2, "needs": "Беспокоится о безопасности данных\r\nи о спаме", "touchpoints": "Telegram",
             "communication": "Сценарий registration_flow — запрос контакта", "integrations": "CRM / API /users/connect-bot",
             "opportunities": "  Сократить шагов регистрации", "owner": "Архитектор ComOps"}
        ]}),
    )
}

fn rehau_map() -> MapContent {
    content(
        MapKind::Communication,
        json!({"process": "REHAU", "rows": [
            {"id": "r1", "number": 1, "event": "Монтажник зарегистрировался на портале", "communication": "“Добро пожаловать!”",
             "participants": "Монтажник", "channel": "Telegram", "user_action": "—", "result": "Кабинет активирован",
             "trigger": {"bot_id": "bot_rehau", "alias": "users/connect-bot", "scenario": "registration_flow"},
             "stages": [{"map": "map_cjm", "item": "registration"}], "cells": [{"map": "map_bp", "item": "registration:support"}]},
            {"id": "r2", "number": 2, "event": "Назначен новый вебинар", "communication": "“Вы приглашены на обучение”",
             "participants": "Монтажник", "channel": "Telegram", "trigger": {"alias": "events/webinar-invite"}},
            {"id": "r3", "number": 3, "event": "Вебинар завершён", "communication": "“Оцените качество обучения”"}
        ]}),
    )
}

#[test]
fn a_cjm_goes_to_csv_and_back_exactly() {
    let cjm = registration_cjm();
    let text = csv::export(&cjm);
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "\u{feff}Этап пути клиента,Цель клиента / зачем он это делает,Действия клиента,Эмоции,Потребности и боли,Точки контакта,\
         Коммуникация (сценарий / сообщение),Интеграции / Системы,Возможности для улучшения,Ответственный,Оценка эмоции,id"
    );
    let back = csv::import(&cjm, &text).unwrap();
    assert_eq!(back, cjm, "map → CSV → map");
    assert_eq!(csv::export(&back), text, "CSV → map → CSV");
}

#[test]
fn a_communication_map_goes_to_csv_and_back_exactly() {
    let map = rehau_map();
    let text = csv::export(&map);
    assert!(text.contains("/bots/bot_rehau/call/users/connect-bot,registration_flow,map_cjm#registration,map_bp#registration:support,r1"), "{text}");
    assert!(text.contains("/bots/{botId}/call/events/webinar-invite"), "unbound rows keep their alias: {text}");
    let back = csv::import(&map, &text).unwrap();
    assert_eq!(back, map);
    assert_eq!(csv::export(&back), text);
}

#[test]
fn the_seeds_table_typed_in_a_spreadsheet_imports() {
    // The seed's columns only, semicolons (Excel, Russian locale), LF, no ids.
    let typed = "№;Событие в системе;Коммуникация / сценарий;Участники;Канал;Действие пользователя;Ответ / результат;API / триггер\n\
                 1;Новый заказ;“Спасибо за заказ”;Клиент;Telegram;—;Подтверждение оплаты;/bots/{id}/call/order/thank-you\n\
                 2;Статус заказа изменён;“Ваш заказ отправлен”;Клиент;Telegram, Email;—;Уточняет адрес;/bots/bot_shop/call/order/status\n";
    let MapContent::Communication(map) = csv::import(&MapContent::empty(MapKind::Communication), typed).unwrap() else { panic!() };
    assert_eq!(map.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r1", "r2"]);
    assert_eq!(map.rows[0].trigger.bot_id, None, "a placeholder is not a bot");
    assert_eq!(map.rows[0].trigger.alias.as_ref().unwrap().as_str(), "order/thank-you");
    assert_eq!(map.rows[1].trigger.bot_id, BotId::parse("bot_shop"));
    assert_eq!(map.rows[1].channel, "Telegram, Email");
}

#[test]
fn bad_csv_names_the_line_and_column() {
    let empty = MapContent::empty(MapKind::Cjm);
    let header = "Этап пути клиента,Эмоции,Оценка эмоции";

    let err = csv::import(&empty, &format!("{header}\nОсведомленность,🙂,1\nРегистрация,😟,минус два\n")).unwrap_err();
    assert_eq!((err.line, err.column.as_deref()), (3, Some("Оценка эмоции")));
    assert_eq!(err.problem, CsvProblem::Invalid { problem: Problem::OutOfRange });
    assert!(err.message(Locale::Ru).starts_with("Строка 3, колонка «Оценка эмоции»: должно быть целым числом"), "{}", err.message(Locale::Ru));
    assert!(err.message(Locale::En).starts_with("Line 3, column \"Оценка эмоции\": must be a whole number"));

    let err = csv::import(&empty, &format!("{header}\nОсведомленность,🙂\n")).unwrap_err();
    assert_eq!((err.line, err.problem), (2, CsvProblem::FieldCount { expected: 3, found: 2 }));

    let err = csv::import(&empty, "Этап пути клиента,Настроение\n").unwrap_err();
    assert_eq!((err.line, err.problem), (1, CsvProblem::UnknownColumn { name: "Настроение".into() }));

    let err = csv::import(&empty, &format!("{header},id\nА,,0,a\n\"Б\nна двух строках\",,0,b\nВ,,0,a\n")).unwrap_err();
    assert_eq!((err.line, err.column.as_deref(), err.problem), (5, Some("id"), CsvProblem::Invalid { problem: Problem::Taken }));

    let err = csv::import(&MapContent::empty(MapKind::Communication), "№,API / триггер\n1,/bots/bot_x/call/Order Status\n").unwrap_err();
    assert_eq!((err.line, err.column.as_deref(), err.problem), (2, Some("API / триггер"), CsvProblem::Invalid { problem: Problem::BadAlias }));

    assert_eq!(csv::import(&empty, "").unwrap_err().problem, CsvProblem::Empty);
}

/// The seed's onboarding blueprint: lanes with bound endpoints (two in
/// one cell), a crossing, a link to the CJM.
fn onboarding_blueprint() -> MapContent {
    content(
        MapKind::Blueprint,
        json!({"persona": "Новый клиент", "stages": [
            {"id": "awareness", "name": "Осведомленность", "customer_actions": {"text": "Видит рекламу, переходит в бот"},
             "front_stage": {"text": "Бот: «Привет; расскажу, как всё работает»"},
             "back_stage": {"text": "UTM-метки, CRM создаёт лид", "endpoints": [{"bot_id": "bot_onboard", "alias": "leads/new"}]},
             "support": {"text": "Tilda, amoCRM"}, "cjm_stages": [{"map": "map_cjm", "item": "awareness"}]},
            {"id": "registration", "name": "Регистрация", "customer_actions": {"text": "Отправляет номер\nтелефона"},
             "front_stage": {"text": "Бот просит контакт", "endpoints": [
                 {"bot_id": "bot_onboard", "alias": "users/connect-bot"}, {"bot_id": "bot_crm", "alias": "users/verify"}]},
             "back_stage": {"text": ""}, "support": {"text": "CRM, \"SMS-шлюз\""}}
        ], "crossings": [{"id": "x1", "stage": "registration", "line": "visibility", "upward": true, "note": "CRM webhook"}]}),
    )
}

fn integration_points() -> MapContent {
    content(
        MapKind::Integration,
        json!({"rows": [
            {"id": "p1", "alias": "users/connect-bot", "bot_id": "bot_rehau", "method": "POST", "url": "/bots/{botId}/call/users/connect-bot",
             "description": "Привязать пользователя к боту", "request": "{ userId, phone }", "response": "{ success: true }", "owner": "CRM"},
            {"id": "p2", "alias": "events/webinar-invite", "method": "POST", "description": "Приглашение на вебинар, «с датой, временем»"},
            {"id": "p3", "description": "Точка ещё без алиаса"}
        ]}),
    )
}

#[test]
fn a_blueprint_goes_to_csv_and_back_exactly() {
    let blueprint = onboarding_blueprint();
    let text = csv::export(&blueprint);
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "\u{feff}Этап,Действия клиента,Front Stage (видимое),Back Stage (невидимое),Поддерживающие процессы,\
         Эндпоинты: действия клиента,Эндпоинты: front stage,Эндпоинты: back stage,Эндпоинты: поддерживающие процессы,Этапы CJM,id"
    );
    assert!(text.contains("/bots/bot_onboard/call/users/connect-bot; /bots/bot_crm/call/users/verify"), "{text}");
    let back = csv::import(&blueprint, &text).unwrap();
    assert_eq!(back, blueprint, "map → CSV → map, persona and crossings kept");
    assert_eq!(csv::export(&back), text, "CSV → map → CSV");

    // English headers in another order, LF, no ids: ids are made, the rest read.
    let typed = "Stage,Support Processes / Systems,Endpoints: back stage,Customer Actions\n\
                 Оплата,ЮKassa,/bots/bot_shop/call/order/paid,Платит картой\n";
    let MapContent::Blueprint(read) = csv::import(&MapContent::empty(MapKind::Blueprint), typed).unwrap() else { panic!() };
    assert_eq!(read.stages.len(), 1);
    let stage = &read.stages[0];
    assert_eq!((stage.id.as_str(), stage.name.as_str(), stage.support.text.as_str()), ("s1", "Оплата", "ЮKassa"));
    assert_eq!(stage.customer_actions.text, "Платит картой");
    assert_eq!(stage.back_stage.endpoints[0].url(), "/bots/bot_shop/call/order/paid");
}

#[test]
fn a_blueprint_import_names_bad_endpoints_and_keeps_crossed_stages() {
    let blueprint = onboarding_blueprint();
    let empty = MapContent::empty(MapKind::Blueprint);

    let err = csv::import(&empty, "Этап,Эндпоинты: front stage\nА,/bots/{botId}/call/users/connect-bot\n").unwrap_err();
    assert_eq!((err.line, err.column.as_deref(), err.problem.clone()), (2, Some("Эндпоинты: front stage"), CsvProblem::BadBinding));
    assert!(err.message(Locale::Ru).contains("/bots/{бот}/call/{алиас}"), "{}", err.message(Locale::Ru));

    let err = csv::import(&empty, "Stage,Endpoints: support processes\nА,\nБ,/bots/bot_x/call/Bad Alias\n").unwrap_err();
    assert_eq!((err.line, err.column.as_deref(), err.problem), (3, Some("Эндпоинты: поддерживающие процессы"), CsvProblem::Invalid { problem: Problem::BadAlias }));

    // Dropping the stage the crossing is at would orphan it: refused, nothing changed.
    let without_registration = "Этап,id\nОсведомленность,awareness\n";
    let err = csv::import(&blueprint, without_registration).unwrap_err();
    assert_eq!(err.problem, CsvProblem::StageCrossed { stage: "registration".into() });
    assert!(err.message(Locale::En).contains("keep its row or delete the crossings first"));
    assert!(csv::import(&empty, without_registration).is_ok(), "a blueprint without crossings takes it");

    // A table of texts (no endpoints, no CJM stages columns) unbinds nothing.
    let texts = "Этап,Действия клиента,id\nОсведомленность,Видит рекламу,awareness\nРегистрация,Отправляет номер,registration\n";
    let MapContent::Blueprint(read) = csv::import(&blueprint, texts).unwrap() else { panic!() };
    let MapContent::Blueprint(before) = &blueprint else { panic!() };
    assert_eq!(read.stages[0].back_stage.endpoints, before.stages[0].back_stage.endpoints);
    assert_eq!(read.stages[1].front_stage.endpoints.len(), 2);
    assert_eq!(read.stages[0].cjm_stages, before.stages[0].cjm_stages);
    assert_eq!(read.stages[0].customer_actions.text, "Видит рекламу", "the file's texts are written");
    assert_eq!(read.stages[0].front_stage.text, before.stages[0].front_stage.text, "a lane the file lacks keeps its text");
    assert_eq!(read.persona, before.persona);
}

#[test]
fn a_column_the_file_lacks_keeps_its_values_and_a_new_row_takes_no_old_id() {
    // The communication map: a table of texts with ids keeps each row's
    // trigger, scenario, links and number; a row without an id is new.
    let map = rehau_map();
    let MapContent::Communication(before) = &map else { panic!() };
    let texts = "id,Событие в системе,Коммуникация / сценарий
                 r2,Назначен вебинар,“Приглашаем”
                 r1,Монтажник зарегистрировался,“Добро пожаловать!”
                 ,Сертификат готов,“Скачайте сертификат”
";
    let MapContent::Communication(read) = csv::import(&map, texts).unwrap() else { panic!() };
    assert_eq!(read.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r2", "r1", "r4"], "a made-up id is none of the map's");
    let (r2, r1, new) = (&read.rows[0], &read.rows[1], &read.rows[2]);
    assert_eq!(r1.event, "Монтажник зарегистрировался");
    assert_eq!((&r1.trigger, &r1.stages, &r1.cells, r1.number), (&before.rows[0].trigger, &before.rows[0].stages, &before.rows[0].cells, 1));
    assert_eq!((r1.channel.as_str(), r1.result.as_str()), ("Telegram", "Кабинет активирован"), "text columns the file lacks stay too");
    assert_eq!((r2.number, r2.trigger.alias.as_ref().map(|a| a.as_str())), (2, Some("events/webinar-invite")));
    assert_eq!((new.number, new.trigger.alias.clone(), new.channel.as_str()), (3, None, ""), "a new row starts empty");
    // A column the file has, empty, empties it.
    let cleared = "id,API / триггер,Сценарий,Этапы CJM
r1,,,
";
    let MapContent::Communication(read) = csv::import(&map, cleared).unwrap() else { panic!() };
    assert_eq!((read.rows[0].trigger.alias.clone(), read.rows[0].trigger.scenario.as_str(), read.rows[0].stages.len()), (None, "", 0));
    assert_eq!(read.rows[0].cells, before.rows[0].cells);
    // The seed's template without ids: every row new, none takes r1..r3's links.
    let typed = "№;Событие в системе
1;Новый заказ
2;Оплата
";
    let MapContent::Communication(read) = csv::import(&map, typed).unwrap() else { panic!() };
    assert_eq!(read.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r4", "r5"]);
    assert!(read.rows.iter().all(|r| r.stages.is_empty() && r.trigger.alias.is_none()));

    // The CJM: the emotion score and the other texts stay.
    let cjm = registration_cjm();
    let MapContent::Cjm(before) = &cjm else { panic!() };
    let MapContent::Cjm(read) = csv::import(&cjm, "id,Эмоции
registration,😌
awareness,🙂
").unwrap() else { panic!() };
    assert_eq!((read.stages[0].emotions.as_str(), read.stages[0].emotion_score), ("😌", Some(-2)));
    assert_eq!(read.stages[1].goal, before.stages[0].goal);

    // The integration points: the bot and the alias stay.
    let points = integration_points();
    let MapContent::Integration(read) = csv::import(&points, "id,Описание
p1,Привязать
,Новая точка
").unwrap() else { panic!() };
    assert_eq!((read.rows[0].alias.as_ref().map(|a| a.as_str()), read.rows[0].bot_id.as_ref().map(|b| b.as_str())), (Some("users/connect-bot"), Some("bot_rehau")));
    assert_eq!((read.rows[1].id.as_str(), read.rows[1].alias.clone()), ("p4", None), "p1..p3 are the map's");
}

#[test]
fn a_file_without_the_id_column_keeps_each_stage_by_its_name() {
    // A CJM typed or cut down in a spreadsheet: its stages by name, in a new order.
    let cjm = registration_cjm();
    let MapContent::Cjm(before) = &cjm else { panic!() };
    let texts = "Этап пути клиента;Цель клиента / зачем он это делает
 Регистрация ;Создать профиль быстрее
Осведомленность;Узнать о сервисе
Регистрация;Второй с тем же именем
Новый этап;Новая цель
";
    let MapContent::Cjm(read) = csv::import(&cjm, texts).unwrap() else { panic!() };
    let ids: Vec<&str> = read.stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["registration", "awareness", "s1", "s2"], "each name once; a second or unknown name is a new stage");
    assert_eq!((read.stages[0].goal.as_str(), read.stages[0].emotion_score), ("Создать профиль быстрее", before.stages[1].emotion_score));
    assert_eq!(read.stages[1].owner, before.stages[0].owner, "the columns the file lacks stay, as with ids");
    // A file with the id column goes by it alone: a record without an id is new.
    let MapContent::Cjm(read) = csv::import(&cjm, "id,Этап пути клиента\n,Регистрация\n").unwrap() else { panic!() };
    assert_eq!(read.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s1"]);
    // A name two stages share names neither.
    let twins = content(MapKind::Cjm, json!({"stages": [{"id": "a", "stage": "Оплата"}, {"id": "b", "stage": "Оплата"}]}));
    let MapContent::Cjm(read) = csv::import(&twins, "Этап пути клиента\nОплата\n").unwrap() else { panic!() };
    assert_eq!(read.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s1"]);

    // A blueprint the same way, its links to CJM stages and its bindings kept.
    let blueprint = onboarding_blueprint();
    let MapContent::Blueprint(before) = &blueprint else { panic!() };
    let MapContent::Blueprint(read) = csv::import(&blueprint, "Этап\nРегистрация\nОсведомленность\n").unwrap() else { panic!() };
    assert_eq!(read.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["registration", "awareness"]);
    assert_eq!(read.stages[1].cjm_stages, before.stages[0].cjm_stages);
    assert_eq!(read.stages[0].front_stage.endpoints, before.stages[1].front_stage.endpoints);
}

#[test]
fn a_cell_bound_to_fifty_long_endpoints_still_goes_to_csv_and_back() {
    let alias = format!("{}/{}", "a".repeat(60), "b".repeat(60));
    let endpoints: Vec<_> = (0..50).map(|i| json!({"bot_id": format!("bot_{}{i}", "x".repeat(36)), "alias": alias})).collect();
    let map = content(MapKind::Blueprint, json!({"stages": [{"id": "s", "name": "Оплата", "support": {"text": "", "endpoints": endpoints}}]}));
    let text = csv::export(&map);
    assert!(text.chars().count() > 4_000 + 500);
    assert_eq!(csv::import(&map, &text).unwrap(), map);
}

#[test]
fn a_too_long_trigger_scenario_is_named_in_its_own_column() {
    let long = "s".repeat(121);
    let err = csv::import(&MapContent::empty(MapKind::Communication), &format!("№,Сценарий\n1,{long}\n")).unwrap_err();
    assert_eq!((err.line, err.column.as_deref()), (2, Some("Сценарий")), "{err:?}");
}

#[test]
fn integration_points_go_to_csv_and_back_exactly() {
    let points = integration_points();
    let text = csv::export(&points);
    assert_eq!(text.lines().next().unwrap(), "\u{feff}Endpoint Alias,Method,URL,Описание,Request Params,Response,Владелец,Бот,id");
    assert!(text.contains("users/connect-bot,POST,/bots/{botId}/call/users/connect-bot,Привязать пользователя к боту,\"{ userId, phone }\""), "{text}");
    let back = csv::import(&points, &text).unwrap();
    assert_eq!(back, points);
    assert_eq!(csv::export(&back), text);

    let err = csv::import(&points, "Endpoint Alias,Bot\norder/status,shop\n").unwrap_err();
    assert_eq!((err.line, err.column.as_deref(), err.problem.clone()), (2, Some("Бот"), CsvProblem::BadBot));
    assert!(err.message(Locale::Ru).ends_with("не id бота (bot_…)"));
    let err = csv::import(&points, "Description,Endpoint Alias\nx,Order/Status\n").unwrap_err();
    assert_eq!((err.column.as_deref(), err.problem), (Some("Endpoint Alias"), CsvProblem::Invalid { problem: Problem::BadAlias }));
}

#[test]
fn the_diff_shows_rows_and_cells_side_by_side() {
    let before = rehau_map();
    let mut after = before.clone();
    let MapContent::Communication(m) = &mut after else { panic!() };
    m.rows[0].result = "Кабинет активирован, менеджер уведомлён".into();
    m.rows.remove(1);
    m.rows.push(serde_json::from_value(json!({"id": "r4", "number": 4, "event": "Отзыв отправлен"})).unwrap());
    let d = diff("REHAU", &before, "REHAU v2", &after);

    assert_eq!((d.added, d.removed, d.changed), (1, 1, 1));
    assert!(d.header.iter().any(|c| c.field == "title" && c.changed && c.after == "REHAU v2"));
    let order: Vec<_> = d.items.iter().map(|i| (i.id.as_str(), i.change)).collect();
    assert_eq!(order, [("r1", Change::Changed), ("r2", Change::Removed), ("r3", Change::Unchanged), ("r4", Change::Added)]);
    let changed: Vec<_> = d.items[0].cells.iter().filter(|c| c.changed).map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str())).collect();
    assert_eq!(changed, [("result", "Кабинет активирован", "Кабинет активирован, менеджер уведомлён")]);
    assert!(!d.items[2].moved, "r3 moved up only because r2 went away");
    assert_eq!((d.items[1].before_index, d.items[1].after_index), (Some(1), None));

    // A swap is a move.
    let MapContent::Communication(m) = &mut after else { panic!() };
    m.rows.swap(0, 1);
    let d = diff("REHAU", &before, "REHAU", &after);
    assert!(d.items.iter().any(|i| i.id == "r3" && i.moved));
    assert!(diff("a", &before, "a", &before).is_empty());
}

fn map(id: &str, kind: MapKind, title: &str, content: MapContent) -> Map {
    Map {
        id: MapId::parse(id).unwrap(),
        project_id: ProjectId::parse("prj_rehau").unwrap(),
        kind,
        title: title.into(),
        content,
        version: 2,
        author: "alena".into(),
        created_at: 0,
        updated_at: 1_795_564_800_000,
    }
}

#[test]
fn the_spec_follows_the_seeds_template() {
    let endpoint: comops_core::Endpoint = serde_json::from_value(json!({
        "id": "end_1", "bot_id": "bot_rehau", "alias": "users/connect-bot", "description": "Привязка пользователя к боту",
        "owner": "REHAU portal", "schema": {"fields": [{"name": "userId", "type": "integer", "required": true}]}, "example": {"userId": 125},
        "response_description": "{ success: true }", "isolated": true, "enabled": true, "scenario": "registration_flow",
        "allow_overlap": false, "created_at": 0, "updated_at": 0
    }))
    .unwrap();
    let input = SpecInput {
        project_name: "REHAU × ComOps".into(),
        project_description: "коммуникации с монтажниками".into(),
        bots: vec![SpecBot {
            id: BotId::parse("bot_rehau").unwrap(),
            name: "REHAU installers".into(),
            username: "rehau_installers_bot".into(),
            description: String::new(),
            channels: vec!["telegram".into()],
        }],
        endpoints: vec![endpoint],
        scenarios: vec![SpecScenario { bot_id: BotId::parse("bot_rehau").unwrap(), name: "registration_flow".into(), description: String::new(), version: 3 }],
        maps: vec![
            map("map_cjm", MapKind::Cjm, "Путь монтажника", registration_cjm()),
            map("map_rehau", MapKind::Communication, "Коммуникационная карта для REHAU", rehau_map()),
        ],
        tokens: Some(vec![]),
        security: SpecSecurity { encrypted_at_rest: true, https: true },
    };
    let md = markdown(&input, Locale::Ru);
    let headings: Vec<_> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## 1. Цель",
            "## 2. Системы",
            "## 3. Каналы",
            "## 4. Коммуникационные сценарии",
            "## 5. API и события",
            "## 6. Идентификация пользователей",
            "## 7. Метрики",
            "## 8. Безопасность",
            "## 9. Артефакты",
            "## 10. Сроки и роли",
            "## Приложение: Customer Journey Map «Путь монтажника» (v2)",
        ]
    );
    assert!(md.contains("| `users/connect-bot` | POST | `/bots/bot_rehau/call/users/connect-bot` | Привязка пользователя к боту | { userId* } |"), "{md}");
    assert!(md.contains("| 1 | Монтажник зарегистрировался на портале | “Добро пожаловать!” |"), "{md}");
    assert!(md.contains("Изолированные эндпоинты: `users/connect-bot` (bot_rehau)"));
    assert!(md.contains("**Engagement Rate** | лиды, ответившие в течение 24 ч / лиды, которым писали"));
    assert!(md.contains("`userId` (бизнес-система) ↔ `leadId`"));
    assert!(md.contains("Беспокоится о безопасности данных<br>и о спаме"), "cells stay on one table row");
    assert!(md.contains("| Customer Journey Map | Путь монтажника | 2 | 2 | 2026-11-25 | alena |"));
    assert!(md.contains("- Tilda\n- UTM-метки\n"), "systems come from the CJM's integrations column");
    assert!(md.contains("- Все вызовы по HTTPS. Каждый вызов API") && md.contains("шифруются ключом из окружения"), "{md}");
    assert!(!md.contains("Ключ шифрования не задан") && !md.contains("видны администраторам"));

    // Section 8 says what this installation does: here no key, plain HTTP,
    // and a reader who may not see tokens.
    let bare = markdown(&SpecInput { tokens: None, security: SpecSecurity::default(), ..input.clone() }, Locale::Ru);
    let security = &bare[bare.find("## 8.").unwrap()..bare.find("## 9.").unwrap()];
    assert!(security.contains("**Сервер отвечает по HTTP, не по HTTPS:**"), "{security}");
    assert!(security.contains("**Ключ шифрования не задан (`COMOPS_DATA_KEY`):**"), "{security}");
    assert!(!security.contains("Все вызовы по HTTPS") && !security.contains("шифруются ключом"), "{security}");
    assert!(security.contains("Токены доступа видны администраторам."), "{security}");

    // The same spec for a reader of the English studio: the same sections
    // and tables in English, the maps' own texts as written.
    let english = markdown(&input, Locale::En);
    let headings: Vec<_> = english.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings,
        [
            "# DMI project specification: REHAU × ComOps",
            "## 1. Goal",
            "## 2. Systems",
            "## 3. Channels",
            "## 4. Communication scenarios",
            "### Communication map «Коммуникационная карта для REHAU» (v2)",
            "### The bots' scenarios",
            "## 5. API and events",
            "## 6. User identification",
            "## 7. Metrics",
            "## 8. Security",
            "## 9. Artifacts",
            "## 10. Timeline and roles",
            "## Appendix: Customer Journey Map «Путь монтажника» (v2)",
        ]
    );
    assert!(english.contains("| No. | Event | Communication / scenario | Participants | Channel | User action | Result | API / trigger | Scenario |"), "{english}");
    assert!(english.contains("| 1 | Монтажник зарегистрировался на портале | “Добро пожаловать!” |"), "{english}");
    assert!(english.contains("| `users/connect-bot` | POST | `/bots/bot_rehau/call/users/connect-bot` | Привязка пользователя к боту | { userId* } |"), "{english}");
    assert!(english.contains("Isolated endpoints: `users/connect-bot` (bot_rehau)"), "{english}");
    assert!(english.contains("**Engagement Rate** | leads who replied within 24 h / leads messaged"), "{english}");
    assert!(english.contains("| Customer Journey Map | Путь монтажника | 2 | 2 | 2026-11-25 | alena |"), "{english}");
    assert!(english.contains("- Every call over HTTPS. Every API call carries a Bearer token"), "{english}");
    assert!(english.contains("Emotion score"), "{english}");
    // No Russian word of ComOps's own is left: with the project's own
    // texts (maps, endpoints, names, and the pieces lists are split into)
    // taken out, no line holds a Cyrillic letter.
    let mut texts = Vec::new();
    strings_of(&serde_json::to_value(&input).unwrap(), &mut texts);
    texts.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
    let ours: Vec<String> = english
        .lines()
        .map(|line| texts.iter().fold(line.to_string(), |line, text| line.replace(text.as_str(), "")))
        .filter(|line| line.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё')))
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

/// Every string in `value`, and the pieces a list in one splits into.
fn strings_of(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => {
            out.push(text.clone());
            out.extend(text.split([',', ';', '\n']).map(|piece| piece.trim().to_string()).filter(|piece| !piece.is_empty()));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings_of(item, out)),
        serde_json::Value::Object(fields) => fields.values().for_each(|field| strings_of(field, out)),
        _ => {}
    }
}

#[test]
fn the_loop_goes_both_ways_and_reports_broken_links() {
    let maps = vec![
        map("map_cjm", MapKind::Cjm, "CJM", registration_cjm()),
        map("map_rehau", MapKind::Communication, "REHAU", rehau_map()),
    ];
    let view = loop_view(&maps);
    // Nodes keep the maps' order and their items' (the journey's), endpoints last.
    let keys: Vec<&str> = view.nodes.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(&keys[..3], ["map_cjm#awareness", "map_cjm#registration", "map_rehau#r1"], "{keys:?}");
    assert!(keys.last().is_some_and(|k| k.starts_with("endpoint:")), "{keys:?}");
    let from_stage: Vec<_> = view.neighbours("map_cjm#registration").into_iter().map(|(n, holds)| (n.key.as_str(), holds)).collect();
    assert_eq!(from_stage, [("map_rehau#r1", false)]);
    let from_row: Vec<_> = view.neighbours("map_rehau#r1").into_iter().map(|(n, _)| n.key.as_str()).collect();
    assert_eq!(from_row, ["map_cjm#registration", "endpoint:bot_rehau/users/connect-bot"]);
    // The blueprint map_bp is not among the maps: that link is dangling.
    assert_eq!(view.dangling.len(), 1);
    assert_eq!(view.dangling[0].to, "map_bp#registration:support");
}

#[test]
fn a_blueprint_checks_its_cells_crossings_and_bindings() {
    let ok = content(
        MapKind::Blueprint,
        json!({"stages": [{"id": "registration", "name": "Registration",
                "customer_actions": {"text": "Вводит номер, получает приветствие"},
                "support": {"text": "CRM, API /users/connect-bot", "endpoints": [{"bot_id": "bot_rehau", "alias": "/users/connect-bot"}]}}],
               "crossings": [{"id": "x1", "stage": "registration", "line": "visibility", "note": "CRM связывает userId с ботом"}]}),
    );
    let bound: Vec<_> = ok.bindings().into_iter().map(|(cell, b)| (cell, b.url())).collect();
    assert_eq!(bound, [("registration:support".to_string(), "/bots/bot_rehau/call/users/connect-bot".to_string())]);
    assert!(ok.item_ids().contains(&"registration:front_stage".to_string()));
    assert_eq!(
        comops_core::map::blueprint::Line::Visibility.between(),
        (comops_core::map::blueprint::Lane::FrontStage, comops_core::map::blueprint::Lane::BackStage)
    );

    let errors = MapContent::from_value(
        MapKind::Blueprint,
        &json!({"stages": [{"id": "Registration!", "back_stage": {"endpoints": [{"bot_id": "bot_rehau"}]}}],
                "crossings": [{"id": "x1", "stage": "nowhere", "line": "horizon"}]}),
    )
    .unwrap_err();
    let found: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.problem.clone())).collect();
    assert_eq!(
        found,
        [
            ("stages[0].id", Problem::BadSlug),
            ("stages[0].back_stage.endpoints[0].alias", Problem::Required),
            ("crossings[0].stage", Problem::Unknown),
            ("crossings[0].line", Problem::Unknown),
        ]
    );
}

/// A lane's and a line's names agree with the JSON the maps hold: the
/// names the studio reads cells and crossings by are the serialised ones.
#[test]
fn blueprint_lanes_and_lines_are_named_as_their_json() {
    use comops_core::map::blueprint::{Lane, Line};
    for lane in Lane::ALL {
        assert_eq!(serde_json::to_value(lane).unwrap(), lane.as_str());
        assert_eq!(Lane::parse(lane.as_str()), Some(lane));
        assert_eq!(lane.text_field(), format!("{}.text", lane.as_str()));
        assert!(!lane.name(comops_core::Locale::Ru).is_empty() && !lane.name(comops_core::Locale::En).is_empty());
    }
    for line in Line::ALL {
        assert_eq!(serde_json::to_value(line).unwrap(), line.as_str());
        assert_eq!(Line::parse(line.as_str()), Some(line));
        assert_eq!(line.between().0.line_below(), Some(line), "the line under the lane above it");
    }
    assert_eq!(Lane::Support.line_below(), None);
    assert_eq!((Lane::parse("backstage"), Line::parse("Visibility")), (None, None));
}
