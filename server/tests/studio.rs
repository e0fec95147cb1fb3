//! The studio over HTTP against the real `comops` process: login, roles,
//! CSRF, projects and bots, language, logout.

mod support;

use serde_json::Value;
use support::{TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn health_answers_json() {
    let server = TestServer::sqlite();
    let response = server.client().get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], true);
}

/// An address nothing answers: JSON for a program, a page for a browser.
#[tokio::test]
async fn an_unknown_address_is_json_for_programs_and_a_page_for_browsers() {
    let server = TestServer::sqlite();
    let http = reqwest::Client::new();
    let program = http.get(server.url("/nope")).send().await.unwrap();
    assert_eq!(program.status(), 404);
    let body: Value = program.json().await.unwrap();
    assert_eq!((body["success"].as_bool(), body["message"].as_str()), (Some(false), Some("Not found")));
    let browser = http.get(server.url("/nope")).header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8").send().await.unwrap();
    assert_eq!(browser.status(), 404);
    assert!(browser.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = browser.text().await.unwrap();
    assert!(page.contains("Страница не найдена") && page.contains(r#"href="/projects""#), "{page}");
}

#[tokio::test]
async fn pages_send_visitors_to_login_and_back() {
    let server = TestServer::sqlite();
    let browser = server.client();
    let response = browser.get("/projects?page=2").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login?next=/projects%3Fpage%3D2");

    let login_page = browser.get("/login").await;
    assert_eq!(login_page.status(), 200);
    let html = login_page.text().await.unwrap();
    assert!(html.contains("Log in to ComOps"), "{html}");

    let response = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let response = browser.get("/login").await;
    assert_eq!(response.status(), 303, "a logged-in user skips the login page");
}

#[tokio::test]
async fn login_sets_a_hardened_session_cookie() {
    let server = TestServer::sqlite();
    let browser = server.client();
    let response = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("comops_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let html = browser.get("/projects").await.text().await.unwrap();
    assert!(html.contains(ADMIN_EMAIL), "the header shows who is logged in");
}

#[tokio::test]
async fn wrong_password_is_refused_then_throttled() {
    let server = TestServer::sqlite();
    let browser = server.client();
    for _ in 0..5 {
        let response = browser.login(ADMIN_EMAIL, "wrong-password").await;
        assert_eq!(response.status(), 401);
        assert!(response.text().await.unwrap().contains("BadCredentials"));
    }
    let response = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429, "even the right password waits after 5 failures");
    let body: Value = response.json().await.unwrap();
    let wait = body["Throttled"]["retry_after_secs"].as_i64().unwrap();
    assert!((1..=30).contains(&wait), "{body}");
    // Unknown emails are refused the same way as wrong passwords.
    let response = browser.login("nobody@example.com", "whatever-password").await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn mutations_from_other_origins_are_refused() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let form = [("draft[name]", "Evil"), ("draft[slug]", "evil"), ("draft[description]", "")];

    let cross = browser
        .http
        .post(server.url("/api/projects/create"))
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let body: Value = cross.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"success": false, "message": "Cross-origin request refused"}));

    let no_origin = browser.http.post(server.url("/api/projects/create")).form(&form).send().await.unwrap();
    assert_eq!(no_origin.status(), 403);

    let list: Value = browser.call("projects/list", &[]).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing was created");
}

