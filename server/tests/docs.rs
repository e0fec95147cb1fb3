//! Per-bot API docs against the real `comops` process: the studio adds
//! endpoints to the demo shop bot, an integrator reads `/docs/bot_shop`
//! and its OpenAPI document, and the document passes the real validator.

mod support;

use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::{Browser, TestServer};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const XSS: &str = "<script>alert(1)</script>";

/// The demo server, its database, and a browser logged in as the admin.
async fn setup() -> (TestServer, Store, Browser) {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    let browser = server.client();
    let login = browser.login(support::ADMIN_EMAIL, support::ADMIN_PASSWORD).await;
    assert!(login.status().is_success(), "login: {}", login.status());
    (server, store, browser)
}

/// Adds an endpoint to `bot_shop` through the studio's server function.
async fn create_endpoint(browser: &Browser, draft: Value) {
    let response = browser
        .http
        .post(format!("{}/api/endpoints/create", browser.base))
        .header("Origin", &browser.base)
        .json(&json!({ "bot_id": "bot_shop", "draft": draft }))
        .send()
        .await
        .expect("endpoints/create");
    let status = response.status();
    assert!(status.is_success(), "endpoints/create: {status} {}", response.text().await.unwrap_or_default());
}

/// The shop's thank-you endpoint, one whose description is a script, and a
/// disabled one.
async fn shop_endpoints(browser: &Browser) {
    create_endpoint(
        browser,
        json!({
            "alias": "docs/thank-you",
            "description": "Thank the customer after payment",
            "owner": "E-commerce team",
            "schema": { "fields": [
                { "name": "order_id", "type": "integer", "required": true },
                { "name": "user_id", "type": "string", "required": true },
                { "name": "amount", "type": "number" },
                { "name": "status", "type": "string", "enum": ["paid", "pending"] },
                { "name": "email", "type": "string", "format": "email" },
                { "name": "phone", "type": "string", "format": "phone" },
            ]},
            "example": r#"{"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"}"#,
            "response_description": "200 with the trace id",
            "enabled": true,
        }),
    )
    .await;
    create_endpoint(
        browser,
        json!({
            "alias": "docs/hostile",
            "description": format!("Says {XSS}"),
            "owner": "O'Neil \"& sons\"",
            "example": format!(r#"{{"note": "{XSS}"}}"#),
            "enabled": true,
        }),
    )
    .await;
    create_endpoint(browser, json!({ "alias": "docs/retired", "description": "No longer called", "enabled": false })).await;
}

/// A token for `bot` with `actions`; returns its secret.
async fn token(store: &Store, bot: &str, actions: &[TokenAction]) -> String {
    let draft = TokenDraft { name: "Shop CRM".into(), bots: bot.into(), actions: actions.to_vec(), ..Default::default() };
    store.issue_token(&draft.validate().expect("valid token draft"), "test").await.expect("issue token").1
}

/// Status and JSON body of an anonymous GET with `headers`.
async fn anonymous_get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET")
}

/// Runs `python3 -m openapi_spec_validator` on `document`. Without the
/// module the check is skipped with a note, except in CI where it fails.
fn assert_valid_openapi(document: &Value) {
    let have_module = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_module {
        let message = "python3 module openapi_spec_validator is missing: pip install openapi-spec-validator \
                       (scripts/common.sh: ensure_python_tools)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("note: skipping OpenAPI validation; {message}");
        return;
    }
    let file = support::scratch_dir().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let output = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run openapi_spec_validator");
    assert!(
        output.status.success(),
        "the OpenAPI document is invalid:\n{}\n{}\ndocument: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        file.display()
    );
}

/// The `/bots/bot_shop/call/…` paths of the enabled endpoints in the store.
async fn enabled_paths(store: &Store) -> BTreeSet<String> {
    let shop = BotId::parse("bot_shop").unwrap();
    let endpoints = store.list_endpoints(&shop).await.unwrap();
    endpoints.iter().filter(|e| e.enabled).map(|e| format!("/bots/bot_shop/call/{}", e.alias)).collect()
}

