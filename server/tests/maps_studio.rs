//! The studio's maps over HTTP against the real `comops` process
//! (`--demo`, which brings the seed's maps): an analyst edits the REHAU
//! communication map but may not rebind its rows to endpoints; an
//! architect's save from the old version is a conflict, not an overwrite;
//! the architect binds a row (an endpoint that does not exist is refused),
//! compares versions, restores the first; a CJM goes out as CSV and back
//! (a bad line is named), and so do a blueprint and the integration points
//! (rebinding by CSV is the architect's too); a viewer reads everything and changes nothing;
//! the «ТЗ на DMI-проект» names the live endpoints; the whole demo
//! project is exported and imported as a new one; endpoint figures and
//! the loop's trace overlay count real calls; and a row bound or
//! unbound on the ComOps loop is a map version with the loop's note,
//! refused to viewers and analysts; an endpoint's scenario picked on the
//! loop is a version of the endpoint, if it still starts what was drawn;
//! a stage deleted with the links other maps hold to it is one commit of
//! every map, or (one stale, invalid or refused) of none.

mod support;

use serde_json::{json, Value};
use support::{Browser, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};

const PROJECT: &str = "prj_demo";
const REHAU: &str = "map_rehau";
const CJM: &str = "map_registration-cjm";
const PASSWORD: &str = "a-long-test-password";

async fn start() -> (TestServer, Browser) {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo"]);
    let admin = server.client();
    assert_eq!(admin.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 200);
    (server, admin)
}

