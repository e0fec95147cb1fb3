//! The token-authenticated admin API: scheduled runs and endpoint
//! export/import, against the real `comops` process.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

async fn setup() -> (TestServer, Store) {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    let rehau = BotId::parse("bot_rehau").unwrap();
    let link = IdentityLink::telegram("125", "TG-9072612", "540278913", "telegram");
    store.link_identity(&rehau, &link).await.unwrap();
    // The scenarios the jobs below run: one message each.
    for (name, text) in [("webinar_reminder", "Вебинар «{{ params.webinar }}» через час."), ("retention_tips", "Совет дня.")] {
        let scenario: comops_core::scenario::Scenario = serde_json::from_value(json!({
            "name": name, "start": "s",
            "steps": [{"id": "s", "type": "message", "text": text, "next": "e"}, {"id": "e", "type": "end"}]
        }))
        .unwrap();
        store.save_scenario(&rehau, &scenario, "", "test").await.unwrap();
    }
    (server, store)
}

async fn token(store: &Store, actions: &[TokenAction]) -> String {
    let draft = TokenDraft { name: "REHAU portal".into(), bots: "bot_rehau".into(), actions: actions.to_vec(), ..Default::default() };
    store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
}

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new().post(server.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_scheduled_webinar_reminder_becomes_a_run_when_due() {
    let (server, store) = setup().await;
    let secret = token(&store, &[TokenAction::Call]).await;
    let (status, body) = post(
        &server,
        "/bots/bot_rehau/jobs/schedule",
        &secret,
        json!({"scenario": "webinar_reminder", "userId": 125, "run_after_sec": 0, "params": {"webinar": "Монтаж RAUTHERM"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Job scheduled");
    let rehau = BotId::parse("bot_rehau").unwrap();
    let mut runs = 0;
    for _ in 0..50 {
        runs = store.count_events(&rehau).await.unwrap().1;
        if runs > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(runs, 1, "the scheduler started one run for the linked lead");
    let jobs = store.list_jobs(&rehau).await.unwrap();
    assert_eq!((jobs[0].status.as_str(), jobs[0].runs_made), ("done", 1));
    let trace = store
        .list_traces(&comops_core::trace::TraceFilter { trace_id: body["trace_id"].as_str().unwrap().into(), ..Default::default() })
        .await
        .unwrap();
    let steps: Vec<_> = trace.iter().rev().map(|t| t.step.as_str()).collect();
    assert_eq!(steps[..2], ["api.schedule", "job.run"]);
}

#[tokio::test]
async fn periodic_jobs_are_rescheduled() {
    let (server, store) = setup().await;
    let secret = token(&store, &[TokenAction::AdminWrite]).await;
    let (status, body) = post(
        &server,
        "/bots/bot_rehau/jobs/schedule",
        &secret,
        json!({"scenario": "retention_tips", "leadId": "TG-9072612", "run_after_sec": 0, "every_sec": 86400}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first_run_at = body["job"]["run_at"].as_i64().unwrap();
    let rehau = BotId::parse("bot_rehau").unwrap();
    let mut job = None;
    for _ in 0..50 {
        let jobs = store.list_jobs(&rehau).await.unwrap();
        if jobs[0].runs_made == 1 {
            job = Some(jobs[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = job.expect("the job ran once");
    assert_eq!(job.status, "scheduled");
    assert_eq!(job.run_at, first_run_at + 86_400_000);
}

/// `method` on `path` with `token`: the status and the JSON body.
async fn send(server: &TestServer, method: reqwest::Method, path: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new().request(method, server.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn jobs_still_to_run_are_listed_and_cancelled_a_periodic_one_too() {
    use reqwest::Method;
    let (server, store) = setup().await;
    let rehau = BotId::parse("bot_rehau").unwrap();
    let writer = token(&store, &[TokenAction::Call]).await;
    // A daily tip that runs now and then waits a day, and a reminder in
    // two hours.
    let (status, daily) = post(&server, "/bots/bot_rehau/jobs/schedule", &writer, json!({"scenario": "retention_tips", "leadId": "TG-9072612", "run_after_sec": 0, "every_sec": 86400})).await;
    assert_eq!(status, 200, "{daily}");
    let (status, later) = post(&server, "/bots/bot_rehau/jobs/schedule", &writer, json!({"scenario": "webinar_reminder", "userId": 125, "run_after_sec": 7200})).await;
    assert_eq!(status, 200, "{later}");
    let daily_id = daily["job"]["id"].as_str().unwrap().to_string();
    let later_id = later["job"]["id"].as_str().unwrap().to_string();
    let mut ran = false;
    for _ in 0..50 {
        if store.job(&rehau, &daily_id).await.unwrap().is_some_and(|j| j.runs_made == 1) {
            ran = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ran, "the daily job ran once and waits for tomorrow");

    // Listed soonest first, with admin_read or what may schedule.
    let reader = token(&store, &[TokenAction::AdminRead]).await;
    for who in [&reader, &writer] {
        let (status, body) = send(&server, Method::GET, "/bots/bot_rehau/jobs", who).await;
        assert_eq!(status, 200, "{body}");
        let ids: Vec<&str> = body["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [later_id.as_str(), daily_id.as_str()]);
        assert_eq!(body["more"], false);
    }
    let (status, body) = send(&server, Method::GET, &format!("/bots/bot_rehau/jobs/{daily_id}"), &reader).await;
    assert_eq!((status, &body["job"]["status"], &body["job"]["runs_made"]), (200, &json!("scheduled"), &json!(1)), "{body}");
    // A reader may not cancel; nor may a token limited to some aliases
    // read or cancel.
    let (status, body) = send(&server, Method::DELETE, &format!("/bots/bot_rehau/jobs/{daily_id}"), &reader).await;
    assert_eq!(status, 403, "{body}");
    let narrow = {
        let draft = TokenDraft { name: "Orders only".into(), aliases: "order/*".into(), actions: vec![TokenAction::Call], ..Default::default() };
        store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
    };
    let (status, body) = send(&server, Method::GET, "/bots/bot_rehau/jobs", &narrow).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (403, "A token limited to some aliases cannot read jobs"));
    let (status, body) = send(&server, Method::DELETE, &format!("/bots/bot_rehau/jobs/{daily_id}"), &narrow).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (403, "A token limited to some aliases cannot cancel jobs"));

    // Cancelled between its runs: it stops, and its scenario may go.
    let (status, body) = send(&server, Method::DELETE, &format!("/bots/bot_rehau/jobs/{daily_id}"), &writer).await;
    assert_eq!((status, body["message"].as_str().unwrap(), &body["job"]["status"]), (200, "Job cancelled", &json!("cancelled")), "{body}");
    assert_eq!(body["trace_id"], daily["trace_id"]);
    let (status, body) = send(&server, Method::DELETE, &format!("/bots/bot_rehau/jobs/{daily_id}"), &writer).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (409, "Job already cancelled"));
    assert_eq!(store.scenario_in_use(&rehau, "retention_tips").await.unwrap().scheduled_jobs, 0);
    let (status, body) = send(&server, Method::GET, "/bots/bot_rehau/jobs", &reader).await;
    assert_eq!((status, body["jobs"].as_array().unwrap().len()), (200, 1), "{body}");
    // Its timeline: scheduled, ran, cancelled.
    let trace = store.list_traces(&comops_core::trace::TraceFilter { trace_id: daily["trace_id"].as_str().unwrap().into(), ..Default::default() }).await.unwrap();
    let steps: Vec<&str> = trace.iter().rev().map(|t| t.step.as_str()).filter(|s| s.starts_with("api.") || s.starts_with("job.")).collect();
    assert_eq!(steps, ["api.schedule", "job.run", "api.cancel"]);

    // Unknown ids, and another bot's job, are not found.
    let (status, body) = send(&server, Method::DELETE, "/bots/bot_rehau/jobs/job_nope", &writer).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (404, "Job not found"));
    let shop = {
        let draft = TokenDraft { name: "Shop".into(), bots: "bot_shop".into(), actions: vec![TokenAction::Call], ..Default::default() };
        store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
    };
    let (status, _) = send(&server, Method::DELETE, &format!("/bots/bot_shop/jobs/{later_id}"), &shop).await;
    assert_eq!(status, 404);
    let (status, _) = send(&server, Method::GET, &format!("/bots/bot_shop/jobs/{later_id}"), &shop).await;
    assert_eq!(status, 404);
    assert_eq!(store.job(&rehau, &later_id).await.unwrap().unwrap().status, "scheduled");
}

#[tokio::test]
async fn schedule_requests_are_checked() {
    let (server, store) = setup().await;
    let reader = token(&store, &[TokenAction::AdminRead]).await;
    let (status, body) = post(&server, "/bots/bot_rehau/jobs/schedule", &reader, json!({})).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (403, "Token lacks the 'admin_write' scope"));

    let secret = token(&store, &[TokenAction::Call]).await;
    let (status, body) = post(&server, "/bots/bot_rehau/jobs/schedule", &secret, json!({"run_at": "soon", "every_sec": 1})).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<_> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["scenario", "userId", "run_at", "every_sec"]);
    // A scenario the bot does not have, or a day that does not exist.
    let (status, body) = post(&server, "/bots/bot_rehau/jobs/schedule", &secret, json!({"scenario": "no_such_scenario", "userId": "125", "run_after_sec": 60})).await;
    assert_eq!((status, &body["errors"]), (422, &json!([{"field": "scenario", "message": "scenario does not exist"}])), "{body}");
    let (status, body) = post(&server, "/bots/bot_rehau/jobs/schedule", &secret, json!({"scenario": "registration_flow", "userId": "125", "run_at": "2027-02-31T10:00:00Z"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("run_at")), "{body}");

    let (status, _) = post(&server, "/bots/bot_shop/jobs/schedule", &secret, json!({})).await;
    assert_eq!(status, 403, "the token is for bot_rehau only");
    let narrow = {
        let draft = TokenDraft { name: "Orders only".into(), aliases: "order/*".into(), actions: vec![TokenAction::Call], ..Default::default() };
        store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
    };
    let body = json!({"scenario": "any", "leadId": "TG-9072612", "run_after_sec": 0});
    let (status, reply) = post(&server, "/bots/bot_rehau/jobs/schedule", &narrow, body).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (403, "A token limited to some aliases cannot schedule runs"));
    let (status, _) = post(&server, "/bots/bot_rehau/links", &narrow, json!({"userId": "victim"})).await;
    assert_eq!(status, 403, "nor bind users");
    // A bot that does not exist: 404 to a token for every bot, 403 to one
    // for other bots, which learns nothing of which bots exist.
    let (status, _) = post(&server, "/bots/bot_nope/jobs/schedule", &narrow, json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = post(&server, "/bots/bot_nope/jobs/schedule", &secret, json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = post(&server, "/bots/bot_rehau/jobs/schedule", "nope", json!({})).await;
    assert_eq!(status, 401);
    let response = reqwest::Client::new()
        .post(server.url("/bots/bot_rehau/jobs/schedule"))
        .bearer_auth(&secret)
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn endpoints_export_and_import_round_trip_for_ci() {
    let (server, store) = setup().await;
    let rehau = BotId::parse("bot_rehau").unwrap();
    for (alias, description) in [("users/connect-bot", "Привязка пользователя к боту"), ("events/webinar-invite", "Вы приглашены на обучение")] {
        let draft: EndpointDraft = serde_json::from_value(json!({
            "alias": alias, "description": description, "owner": "REHAU", "enabled": true,
            "schema": {"fields": [{"name": "userId", "type": "integer", "required": true}]},
            "example": "{\"userId\": 125}"
        }))
        .unwrap();
        store.create_endpoint(&rehau, &draft.validate().unwrap()).await.unwrap();
    }
    let admin = {
        let draft = TokenDraft {
            name: "CI".into(),
            bots: "bot_rehau bot_helpdesk".into(),
            actions: vec![TokenAction::AdminWrite],
            ..Default::default()
        };
        store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
    };
    let http = reqwest::Client::new();
    let export: Value =
        http.get(server.url("/bots/bot_rehau/endpoints")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["format"], "comops.endpoints/v1");
    assert_eq!(export["endpoints"].as_array().unwrap().len(), 2);

    let mut copy = export.clone();
    copy["bot_id"] = json!("bot_helpdesk");
    let (status, body) = post(&server, "/bots/bot_helpdesk/endpoints/import", &admin, copy.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["created"].as_i64(), body["updated"].as_i64()), (Some(2), Some(0)));
    // The same file again changes nothing, and says so.
    let (status, body) = post(&server, "/bots/bot_helpdesk/endpoints/import", &admin, copy.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["created"].as_i64(), body["updated"].as_i64(), body["unchanged"].as_i64()), (Some(0), Some(0), Some(2)));
    let again: Value =
        http.get(server.url("/bots/bot_helpdesk/endpoints")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["endpoints"], export["endpoints"], "the import round-trips exactly");

    let mut broken = export.clone();
    broken["endpoints"][1]["alias"] = json!("Bad Alias");
    let (status, body) = post(&server, "/bots/bot_helpdesk/endpoints/import", &admin, broken).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "endpoints[1].alias");
    assert_eq!(body["message"], "Some endpoints are invalid; nothing was imported");
    // The same alias twice: the second would overwrite the first unseen.
    let mut twice = export.clone();
    twice["endpoints"][1]["alias"] = export["endpoints"][0]["alias"].clone();
    twice["endpoints"][1]["description"] = json!("Другое описание");
    let (status, body) = post(&server, "/bots/bot_helpdesk/endpoints/import", &admin, twice).await;
    assert_eq!((status, &body["errors"][0]["field"]), (422, &json!("endpoints[1].alias")), "{body}");
    let after: Value =
        http.get(server.url("/bots/bot_helpdesk/endpoints")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["endpoints"], export["endpoints"], "nothing was written");
}

/// Maps for CI: the maps of the bot's project as JSON; the same document
/// with one map edited and one added comes back as that map's next version
/// and a new map with the given id, by `token:<name>`; a map id of another
/// project, or a broken map, is refused and nothing is written.
#[tokio::test]
async fn maps_export_and_import_by_id_for_ci() {
    use comops_core::map::{MapContent, MapKind};
    let (server, store) = setup().await;
    let rehau = BotId::parse("bot_rehau").unwrap();
    let project = store.bot(&rehau).await.unwrap().project_id;
    let content = |stage: &str| {
        MapContent::from_value(MapKind::Cjm, &json!({"persona": "Монтажник", "stages": [{"id": "s1", "stage": stage}]})).unwrap()
    };
    let journey = store.create_map(&project, "Путь монтажника", &content("Регистрация"), "created", "alena").await.unwrap();
    let admin = {
        let draft = TokenDraft { name: "CI".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::AdminWrite], ..Default::default() };
        store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
    };
    let http = reqwest::Client::new();
    let export: Value = http.get(server.url("/bots/bot_rehau/maps")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["format"], "comops.maps/v1");
    let maps = export["maps"].as_array().unwrap();
    let at = maps.iter().position(|m| m["id"] == journey.id.as_str()).expect("the map is exported");
    assert_eq!(maps[at]["content"]["kind"], "cjm");

    // The same document again: nothing changes.
    let (status, body) = post(&server, "/bots/bot_rehau/maps/import", &admin, export.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["created"].as_i64(), body["updated"].as_i64(), body["unchanged"].as_u64()), (Some(0), Some(0), Some(maps.len() as u64)));

    let mut edited = export.clone();
    edited["maps"][at]["content"]["stages"][0]["stage"] = json!("Регистрация на портале");
    let mut added = edited["maps"][at].clone();
    added["id"] = json!("map_ci-added");
    added["title"] = json!("Из репозитория");
    edited["maps"].as_array_mut().unwrap().push(added);
    let (status, body) = post(&server, "/bots/bot_rehau/maps/import", &admin, edited).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["created"].as_i64(), body["updated"].as_i64()), (Some(1), Some(1)));
    let saved = store.map(&journey.id).await.unwrap();
    assert_eq!((saved.version, saved.author.as_str()), (2, "token:CI"));
    assert_eq!(saved.content, content("Регистрация на портале"));
    let new_id = comops_core::map::MapId::parse("map_ci-added").unwrap();
    assert_eq!(store.map(&new_id).await.unwrap().title, "Из репозитория");

    // A map of another project's id, or a broken map: refused, nothing written.
    let draft = comops_core::project::ProjectDraft { name: "Другой проект".into(), slug: "other".into(), description: String::new() };
    let other = store.create_project(&draft.validate().unwrap(), None, None).await.unwrap().id;
    let foreign = store.create_map(&other, "Чужая", &content("Оплата"), "created", "x").await.unwrap();
    let mut wrong = export.clone();
    wrong["maps"][at]["id"] = json!(foreign.id.as_str());
    let (status, body) = post(&server, "/bots/bot_rehau/maps/import", &admin, wrong).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], format!("maps[{at}].id"));
    let mut broken = export.clone();
    broken["maps"][at]["title"] = json!("");
    broken["maps"][at]["content"]["stages"][0]["stage"] = json!("Не записано");
    let (status, body) = post(&server, "/bots/bot_rehau/maps/import", &admin, broken).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"], "Some maps cannot be imported; nothing was imported");
    assert_eq!(store.map(&journey.id).await.unwrap().version, 2);
    assert_eq!(store.map(&foreign.id).await.unwrap().version, 1);
    let malformed = http.post(server.url("/bots/bot_rehau/maps/import")).bearer_auth(&admin).body("{\"maps\": [").send().await.unwrap();
    assert_eq!(malformed.status(), 400, "malformed JSON, as on every route");

    // Reading takes admin_read, writing admin_write.
    let caller = token(&store, &[TokenAction::Call]).await;
    let response = http.get(server.url("/bots/bot_rehau/maps")).bearer_auth(&caller).send().await.unwrap();
    assert_eq!(response.status(), 403);
}
