//! Encryption at rest through the real binary: a server started with
//! `COMOPS_DATA_KEY` keeps the Telegram token sealed in the database and
//! still delivers with it; `comops rotate-key` moves everything to a new
//! key, after which the old key can be dropped; a server without the key
//! refuses to start instead of failing on every send.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::seal::generate_key;
use comops_core::store::identities::IdentityLink;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::FakeTelegram;
use serde_json::json;
use std::time::Duration;
use support::TestServer;

const TOKEN: &str = "424242:SEALEDtelegramTOKENz9";
const WEBHOOK_SECRET: &str = "whsecSEALEDq1";
const CHAT: i64 = 540278913;

#[tokio::test]
async fn a_sealed_token_delivers_and_survives_a_key_rotation() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let dir = support::scratch_dir();
    let url = format!("sqlite://{}/comops.db", dir.display());
    let base = telegram.base_url();
    let flags = ["--demo-bots", "--telegram-api-base", base.as_str()];
    let old_key = generate_key();
    let server = TestServer::start_with_env(url.clone(), dir.clone(), &flags, &[("COMOPS_DATA_KEY", &old_key)]);
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    let issue = |name: &str, actions: Vec<TokenAction>| {
        let draft = TokenDraft { name: name.into(), bots: "bot_rehau".into(), actions, ..Default::default() };
        let store = store.clone();
        async move { store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1 }
    };
    let ops = issue("ops", vec![TokenAction::AdminWrite]).await;
    let portal = issue("portal", vec![TokenAction::Call]).await;
    let http = reqwest::Client::new();
    let saved = http
        .put(server.url("/bots/bot_rehau/settings/telegram"))
        .bearer_auth(&ops)
        .json(&json!({"token": TOKEN, "webhook_secret": WEBHOOK_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let scenario: Scenario = serde_json::from_value(json!({"name": "hello", "start": "hi", "steps": [
        {"id": "hi", "type": "message", "text": "Заказ {{ params.order }} оплачен", "next": "done"},
        {"id": "done", "type": "end"}]}))
    .unwrap();
    store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
    let endpoint = EndpointDraft { alias: "order/paid".into(), scenario: "hello".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    store.link_identity(&bot, &IdentityLink::telegram("125", "TG-540278913", &CHAT.to_string(), "test")).await.unwrap();

    // The column holds a sealed value, not the token.
    let raw: String = sqlx::query_scalar("SELECT config_json FROM bot_channels WHERE bot_id = 'bot_rehau' AND kind = 'telegram'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(raw.starts_with("sealed:v1:"), "{raw}");
    assert!(!raw.contains(TOKEN) && !raw.contains(WEBHOOK_SECRET));

    let call = |order: i64| {
        http.post(server.url("/bots/bot_rehau/call/order/paid")).bearer_auth(&portal).json(&json!({"userId": 125, "order": order})).send()
    };
    assert_eq!(call(1).await.unwrap().status(), 200);
    let sent = telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent[0].text, "Заказ 1 оплачен", "delivered with the sealed token (and the sealed params)");
    let params: Vec<String> = sqlx::query_scalar("SELECT params_json FROM events").fetch_all(store.pool()).await.unwrap();
    assert!(params.iter().all(|p| p.starts_with("sealed:v1:")), "{params:?}");

    // Rotation: the new key current, the old one previous; then the old one
    // is dropped. (First the delivery is filed: a message still `sending`
    // at a kill would hold its chat until its lease ends.)
    for _ in 0..100 {
        if store.outbox_counts(&bot).await.unwrap() == vec![("sent".to_string(), 1)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut server = server;
    server.kill9();
    let new_key = generate_key();
    let mut rotating = server;
    rotating.env = vec![("COMOPS_DATA_KEY".into(), new_key.clone()), ("COMOPS_DATA_KEY_PREVIOUS".into(), old_key.clone())];
    let out = rotating.cli(&["rotate-key"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("previous keys may be dropped"), "{said}");
    // Safe to run again: nothing left to do.
    let again = rotating.cli(&["rotate-key"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("re-sealed 0 values"), "{}", String::from_utf8_lossy(&again.stdout));
    let rotated: String = sqlx::query_scalar("SELECT config_json FROM bot_channels WHERE bot_id = 'bot_rehau' AND kind = 'telegram'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_ne!(rotated, raw);
    let new_id = comops_core::seal::Keyring::new(Some(&new_key), &[]).unwrap().current_id().unwrap().to_string();
    assert!(rotated.starts_with(&format!("sealed:v1:{new_id}:")), "{rotated}");

    // Without any key the server refuses to start (sealed data it cannot read).
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_comops"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env_remove("COMOPS_DATA_KEY")
        .env_remove("COMOPS_DATA_KEY_PREVIOUS")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not configured"), "{}", String::from_utf8_lossy(&refused.stderr));

    let server = TestServer::start_with_env(url, dir, &flags, &[("COMOPS_DATA_KEY", &new_key)]);
    let call = http.post(server.url("/bots/bot_rehau/call/order/paid")).bearer_auth(&portal).json(&json!({"userId": 125, "order": 2})).send();
    assert_eq!(call.await.unwrap().status(), 200);
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent[1].text, "Заказ 2 оплачен", "delivered after the rotation with only the new key");
}