#[tokio::test]
async fn docs_need_a_session_or_a_token_for_the_bot() {
    let (server, store, _browser) = setup().await;

    let response = anonymous_get(&server, "/docs/bot_shop/openapi.json", &[]).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["message"], "Invalid token");

    let response = anonymous_get(&server, "/docs/bot_shop", &[("Accept", "application/json")]).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);

    let response = anonymous_get(&server, "/docs/bot_shop", &[("Accept", BROWSER_ACCEPT)]).await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/login?next=/docs/bot_shop");

    let bogus = format!("Bearer comops_ab12cd_{}", "0".repeat(64));
    let response = anonymous_get(&server, "/docs/bot_shop/openapi.json", &[("Authorization", &bogus)]).await;
    assert_eq!(response.status(), 401);

    let rehau_only = token(&store, "bot_rehau", &[TokenAction::Call]).await;
    let auth = format!("Bearer {rehau_only}");
    let response = anonymous_get(&server, "/docs/bot_shop/openapi.json", &[("Authorization", &auth)]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.json::<Value>().await.unwrap()["message"], "Token is not valid for this bot");
    // Nor does it learn which other bots exist (ids like bot_123 can be
    // guessed): the same 403 for one that does not, here and on the admin API.
    for path in ["/docs/bot_nope/openapi.json", "/docs/123/openapi.json", "/bots/bot_nope/endpoints", "/bots/123/jobs"] {
        let response = anonymous_get(&server, path, &[("Authorization", &auth)]).await;
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap()["message"], "Token is not valid for this bot", "{path}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_bots_are_404() {
    let (_server, _store, browser) = setup().await;
    for path in ["/docs/bot_nope", "/docs/bot_nope/openapi.json", "/docs/not-a-bot/openapi.json"] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "success": false, "message": "Bot not found" }), "{path}");
    }
    // A browser opening the docs of a bot that does not exist gets the 404 page.
    for path in ["/docs/bot_nope", "/docs/not-a-bot"] {
        let response = browser.http.get(format!("{}{path}", browser.base)).header("Accept", BROWSER_ACCEPT).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Страница не найдена · Page not found"), "{path}: {page}");
    }
}

#[tokio::test]
async fn the_page_lists_the_shop_endpoints_and_escapes_what_users_typed() {
    let (server, _store, browser) = setup().await;
    shop_endpoints(&browser).await;

    let response = browser.http.get(server.url("/docs/bot_shop")).header("Accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();

    assert!(html.contains("/bots/bot_shop/call/docs/thank-you"), "the thank-you endpoint is listed");
    assert!(html.contains("<section class=\"endpoint\" id=\"ep-docs--thank-you\">"), "at the anchor the studio links to");
    assert_eq!(comops_core::alias::docs_anchor("docs/thank-you"), "ep-docs--thank-you");
    assert!(!html.contains("bot-disabled"));
    assert!(html.contains("Thank the customer after payment"));
    assert!(html.contains("E-commerce team"));
    assert!(html.contains("order_id") && html.contains("email") && html.contains("paid, pending"));
    assert!(html.contains("curl -X POST"));
    assert!(html.contains("href=\"/docs/bot_shop/openapi.json\""));
    assert!(html.contains("sessionStorage") && html.contains("X-Dry-Run"));
    assert!(html.contains("name=\"dry\" checked"), "dry run is the default");
    assert!(!html.contains("docs/retired"), "disabled endpoints are not documented");

    assert!(html.contains("Says &lt;script&gt;alert(1)&lt;/script&gt;"), "the description is shown, escaped");
    assert!(html.contains("O&#39;Neil &quot;&amp; sons&quot;"));
    assert!(!html.contains(XSS), "no user text reaches the page unescaped");
    assert!(html.contains("<html lang=\"en\">") && html.contains("Example request") && html.contains(">Try it<"));

    // In Russian, as the studio: the page's own words, users' texts as typed.
    assert_eq!(browser.call("set_locale", &[("locale", "ru")]).await.status(), 200);
    let html = browser.http.get(server.url("/docs/bot_shop")).header("Accept", BROWSER_ACCEPT).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"ru\">"), "{}", &html[..200.min(html.len())]);
    for words in ["Пример запроса", ">Попробовать<", "Пробный запуск (ничего не отправляется)", "Поля запроса", "Thank the customer after payment"] {
        assert!(html.contains(words), "{words}");
    }
    assert!(!html.contains("Example request") && !html.contains("Dry run (nothing is sent)"), "no English left");
}