#[tokio::test]
async fn admin_creates_edits_and_deletes_projects_and_bots() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let bad = browser.call("projects/create", &[("draft[name]", ""), ("draft[slug]", "Bad Slug"), ("draft[description]", "")]).await;
    let body: Value = bad.json().await.unwrap();
    let fields: Vec<_> = body["Invalid"].as_array().unwrap().iter().map(|e| (e["field"].clone(), e["code"].clone())).collect();
    assert_eq!(fields, vec![("name".into(), "required".into()), ("slug".into(), "bad_slug".into())]);

    let created = browser
        .call("projects/create", &[("draft[name]", "Fmlst family site"), ("draft[slug]", "fmlst"), ("draft[description]", "Семья")])
        .await;
    assert_eq!(created.status(), 200);
    let project: Value = created.json().await.unwrap();
    let project_id = project["id"].as_str().unwrap().to_string();
    assert!(project_id.starts_with("prj_"));

    let taken = browser.call("projects/create", &[("draft[name]", "Again"), ("draft[slug]", "fmlst"), ("draft[description]", "")]).await;
    let body: Value = taken.json().await.unwrap();
    assert_eq!(body["Invalid"][0]["code"], "taken");

    let bot = browser
        .call(
            "bots/create",
            &[
                ("project_id", &project_id),
                ("draft[name]", "Family bot"),
                ("draft[username]", "@fmlst_family_bot"),
                ("draft[description]", ""),
                ("draft[enabled]", "true"),
            ],
        )
        .await;
    assert_eq!(bot.status(), 200);
    let bot: Value = bot.json().await.unwrap();
    assert_eq!(bot["username"], "fmlst_family_bot");
    let bot_id = bot["id"].as_str().unwrap().to_string();

    let detail: Value = browser.call("projects/get", &[("id", &project_id)]).await.json().await.unwrap();
    assert_eq!(detail["bots"][0]["id"], bot_id.as_str());

    let html = browser.get(&format!("/projects/{project_id}")).await.text().await.unwrap();
    assert!(html.contains("Fmlst family site") && html.contains(&bot_id), "SSR shows the project and its bot");

    let renamed = browser
        .call("projects/update", &[("id", &project_id), ("draft[name]", "Fmlst"), ("draft[slug]", "fmlst"), ("draft[description]", "")])
        .await;
    assert_eq!(renamed.status(), 200);
    let bot_renamed = browser
        .call(
            "bots/update",
            &[
                ("id", &bot_id),
                ("draft[name]", "Family"),
                ("draft[username]", "@fmlst_family_bot"),
                ("draft[description]", ""),
                ("draft[enabled]", "true"),
            ],
        )
        .await;
    assert_eq!(bot_renamed.status(), 200);
    // Every change to a project or a bot is in the audit log, by whom.
    let store = server.store().await;
    let audited: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT actor, action, subject, detail FROM audit_log WHERE action LIKE 'project.%' OR action LIKE 'bot.%' ORDER BY at, rowid")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let row = |action: &str, subject: &str, detail: &str| (ADMIN_EMAIL.to_string(), action.to_string(), subject.to_string(), detail.to_string());
    assert_eq!(
        audited,
        [
            row("project.create", &project_id, "Fmlst family site"),
            row("bot.create", &bot_id, "Family bot"),
            row("project.update", &project_id, "Fmlst"),
            row("bot.update", &bot_id, "Family"),
        ]
    );
    assert_eq!(browser.call("bots/delete", &[("id", &bot_id)]).await.status(), 200);
    assert_eq!(browser.call("projects/delete", &[("id", &project_id)]).await.status(), 200);
    let missing = browser.call("projects/get", &[("id", &project_id)]).await;
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body, Value::String("NotFound".into()));
}