async fn user(server: &TestServer, email: &str, role: &str) -> Browser {
    let output = server.cli(&["user", "create", "--email", email, "--role", role, "--password", PASSWORD]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let browser = server.client();
    assert_eq!(browser.login(email, PASSWORD).await.status(), 200);
    browser
}

async fn json_of(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

/// A map version, its content (sent as JSON text) parsed.
async fn load(browser: &Browser, map: &str, version: i64) -> Value {
    let mut loaded = json_of(browser.call("maps/get", &[("map_id", map), ("version", &version.to_string())]).await).await;
    let text = loaded["content"].as_str().expect("content as JSON text").to_string();
    loaded["content"] = serde_json::from_str(&text).expect("content parses");
    loaded
}

/// Calls a server function that takes a JSON body (`input = Json`).
async fn call_json(browser: &Browser, endpoint: &str, body: Value) -> reqwest::Response {
    browser
        .http
        .post(format!("{}/api/{endpoint}", browser.base))
        .header("Origin", &browser.base)
        .json(&body)
        .send()
        .await
        .expect("server function request")
}

async fn save(browser: &Browser, map: &str, title: &str, content: &Value, note: &str, base: i64) -> reqwest::Response {
    let body = json!({"map_id": map, "title": title, "json": content.to_string(), "note": note, "base_version": base});
    call_json(browser, "maps/save", body).await
}

async fn import_csv(browser: &Browser, map: &str, csv: &str, base: i64) -> reqwest::Response {
    call_json(browser, "maps/csv-import", json!({"map_id": map, "csv": csv, "note": "", "base_version": base})).await
}

async fn import_project(browser: &Browser, export: &str, slug: &str) -> reqwest::Response {
    call_json(browser, "maps/project-import", json!({"json": export, "slug": slug})).await
}

async fn versions(browser: &Browser, map: &str) -> Vec<(i64, String)> {
    let list = json_of(browser.call("maps/versions", &[("map_id", map)]).await).await;
    assert_eq!(list["more"], false, "{list}");
    list["versions"].as_array().unwrap().iter().map(|v| (v["version"].as_i64().unwrap(), v["note"].as_str().unwrap().to_string())).collect()
}

/// (version, whether this user is offered Restore), newest first.
async fn restorable(browser: &Browser, map: &str) -> Vec<(i64, bool)> {
    let list = json_of(browser.call("maps/versions", &[("map_id", map)]).await).await;
    assert_eq!(list["more"], false, "{list}");
    list["versions"].as_array().unwrap().iter().map(|v| (v["version"].as_i64().unwrap(), v["restorable"].as_bool().unwrap())).collect()
}

#[tokio::test]
async fn analysts_edit_architects_bind_and_nobody_overwrites_anybody() {
    let (server, admin) = start().await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let architect = user(&server, "alena@rehau.example", "architect").await;

    let list = json_of(analyst.call("maps/list", &[("project_id", PROJECT)]).await).await;
    let maps: Vec<(&str, &str)> = list.as_array().unwrap().iter().map(|m| (m["id"].as_str().unwrap(), m["kind"].as_str().unwrap())).collect();
    assert_eq!(maps.len(), comops_core::demo::DEMO_MAPS.len(), "{list}");
    assert!(maps.contains(&(REHAU, "communication")) && maps.contains(&(CJM, "cjm")));

    // The analyst rewords a result: her save is version 2.
    let v1 = load(&analyst, REHAU, 0).await;
    assert_eq!((v1["version"].clone(), v1["kind"].clone()), (json!(1), json!("communication")));
    assert_eq!(v1["content"]["rows"][0]["trigger"], json!({"bot_id": "bot_rehau", "alias": "users/connect-bot", "scenario": "registration_flow"}));
    let mut edited = v1["content"].clone();
    edited["rows"][1]["result"] = json!("Приглашение получено, напоминание за час");
    let saved = json_of(save(&analyst, REHAU, "Коммуникационная карта для REHAU", &edited, "напоминание", 1).await).await;
    assert_eq!(saved, json!({"Saved": {"version": 2}}));

    // Binding a row to another endpoint is the architect's.
    let mut rebound = edited.clone();
    rebound["rows"][1]["trigger"]["alias"] = json!("events/webinar-feedback");
    let refused = save(&analyst, REHAU, "Коммуникационная карта для REHAU", &rebound, "", 2).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(json_of(refused).await, json!("Forbidden"));

    // The architect still has version 1 open: a conflict naming Марина, nothing written.
    let stale = json_of(save(&architect, REHAU, "Моя версия", &v1["content"], "", 1).await).await;
    assert_eq!(stale, json!({"Conflict": {"current": 2, "author": "marina@rehau.example"}}));
    assert_eq!(load(&architect, REHAU, 0).await["title"], "Коммуникационная карта для REHAU");

    // Bad content and unknown endpoints are refused with their places.
    let mut broken = edited.clone();
    broken["rows"][2]["channel"] = json!(42);
    broken["rows"][3]["trigger"] = json!({"bot_id": "bot_rehau", "alias": "events/nothing-here"});
    let invalid = json_of(save(&architect, REHAU, "Коммуникационная карта для REHAU", &broken, "", 2).await).await;
    assert_eq!(invalid["Invalid"]["errors"], json!([{"field": "rows[2].channel", "code": "bad_json"}]), "{invalid}");
    broken["rows"][2]["channel"] = json!("Telegram");
    let invalid = json_of(save(&architect, REHAU, "Коммуникационная карта для REHAU", &broken, "", 2).await).await;
    assert_eq!(invalid["Invalid"]["errors"], json!([{"field": "rows[3].trigger", "code": "unknown"}]), "{invalid}");
    // A row's CJM stages are a CJM's, its cells a blueprint's.
    let mut crossed = edited.clone();
    crossed["rows"][1]["stages"] = json!([{"map": "map_onboarding-blueprint", "item": "registration:support"}]);
    crossed["rows"][1]["cells"] = json!([
        {"map": "map_registration-cjm", "item": "registration"},
        {"map": "map_onboarding-blueprint", "item": "registration:support"},
        // A blueprint's stage is not one of its cells.
        {"map": "map_onboarding-blueprint", "item": "registration"},
    ]);
    let invalid = json_of(save(&analyst, REHAU, "Коммуникационная карта для REHAU", &crossed, "", 2).await).await;
    assert_eq!(
        invalid["Invalid"]["errors"],
        json!([
            {"field": "rows[1].stages[0]", "code": "not_allowed_for_type"},
            {"field": "rows[1].cells[0]", "code": "not_allowed_for_type"},
            {"field": "rows[1].cells[2]", "code": "not_allowed_for_type"}
        ]),
        "{invalid}"
    );
    let bound = json_of(save(&architect, REHAU, "Коммуникационная карта для REHAU", &rebound, "вебинар → отзыв", 2).await).await;
    assert_eq!(bound, json!({"Saved": {"version": 3}}));

    assert_eq!(
        versions(&architect, REHAU).await,
        [(3, "вебинар → отзыв".to_string()), (2, "напоминание".to_string()), (1, "demo".to_string())]
    );
    let diff = json_of(architect.call("maps/diff", &[("map_id", REHAU), ("from", "1"), ("to", "0")]).await).await;
    // The diff comes as the lines the side-by-side view shows: one item
    // changed, its result and its trigger, named as the table's columns
    // are in the reader's language.
    assert_eq!(diff["count"], 1, "{diff}");
    let lines = diff["rows"].as_array().unwrap();
    assert!(lines.iter().all(|l| l["change"] == "changed"), "{diff}");
    let fields: Vec<&str> = lines.iter().map(|l| l["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["Result", "API trigger"], "{diff}");

    // Restore is offered to the analyst only on versions bound as now
    // (the current one, 3); to the architect on every one.
    assert_eq!(restorable(&analyst, REHAU).await, [(3, true), (2, false), (1, false)]);
    assert_eq!(restorable(&architect, REHAU).await, [(3, true), (2, true), (1, true)]);

    // The analyst may not restore version 1: it would re-bind a row. She
    // is told why (not a bare 403), and nothing is written.
    let response = analyst.call("maps/restore", &[("map_id", REHAU), ("version", "1"), ("base_version", "3")]).await;
    assert_eq!(response.status(), 200, "an answer the studio reads, not an HTTP refusal");
    let refused = json_of(response).await;
    assert_eq!(refused, json!({"Invalid": {"errors": [{"field": "bindings", "code": "architects_only"}]}}), "{refused}");
    // Restoring version 1 is version 4, equal to version 1 (it unbinds: the architect may).
    let restored = json_of(
        architect.call("maps/restore", &[("map_id", REHAU), ("version", "1"), ("base_version", "3")]).await,
    )
    .await;
    assert_eq!(restored, json!({"Saved": {"version": 4}}));
    let v4 = load(&architect, REHAU, 0).await;
    assert_eq!((v4["version"].clone(), &v4["content"]), (json!(4), &v1["content"]));
    assert_eq!(load(&architect, REHAU, 2).await["current"], 4);

    let store = server.store().await;
    let actions: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_log WHERE subject = $1 ORDER BY at").bind(REHAU).fetch_all(store.pool()).await.unwrap();
    assert_eq!(
        actions,
        [
            ("marina@rehau.example".to_string(), "map.save".to_string()),
            ("alena@rehau.example".into(), "map.save".into()),
            ("alena@rehau.example".into(), "map.restore".into())
        ]
    );
    drop(admin);
}

#[tokio::test]
async fn a_cjm_travels_as_csv_and_a_viewer_only_reads() {
    let (server, admin) = start().await;
    let csv = json_of(admin.call("maps/csv-export", &[("map_id", CJM), ("version", "0")]).await).await;
    let csv = csv.as_str().unwrap().to_string();
    assert!(csv.starts_with("\u{feff}Этап пути клиента,Цель клиента / зачем он это делает,"), "{csv}");
    assert!(csv.contains("Регистрация,Создать профиль"), "{csv}");

    let bad = csv.replacen(",-1,registration", ",минус,registration", 1);
    let outcome = json_of(import_csv(&admin, CJM, &bad, 1).await).await;
    assert_eq!(outcome["BadCsv"]["line"], 3, "{outcome}");
    assert_eq!(outcome["BadCsv"]["column"], "Оценка эмоции");
    assert!(outcome["BadCsv"]["message"].as_str().unwrap().starts_with("Line 3, column \"Оценка эмоции\""), "{outcome}");

    let better = csv.replacen("Сократить шагов регистрации", "Регистрация в один шаг: кнопка «Поделиться контактом»", 1);
    let outcome = json_of(import_csv(&admin, CJM, &better, 1).await).await;
    assert_eq!(outcome, json!({"Saved": {"version": 2}}));
    assert_eq!(versions(&admin, CJM).await[0], (2, "imported from CSV".to_string()));
    let again = json_of(admin.call("maps/csv-export", &[("map_id", CJM), ("version", "0")]).await).await;
    assert_eq!(again.as_str().unwrap(), better, "the CSV comes back exactly");

    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    assert_eq!(viewer.call("maps/list", &[("project_id", PROJECT)]).await.status(), 200);
    let map = load(&viewer, CJM, 1).await;
    assert_eq!((map["version"].clone(), map["current"].clone()), (json!(1), json!(2)));
    let refused = save(&viewer, CJM, "x", &map["content"], "", 2).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(viewer.call("maps/create", &[("project_id", PROJECT), ("kind", "cjm"), ("title", "x")]).await.status(), 403);
    assert_eq!(viewer.call("maps/restore", &[("map_id", CJM), ("version", "1"), ("base_version", "2")]).await.status(), 403);
    assert_eq!(import_csv(&viewer, CJM, &csv, 2).await.status(), 403);
    assert_eq!(import_project(&viewer, "{}", "x").await.status(), 403);

    let spec = json_of(viewer.call("maps/spec", &[("project_id", PROJECT)]).await).await;
    let spec = spec.as_str().unwrap();
    assert!(spec.starts_with("# Техническое задание на DMI-проект: ComOps demo"), "{spec}");
    assert!(spec.contains("## 5. API и события") && spec.contains("`/bots/bot_rehau/call/users/connect-bot`"));
    assert!(spec.contains("Регистрация в один шаг"), "the spec shows the current CJM");
    // A reader of the English studio gets it in English, the maps' texts as written.
    let english = json_of(viewer.call("maps/spec", &[("project_id", PROJECT), ("language", "en")]).await).await;
    let english = english.as_str().unwrap();
    assert!(english.starts_with("# DMI project specification: ComOps demo") && english.contains("## 5. API and events"), "{english}");
    assert!(english.contains("Регистрация в один шаг") && english.contains("| Communication map | Коммуникационная карта для REHAU |"), "{english}");
    // Tokens are the admins' to see, in the spec as in `tokens/list`.
    let draft = comops_core::token::TokenDraft { name: "Bitrix24 ТЗ".into(), bots: "bot_rehau".into(), actions: vec![comops_core::token::TokenAction::Call], ..Default::default() };
    server.store().await.issue_token(&draft.validate().unwrap(), "test").await.unwrap();
    let spec = json_of(viewer.call("maps/spec", &[("project_id", PROJECT)]).await).await;
    let spec = spec.as_str().unwrap();
    assert!(!spec.contains("Bitrix24 ТЗ") && spec.contains("Токены доступа видны администраторам."), "{spec}");
    // Section 8 says what this server does: plain HTTP, no data key.
    assert!(spec.contains("**Сервер отвечает по HTTP, не по HTTPS:**") && spec.contains("**Ключ шифрования не задан (`COMOPS_DATA_KEY`):**"), "{spec}");
    let spec = json_of(admin.call("maps/spec", &[("project_id", PROJECT)]).await).await;
    assert!(spec.as_str().unwrap().contains("| Bitrix24 ТЗ | bot_rehau |"), "{spec}");

    // The loop travels as JSON text, like map content.
    let loop_text = json_of(viewer.call("maps/loop", &[("project_id", PROJECT)]).await).await;
    let loop_page: Value = serde_json::from_str(loop_text.as_str().unwrap()).unwrap();
    assert!(loop_page["live_endpoints"].as_array().unwrap().contains(&json!("endpoint:bot_rehau/users/connect-bot")));
    assert_eq!(loop_page["view"]["dangling"], json!([]));
    // The project's bots, so the loop offers to make an endpoint only on
    // one of them: not another project's.
    let store = server.store().await;
    let draft = comops_core::project::ProjectDraft { name: "Другой проект".into(), slug: "other".into(), description: String::new() };
    let other = store.create_project(&draft.validate().unwrap(), None, None).await.unwrap().id;
    let draft = comops_core::bot::BotDraft { name: "Чужой".into(), enabled: true, ..Default::default() };
    store.create_bot(&other, &draft.validate().unwrap(), Some(comops_core::BotId::parse("bot_other").unwrap())).await.unwrap();
    let loop_text = json_of(viewer.call("maps/loop", &[("project_id", PROJECT)]).await).await;
    let loop_page: Value = serde_json::from_str(loop_text.as_str().unwrap()).unwrap();
    let mut bots: Vec<&str> = loop_page["project_bots"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    bots.sort_unstable();
    assert_eq!(bots, ["bot_fmlst", "bot_helpdesk", "bot_rehau", "bot_shop"]);

    let anonymous = server.client();
    assert_eq!(anonymous.call("maps/list", &[("project_id", PROJECT)]).await.status(), 401);
    assert_eq!(versions(&admin, CJM).await.len(), 2, "the viewer saved nothing");
}

#[tokio::test]
async fn a_blueprint_and_the_integration_points_travel_as_csv_and_only_architects_rebind() {
    const BLUEPRINT: &str = "map_onboarding-blueprint";
    const POINTS: &str = "map_integration-points";
    let (server, admin) = start().await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let architect = user(&server, "alena@rehau.example", "architect").await;

    let csv = json_of(analyst.call("maps/csv-export", &[("map_id", BLUEPRINT), ("version", "0")]).await).await;
    let csv = csv.as_str().unwrap().to_string();
    assert!(csv.starts_with("\u{feff}Этап,Действия клиента,Front Stage (видимое),"), "{csv}");
    assert!(csv.contains(",/bots/bot_rehau/call/users/connect-bot,map_registration-cjm#registration,registration\r\n"), "{csv}");

    // The analyst rewords a lane: a version, and the CSV comes back exactly.
    let reworded = csv.replacen("Оператор отвечает вручную", "Оператор отвечает из Helpdesk", 1);
    assert_eq!(json_of(import_csv(&analyst, BLUEPRINT, &reworded, 1).await).await, json!({"Saved": {"version": 2}}));
    let again = json_of(analyst.call("maps/csv-export", &[("map_id", BLUEPRINT), ("version", "0")]).await).await;
    assert_eq!(again.as_str().unwrap(), reworded);
    let map = load(&analyst, BLUEPRINT, 0).await;
    assert_eq!(map["content"]["crossings"].as_array().unwrap().len(), 3, "the crossings stay");

    // Unbinding the support lane's endpoint is the architect's: said so, nothing saved.
    let unbound = reworded.replacen(",/bots/bot_rehau/call/users/connect-bot,", ",,", 1);
    let outcome = json_of(import_csv(&analyst, BLUEPRINT, &unbound, 2).await).await;
    assert!(outcome["BadCsv"]["message"].as_str().unwrap().ends_with("only architects may do that."), "{outcome}");
    // An endpoint that does not exist is refused, named by its line and column.
    let wrong = reworded.replacen("/bots/bot_rehau/call/users/connect-bot", "/bots/bot_rehau/call/users/nowhere", 1);
    let outcome = json_of(import_csv(&architect, BLUEPRINT, &wrong, 2).await).await;
    assert_eq!(
        outcome["BadCsv"]["message"],
        "Line 3, column \"Эндпоинты: поддерживающие процессы\": not found in the project",
        "{outcome}"
    );
    assert_eq!(json_of(import_csv(&architect, BLUEPRINT, &unbound, 2).await).await, json!({"Saved": {"version": 3}}));
    let map = load(&architect, BLUEPRINT, 0).await;
    assert_eq!(map["content"]["stages"][1]["support"]["endpoints"], json!([]));

    // Dropping a stage a crossing is drawn at is refused with the stage's id.
    let header_and_first = unbound.split("\r\n").take(2).collect::<Vec<_>>().join("\r\n");
    let outcome = json_of(import_csv(&architect, BLUEPRINT, &header_and_first, 3).await).await;
    assert!(outcome["BadCsv"]["message"].as_str().unwrap().contains("\"registration\""), "{outcome}");
    assert_eq!(versions(&admin, BLUEPRINT).await.len(), 3);

    // The integration points: the seed's template, a row typed in a spreadsheet.
    let csv = json_of(analyst.call("maps/csv-export", &[("map_id", POINTS), ("version", "0")]).await).await;
    let csv = csv.as_str().unwrap().to_string();
    assert!(csv.starts_with("\u{feff}Endpoint Alias,Method,URL,Описание,Request Params,Response,Владелец,Бот,id\r\n"), "{csv}");
    let added = format!("{csv}lead/qualified,POST,,Лид квалифицирован,\"{{ leadId, score }}\",{{ success: true }},CRM,,\r\n");
    assert_eq!(json_of(import_csv(&analyst, POINTS, &added, 1).await).await, json!({"Saved": {"version": 2}}));
    let map = load(&analyst, POINTS, 0).await;
    let rows = map["content"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!((rows[3]["alias"].clone(), rows[3]["request"].clone(), rows[3]["bot_id"].clone()), (json!("lead/qualified"), json!("{ leadId, score }"), Value::Null));
    let bound = added.replacen("CRM,,\r\n", "CRM,bot_rehau,\r\n", 1);
    let outcome = json_of(import_csv(&analyst, POINTS, &bound, 2).await).await;
    assert!(outcome["BadCsv"]["message"].as_str().unwrap().ends_with("only architects may do that."), "binding a point is the architect's: {outcome}");
    assert_eq!(versions(&admin, POINTS).await.len(), 2);
}

#[tokio::test]
async fn the_demo_project_exports_and_imports_as_a_new_one() {
    let (server, admin) = start().await;
    let export = json_of(admin.call("maps/project-export", &[("project_id", PROJECT)]).await).await;
    let export = export.as_str().unwrap().to_string();
    let doc: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(doc["format"], "comops.project/v1");

    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    assert_eq!(import_project(&analyst, &export, "demo-copy").await.status(), 403);

    let imported = json_of(import_project(&admin, &export, "demo-copy").await).await;
    let new = &imported["Imported"];
    assert_eq!((new["bots"].clone(), new["endpoints"].clone(), new["maps"].clone()), (json!(4), json!(14), json!(comops_core::demo::DEMO_MAPS.len())), "{imported}");
    let project = new["project_id"].as_str().unwrap();
    assert_eq!(json_of(admin.call("maps/list", &[("project_id", project)]).await).await.as_array().unwrap().len(), comops_core::demo::DEMO_MAPS.len());

    let taken = json_of(import_project(&admin, &export, "demo-copy").await).await;
    assert_eq!(taken, json!({"Invalid": [{"field": "slug", "code": "taken"}]}));
    let broken = export.replacen("\"comops.project/v1\"", "\"other/v9\"", 1);
    let invalid = json_of(import_project(&admin, &broken, "demo-other").await).await;
    assert_eq!(invalid["Invalid"]["problems"][0]["path"], "format", "{invalid}");
}

#[tokio::test]
async fn a_thousand_row_map_saves_loads_and_diffs() {
    let (server, admin) = start().await;
    let id = json_of(admin.call("maps/create", &[("project_id", PROJECT), ("kind", "communication"), ("title", "Большая карта")]).await).await;
    let id = id.as_str().unwrap().to_string();
    // Every cell a full sentence of Cyrillic: ≈ 1.7 MB of JSON (≈ 4 MB as
    // a form, over the 2 MB body limit: that is why saves take JSON).
    let text = "Монтажник получает уведомление о новом заказе и подтверждает выезд на объект в тот же день";
    let rows: Vec<Value> = (1..=1000)
        .map(|n| {
            json!({"id": format!("r{n}"), "number": n, "event": format!("{n}. {text}"), "communication": text, "participants": text,
                   "channel": "Telegram", "user_action": text, "result": text, "trigger": {"alias": "orders/new", "scenario": "order_new"}})
        })
        .collect();
    let content = json!({"process": "Заказы", "rows": rows});
    let started = std::time::Instant::now();
    let saved = json_of(save(&admin, &id, "Большая карта", &content, "1000 строк", 1).await).await;
    assert_eq!(saved, json!({"Saved": {"version": 2}}), "saved in {:?}", started.elapsed());
    let loaded = load(&admin, &id, 0).await;
    assert_eq!(loaded["content"]["rows"].as_array().unwrap().len(), 1000);
    assert_eq!(loaded["content"]["rows"][999]["event"], format!("1000. {text}"));
    assert_eq!(loaded["later"], json!([]), "maps/get is always whole");
    // The editor's opening asks for the first 44 rows: it gets them and
    // the ids of the other 956, in order; v1 (no rows) comes whole.
    let opened = json_of(admin.call("maps/open", &[("map_id", &id), ("version", "0"), ("first", "44")]).await).await;
    let first: Value = serde_json::from_str(opened[0]["content"].as_str().unwrap()).unwrap();
    assert_eq!(first["rows"].as_array().unwrap().len(), 44);
    assert_eq!((first["process"].clone(), first["rows"][43]["event"].clone()), (json!("Заказы"), json!(format!("44. {text}"))));
    let later = opened[0]["later"].as_array().unwrap();
    assert_eq!((later.len(), later[0].clone(), later[955].clone()), (956, json!("r45"), json!("r1000")));
    assert!(opened[0]["content"].as_str().unwrap().len() < 100_000, "~50 kB, not the whole map's 1.7 MB");
    let old = json_of(admin.call("maps/open", &[("map_id", &id), ("version", "1"), ("first", "44")]).await).await;
    assert_eq!((old[0]["version"].clone(), old[0]["later"].clone()), (json!(1), json!([])));
    let diff = json_of(admin.call("maps/diff", &[("map_id", &id), ("from", "1"), ("to", "2")]).await).await;
    assert_eq!(diff["count"], 1000, "every row is added");
    // (plus the map's new `process` line)
    assert!(diff["rows"].as_array().unwrap().iter().filter(|l| l["change"] == "added").count() >= 1000);
    drop(server);
}

#[tokio::test]
async fn trigger_cells_get_each_endpoints_calls_errors_and_last_call() {
    let (server, admin) = start().await;
    let store = server.store().await;
    let draft = comops_core::token::TokenDraft {
        name: "REHAU portal".into(),
        bots: "bot_rehau".into(),
        actions: vec![comops_core::token::TokenAction::Call],
        ..Default::default()
    };
    let token = store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1;
    // Installer 125 is on Telegram: the call starts a run for them.
    let rehau = comops_core::BotId::parse("bot_rehau").unwrap();
    store.link_identity(&rehau, &comops_core::store::identities::IdentityLink::telegram("125", "TG-125", "125", "test")).await.unwrap();
    let http = reqwest::Client::new();
    let call = |body: Value| http.post(server.url("/bots/bot_rehau/call/events/webinar-invite")).bearer_auth(&token).json(&body).send();
    assert_eq!(call(json!({"userId": 125, "title": "Монтаж RAUTHERM", "date": "сегодня в 10:00"})).await.unwrap().status(), 200);
    assert_eq!(call(json!({"userId": 125})).await.unwrap().status(), 422, "title and date are required");
    let dry = http
        .post(server.url("/bots/bot_rehau/call/events/webinar-invite"))
        .bearer_auth(&token)
        .header("X-Dry-Run", "true")
        .json(&json!({"userId": 125, "title": "x", "date": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status(), 200);

    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let endpoints = json_of(viewer.call("maps/endpoints", &[("project_id", PROJECT)]).await).await;
    let invite = endpoints.as_array().unwrap().iter().find(|e| e["bot_id"] == "bot_rehau" && e["alias"] == "events/webinar-invite").cloned().unwrap();
    assert_eq!((invite["calls"].clone(), invite["errors"].clone()), (json!(2), json!(1)), "the dry run is not a call: {invite}");
    assert!(invite["last_call_at"].as_i64().is_some_and(|at| at > 0));
    assert_eq!(invite["scenario"], "webinar_invite");
    let quiet = endpoints.as_array().unwrap().iter().find(|e| e["alias"] == "order/review").cloned().unwrap();
    assert_eq!((quiet["calls"].clone(), quiet["last_call_at"].clone()), (json!(0), Value::Null));
    // The editor opens a communication map with those endpoints in the
    // same answer; a CJM comes without any; an unknown map is a 404.
    let opened = json_of(viewer.call("maps/open", &[("map_id", REHAU), ("version", "0")]).await).await;
    assert_eq!(opened[0]["kind"], "communication");
    assert_eq!(opened[0]["version"], opened[0]["current"]);
    assert_eq!(opened[1], endpoints, "the same endpoints as maps/endpoints");
    let content: Value = serde_json::from_str(opened[0]["content"].as_str().unwrap()).unwrap();
    assert!(!content["rows"].as_array().unwrap().is_empty());
    let cjm = json_of(viewer.call("maps/open", &[("map_id", CJM), ("version", "1")]).await).await;
    assert_eq!((cjm[0]["version"].clone(), cjm[1].clone()), (json!(1), json!([])));
    assert_eq!(viewer.call("maps/open", &[("map_id", "map_nope"), ("version", "0")]).await.status(), 404);

    // The loop's trace overlay: the same calls over the last 7 days and
    // the run they started, for a viewer too; nothing for anonymous callers.
    let traffic = json_of(viewer.call("maps/loop-overlay", &[("project_id", PROJECT), ("days", "7")]).await).await;
    let invite = traffic["endpoints"].as_array().unwrap().iter().find(|e| e["bot_id"] == "bot_rehau" && e["alias"] == "events/webinar-invite").cloned().unwrap();
    assert_eq!((invite["calls"].clone(), invite["errors"].clone()), (json!(2), json!(1)), "{traffic}");
    assert!(traffic["endpoints"].as_array().unwrap().iter().all(|e| e["alias"] != "order/review"), "an endpoint not called is left out");
    let runs = traffic["scenarios"].as_array().unwrap().iter().find(|s| s["bot_id"] == "bot_rehau" && s["scenario"] == "webinar_invite").cloned().unwrap();
    let total: i64 = ["done", "waiting", "failed"].iter().map(|k| runs[k].as_i64().unwrap()).sum();
    assert_eq!(total, 1, "one run, whatever it has reached: {runs}");
    let all_time = json_of(viewer.call("maps/loop-overlay", &[("project_id", PROJECT), ("days", "0")]).await).await;
    assert_eq!(all_time["endpoints"], traffic["endpoints"], "every call is from today");
    assert_eq!(server.client().call("maps/loop-overlay", &[("project_id", PROJECT), ("days", "7")]).await.status(), 401);
    let _ = admin;
}

/// The project's maps holding links to items of `map`: each one's id,
/// title, version and how many such links, found by looking into each.
async fn holders_of(browser: &Browser, map: &str) -> Vec<(String, Value, i64, usize)> {
    let mut holding = Vec::new();
    for listed in json_of(browser.call("maps/list", &[("project_id", PROJECT)]).await).await.as_array().unwrap() {
        let loaded = load(browser, listed["id"].as_str().unwrap(), 0).await;
        let links = loaded["content"].to_string().matches(&format!("\"map\":\"{map}\"")).count();
        if links > 0 && listed["id"] != map {
            holding.push((listed["id"].as_str().unwrap().to_string(), loaded["title"].clone(), loaded["version"].as_i64().unwrap(), links));
        }
    }
    holding
}

#[tokio::test]
async fn deleting_a_map_is_role_checked_and_audited() {
    let (server, admin) = start().await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let operator = user(&server, "operator@rehau.example", "operator").await;

    // Nobody without EditMaps deletes; the REHAU map is bound to endpoints: not the analyst's either.
    assert_eq!(viewer.call("maps/delete", &[("map_id", CJM)]).await.status(), 403);
    assert_eq!(operator.call("maps/delete", &[("map_id", CJM)]).await.status(), 403);
    let list = json_of(analyst.call("maps/list", &[("project_id", PROJECT)]).await).await;
    let bound = |id: &str| list.as_array().unwrap().iter().find(|m| m["id"] == id).map(|m| m["bound"].clone());
    assert_eq!((bound(REHAU), bound(CJM)), (Some(json!(true)), Some(json!(false))));
    assert_eq!(analyst.call("maps/delete", &[("map_id", REHAU)]).await.status(), 403);
    assert_eq!(load(&admin, REHAU, 0).await["version"], 1, "still there");

    // The maps holding links to the CJM's stages, and how many each.
    let holding = holders_of(&analyst, CJM).await;
    assert!(holding.len() >= 2 && holding.iter().any(|(id, ..)| id == REHAU), "{holding:?}");

    // The analyst deletes the CJM she saved twice; its whole history goes
    // with it, and the links other maps hold to it in the same commit —
    // the REHAU map's too, bound as it is: no binding changes.
    let v1 = load(&analyst, CJM, 0).await;
    let saved = json_of(save(&analyst, CJM, "Регистрация", &v1["content"], "retitled", 1).await).await;
    assert_eq!(saved, json!({"Saved": {"version": 2}}));
    let deleted = json_of(analyst.call("maps/delete", &[("map_id", CJM)]).await).await;
    let expected: Vec<Value> = holding.iter().map(|(id, title, version, links)| json!({"map_id": id, "title": title, "version": version + 1, "links": links})).collect();
    assert_eq!(deleted, json!({"title": "Регистрация", "links_taken_out": expected}));
    for (id, _, version, links) in &holding {
        let now = load(&analyst, id, 0).await;
        assert_eq!(now["version"], version + 1);
        assert!(!now["content"].to_string().contains(CJM), "{id} links to the deleted map no more");
        assert_eq!(versions(&analyst, id).await[0], (version + 1, format!("links to the deleted map «Регистрация» taken out ({links})")));
    }
    assert_eq!(loop_page(&viewer).await["view"]["dangling"], json!([]), "no link to nothing is left");
    assert_eq!(analyst.call("maps/get", &[("map_id", CJM), ("version", "1")]).await.status(), 404);
    assert_eq!(analyst.call("maps/versions", &[("map_id", CJM)]).await.status(), 404);
    assert_eq!(analyst.call("maps/delete", &[("map_id", CJM)]).await.status(), 404);
    let list = json_of(admin.call("maps/list", &[("project_id", PROJECT)]).await).await;
    assert_eq!(list.as_array().unwrap().len(), comops_core::demo::DEMO_MAPS.len() - 1);

    let store = server.store().await;
    let audited: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'map.delete' AND subject = $1").bind(CJM).fetch_all(store.pool()).await.unwrap();
    let detail = format!("cjm «Регистрация» v2, 2 version(s); links to it taken out of {} map(s)", holding.len());
    assert_eq!(audited, [("marina@rehau.example".to_string(), detail)]);
    // Each map saved without its links is audited as a save.
    for (id, title, version, links) in &holding {
        let saves: Vec<(String,)> = sqlx::query_as("SELECT detail FROM audit_log WHERE action = 'map.save' AND subject = $1").bind(id).fetch_all(store.pool()).await.unwrap();
        let why = format!("«{}» v{}; links to the deleted map «Регистрация» taken out ({links})", title.as_str().unwrap(), version + 1);
        assert!(saves.contains(&(why,)), "{id}: {saves:?}");
    }

    // A blueprint's cells linked from several maps; a map holding no
    // links to the deleted one is not touched.
    let blueprint = "map_onboarding-blueprint";
    let bp = load(&admin, blueprint, 0).await;
    let holding = holders_of(&admin, blueprint).await;
    assert!(holding.iter().any(|(id, ..)| id == REHAU), "REHAU rows link to blueprint cells: {holding:?}");
    let deleted = json_of(admin.call("maps/delete", &[("map_id", blueprint)]).await).await;
    let expected: Vec<Value> = holding.iter().map(|(id, title, version, links)| json!({"map_id": id, "title": title, "version": version + 1, "links": links})).collect();
    assert_eq!(deleted, json!({"title": bp["title"], "links_taken_out": expected}));
    for (id, _, version, links) in &holding {
        let note = format!("links to the deleted map «{}» taken out ({links})", bp["title"].as_str().unwrap());
        assert_eq!(versions(&admin, id).await[0], (version + 1, note));
    }
    let rehau_now = load(&admin, REHAU, 0).await["version"].clone();
    assert_eq!(json_of(admin.call("maps/delete", &[("map_id", "map_template")]).await).await["links_taken_out"], json!([]));
    assert_eq!(load(&admin, REHAU, 0).await["version"], rehau_now, "untouched by a map it does not link to");
}

/// The ComOps loop as the loop view reads it (JSON text), and whether it
/// draws the link `from` → `to`.
async fn loop_links(browser: &Browser, from: &str, to: &str) -> bool {
    let page = loop_page(browser).await;
    page["view"]["edges"].as_array().unwrap().iter().any(|e| e["from"] == from && e["to"] == to)
}

#[tokio::test]
async fn a_row_bound_on_the_loop_is_a_map_version_only_architects_save() {
    const REGISTRATION: &str = "map_registration";
    const ROW: &str = "map_registration#r1";
    const ENDPOINT: &str = "endpoint:bot_rehau/users/connect-bot";
    let (server, admin) = start().await;
    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let architect = user(&server, "alena@rehau.example", "architect").await;
    assert!(!loop_links(&viewer, ROW, ENDPOINT).await, "row 1 of the registration map is bound to nothing");

    // What the loop view saves when row 1 is dropped on /users/connect-bot:
    // the version it was drawn from, that row's trigger bound, with a note.
    let v1 = load(&architect, REGISTRATION, 1).await;
    let title = v1["title"].as_str().unwrap().to_string();
    let mut bound = v1["content"].clone();
    bound["rows"][0]["trigger"] = json!({"bot_id": "bot_rehau", "alias": "users/connect-bot", "scenario": "registration_flow"});
    let note = "loop: row 1 → users/connect-bot";

    // A viewer's drag (were it drawn) and an analyst's are refused; nothing is written.
    for who in [&viewer, &analyst] {
        let refused = save(who, REGISTRATION, &title, &bound, note, 1).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(json_of(refused).await, json!("Forbidden"));
    }
    assert_eq!(versions(&admin, REGISTRATION).await.len(), 1);

    // The architect's is version 2, with the loop's note; the loop draws the link.
    assert_eq!(json_of(save(&architect, REGISTRATION, &title, &bound, note, 1).await).await, json!({"Saved": {"version": 2}}));
    assert_eq!(versions(&viewer, REGISTRATION).await[0], (2, note.to_string()));
    assert!(loop_links(&viewer, ROW, ENDPOINT).await);

    // Someone whose loop was drawn at version 1 binds row 2: a conflict
    // naming the architect, not an overwrite of her binding.
    let mut stale = v1["content"].clone();
    stale["rows"][1]["trigger"] = json!({"bot_id": "bot_rehau", "alias": "users/connect-bot"});
    let conflict = json_of(save(&admin, REGISTRATION, &title, &stale, "loop: row 2 → users/connect-bot", 1).await).await;
    assert_eq!(conflict, json!({"Conflict": {"current": 2, "author": "alena@rehau.example"}}));

    // Unbinding on the loop: bot and alias cleared, the scenario kept — version 3.
    let mut unbound = load(&architect, REGISTRATION, 2).await["content"].clone();
    unbound["rows"][0]["trigger"] = json!({"bot_id": null, "alias": null, "scenario": "registration_flow"});
    let unbind_note = "loop: row 1 unbound from users/connect-bot";
    assert_eq!(save(&analyst, REGISTRATION, &title, &unbound, unbind_note, 2).await.status(), 403);
    assert_eq!(json_of(save(&architect, REGISTRATION, &title, &unbound, unbind_note, 2).await).await, json!({"Saved": {"version": 3}}));
    assert!(!loop_links(&viewer, ROW, ENDPOINT).await);
    assert_eq!(load(&viewer, REGISTRATION, 0).await["content"]["rows"][0]["trigger"]["scenario"], "registration_flow");
}

/// `maps/save-set`: each (map, content, note, base) saved in one commit.
async fn save_set(browser: &Browser, parts: &[(&str, &Value, &str, i64)]) -> reqwest::Response {
    let parts: Vec<Value> = parts.iter().map(|(map, content, note, base)| json!({"map_id": map, "json": content.to_string(), "note": note, "base_version": base})).collect();
    call_json(browser, "maps/save-set", json!({"parts": parts})).await
}

/// `content` without any link to CJM stage `stage` (a row's `stages`).
fn without_links_to(content: &Value, stage: &str) -> Value {
    let mut cut = content.clone();
    for row in cut["rows"].as_array_mut().unwrap() {
        if let Some(stages) = row.get_mut("stages").and_then(Value::as_array_mut) {
            stages.retain(|s| !(s["map"] == CJM && s["item"] == stage));
        }
    }
    cut
}

/// `maps/linking`: the ids of the maps `maps_linking_to` answers hold
/// links to `items` of `map`, each with its version.
async fn linking(browser: &Browser, map: &str, items: &[&str]) -> Vec<(String, i64)> {
    let answer = json_of(call_json(browser, "maps/linking", json!({"map_id": map, "items": items})).await).await;
    let holders = answer.as_array().unwrap_or_else(|| panic!("{answer}"));
    holders.iter().map(|m| (m["id"].as_str().unwrap().to_string(), m["version"].as_i64().unwrap())).collect()
}

/// Whether `content` holds a link to `item` of `map` anywhere: a row's
/// `stages` or `cells`, a blueprint stage's `cjm_stages`.
fn links_to(content: &Value, map: &str, item: &str) -> bool {
    links_count(content, map, |i| i == item) > 0
}

/// How many links `content` holds to items of `map` that `items` takes.
fn links_count(content: &Value, map: &str, items: impl Fn(&str) -> bool) -> usize {
    ["rows", "stages"]
        .iter()
        .flat_map(|list| content[list].as_array().into_iter().flatten())
        .flat_map(|holder| ["stages", "cjm_stages", "cells"].iter().flat_map(|field| holder[field].as_array().into_iter().flatten()))
        .filter(|link| link["map"] == map && link["item"].as_str().is_some_and(&items))
        .count()
}

/// The project's maps other than `map` holding links to its items that
/// `items` takes, in the list's order: each with its title, version and
/// how many such links, as a save's `links_taken_out` names them once
/// cut (`version` + 1).
async fn holding_links(browser: &Browser, map: &str, items: impl Fn(&str) -> bool + Copy) -> Vec<Value> {
    let mut holding = Vec::new();
    for listed in json_of(browser.call("maps/list", &[("project_id", PROJECT)]).await).await.as_array().unwrap() {
        let loaded = load(browser, listed["id"].as_str().unwrap(), 0).await;
        let links = links_count(&loaded["content"], map, items);
        if links > 0 && listed["id"] != map {
            holding.push(json!({"map_id": listed["id"], "title": loaded["title"], "version": loaded["version"].as_i64().unwrap() + 1, "links": links}));
        }
    }
    holding
}

#[tokio::test]
async fn a_stage_deleted_with_the_links_to_it_is_one_commit_of_every_map_or_none() {
    let (server, admin) = start().await;
    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let (cjm, rehau) = (load(&analyst, CJM, 0).await, load(&analyst, REHAU, 0).await);
    let (cjm_v, rehau_v) = (cjm["version"].as_i64().unwrap(), rehau["version"].as_i64().unwrap());
    let mut fewer = cjm["content"].clone();
    fewer["stages"].as_array_mut().unwrap().retain(|s| s["id"] != "registration");
    let cut = without_links_to(&rehau["content"], "registration");
    assert_ne!(cut, rehau["content"], "the REHAU rows link to «Регистрация»");

    // The maps holding links to the stage, found by the server: exactly
    // the project's maps a look into each finds them in, at their versions.
    let mut holding = Vec::new();
    for listed in json_of(viewer.call("maps/list", &[("project_id", PROJECT)]).await).await.as_array().unwrap() {
        let id = listed["id"].as_str().unwrap();
        let loaded = load(&viewer, id, 0).await;
        if id != CJM && links_to(&loaded["content"], CJM, "registration") {
            holding.push((id.to_string(), loaded["version"].as_i64().unwrap()));
        }
    }
    assert!(holding.len() >= 2 && holding.iter().any(|(id, _)| id == REHAU), "{holding:?}");
    assert_eq!(linking(&viewer, CJM, &["registration"]).await, holding);
    assert_eq!(linking(&viewer, CJM, &["no-such-stage", "registration"]).await, holding);
    assert!(linking(&viewer, CJM, &["no-such-stage"]).await.is_empty());
    assert!(linking(&viewer, CJM, &[]).await.is_empty());
    assert_eq!(call_json(&viewer, "maps/linking", json!({"map_id": "map_nowhere", "items": ["registration"]})).await.status(), 404);

    // A viewer saves nothing, one map or several.
    let refused = save_set(&viewer, &[(CJM, &fewer, "x", cjm_v), (REHAU, &cut, "x", rehau_v)]).await;
    assert_eq!(refused.status(), 403);

    // The analyst deletes the stage and the REHAU rows' links to it: both
    // saved, each with its note; the links the set did not carry (the
    // other maps') are taken out by the server in the same commit.
    let others: Vec<Value> = holding_links(&viewer, CJM, |item| item == "registration").await.into_iter().filter(|m| m["map_id"] != REHAU).collect();
    assert!(!others.is_empty());
    let saved = json_of(save_set(&analyst, &[(CJM, &fewer, "loop: «Регистрация» deleted", cjm_v), (REHAU, &cut, "loop: links to «Регистрация» taken out (1)", rehau_v)]).await).await;
    assert_eq!(saved, json!({"Saved": {"versions": [cjm_v + 1, rehau_v + 1], "links_taken_out": others}}));
    for other in &others {
        let note = format!("links to stages deleted in «{}» taken out ({})", cjm["title"].as_str().unwrap(), other["links"]);
        assert_eq!(versions(&viewer, other["map_id"].as_str().unwrap()).await[0], (other["version"].as_i64().unwrap(), note));
    }
    assert_eq!(versions(&viewer, REHAU).await[0], (rehau_v + 1, "loop: links to «Регистрация» taken out (1)".to_string()));
    assert_eq!(versions(&viewer, CJM).await[0], (cjm_v + 1, "loop: «Регистрация» deleted".to_string()));
    let page = loop_page(&viewer).await;
    let to_stage = |list: &Value| list.as_array().unwrap().iter().filter(|e| e["from"].as_str().unwrap().starts_with("map_rehau#") && e["to"] == "map_registration-cjm#registration").count();
    assert_eq!(to_stage(&page["view"]["dangling"]), 0, "no REHAU row links to nothing");
    assert!(!linking(&viewer, CJM, &["registration"]).await.iter().any(|(id, _)| id == REHAU), "REHAU holds none now");

    // Put back together: the rows' links name the stage the same commit brings back.
    let back = json_of(save_set(&analyst, &[(REHAU, &rehau["content"], "put back", rehau_v + 1), (CJM, &cjm["content"], "put back", cjm_v + 1)]).await).await;
    assert_eq!(back, json!({"Saved": {"versions": [rehau_v + 2, cjm_v + 2]}}));
    assert!(to_stage(&loop_page(&viewer).await["view"]["edges"]) > 0);

    // A map of the set keeping a link to the stage another takes out is
    // refused, naming the link: the set would leave it naming nothing.
    let kept = json_of(save_set(&analyst, &[(CJM, &fewer, "", cjm_v + 2), (REHAU, &rehau["content"], "", rehau_v + 2)]).await).await;
    assert_eq!(kept["Invalid"]["map_id"], REHAU, "{kept}");
    let fields: Vec<&str> = kept["Invalid"]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(!fields.is_empty() && fields.iter().all(|f| f.starts_with("rows[") && f.contains("].stages[")), "{kept}");
    assert_eq!(fields.len(), links_count(&rehau["content"], CJM, |item| item == "registration"), "{kept}");
    // A link to an item that neither the project's maps nor the set have
    // is refused, naming its map and place; nothing is written.
    let mut nowhere = rehau["content"].clone();
    nowhere["rows"][0]["stages"] = json!([{"map": CJM, "item": "nowhere"}]);
    let invalid = json_of(save_set(&analyst, &[(CJM, &fewer, "", cjm_v + 2), (REHAU, &nowhere, "", rehau_v + 2)]).await).await;
    assert_eq!(invalid, json!({"Invalid": {"map_id": REHAU, "errors": [{"field": "rows[0].stages[0]", "code": "unknown"}]}}));
    // One map stale: a conflict naming it, and the other is not saved either.
    let stale = json_of(save_set(&admin, &[(CJM, &fewer, "", cjm_v + 2), (REHAU, &cut, "", rehau_v + 1)]).await).await;
    assert_eq!(stale, json!({"Conflict": {"map_id": REHAU, "current": rehau_v + 2, "author": "marina@rehau.example"}}));
    assert_eq!(load(&viewer, CJM, 0).await["version"], cjm_v + 2);
    // Rebinding a row in a set is the architect's, as in a save of one map.
    let mut rebound = rehau["content"].clone();
    rebound["rows"][1]["trigger"]["alias"] = json!("events/webinar-feedback");
    assert_eq!(save_set(&analyst, &[(CJM, &fewer, "", cjm_v + 2), (REHAU, &rebound, "", rehau_v + 2)]).await.status(), 403);
    // No map, the same map twice: refused as bad input, with the field.
    let empty = call_json(&analyst, "maps/save-set", json!({"parts": []})).await;
    assert_eq!(empty.status(), 400);
    assert_eq!(json_of(empty).await, json!({"Invalid": [{"field": "parts", "code": "required"}]}));
    let many: Vec<Value> = (0..65).map(|i| json!({"map_id": format!("map_{i}"), "json": "{}", "note": "", "base_version": 1})).collect();
    let many = call_json(&analyst, "maps/save-set", json!({"parts": many})).await;
    assert_eq!(many.status(), 400);
    assert_eq!(json_of(many).await, json!({"Invalid": [{"field": "parts", "code": "too_many_maps", "max": 64}]}));
    let twice = json_of(save_set(&analyst, &[(CJM, &fewer, "", cjm_v + 2), (CJM, &fewer, "", cjm_v + 2)]).await).await;
    assert_eq!(twice, json!({"Invalid": [{"field": "parts[1].map_id", "code": "taken"}]}));
    assert_eq!(load(&viewer, CJM, 0).await["version"], cjm_v + 2);
    assert_eq!(load(&viewer, REHAU, 0).await["version"], rehau_v + 2);

    // A part may be what changed since its base (the rows cut), as the loop sends it.
    let row = cut["rows"].as_array().unwrap().iter().find(|r| r["id"] == "r1").unwrap().clone();
    let part = |json: String| json!({"map_id": REHAU, "json": json, "changes": true, "note": "cut", "base_version": rehau_v + 2});
    let bad = json_of(call_json(&analyst, "maps/save-set", json!({"parts": [part("{".into())]})).await).await;
    assert_eq!(bad, json!({"Invalid": {"map_id": REHAU, "errors": [{"field": "changes", "code": "bad_json"}]}}));
    let saved = json_of(call_json(&analyst, "maps/save-set", json!({"parts": [part(json!({"rows": [row]}).to_string())]})).await).await;
    assert_eq!(saved, json!({"Saved": {"versions": [rehau_v + 3]}}));
    let now = load(&viewer, REHAU, 0).await;
    assert_eq!(now["content"]["rows"][0], row, "{now}");
    // A part may rename its map (the map editor's save), checked as a save of one map is.
    let mut titled = part(json!({}).to_string());
    titled["base_version"] = json!(rehau_v + 3);
    titled["title"] = json!("  ");
    let untitled = json_of(call_json(&analyst, "maps/save-set", json!({"parts": [titled.clone()]})).await).await;
    assert_eq!(untitled, json!({"Invalid": {"map_id": REHAU, "errors": [{"field": "title", "code": "required"}]}}));
    titled["title"] = json!("REHAU: монтажники");
    assert_eq!(json_of(call_json(&analyst, "maps/save-set", json!({"parts": [titled]})).await).await, json!({"Saved": {"versions": [rehau_v + 4]}}));
    assert_eq!(load(&viewer, REHAU, 0).await["title"], "REHAU: монтажники");
    assert_eq!(now["content"]["rows"].as_array().unwrap().len(), rehau["content"]["rows"].as_array().unwrap().len(), "the other rows kept");
}

/// A save, a restore or a CSV import that takes a stage out of a CJM takes
/// out, in the same commit, the links other maps hold to it, whichever
/// client sent it: each such map a version noted in the saver's language,
/// audited, and named in the answer; a save that takes no stage out
/// touches no other map.
#[tokio::test]
async fn a_stage_taken_out_by_a_save_a_restore_or_a_csv_takes_the_links_to_it_along() {
    let (server, admin) = start().await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let cjm = load(&analyst, CJM, 0).await;
    assert_eq!(cjm["version"], 1);
    let title = cjm["title"].as_str().unwrap().to_string();
    let note = |links: &Value| format!("links to stages deleted in «{title}» taken out ({links})");
    let version_of = |m: &Value| m["version"].as_i64().unwrap();
    let dangling_to = |page: &Value, item: &str| {
        let to = format!("{CJM}#{item}");
        page["view"]["dangling"].as_array().unwrap().iter().filter(|e| e["to"] == to).count()
    };

    // Saved over `maps/save`, as any client or script may: the stage goes,
    // and every link to it.
    let holding = holding_links(&analyst, CJM, |item| item == "first-use").await;
    assert!(holding.len() >= 2, "the demo's blueprint and communication map link to «Первое использование»: {holding:?}");
    let mut fewer = cjm["content"].clone();
    fewer["stages"].as_array_mut().unwrap().retain(|s| s["id"] != "first-use");
    let saved = json_of(save(&analyst, CJM, &title, &fewer, "first use goes", 1).await).await;
    assert_eq!(saved, json!({"Saved": {"version": 2, "links_taken_out": holding}}));
    let store = server.store().await;
    for holder in &holding {
        let id = holder["map_id"].as_str().unwrap();
        assert!(!links_to(&load(&viewer, id, 0).await["content"], CJM, "first-use"), "{id}");
        assert_eq!(versions(&viewer, id).await[0], (version_of(holder), note(&holder["links"])));
        let audited: Vec<(String, String)> = sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'map.save' AND subject = $1")
            .bind(id)
            .fetch_all(store.pool())
            .await
            .unwrap();
        let entry = format!("«{}» v{}; {}", holder["title"].as_str().unwrap(), version_of(holder), note(&holder["links"]));
        assert_eq!(audited, [("marina@rehau.example".to_string(), entry)], "{id}");
    }
    let own: Vec<(String,)> = sqlx::query_as("SELECT detail FROM audit_log WHERE action = 'map.save' AND subject = $1").bind(CJM).fetch_all(store.pool()).await.unwrap();
    assert_eq!(own, [(format!("«{title}» v2; links to its deleted stages taken out of {} map(s)", holding.len()),)]);
    assert_eq!(dangling_to(&loop_page(&viewer).await, "first-use"), 0);

    // A restore that takes nothing out (the stage back) touches no other map.
    let rehau = load(&analyst, REHAU, 0).await;
    let back = analyst.call("maps/restore", &[("map_id", CJM), ("version", "1"), ("base_version", "2")]).await;
    assert_eq!(json_of(back).await, json!({"Saved": {"version": 3}}));
    assert_eq!(load(&viewer, REHAU, 0).await["version"], rehau["version"]);

    // Linked to again; a restore of the version without it takes that link out.
    let mut relinked = rehau["content"].clone();
    relinked["rows"][0]["stages"].as_array_mut().unwrap().push(json!({"map": CJM, "item": "first-use"}));
    let rehau_title = rehau["title"].as_str().unwrap();
    let v = version_of(&rehau);
    assert_eq!(json_of(save(&analyst, REHAU, rehau_title, &relinked, "linked", v).await).await, json!({"Saved": {"version": v + 1}}));
    let restored = json_of(analyst.call("maps/restore", &[("map_id", CJM), ("version", "2"), ("base_version", "3")]).await).await;
    let expected = json!([{"map_id": REHAU, "title": rehau_title, "version": v + 2, "links": 1}]);
    assert_eq!(restored, json!({"Saved": {"version": 4, "links_taken_out": expected}}));
    assert_eq!(versions(&viewer, REHAU).await[0], (v + 2, note(&json!(1))));

    // A CSV import without a stage: the same, the note in the importer's language.
    let holding = holding_links(&analyst, CJM, |item| item == "feedback").await;
    assert!(!holding.is_empty(), "the demo's maps link to «Обратная связь»");
    let csv = json_of(admin.call("maps/csv-export", &[("map_id", CJM), ("version", "0")]).await).await;
    let csv = csv.as_str().unwrap();
    let without: Vec<&str> = csv.lines().filter(|line| !line.contains("Обратная связь")).collect();
    assert_eq!(without.len() + 1, csv.lines().count(), "one line is the stage's: {csv}");
    assert_eq!(analyst.call("set_locale", &[("locale", "ru")]).await.status(), 200);
    let imported = json_of(import_csv(&analyst, CJM, &without.join("\n"), 4).await).await;
    assert_eq!(imported, json!({"Saved": {"version": 5, "links_taken_out": holding}}));
    for holder in &holding {
        let said = format!("убраны связи с этапами, удалёнными в «{title}» ({})", holder["links"]);
        assert_eq!(versions(&viewer, holder["map_id"].as_str().unwrap()).await[0], (version_of(holder), said));
    }
    let page = loop_page(&viewer).await;
    assert_eq!((dangling_to(&page, "first-use"), dangling_to(&page, "feedback")), (0, 0));
}

/// `maps/save-changes` with `changes` (see `comops_core::map::changes`).
async fn save_changes(browser: &Browser, map: &str, title: &str, changes: &Value, base: i64) -> reqwest::Response {
    let body = json!({"map_id": map, "title": title, "changes": changes.to_string(), "note": "changes", "base_version": base});
    call_json(browser, "maps/save-changes", body).await
}

#[tokio::test]
async fn a_save_of_what_changed_is_a_version_like_a_whole_save_and_checked_the_same() {
    let (server, _admin) = start().await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let title = "Коммуникационная карта для REHAU";
    let v1 = load(&analyst, REHAU, 0).await["content"].clone();
    let ids: Vec<&str> = v1["rows"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();

    // One row reworded, the last two swapped, a row added: only those travel.
    let mut row1 = v1["rows"][1].clone();
    row1["result"] = json!("Приглашение получено");
    let mut order: Vec<&str> = ids.clone();
    let n = order.len();
    order.swap(n - 2, n - 1);
    order.push("row-new");
    let changes = json!({"rows": [row1, {"id": "row-new", "number": 99, "event": "Новое событие"}], "order": order});
    let saved = json_of(save_changes(&analyst, REHAU, title, &changes, 1).await).await;
    assert_eq!(saved, json!({"Saved": {"version": 2}}));
    let v2 = load(&analyst, REHAU, 0).await["content"].clone();
    let mut expected = v1.clone();
    expected["rows"][1]["result"] = json!("Приглашение получено");
    expected["rows"].as_array_mut().unwrap().swap(n - 2, n - 1);
    let added = &v2["rows"][n];
    assert_eq!((added["id"].as_str(), added["event"].as_str()), (Some("row-new"), Some("Новое событие")));
    assert_eq!(v2["rows"].as_array().unwrap()[..n], expected["rows"].as_array().unwrap()[..], "every other row as it was");

    // Built on version 1 after version 2: a conflict, nothing applied.
    let stale = json_of(save_changes(&analyst, REHAU, title, &json!({"rows": [], "unset": []}), 1).await).await;
    assert_eq!(stale, json!({"Conflict": {"current": 2, "author": "marina@rehau.example"}}));
    // Changes that do not fit version 2, or content the rules refuse, are named.
    let unknown = json_of(save_changes(&analyst, REHAU, title, &json!({"order": [ids[0], "no-such-row"]}), 2).await).await;
    assert_eq!(unknown["Invalid"]["errors"], json!([{"field": "changes.order[1]", "code": "unknown"}]), "{unknown}");
    let mut bad = v2["rows"][2].clone();
    bad["channel"] = json!(42);
    let invalid = json_of(save_changes(&analyst, REHAU, title, &json!({"rows": [bad]}), 2).await).await;
    assert_eq!(invalid["Invalid"]["errors"], json!([{"field": "rows[2].channel", "code": "bad_json"}]), "{invalid}");
    let not_json = call_json(&analyst, "maps/save-changes", json!({"map_id": REHAU, "title": title, "changes": "{", "note": "", "base_version": 2})).await;
    assert_eq!(json_of(not_json).await["Invalid"]["errors"], json!([{"field": "changes", "code": "bad_json"}]));
    // Re-binding a row is still the architect's, however it is sent.
    let mut rebound = v2["rows"][1].clone();
    rebound["trigger"]["alias"] = json!("events/webinar-feedback");
    assert_eq!(save_changes(&analyst, REHAU, title, &json!({"rows": [rebound]}), 2).await.status(), 403);
    assert_eq!(versions(&analyst, REHAU).await.len(), 2, "nothing refused was saved");
}

/// `users/connect-bot` of `bot_rehau`, as the endpoints list has it.
async fn connect_bot(browser: &Browser) -> Value {
    let all = json_of(browser.call("endpoints/list", &[("bot_id", "bot_rehau")]).await).await;
    all.as_array().unwrap().iter().find(|e| e["alias"] == "users/connect-bot").cloned().unwrap()
}

/// What the loop's endpoint panel sends to make `alias` start `scenario`,
/// drawn starting `expect`.
async fn set_scenario(browser: &Browser, alias: &str, scenario: &str, expect: &str) -> reqwest::Response {
    let note = format!("loop: {alias} → scenario «{scenario}»");
    browser.call("endpoints/scenario", &[("bot_id", "bot_rehau"), ("alias", alias), ("scenario", scenario), ("expect", expect), ("note", &note)]).await
}

/// The scenario an endpoint starts, as the loop's endpoint panel sets it
/// (`endpoints/scenario`): the endpoint's next version with the loop's
/// note, if it still starts what the loop drew; the architect's to set.
#[tokio::test]
async fn an_endpoints_scenario_set_on_the_loop_is_its_version_if_it_still_starts_what_was_drawn() {
    const ALIAS: &str = "users/connect-bot";
    let (server, admin) = start().await;
    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let architect = user(&server, "alena@rehau.example", "architect").await;
    // Every part of the endpoint away from its default first, so that
    // one lost on the way would show.
    let demo = connect_bot(&viewer).await;
    let draft = json!({
        "alias": demo["alias"], "description": demo["description"], "owner": demo["owner"], "schema": demo["schema"],
        "example": demo["example"].to_string(), "response_description": "200: the installer is linked", "isolated": true,
        "enabled": true, "scenario": "registration_flow", "allow_overlap": true, "on_blocked": "webinar_feedback",
    });
    let flagged = json_of(call_json(&architect, "endpoints/update", json!({"id": demo["id"], "base": demo["version"], "draft": draft, "note": "flags"})).await).await;
    assert!(flagged["Saved"].is_object(), "{flagged}");
    let before = connect_bot(&viewer).await;
    assert_eq!((before["isolated"].as_bool(), before["allow_overlap"].as_bool(), before["on_blocked"].as_str()), (Some(true), Some(true), Some("webinar_feedback")));
    assert_eq!(before["scenario"], "registration_flow");
    // Viewers and analysts may not; nothing is written.
    for who in [&viewer, &analyst] {
        let refused = set_scenario(who, ALIAS, "webinar_invite", "registration_flow").await;
        assert_eq!(refused.status(), 403);
        assert_eq!(json_of(refused).await, json!("Forbidden"));
    }
    // Drawn before someone changed it: the conflict, with its version.
    let stale = json_of(set_scenario(&architect, ALIAS, "webinar_invite", "feedback_flow").await).await;
    assert_eq!(stale["Conflict"]["current"], before["version"], "{stale}");
    assert_eq!(connect_bot(&viewer).await, before, "nothing written");
    // As drawn: the next version, the rest of the endpoint as it was.
    let version = before["version"].as_i64().unwrap();
    assert_eq!(json_of(set_scenario(&architect, ALIAS, "webinar_invite", "registration_flow").await).await, json!({"Saved": {"version": version + 1}}));
    let after = connect_bot(&viewer).await;
    assert_eq!((after["scenario"].as_str(), after["version"].as_i64()), (Some("webinar_invite"), Some(version + 1)));
    let (mut kept, mut was) = (after.clone(), before.clone());
    for changed in ["scenario", "version", "updated_at"] {
        kept.as_object_mut().unwrap().remove(changed);
        was.as_object_mut().unwrap().remove(changed);
    }
    assert_eq!(kept, was, "the rest of the endpoint as it was");
    let history = json_of(viewer.call("endpoints/versions", &[("id", before["id"].as_str().unwrap())]).await).await;
    assert_eq!(history["versions"][0]["note"], "loop: users/connect-bot → scenario «webinar_invite»", "{history}");
    assert_eq!(history["versions"][0]["author"], "alena@rehau.example", "{history}");
    // Another editor whose loop still drew the old one gets the conflict naming her.
    let conflict = json_of(set_scenario(&admin, ALIAS, "feedback_flow", "registration_flow").await).await;
    assert_eq!(conflict, json!({"Conflict": {"current": version + 1, "author": "alena@rehau.example"}}));
    // None; and an endpoint that does not exist.
    assert_eq!(json_of(set_scenario(&architect, ALIAS, "", "webinar_invite").await).await, json!({"Saved": {"version": version + 2}}));
    assert_eq!(connect_bot(&viewer).await["scenario"], "");
    assert_eq!(set_scenario(&architect, "users/nope", "x", "").await.status(), 404);
}

/// What the loop's panel of an endpoint the maps bind to and no bot has
/// sends to create it (`endpoints/planned`).
async fn create_planned(browser: &Browser, bot: &str, alias: &str) -> reqwest::Response {
    let note = format!("loop: endpoint {alias} created as the maps plan it");
    browser.call("endpoints/planned", &[("project_id", PROJECT), ("bot_id", bot), ("alias", alias), ("note", &note)]).await
}

/// What the loop's Undo of that sends (`endpoints/unplan`).
async fn delete_at(browser: &Browser, id: &Value, version: i64) -> reqwest::Response {
    browser.call("endpoints/unplan", &[("id", id.as_str().unwrap()), ("version", &version.to_string())]).await
}

async fn shop_endpoint(browser: &Browser, alias: &str) -> Option<Value> {
    let all = json_of(browser.call("endpoints/list", &[("bot_id", "bot_shop")]).await).await;
    all.as_array().unwrap().iter().find(|e| e["alias"] == alias).cloned()
}

/// The shop's calls of `alias` (all time, every endpoint it named), once
/// there are `want` (a call's trace may be committed after its answer).
async fn shop_calls(browser: &Browser, alias: &str, want: i64) -> i64 {
    let mut calls = 0;
    for _ in 0..100 {
        let page = json_of(browser.call("endpoints/page", &[("bot_id", "bot_shop")]).await).await;
        calls = page["traffic"].as_array().unwrap().iter().find(|t| t["alias"] == alias).map_or(0, |t| t["calls"].as_i64().unwrap());
        if calls >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    calls
}

/// The ComOps loop of the demo project as its page reads it.
async fn loop_page(browser: &Browser) -> Value {
    serde_json::from_str(json_of(browser.call("maps/loop", &[("project_id", PROJECT)]).await).await.as_str().unwrap()).unwrap()
}

/// The endpoint a map binds to and no bot has (the loop's "not live"
/// gap: it was deleted after the row was bound), created from the loop
/// as the maps plan it: its version 1 with the loop's note, the
/// architect's to make; its Undo deletes it only while nobody changed or
/// called it since.
#[tokio::test]
async fn an_endpoint_the_maps_plan_is_created_from_the_loop_and_taken_back_only_as_made() {
    const TEMPLATE: &str = "map_template";
    const ALIAS: &str = "order/feedback";
    const NODE: &str = "endpoint:bot_shop/order/feedback";
    let (server, admin) = start().await;
    let viewer = user(&server, "viewer@rehau.example", "viewer").await;
    let analyst = user(&server, "marina@rehau.example", "analyst").await;
    let architect = user(&server, "alena@rehau.example", "architect").await;
    // Nothing binds it yet: nothing to create.
    assert_eq!(create_planned(&architect, "bot_shop", ALIAS).await.status(), 404);
    // Row 3 of the working table («Заказ доставлен», planned as
    // order/feedback) bound to the shop's endpoint, which is then deleted.
    let first = call_json(&admin, "endpoints/create", json!({"bot_id": "bot_shop", "draft": {"alias": ALIAS, "enabled": true, "schema": {"fields": []}}})).await;
    let first = json_of(first).await;
    let v1 = load(&architect, TEMPLATE, 1).await;
    let mut bound = v1["content"].clone();
    assert_eq!(bound["rows"][2]["trigger"]["alias"], ALIAS);
    bound["rows"][2]["trigger"] = json!({"bot_id": "bot_shop", "alias": ALIAS, "scenario": "csat_survey"});
    assert_eq!(json_of(save(&architect, TEMPLATE, v1["title"].as_str().unwrap(), &bound, "bound", 1).await).await, json!({"Saved": {"version": 2}}));
    // A business system called that one: its calls are not the next one's.
    let issued = server.cli(&["token", "issue", "--name", "shop", "--bots", "bot_shop", "--actions", "call"]);
    let stdout = String::from_utf8_lossy(&issued.stdout);
    let secret = stdout.lines().find_map(|l| l.strip_prefix("secret (shown once): ")).expect("a token").to_string();
    let call = || async { reqwest::Client::new().post(format!("{}/bots/bot_shop/call/{ALIAS}", viewer.base)).bearer_auth(&secret).json(&json!({})).send().await.unwrap().status() };
    assert_eq!(call().await, 200, "answered, naming nobody");
    assert_eq!(shop_calls(&viewer, ALIAS, 1).await, 1);
    assert_eq!(admin.call("endpoints/delete", &[("id", first["id"].as_str().unwrap())]).await.status(), 200);
    let page = loop_page(&viewer).await;
    assert!(page["view"]["nodes"].as_array().unwrap().iter().any(|n| n["key"] == NODE), "drawn: {page}");
    assert!(!page["live_endpoints"].as_array().unwrap().iter().any(|k| k == NODE), "not live");

    // Viewers and analysts may not; nothing is made.
    for who in [&viewer, &analyst] {
        let refused = create_planned(who, "bot_shop", ALIAS).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(json_of(refused).await, json!("Forbidden"));
    }
    assert_eq!(shop_endpoint(&viewer, ALIAS).await, None);
    // A bot that is not the project's is named as the problem.
    let elsewhere = create_planned(&architect, "bot_elsewhere", ALIAS).await;
    assert_eq!(elsewhere.status(), 400);
    assert_eq!(json_of(elsewhere).await["Invalid"][0]["field"], "bot_id");

    // The architect's: version 1, as the row plans it, with the loop's note.
    let created = json_of(create_planned(&architect, "bot_shop", ALIAS).await).await;
    assert_eq!(created["Created"]["version"], 1, "{created}");
    let made = shop_endpoint(&viewer, ALIAS).await.expect("made");
    assert_eq!(created["Created"]["id"], made["id"]);
    assert_eq!((made["description"].as_str(), made["scenario"].as_str(), made["enabled"].as_bool()), (Some("Заказ доставлен"), Some("csat_survey"), Some(true)));
    let history = json_of(viewer.call("endpoints/versions", &[("id", made["id"].as_str().unwrap())]).await).await;
    assert_eq!(history["versions"][0]["note"], "loop: endpoint order/feedback created as the maps plan it", "{history}");
    assert_eq!(history["versions"][0]["author"], "alena@rehau.example");
    assert!(loop_page(&viewer).await["live_endpoints"].as_array().unwrap().iter().any(|k| k == NODE), "live now");
    // Someone whose loop still drew the gap gets the conflict naming her.
    assert_eq!(json_of(create_planned(&admin, "bot_shop", ALIAS).await).await, json!({"Conflict": {"current": 1, "author": "alena@rehau.example"}}));

    // Undo: refused to others, and once someone changed it, the conflict.
    assert_eq!(delete_at(&analyst, &made["id"], 1).await.status(), 403);
    let draft = json!({"alias": ALIAS, "description": "Просьба об отзыве", "owner": "", "schema": made["schema"], "example": "", "response_description": "",
        "isolated": false, "enabled": true, "scenario": "csat_survey", "allow_overlap": false, "on_blocked": ""});
    let changed = json_of(call_json(&admin, "endpoints/update", json!({"id": made["id"], "base": 1, "draft": draft, "note": "described"})).await).await;
    assert!(changed["Saved"].is_object(), "{changed}");
    assert_eq!(json_of(delete_at(&architect, &made["id"], 1).await).await, json!({"Conflict": {"current": 2, "author": ADMIN_EMAIL}}));
    assert_eq!(shop_endpoint(&viewer, ALIAS).await.expect("kept")["description"], "Просьба об отзыве");
    // At the version it is: deleted, and the gap is back; again, not found.
    assert_eq!(json_of(delete_at(&architect, &made["id"], 2).await).await, json!("Deleted"));
    assert_eq!(shop_endpoint(&viewer, ALIAS).await, None);
    assert!(!loop_page(&viewer).await["live_endpoints"].as_array().unwrap().iter().any(|k| k == NODE), "not live again");
    assert_eq!(delete_at(&architect, &made["id"], 2).await.status(), 404);

    // Made again (a Redo): a new endpoint, version 1. Once a business
    // system has called it, an Undo leaves it.
    let again = json_of(create_planned(&architect, "bot_shop", ALIAS).await).await;
    assert_eq!(again["Created"]["version"], 1, "{again}");
    assert_ne!(again["Created"]["id"], made["id"]);
    assert_eq!(call().await, 200);
    assert_eq!(shop_calls(&viewer, ALIAS, 2).await, 2);
    assert_eq!(json_of(delete_at(&architect, &again["Created"]["id"], 1).await).await, json!({"Called": {"calls": 1}}));
    assert!(shop_endpoint(&viewer, ALIAS).await.is_some(), "kept");
}
