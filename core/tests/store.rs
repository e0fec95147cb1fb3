//! The store's behaviour, run once on SQLite and once on PostgreSQL.

use comops_core::auth::hash_password;
use comops_core::bot::BotDraft;
use comops_core::project::ProjectDraft;
use comops_core::store::scratch::test_postgres;
use comops_core::store::{now_millis, LoginThrottle, NewUser, Store, StoreError};
use comops_core::{Email, Locale, Role};

async fn sqlite_store() -> Store {
    let dir = std::env::temp_dir().join(format!("comops-store-{}", comops_core::auth::new_secret().0));
    let store = Store::connect(&format!("sqlite://{}/nested/comops.db", dir.display())).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn postgres_store(label: &str) -> Option<Store> {
    let url = test_postgres(label).await?;
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

/// Runs `suite` on both databases.
macro_rules! on_both {
    ($name:ident, $suite:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$suite(super::sqlite_store().await).await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(store) = super::postgres_store(stringify!($name)).await {
                    super::$suite(store).await;
                }
            }
        }
    };
}

on_both!(users_and_sessions, users_and_sessions_suite);
on_both!(projects_and_bots, projects_and_bots_suite);
on_both!(login_throttle, login_throttle_suite);
on_both!(demo_seed, demo_seed_suite);

async fn users_and_sessions_suite(store: Store) {
    let email = Email::parse("alena@rehau.example").unwrap();
    let user = store
        .create_user(NewUser {
            email: email.clone(),
            password_hash: hash_password("architect-alena"),
            role: Role::Architect,
            locale: Locale::Ru,
            display_name: "Арх. Алёна".into(),
        })
        .await
        .unwrap();
    assert_eq!(store.count_users().await.unwrap(), 1);

    let again = store
        .create_user(NewUser {
            email: email.clone(),
            password_hash: "x".into(),
            role: Role::Viewer,
            locale: Locale::En,
            display_name: String::new(),
        })
        .await;
    assert!(matches!(again, Err(StoreError::Taken("email"))), "{again:?}");

    let credentials = store.user_credentials(&email).await.unwrap().unwrap();
    assert!(comops_core::auth::verify_password("architect-alena", &credentials.password_hash));
    assert_eq!(credentials.user.display_name, "Арх. Алёна");

    let secret = store.create_session(&user.id).await.unwrap();
    let in_session = store.session_user(&secret).await.unwrap().unwrap();
    assert_eq!(in_session.role, Role::Architect);
    assert_eq!(in_session.locale, Locale::Ru);
    assert!(store.session_user("not-a-session").await.unwrap().is_none());

    store.set_user_locale(&user.id, Locale::En).await.unwrap();
    assert_eq!(store.session_user(&secret).await.unwrap().unwrap().locale, Locale::En);

    store.delete_session(&secret).await.unwrap();
    assert!(store.session_user(&secret).await.unwrap().is_none());
}

async fn projects_and_bots_suite(store: Store) {
    let draft = ProjectDraft { name: "REHAU Installers".into(), slug: String::new(), description: "Portal ↔ Telegram".into() };
    let project = store.create_project(&draft.validate().unwrap(), None, None).await.unwrap();
    assert_eq!(project.slug, "rehau-installers");
    assert_eq!(project.bot_count, 0);

    let duplicate = ProjectDraft { name: "Другой".into(), slug: "rehau-installers".into(), description: String::new() };
    let err = store.create_project(&duplicate.validate().unwrap(), None, None).await.unwrap_err();
    assert!(matches!(err, StoreError::Taken("slug")));

    let bot_draft = BotDraft { name: "Installers bot".into(), username: "rehau_installers_bot".into(), description: String::new(), enabled: true };
    let bot = store.create_bot(&project.id, &bot_draft.validate().unwrap(), None).await.unwrap();
    assert!(bot.enabled);
    assert_eq!(store.project(&project.id).await.unwrap().bot_count, 1);

    let renamed = BotDraft { name: "Монтажники".into(), enabled: false, ..bot_draft };
    let bot = store.update_bot(&bot.id, &renamed.validate().unwrap()).await.unwrap();
    assert_eq!(bot.name, "Монтажники");
    assert!(!bot.enabled);

    let edited = ProjectDraft { name: "REHAU".into(), slug: "rehau".into(), description: String::new() };
    let project = store.update_project(&project.id, &edited.validate().unwrap()).await.unwrap();
    assert_eq!((project.name.as_str(), project.slug.as_str()), ("REHAU", "rehau"));

    store.delete_project(&project.id).await.unwrap();
    assert!(matches!(store.project(&project.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.bot(&bot.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_project(&project.id).await, Err(StoreError::NotFound)));
    assert!(store.list_projects().await.unwrap().is_empty());
}

async fn login_throttle_suite(store: Store) {
    let policy = LoginThrottle::PER_EMAIL;
    let now = now_millis();
    for i in 0..5 {
        assert_eq!(store.login_wait_ms("email:x@example.com", policy, now + i).await.unwrap(), 0);
        store.record_login_failure("email:x@example.com", now + i).await.unwrap();
    }
    let wait = store.login_wait_ms("email:x@example.com", policy, now + 5).await.unwrap();
    assert!(wait > 29_000 && wait <= 30_000, "{wait}");
    // Another subject is not affected; clearing resets.
    assert_eq!(store.login_wait_ms("email:y@example.com", policy, now).await.unwrap(), 0);
    store.clear_login_failures("email:x@example.com").await.unwrap();
    assert_eq!(store.login_wait_ms("email:x@example.com", policy, now + 5).await.unwrap(), 0);
}

async fn demo_seed_suite(store: Store) {
    assert!(comops_core::demo::seed(&store).await.unwrap());
    assert!(!comops_core::demo::seed(&store).await.unwrap(), "second seed is a no-op");
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].bot_count, 4);
    let bots = store.list_bots(&projects[0].id).await.unwrap();
    let ids: Vec<_> = bots.iter().map(|b| b.id.as_str()).collect();
    for id in ["bot_shop", "bot_rehau", "bot_fmlst", "bot_helpdesk"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
}