/// A bot may be given its id when it is made (`123` is `bot_123`); a
/// bad or used id is refused on its field, beside the draft's own errors.
#[tokio::test]
async fn a_bot_may_be_given_its_id_when_made() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created = browser.call("projects/create", &[("draft[name]", "Registration"), ("draft[slug]", "registration"), ("draft[description]", "")]).await;
    let project: Value = created.json().await.unwrap();
    let project_id = project["id"].as_str().unwrap().to_string();
    let create = |name: &'static str, id: &'static str| {
        let (browser, project_id) = (&browser, project_id.clone());
        async move {
            let response = browser
                .call(
                    "bots/create",
                    &[("project_id", &project_id), ("draft[name]", name), ("draft[username]", ""), ("draft[description]", ""), ("draft[enabled]", "true"), ("id", id)],
                )
                .await;
            response.json::<Value>().await.unwrap()
        }
    };
    let codes = |body: &Value| -> Vec<(String, String)> {
        body["Invalid"].as_array().unwrap_or(&Vec::new()).iter().map(|e| (e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into())).collect()
    };
    assert_eq!(create("Регистрация", " 123 ").await["id"], "bot_123");
    assert_eq!(codes(&create("Again", "bot_123").await), [("id".to_string(), "taken".to_string())]);
    assert_eq!(codes(&create("", "Bot 7").await), [("name".to_string(), "required".to_string()), ("id".to_string(), "bad_id".to_string())]);
    let named = create("Installers", "bot_installers").await;
    assert_eq!(named["id"], "bot_installers", "{named}");
    // Without an id, one is made up.
    let plain = browser
        .call("bots/create", &[("project_id", &project_id), ("draft[name]", "Plain"), ("draft[username]", ""), ("draft[description]", ""), ("draft[enabled]", "true")])
        .await;
    let plain: Value = plain.json().await.unwrap();
    let generated = plain["id"].as_str().unwrap();
    assert!(generated.starts_with("bot_") && generated.len() == 14, "{generated}");

    // A deleted bot's id stays taken (its traces and tokens still name
    // it), whether the bot or its whole project was deleted.
    assert_eq!(browser.call("bots/delete", &[("id", "bot_123")]).await.status(), 200);
    assert_eq!(codes(&create("Регистрация", "123").await), [("id".to_string(), "taken".to_string())]);
    assert_eq!(browser.call("projects/delete", &[("id", &project_id)]).await.status(), 200);
    let other = browser.call("projects/create", &[("draft[name]", "Other"), ("draft[slug]", "other"), ("draft[description]", "")]).await;
    let other: Value = other.json().await.unwrap();
    let response = browser
        .call(
            "bots/create",
            &[("project_id", other["id"].as_str().unwrap()), ("draft[name]", "Installers"), ("draft[username]", ""), ("draft[description]", ""), ("draft[enabled]", "true"), ("id", "installers")],
        )
        .await;
    assert_eq!(codes(&response.json().await.unwrap()), [("id".to_string(), "taken".to_string())]);
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_create() {
    let server = TestServer::sqlite();
    let output = server.cli(&["user", "create", "--email", "viewer@example.com", "--role", "viewer", "--password", "viewer-password"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let viewer = server.client();
    assert_eq!(viewer.login("viewer@example.com", "viewer-password").await.status(), 200);
    assert_eq!(viewer.call("projects/list", &[]).await.status(), 200);
    let refused = viewer.call("projects/create", &[("draft[name]", "Nope"), ("draft[slug]", "nope"), ("draft[description]", "")]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap(), Value::String("Forbidden".into()));

    let anonymous = server.client();
    let refused = anonymous.call("projects/list", &[]).await;
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn demo_flag_seeds_the_methodology_cases() {
    let dir = support::scratch_dir();
    let url = format!("sqlite://{}/comops.db", dir.display());
    let server = TestServer::start(url, dir, &["--demo"]);
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let detail: Value = browser.call("projects/get", &[("id", "prj_demo")]).await.json().await.unwrap();
    let names: Vec<_> = detail["bots"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Fmlst family", "Helpdesk", "REHAU installers", "Shop notifications"]);
    let shop: Value = browser.call("endpoints/list", &[("bot_id", "bot_shop")]).await.json().await.unwrap();
    assert_eq!(shop.as_array().map(Vec::len), Some(4), "the e-commerce integration points: {shop}");
}

/// `--demo-leads`: the endpoints' example users are leads, so an example
/// body reaches someone — the studio's test event of the shop's
/// `order/thank-you` names the lead and shows its message — and the
/// Fmlst family's example fans out to its four members. Linking again
/// links nobody twice.
#[tokio::test]
async fn demo_leads_make_the_examples_reach_someone() {
    let dir = support::scratch_dir();
    let url = format!("sqlite://{}/comops.db", dir.display());
    let server = TestServer::start(url, dir, &["--demo", "--demo-leads"]);
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let test_event = |bot: &str, alias: &str, body: &str| {
        let body = serde_json::json!({"bot_id": bot, "alias": alias, "body": body});
        let request = browser.http.post(format!("{}/api/endpoints/test-event", browser.base)).header("Origin", &browser.base).json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let answer = test_event("bot_shop", "order/thank-you", r#"{"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"}"#).await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(answer["leads"], serde_json::json!(["TG-7000101"]), "{answer}");
    assert_eq!(answer["messages"][0]["text"], "Спасибо за покупку! Заказ №9821 на 3500 ₽ оплачен.", "{answer}");
    let family = test_event("bot_fmlst", "post/new", r#"{"postId": 7, "userIds": [1, 2, 3, 4]}"#).await;
    assert_eq!(family["leads"].as_array().map(Vec::len), Some(4), "{family}");
    assert_eq!(family["unresolved"], serde_json::json!([]), "{family}");
    let store = server.store().await;
    assert_eq!(comops_core::demo::seed_leads(&store).await.unwrap(), 0, "a second start links nobody twice");
    let shop = comops_core::BotId::parse("bot_shop").unwrap();
    assert_eq!(store.leads_of_user(&shop, "54321").await.unwrap(), ["TG-7000101"]);
    // A link someone took away stays away; a demo bot someone deleted is
    // passed over.
    let user = comops_core::store::leads::IdentityFilter { user_id: Some("54321".into()), ..Default::default() };
    assert_eq!(store.deactivate_identities(&shop, &user).await.unwrap(), 1);
    let helpdesk = comops_core::BotId::parse("bot_helpdesk").unwrap();
    store.delete_bot(&helpdesk).await.unwrap();
    assert_eq!(comops_core::demo::seed_leads(&store).await.unwrap(), 0);
    assert!(store.leads_of_user(&shop, "54321").await.unwrap().is_empty());
    // Without the demo there is nothing to link: said, before anything starts.
    let refused = server.cli(&["serve", "--demo-leads"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--demo-leads links the demo's example users: it needs --demo"), "{refused:?}");
}

#[tokio::test]
async fn language_is_remembered_per_user() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(browser.call("set_locale", &[("locale", "ru")]).await.status(), 200);

    // A second login (another browser) gets Russian too.
    let other = server.client();
    other.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = other.get("/projects").await.text().await.unwrap();
    assert!(html.contains(r#"<html lang="ru""#), "{}", &html[..200.min(html.len())]);
    assert!(html.contains("Проекты") && html.contains("Выйти"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(browser.get("/projects").await.status(), 200);
    assert_eq!(browser.call("logout", &[]).await.status(), 200);
    assert_eq!(browser.get("/projects").await.status(), 303);
}

#[tokio::test]
async fn the_same_server_runs_on_postgresql() {
    let Some(url) = comops_core::store::scratch::test_postgres("studio").await else { return };
    let server = TestServer::start(url, support::scratch_dir(), &["--demo-bots"]);
    let browser = server.client();
    assert_eq!(browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 200);
    let created = browser.call("projects/create", &[("draft[name]", "Helpdesk"), ("draft[slug]", "helpdesk"), ("draft[description]", "")]).await;
    assert_eq!(created.status(), 200);
    let list: Value = browser.call("projects/list", &[]).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "demo + helpdesk: {list}");
}

#[tokio::test]
async fn cli_refuses_bad_input_clearly() {
    let server = TestServer::sqlite();
    let output = server.cli(&["user", "create", "--email", "not-an-email", "--role", "admin"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("email"));
    let output = server.cli(&["user", "create", "--email", "a@example.com", "--role", "root"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("role must be one of: admin, architect, analyst, operator, viewer"));
    let output = server.cli(&["user", "create", "--email", "a@example.com", "--role", "analyst"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("password (shown once): "));
}

#[tokio::test]
async fn a_server_function_refuses_a_body_over_its_limit_in_words() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let huge = "я".repeat(1_100_000);
    let refused = browser.call("projects/create", &[("draft[name]", "Big"), ("draft[slug]", "big"), ("draft[description]", &huge)]).await;
    assert_eq!(refused.status(), 413);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"TooLarge": {"limit_mib": 2}}));
    let projects: Value = browser.call("projects/list", &[]).await.json().await.unwrap();
    assert!(!projects.to_string().contains("\"big\""), "nothing was created: {projects}");
}

#[tokio::test]
async fn a_server_function_refuses_arguments_it_cannot_read_in_words() {
    let server = TestServer::sqlite();
    let browser = server.client();
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Form-encoded: the draft's fields are not where the function reads them.
    let refused = browser.call("projects/create", &[("name", "Flat")]).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(body["BadRequest"].as_str().is_some_and(|detail| detail.contains("draft")), "{body}");
    // JSON-taking: a body that is not JSON.
    let broken = browser
        .http
        .post(server.url("/api/tokens/issue"))
        .header("Origin", &browser.base)
        .header("Content-Type", "application/json")
        .body("{\"draft\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let body: Value = broken.json().await.unwrap();
    assert!(body["BadRequest"].is_string(), "{body}");
    let projects: Value = browser.call("projects/list", &[]).await.json().await.unwrap();
    assert!(!projects.to_string().contains("Flat"), "nothing was created: {projects}");
    let tokens: Value = browser.call("tokens/list", &[]).await.json().await.unwrap();
    assert_eq!(tokens["tokens"].as_array().map(Vec::len), Some(0), "{tokens}");
}

#[tokio::test]
async fn a_server_function_body_of_no_declared_length_over_its_limit_is_too_large_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::sqlite();
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/projects/create HTTP/1.1\r\nHost: {address}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Just over 2 MiB, in chunks, then the last chunk.
    let chunk = "a".repeat(64 * 1024);
    for _ in 0..33 {
        if stream.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.ends_with(r#"{"TooLarge":{"limit_mib":2}}"#), "{answer}");
}