#[tokio::test]
async fn openapi_documents_exactly_the_enabled_endpoints_and_validates() {
    let (server, store, browser) = setup().await;
    shop_endpoints(&browser).await;

    let response = browser.get("/docs/bot_shop/openapi.json").await;
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], server.base.as_str());

    let paths: BTreeSet<String> = document["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(paths, enabled_paths(&store).await);
    assert!(paths.contains("/bots/bot_shop/call/docs/thank-you"));
    assert!(paths.contains("/bots/bot_shop/call/docs/hostile"));
    assert!(!paths.contains("/bots/bot_shop/call/docs/retired"), "a disabled endpoint is absent");

    let thank_you = &document["paths"]["/bots/bot_shop/call/docs/thank-you"]["post"];
    assert_eq!(thank_you["operationId"], "docsThankYou");
    assert_eq!(thank_you["x-owner"], "E-commerce team");
    let body = &thank_you["requestBody"]["content"]["application/json"];
    assert_eq!(body["schema"]["oneOf"][0]["required"], json!(["order_id", "user_id"]));
    assert_eq!(body["schema"]["oneOf"][1]["properties"]["script_request_params"]["required"], json!(["order_id", "user_id"]));
    assert_eq!(body["schema"]["oneOf"][0]["properties"]["status"]["enum"], json!(["paid", "pending", null]), "optional: null is absent");
    assert_eq!(body["example"]["order_id"], 9821);
    let statuses: BTreeSet<&str> = thank_you["responses"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(statuses, BTreeSet::from(["200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503"]));
    assert_eq!(document["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");

    assert_valid_openapi(&document);
}

#[tokio::test]
async fn a_disabled_bot_documents_no_endpoint_and_says_why() {
    let (server, store, browser) = setup().await;
    shop_endpoints(&browser).await;
    // Switched off in the studio.
    let bot = store.bot(&BotId::parse("bot_shop").unwrap()).await.unwrap();
    let off = browser
        .call(
            "bots/update",
            &[("id", "bot_shop"), ("draft[name]", &bot.name), ("draft[username]", &bot.username), ("draft[description]", &bot.description), ("draft[enabled]", "false")],
        )
        .await;
    assert_eq!(off.status(), 200, "{}", off.text().await.unwrap_or_default());

    let html = browser.http.get(server.url("/docs/bot_shop")).header("Accept", BROWSER_ACCEPT).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"bot-disabled\"") && html.contains("every call to it answers 404"), "the page says the bot is off");
    assert!(!html.contains("/bots/bot_shop/call/docs/thank-you"), "and lists nothing it would not answer");
    let document: Value = browser.get("/docs/bot_shop/openapi.json").await.json().await.unwrap();
    assert_eq!(document["paths"], json!({}), "the document holds exactly the live endpoints: none");
    assert_valid_openapi(&document);
    // As the calls find it.
    let secret = token(&store, "bot_shop", &[TokenAction::Call]).await;
    let call = reqwest::Client::new()
        .post(server.url("/bots/bot_shop/call/docs/thank-you"))
        .bearer_auth(&secret)
        .json(&json!({"order_id": 1, "user_id": "54321"}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 404);
}

#[tokio::test]
async fn an_integrator_token_reads_the_openapi_document() {
    let (server, store, browser) = setup().await;
    shop_endpoints(&browser).await;
    create_endpoint(&browser, json!({ "alias": "docs/refund", "description": "Isolated", "isolated": true, "enabled": true })).await;
    let secret = token(&store, "bot_shop", &[TokenAction::DryRun]).await;

    let response = reqwest::Client::new().get(server.url("/docs/bot_shop/openapi.json")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    let paths: BTreeSet<String> = document["paths"].as_object().unwrap().keys().cloned().collect();
    // An isolated endpoint the token does not name is not shown to it.
    let mut callable = enabled_paths(&store).await;
    assert!(callable.remove("/bots/bot_shop/call/docs/refund"));
    assert_eq!(paths, callable);
    assert_valid_openapi(&document);
    let reader = token(&store, "bot_shop", &[TokenAction::AdminRead]).await;
    let document: Value =
        reqwest::Client::new().get(server.url("/docs/bot_shop/openapi.json")).bearer_auth(&reader).send().await.unwrap().json().await.unwrap();
    assert!(document["paths"].get("/bots/bot_shop/call/docs/refund").is_some(), "an admin reader sees every endpoint");

    let reader = token(&store, "bot_shop", &[TokenAction::AdminRead]).await;
    let response = reqwest::Client::new().get(server.url("/docs/bot_shop")).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(response.status(), 200, "the page also accepts a token");
}
