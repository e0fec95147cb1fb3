//! The store's behaviour, run once on SQLite and once on PostgreSQL.

use comops_core::auth::hash_password;
use comops_core::history::HistoryWindow;
use comops_core::bot::BotDraft;
use comops_core::project::ProjectDraft;
use comops_core::store::scratch::test_postgres;
use comops_core::store::{now_millis, LoginThrottle, NewUser, Store, StoreError, UserChange};
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
on_both!(user_admin, user_admin_suite);
on_both!(projects_and_bots, projects_and_bots_suite);
on_both!(login_throttle, login_throttle_suite);
on_both!(demo_seed, demo_seed_suite);
on_both!(events_and_jobs, events_and_jobs_suite);
on_both!(tokens_and_traces, tokens_and_traces_suite);
on_both!(leads_and_identities, leads_and_identities_suite);
on_both!(inbound_updates, inbound_updates_suite);
on_both!(send_clocks, send_clocks_suite);
on_both!(outbox_takes, outbox_takes_suite);
on_both!(sealing, sealing_suite);
on_both!(batched_saves, batched_saves_suite);
on_both!(loop_figures, loop_figures_suite);
on_both!(call_tallies, call_tallies_suite);
on_both!(kept_analytics, kept_analytics_suite);
on_both!(endpoint_versions, endpoint_versions_suite);
on_both!(blocked_reports, blocked_reports_suite);
on_both!(audit_log, audit_log_suite);
on_both!(history_pages, history_pages_suite);

/// SQLite is built without the memory management that puts every
/// connection's page cache behind one global mutex, and without malloc
/// statistics, which take another (`LIBSQLITE3_FLAGS` in
/// `.cargo/config.toml`): a build that lost the flags fails here.
#[tokio::test]
async fn sqlite_is_built_without_shared_page_cache_mutexes() {
    let store = sqlite_store().await;
    let options: Vec<String> = sqlx::query_scalar("SELECT compile_options FROM pragma_compile_options").fetch_all(store.pool()).await.unwrap();
    assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
    assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
}

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
    assert!(comops_core::demo::seed(&store, true).await.unwrap());
    assert!(!comops_core::demo::seed(&store, true).await.unwrap(), "second seed is a no-op");
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].bot_count, 4);
    let bots = store.list_bots(&projects[0].id).await.unwrap();
    let ids: Vec<_> = bots.iter().map(|b| b.id.as_str()).collect();
    for id in ["bot_shop", "bot_rehau", "bot_fmlst", "bot_helpdesk"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    // The methodology's integration points and scenarios come with it.
    let shop = comops_core::BotId::parse("bot_shop").unwrap();
    let aliases: Vec<_> = store.list_endpoints(&shop).await.unwrap().into_iter().map(|e| e.alias.to_string()).collect();
    assert_eq!(aliases, ["order/delivered", "order/review", "order/status", "order/thank-you"]);
    let rehau = comops_core::BotId::parse("bot_rehau").unwrap();
    assert_eq!(store.list_endpoints(&rehau).await.unwrap().len(), 4);
    let scenarios: Vec<_> = store.list_scenarios(&rehau).await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(scenarios, ["registration_flow", "webinar_feedback", "webinar_invite"], "every demo scenario is valid");
    assert_eq!(store.list_scenarios(&shop).await.unwrap().len(), 4);
    let helpdesk = comops_core::BotId::parse("bot_helpdesk").unwrap();
    assert_eq!(store.list_scenarios(&helpdesk).await.unwrap().len(), 2);
    let fmlst = comops_core::BotId::parse("bot_fmlst").unwrap();
    assert_eq!(store.list_scenarios(&fmlst).await.unwrap().len(), 2);

    // A deleted bot's id is never taken again (the store refuses it in the
    // insert), and a demo someone deleted stays deleted.
    store.delete_project(&projects[0].id).await.unwrap();
    assert!(store.bot_id_retired(&shop).await.unwrap());
    let again = comops_core::bot::BotDraft { name: "Shop".into(), enabled: true, ..Default::default() };
    let other = comops_core::project::ProjectDraft { name: "Other".into(), slug: "other".into(), description: String::new() };
    let other = store.create_project(&other.validate().unwrap(), None, None).await.unwrap();
    let taken = store.create_bot(&other.id, &again.validate().unwrap(), Some(shop.clone())).await.unwrap_err();
    assert!(matches!(taken, comops_core::store::StoreError::Taken("id")), "{taken:?}");
    assert!(!comops_core::demo::seed(&store, true).await.unwrap(), "the deleted demo is not made again");
    assert_eq!(store.list_projects().await.unwrap().len(), 1);
}

/// A successful trace event of bot_shop's CRM calling `endpoint`.
fn crm_hop(trace_id: &str, endpoint: &str, step: &str) -> comops_core::TraceEvent {
    comops_core::TraceEvent {
        id: String::new(),
        trace_id: trace_id.into(),
        source_system: "CRM".into(),
        bot_id: "bot_shop".into(),
        endpoint: endpoint.into(),
        user_id: String::new(),
        lead_id: String::new(),
        step: step.into(),
        status: "success".into(),
        http_status: 200,
        latency_ms: 1,
        dry_run: false,
        detail: String::new(),
        at: 0,
    }
}

async fn events_and_jobs_suite(store: Store) {
    use comops_core::call::CallRequest;
    use comops_core::endpoint::EndpointDraft;
    use comops_core::job::JobRequest;
    use comops_core::store::events::{NewEvent, Replay};
    use comops_core::store::identities::IdentityLink;
    use comops_core::{BotId, EventId, TokenId, TraceEvent};

    comops_core::demo::seed(&store, false).await.unwrap();
    let shop = BotId::parse("bot_shop").unwrap();
    let draft = EndpointDraft { alias: "order/delivered".into(), scenario: "delivery_review".into(), enabled: true, ..Default::default() };
    let endpoint = store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    let link = IdentityLink::telegram("125", "TG-125", "125", "test");
    store.link_identity(&shop, &link).await.unwrap();

    let request = CallRequest::parse(serde_json::json!({"orderId": 9821, "userId": 125})).unwrap();
    let (leads, unresolved) = store.resolve_recipients(&shop, &request.recipients).await.unwrap();
    assert_eq!((leads.len(), unresolved.len()), (1, 0));
    let token = TokenId::parse("tok_crm").unwrap();
    let trace = |id: &str| TraceEvent { user_id: "125".into(), lead_id: "TG-125".into(), ..crm_hop(id, "order/delivered", "api.call") };
    let event = |trace_id: &str| NewEvent {
        id: EventId::generate(),
        bot: shop.clone(),
        endpoint: endpoint.clone(),
        token: token.clone(),
        trace: trace(trace_id),
        params: request.params.clone(),
        recipients: request.recipients.clone(),
        leads: leads.clone(),
        idempotency: Some(("delivery-9821".into(), "hash-a".into())),
        http_status: 200,
        response_body: "{\"success\":true}".into(),
        hand_off_ms: None,
    };
    let accept = |trace_id: &'static str| store.accept_event(event(trace_id));
    let accepted = accept("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").await.unwrap();
    assert_eq!(accepted.runs, 1);
    assert!(matches!(accept("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").await, Err(StoreError::Taken("idempotency_key"))));
    assert_eq!(
        store.idempotency_replay(&token, "delivery-9821", "hash-a").await.unwrap(),
        Replay::Same { http_status: 200, body: "{\"success\":true}".into() }
    );
    assert_eq!(store.idempotency_replay(&token, "delivery-9821", "hash-b").await.unwrap(), Replay::Conflict);
    assert_eq!(store.count_events(&shop).await.unwrap(), (1, 1), "the losing transaction left nothing");

    // A batch commits together; one raced key fails alone.
    let mut fresh = event("dddddddddddddddddddddddddddddddd");
    fresh.idempotency = Some(("delivery-9822".into(), "hash-c".into()));
    let results = store.accept_events(&[event("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"), fresh]).await;
    assert!(matches!(results[0], Err(StoreError::Taken("idempotency_key"))));
    assert!(results[1].is_ok());
    assert_eq!(store.count_events(&shop).await.unwrap(), (2, 1));

    let job = JobRequest::parse(&serde_json::json!({"scenario": "review_reminder", "userId": "125", "run_after_sec": 0}), now_millis()).unwrap();
    store.schedule_job(&shop, &job, "cccccccccccccccccccccccccccccccc", "test").await.unwrap();
    // Two workers race for the same due job: it runs once.
    let now = now_millis() + 10;
    let (a, b) = tokio::join!(store.run_due_jobs(now, 10), store.run_due_jobs(now, 10));
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(store.count_events(&shop).await.unwrap(), (2, 2));
    assert_eq!(store.list_jobs(&shop).await.unwrap()[0].status, "done");
}

async fn tokens_and_traces_suite(store: Store) {
    use comops_core::token::{TokenAction, TokenDraft};
    use comops_core::trace::TraceFilter;
    use comops_core::TraceEvent;

    let draft = TokenDraft { name: "REHAU portal".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let (token, secret) = store.issue_token(&draft.validate().unwrap(), "admin@comops.local").await.unwrap();
    assert_eq!(store.token_by_secret(&secret).await.unwrap().unwrap().id, token.id);
    let mut forged = secret.clone();
    forged.pop();
    forged.push(if secret.ends_with('0') { '1' } else { '0' });
    assert!(store.token_by_secret(&forged).await.unwrap().is_none(), "a wrong secret with the right id");
    store.touch_token(&token.id, 5_000).await.unwrap();
    assert_eq!(store.token(&token.id).await.unwrap().last_used_at, Some(5_000));
    store.revoke_token(&token.id).await.unwrap();
    assert!(store.token_by_secret(&secret).await.unwrap().unwrap().revoked_at.is_some());

    for (i, status) in ["success", "fail", "success"].into_iter().enumerate() {
        let event = TraceEvent {
            id: String::new(),
            trace_id: format!("{:032x}", i + 1),
            source_system: "CRM".into(),
            bot_id: "bot_shop".into(),
            endpoint: "order/status".into(),
            user_id: "125".into(),
            lead_id: "TG-125".into(),
            step: "api.call".into(),
            status: status.into(),
            http_status: 200,
            latency_ms: 3,
            dry_run: false,
            detail: String::new(),
            at: 1_000 + i as i64,
        };
        store.record_trace(&event).await.unwrap();
    }
    let all = store.list_traces(&TraceFilter::default()).await.unwrap();
    assert_eq!(all.iter().map(|t| t.at).collect::<Vec<_>>(), [1002, 1001, 1000], "newest first");
    let failed = store.list_traces(&TraceFilter { status: "fail".into(), user: "TG-125".into(), ..Default::default() }).await.unwrap();
    assert_eq!(failed.len(), 1);
    let window = store.list_traces(&TraceFilter { since: Some(1001), until: Some(1002), ..Default::default() }).await.unwrap();
    assert_eq!(window.len(), 1);
    let older = store.list_traces(&TraceFilter { before_id: Some(all[0].id.clone()), limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(older[0].at, 1001);
}

async fn leads_and_identities_suite(store: Store) {
    use comops_core::call::CallRequest;
    use comops_core::endpoint::EndpointDraft;
    use comops_core::store::events::NewEvent;
    use comops_core::store::identities::IdentityLink;
    use comops_core::store::leads::{IdentityFilter, LeadChange};
    use comops_core::store::runs::RunProgress;
    use comops_core::BotId;

    comops_core::demo::seed(&store, false).await.unwrap();
    let fmlst = BotId::parse("bot_fmlst").unwrap();
    // Linking the same address twice keeps one link; the lead row appears.
    let link = IdentityLink::telegram("u-7", "TG-7001", "7001", "deep_link");
    store.link_identity(&fmlst, &link).await.unwrap();
    store.link_identity(&fmlst, &link).await.unwrap();
    let mut email = IdentityLink::telegram("u-7", "TG-7001", "anna@fmlst.example", "api");
    email.channel = "email".into();
    store.link_identity(&fmlst, &email).await.unwrap();
    let by_user = IdentityFilter { user_id: Some("u-7".into()), ..Default::default() };
    assert_eq!(store.identities(&fmlst, &by_user, 100).await.unwrap().len(), 2);
    // Page by page: one link, then where the next starts, then the other.
    let (first, next) = store.identities_after(&fmlst, &by_user, None, 1).await.unwrap();
    let (at, id) = next.expect("a second page");
    let (second, after) = store.identities_after(&fmlst, &by_user, Some((at, id.as_str())), 1).await.unwrap();
    assert_eq!((first.len(), second.len(), after), (1, 1, None));
    assert_ne!(first[0].channel, second[0].channel, "each link once");
    let lead = store.lead(&fmlst, "TG-7001").await.unwrap().expect("lead row");
    assert_eq!((lead.status.as_str(), lead.tags.len()), ("active", 0));
    assert_eq!(store.leads(&fmlst, "7001", 10, 0).await.unwrap().leads.len(), 1, "found by chat id");
    assert_eq!(store.leads(&fmlst, "u-7", 10, 0).await.unwrap().leads.len(), 1, "found by user id");
    // Part of a lead id or a user id, in any case, finds the lead; a chat
    // id only whole (a personal one is kept sealed); LIKE's wildcards are
    // only characters.
    let found = |query: &'static str| {
        let store = store.clone();
        let fmlst = fmlst.clone();
        async move {
            let found = store.leads(&fmlst, query, 10, 0).await.unwrap();
            let ids: Vec<String> = found.leads.into_iter().map(|l| l.id).collect();
            assert_eq!(found.total, ids.len() as i64, "{query}");
            ids
        }
    };
    assert_eq!(found("tg-70").await, ["TG-7001"], "part of the lead id, another case");
    assert_eq!(found(" U-").await, ["TG-7001"], "part of the user id");
    assert_eq!(found("anna@fmlst.example").await, ["TG-7001"], "a whole email address");
    assert_eq!(found("anna@fmlst").await, Vec::<String>::new(), "part of a sealed address");
    assert_eq!(found("%").await, Vec::<String>::new());
    assert_eq!(found("_").await, Vec::<String>::new());
    let all = found("").await;
    assert!(all.contains(&"TG-7001".to_string()), "an empty query finds every lead: {all:?}");

    // A scenario's changes are saved with its progress.
    store.start_run(&fmlst, "TG-7001", "u-7", "family_digest", "ffffffffffffffffffffffffffffffff").await.unwrap();
    let run = store.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap().pop().expect("the run");
    let mut attributes = serde_json::Map::new();
    attributes.insert("city".into(), "Казань".into());
    let progress = RunProgress {
        state_json: "{}".into(),
        status: "done".into(),
        wake_at: None,
        outcome: String::new(),
        messages: vec![],
        traces: vec![],
        lead_change: LeadChange { attributes, add_tags: vec!["family".into()], remove_tags: vec![], status: Some("vip".into()), handover: false },
        start_runs: vec![],
        blocked_on: None,
    };
    store.save_run_progress(&run, &progress).await.unwrap();
    let lead = store.lead(&fmlst, "TG-7001").await.unwrap().unwrap();
    assert_eq!((lead.attributes["city"].as_str(), lead.tags.clone(), lead.status.as_str()), (Some("Казань"), vec!["family".to_string()], "vip"));

    // An operator takes over: the bot's runs for the lead wait; the
    // operator's reply goes to every active address.
    store.start_run(&fmlst, "TG-7001", "u-7", "family_digest", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee").await.unwrap();
    assert!(store.take_over(&fmlst, "TG-7001", "olga@fmlst.example").await.unwrap());
    assert!(store.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap().is_empty(), "paused for the operator");
    assert_eq!(store.operator_queue(&fmlst, 200).await.unwrap().0[0].1, "olga@fmlst.example");
    // Waiting leads come first, the longest waiting at the top, then those
    // taken, the latest first; a short queue still counts them all.
    for (lead, operator, at) in [("TG-q1", "*", 3_000), ("TG-q2", "*", 1_000), ("TG-q3", "ivan@fmlst.example", 5_000), ("TG-q4", "*", 2_000)] {
        sqlx::query("INSERT INTO leads (bot_id, id, operator, operator_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 0, 0)")
            .bind(fmlst.as_str())
            .bind(lead)
            .bind(operator)
            .bind(at as i64)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let (queue, total) = store.operator_queue(&fmlst, 200).await.unwrap();
    let order: Vec<&str> = queue.iter().map(|(lead, _, _)| lead.as_str()).collect();
    assert_eq!(order, ["TG-q2", "TG-q4", "TG-q1", "TG-7001", "TG-q3"]);
    let (first, total_of_first) = store.operator_queue(&fmlst, 2).await.unwrap();
    assert_eq!((first.len(), total_of_first, total), (2, 5, 5));
    assert_eq!(first[0].0, "TG-q2", "the longest waiting is never cut off");
    sqlx::query("DELETE FROM leads WHERE id LIKE 'TG-q%'").execute(store.pool()).await.unwrap();
    assert_eq!(store.operator_send(&fmlst, "TG-7001", "olga@fmlst.example", "Здравствуйте, это Ольга").await.unwrap(), 2);
    let talk = store.conversation(&fmlst, "TG-7001", 50).await.unwrap();
    assert_eq!(talk.len(), 2);
    assert!(talk.iter().all(|e| e.direction == "out" && e.author == "operator olga@fmlst.example" && e.status == "pending"));
    assert!(store.hand_back(&fmlst, "TG-7001").await.unwrap());
    assert_eq!(store.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap().len(), 1, "the bot goes on");

    // Blocked on one channel: still reachable by email, so not stopped.
    store.deactivate_address(&fmlst, "telegram", "7001", "").await.unwrap();
    assert_eq!(store.lead(&fmlst, "TG-7001").await.unwrap().unwrap().status, "vip");
    store.deactivate_address(&fmlst, "email", "anna@fmlst.example", "").await.unwrap();
    assert_eq!(store.lead(&fmlst, "TG-7001").await.unwrap().unwrap().status, "stopped");
    // Those two operator messages died with the blocks; one is re-driven.
    let dead = store.dead_letters(&fmlst, 10, 0).await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0].last_error, "blocked by the user");
    assert!(store.redrive(&fmlst, &dead[0].id).await.unwrap());
    assert!(!store.redrive(&fmlst, &dead[0].id).await.unwrap(), "not dead any more");
    assert_eq!(store.dead_letters(&fmlst, 10, 0).await.unwrap().len(), 1);
    assert_eq!(store.deactivate_identities(&fmlst, &IdentityFilter::default()).await.unwrap(), 0, "an empty filter changes nothing");
    // Deactivated by the business system, not blocked: a run that finds
    // no address left has no block to report.
    store.link_identity(&fmlst, &IdentityLink::telegram("9", "TG-9", "9", "test")).await.unwrap();
    let filter = IdentityFilter { lead_id: Some("TG-9".into()), ..Default::default() };
    assert_eq!(store.deactivate_identities(&fmlst, &filter).await.unwrap(), 1);
    assert_eq!(store.blocked_channel(&fmlst, "TG-9").await.unwrap(), None);
    store.link_identity(&fmlst, &IdentityLink::telegram("9", "TG-9", "9", "test")).await.unwrap();
    store.deactivate_address(&fmlst, "telegram", "9", "").await.unwrap();
    assert_eq!(store.blocked_channel(&fmlst, "TG-9").await.unwrap().as_deref(), Some("telegram"));

    // One run per lead and endpoint, even when calls race.
    let shop = BotId::parse("bot_shop").unwrap();
    let draft = EndpointDraft { alias: "order/status".into(), scenario: "order_status".into(), enabled: true, ..Default::default() };
    let endpoint = store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    store.link_identity(&shop, &IdentityLink::telegram("125", "TG-125", "125", "test")).await.unwrap();
    let request = CallRequest::parse(serde_json::json!({"userId": 125})).unwrap();
    let (leads, _) = store.resolve_recipients(&shop, &request.recipients).await.unwrap();
    let event = |n: usize| call_for_125(&shop, endpoint.clone(), &request, &leads, &format!("{n:032x}"));
    // Separate tasks, separate connections: the transactions overlap.
    let calls: Vec<_> = (0..8)
        .map(|n| {
            let (store, event) = (store.clone(), event(n));
            tokio::spawn(async move { store.accept_event(event).await })
        })
        .collect();
    let mut runs = 0;
    for call in calls {
        runs += call.await.unwrap().unwrap().runs;
    }
    assert_eq!(runs, 1, "eight concurrent calls started one run");

    // Handed off: the runs come back as claimed, leased to the caller, and
    // no claim finds them; once the lease is over, a claim reads the same run.
    let draft = EndpointDraft { alias: "order/paid".into(), scenario: "order_status".into(), enabled: true, ..Default::default() };
    let paid = store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    let before = now_millis();
    let mut handed_event = NewEvent { endpoint: paid, hand_off_ms: Some(60_000), ..event(99) };
    handed_event.params.insert("order".into(), serde_json::json!("A-1"));
    let accepted = store.accept_event(handed_event).await.unwrap();
    assert_eq!((accepted.runs, accepted.handed.len(), accepted.handed_off), (1, 1, 1));
    let handed = accepted.handed[0].clone();
    assert!(handed.lease_until >= before + 60_000 && handed.lease_until <= now_millis() + 60_000, "{}", handed.lease_until);
    assert_eq!((handed.status.as_str(), handed.state_json.as_str(), handed.lead_id.as_str()), ("pending", "", leads[0].lead_id.as_str()));
    let claimed = store.claim_runs(now_millis(), 10, 1_000).await.unwrap();
    assert!(claimed.iter().all(|run| run.id != handed.id), "leased to whoever it was handed to");
    let later = store.claim_run(&handed.id, handed.lease_until + 1, 1_000).await.unwrap().expect("free once its lease is over");
    assert_eq!(later, comops_core::store::runs::ClaimedRun { lease_until: later.lease_until, ..handed }, "what a claim reads is what was handed");
}

async fn inbound_updates_suite(store: Store) {
    comops_core::demo::seed(&store, false).await.unwrap();
    let shop = comops_core::BotId::parse("bot_shop").unwrap();
    let first = store.accept_update(&shop, "telegram", "100", "{}", 0).await.unwrap().expect("new update");
    assert!(store.accept_update(&shop, "telegram", "100", "{}", 0).await.unwrap().is_none(), "a redelivery is recognised");
    assert!(store.accept_update(&shop, "vk", "100", "{}", 0).await.unwrap().is_some(), "ids are per channel");
    // Not finished and its lease is over: the sweep takes it, once.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let due = store.claim_due_updates(10, 60_000).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(store.claim_due_updates(10, 60_000).await.unwrap().is_empty(), "leased");
    store.finish_update(&first).await.unwrap();
    store.retry_update(&due[1], 0).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = store.claim_due_updates(10, 60_000).await.unwrap();
    assert_eq!(again.iter().map(|u| u.channel.as_str()).collect::<Vec<_>>(), ["vk"]);
}

async fn send_clocks_suite(store: Store) {
    use comops_core::store::send_clocks::Clock;
    let clocks = |chat: &str| vec![Clock { key: "bot:telegram:bot_shop".into(), interval_ms: 34 }, Clock { key: format!("chat:telegram:bot_shop:{chat}"), interval_ms: 1050 }];
    // A messenger's pause holds a bot's clock (never back): nothing is
    // reserved on it before then.
    let paused = vec![Clock { key: "bot:telegram:bot_paused".into(), interval_ms: 34 }];
    let until = now_millis() + 60_000;
    store.hold_clock("bot:telegram:bot_paused", until).await.unwrap();
    store.hold_clock("bot:telegram:bot_paused", until - 30_000).await.unwrap();
    match store.reserve_send(&paused, 1_000).await.unwrap() {
        Err(held) => assert_eq!(held.at, until - 1_000),
        Ok(slot) => panic!("reserved at {slot} during the pause"),
    }
    // Forty sends to forty chats, reserved at once from separate tasks:
    // every slot is distinct and at least 34 ms after the one before.
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let (store, clocks) = (store.clone(), clocks(&n.to_string()));
            tokio::spawn(async move {
                loop {
                    match store.reserve_send(&clocks, 10_000).await.unwrap() {
                        Ok(slot) => return slot,
                        Err(held) => tokio::time::sleep(std::time::Duration::from_millis((held.at - now_millis()).max(1) as u64)).await,
                    }
                }
            })
        })
        .collect();
    let mut slots = Vec::new();
    for task in tasks {
        slots.push(task.await.unwrap());
    }
    slots.sort();
    assert!(slots.windows(2).all(|w| w[1] - w[0] >= 34), "{slots:?}");
    // Thirty in any 1015 ms, never more.
    assert!(slots.windows(31).all(|w| w[30] - w[0] >= 1015));
    // The same chat again: not before its own interval, and a refusal
    // changes nothing.
    let rehau = vec![Clock { key: "bot:telegram:bot_rehau".into(), interval_ms: 34 }, Clock { key: "chat:telegram:bot_rehau:125".into(), interval_ms: 1050 }];
    let first = store.reserve_send(&rehau, 0).await.unwrap().expect("a fresh clock is free");
    let held = store.reserve_send(&rehau, 0).await.unwrap().expect_err("the chat's second message waits");
    assert!(held.at >= first + 1050);
    assert_eq!(held.by, Some(1), "held by the chat's clock, not the bot's");
    // The refusal reserved nothing on the bot's clock: another chat goes now-ish.
    let other = vec![Clock { key: "bot:telegram:bot_rehau".into(), interval_ms: 34 }, Clock { key: "chat:telegram:bot_rehau:126".into(), interval_ms: 1050 }];
    let slot = store.reserve_send(&other, 100).await.unwrap().expect("the bot clock moved by one interval only");
    assert!(slot - first <= 100, "{first} {slot}");
    // A send that left late moves the clock on, for every process that
    // reserves on it: the next slot is what the rule says, never earlier.
    let next_at = |store: &Store| {
        let store = store.clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT next_at FROM send_clocks WHERE key = 'bot:telegram:bot_rehau'").fetch_one(store.pool()).await.unwrap() }
    };
    let before = next_at(&store).await;
    assert!(store.move_clock_on("bot:telegram:bot_rehau", |next| Some(next + 3_000)).await.unwrap());
    assert_eq!(next_at(&store).await, before + 3_000);
    let moved = store.reserve_send(&other[..1], 10_000).await.unwrap().expect("within the reserve window");
    assert_eq!(moved, before + 3_000, "the next reservation takes the moved slot");
    assert!(!store.move_clock_on("bot:telegram:bot_rehau", |next| Some(next - 100)).await.unwrap(), "never back");
    assert!(!store.move_clock_on("bot:telegram:bot_rehau", |_| None).await.unwrap());
    assert!(!store.move_clock_on("bot:telegram:nobody", |next| Some(next + 1)).await.unwrap(), "no such clock: nothing");

    // A reservation that committed while its answer was lost (the
    // database went away): the message is `sending`, but the dispatcher
    // never sent it and puts it back with the pass's paced ones. It is
    // queued again, not dead-lettered as interrupted at lease end.
    let now = now_millis();
    outbox_row(&store, "0001", "bot_rehau", "127", "pending", now, 0).await;
    let message = store.claim_due_messages(now + 1, 10, 30_000).await.unwrap().pop().expect("the message is due");
    let chat = vec![Clock { key: "bot:telegram:bot_rehau".into(), interval_ms: 34 }, Clock { key: "chat:telegram:bot_rehau:127".into(), interval_ms: 1050 }];
    store.reserve_send_of(&chat, 10_000, &message.id, message.lease_until).await.unwrap().expect("reserved, marked sending");
    let marked = store.start_sends(&[], &[(message.clone(), now + 5)]).await.unwrap();
    assert!(marked.is_empty());
    let (status, next, lease): (String, i64, i64) =
        sqlx::query_as("SELECT status, next_attempt_at, lease_until FROM outbox WHERE id = '0001'").fetch_one(store.pool()).await.unwrap();
    assert_eq!((status.as_str(), next, lease), ("pending", now + 5, 0));
    let again = store.claim_due_messages(now + 10, 10, 30_000).await.unwrap().pop().expect("queued again");

    // A pass whose marking committed unheard tries it again: the message
    // is named for sending once more, not left `sending` unsent (which
    // would dead-letter it as interrupted at lease end).
    let admitted = [(again.id.clone(), again.lease_until)];
    assert_eq!(store.start_sends(&admitted, &[]).await.unwrap().len(), 1);
    assert_eq!(store.start_sends(&admitted, &[]).await.unwrap().len(), 1, "the retry names it too");
    // Another claim's lease is not this pass's.
    assert!(store.start_sends(&[(again.id.clone(), again.lease_until + 1)], &[]).await.unwrap().is_empty());

    // A pass's reservations in one commit: slots in the order given, one
    // bot interval apart; a chat whose clock is ahead holds its message
    // and reserves nothing for it; a message the claim no longer holds
    // reserves nothing; the messages given a slot are `sending`.
    use comops_core::store::send_clocks::SendToReserve;
    let fmlst = |chat: &str| vec![Clock { key: "bot:telegram:bot_fmlst".into(), interval_ms: 34 }, Clock { key: format!("chat:telegram:bot_fmlst:{chat}"), interval_ms: 1050 }];
    let now = now_millis();
    for (id, chat) in [("0101", "300"), ("0102", "301"), ("0103", "302")] {
        outbox_row(&store, id, "bot_fmlst", chat, "pending", now, 0).await;
    }
    let claimed = store.claim_due_messages(now + 1, 10, 30_000).await.unwrap();
    let mut ids: Vec<&str> = claimed.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["0101", "0102", "0103"]);
    let lease = claimed[0].lease_until;
    // Chat 302 took a send with a minute's interval: its clock is far ahead.
    let minute = vec![Clock { key: "bot:telegram:bot_fmlst".into(), interval_ms: 34 }, Clock { key: "chat:telegram:bot_fmlst:302".into(), interval_ms: 60_000 }];
    let busy = store.reserve_send(&minute, 0).await.unwrap().expect("a fresh clock is free");
    let (c300, c301, c302, c303) = (fmlst("300"), fmlst("301"), fmlst("302"), fmlst("303"));
    let sends = [
        SendToReserve { message: "0101", clocks: &c300 },
        SendToReserve { message: "0102", clocks: &c301 },
        SendToReserve { message: "0103", clocks: &c302 },
        SendToReserve { message: "0104", clocks: &c303 },
        SendToReserve { message: "0101", clocks: &c300 },
    ];
    let answers = store.reserve_sends_of(&sends, 500, lease).await.unwrap();
    assert_eq!(answers.len(), 5);
    let (a, b) = (answers[0].expect("the first goes"), answers[1].expect("the second goes"));
    assert!(a >= busy + 34 && b == a + 34, "{busy} {a} {b}");
    let held = answers[2].expect_err("its chat's clock is a minute ahead");
    assert_eq!((held.by, held.at), (Some(1), busy + 60_000 - 500));
    assert_eq!(answers[3].expect_err("never claimed").by, None);
    assert_eq!(answers[4].expect_err("given twice, reserved once").by, None);
    let status = |id: &'static str| {
        let store = store.clone();
        async move { sqlx::query_scalar::<_, String>("SELECT status FROM outbox WHERE id = $1").bind(id).fetch_one(store.pool()).await.unwrap() }
    };
    assert_eq!((status("0101").await, status("0102").await, status("0103").await), ("sending".into(), "sending".into(), "claimed".into()));
    let clock = |key: &'static str| {
        let store = store.clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT next_at FROM send_clocks WHERE key = $1").bind(key).fetch_one(store.pool()).await.unwrap() }
    };
    assert_eq!(clock("bot:telegram:bot_fmlst").await, b + 34, "the held message moved no clock");
    assert_eq!(clock("chat:telegram:bot_fmlst:302").await, busy + 60_000);
    assert_eq!(clock("chat:telegram:bot_fmlst:301").await, b + 1050);
    // Asked again, the taken ones reserve nothing twice.
    let again = store.reserve_sends_of(&sends[..2], 500, lease).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|answer| answer.is_err_and(|held| held.by.is_none())));
}

/// Writes an outbox row straight into the table: message `id` (also its
/// delivery key, its text "message {id}") to `bot`'s chat `chat`, due at
/// `due`, with `status` and `lease`.
async fn outbox_row(store: &Store, id: &str, bot: &str, chat: &str, status: &str, due: i64, lease: i64) {
    sqlx::query(
        "INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, payload_json, trace_id, status, next_attempt_at, created_at, lease_until) \
         VALUES ($1, $1, 'run1', $2, 'L-1', 'telegram', $3, $4, 't1', $5, $6, $6, $7)",
    )
    .bind(id)
    .bind(bot)
    .bind(chat)
    .bind(format!("{{\"text\":\"message {id}\"}}"))
    .bind(status)
    .bind(due)
    .bind(lease)
    .execute(store.pool())
    .await
    .unwrap();
}

/// A pass on this process's own clocks reads the due messages, then takes
/// them in one turn: admitted ones straight to `sending`, paced ones left
/// pending until their time, and only rows still pending and first of
/// their chat.
async fn outbox_takes_suite(store: Store) {
    let now = now_millis();
    // (id, chat, status, due, lease)
    let rows = [
        ("0001", "c1", "pending", now, 0),
        ("0002", "c1", "pending", now, 0),
        ("0003", "c2", "pending", now, 0),
        ("0004", "c3", "pending", now, 0),
        ("0005", "c4", "pending", now + 60_000, 0),
        ("0006", "c5", "claimed", now, now + 60_000),
        ("0007", "c5", "pending", now, 0),
    ];
    for (id, chat, status, due, lease) in rows {
        outbox_row(&store, id, "bot_shop", chat, status, due, lease).await;
    }
    let due = store.due_messages(now + 1, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0001", "0003", "0004"], "first of each chat, due, oldest first");
    assert_eq!((due[0].bot_id.as_str(), due[0].channel.as_str(), due[0].chat_key.as_str()), ("bot_shop", "telegram", "c1"));
    // Reading took nothing.
    let status = |id: &'static str| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (String, i64, i64)>("SELECT status, next_attempt_at, lease_until FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(status("0001").await, ("pending".into(), now, 0));

    // Meanwhile the third chat's person blocked the bot.
    sqlx::query("UPDATE outbox SET status = 'dead' WHERE id = '0004'").execute(store.pool()).await.unwrap();
    let lease = now + 30_000;
    let ids = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let taken = store.take_due_messages(&ids(&["0001", "0004"]), &[], &[("0003".into(), now + 500)], lease).await.unwrap();
    assert_eq!(taken.sending.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0001"], "a row no longer pending is not taken");
    assert!(taken.claimed.is_empty());
    let sent = &taken.sending[0];
    assert_eq!((sent.chat_id.as_str(), sent.payload["text"].as_str(), sent.lease_until), ("c1", Some("message 0001"), lease));
    assert_eq!(status("0001").await, ("sending".into(), now, lease));
    assert_eq!(status("0003").await, ("pending".into(), now + 500, 0), "paced: pending until its time");
    assert_eq!(status("0004").await.0, "dead");

    // The first chat's next message waits for the one being sent; the
    // paced one is due again at its time.
    assert!(store.due_messages(now + 1, 10).await.unwrap().is_empty());
    let due = store.due_messages(now + 600, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0003"]);
    // Taken to be filed (its channel could not be read), not sent.
    let taken = store.take_due_messages(&[], &ids(&["0003"]), &[], lease).await.unwrap();
    assert!(taken.sending.is_empty());
    assert_eq!(taken.claimed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0003"]);
    assert_eq!(status("0003").await, ("claimed".into(), now + 500, lease));
    // A row taken already is not taken twice.
    let again = store.take_due_messages(&ids(&["0001", "0003"]), &[], &[], lease + 1).await.unwrap();
    assert!(again.sending.is_empty() && again.claimed.is_empty());
    assert_eq!(status("0001").await, ("sending".into(), now, lease));

    // The claimer died: once its lease ran out, the next read hands its
    // claimed row back (due in the same pass) and gives up the one it was
    // sending (never resent); a claim still within its lease stays.
    let due = store.due_messages(lease + 1, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0002", "0003"]);
    assert_eq!(status("0001").await.0, "dead");
    assert_eq!(status("0003").await, ("pending".into(), now + 500, 0));
    assert_eq!(status("0006").await, ("claimed".into(), now, now + 60_000));
}

/// Every text a person's data or a secret could be in, read with plain SQL.
async fn raw_dump(store: &Store) -> String {
    let mut dump = String::new();
    for sql in [
        "SELECT config_json FROM bot_channels",
        "SELECT chat_id || ' ' || chat_idx || ' ' || lead_id FROM identity_links",
        "SELECT chat_id || ' ' || address || ' ' || delivery_key || ' ' || payload_json || ' ' || lead_id FROM outbox",
        "SELECT external_id || ' ' || event_json FROM inbound_updates",
        "SELECT id || ' ' || attributes_json FROM leads",
        "SELECT lead_id || ' ' || detail FROM trace_events",
        "SELECT id || ' ' || lead_id || ' ' || state_json FROM runs",
        "SELECT params_json FROM events",
        "SELECT params_json FROM scheduled_jobs",
        "SELECT body_json FROM webchat_messages",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(store.pool()).await.unwrap();
        dump.push_str(&rows.join("\n"));
        dump.push('\n');
    }
    dump
}

/// Encryption at rest: an install without a key, then a key and
/// `rotate-key` (which seals the old rows), then a second key. The raw
/// columns never show a secret, phone or email once sealed; the store's API
/// reads and finds everything throughout.
async fn sealing_suite(plain: Store) {
    use comops_core::seal::{generate_key, Keyring, SealError};
    use comops_core::store::identities::IdentityLink;
    use comops_core::store::leads::{IdentityFilter, LeadChange};
    use comops_core::store::runs::{NewOutboxMessage, RunProgress};
    use comops_core::BotId;
    use serde_json::json;

    const TOKEN: &str = "111:OLDplainTOKENx";
    const CRM_KEY: &str = "crmSECRETkey42";
    const PHONE: &str = "79161234567";
    const EMAIL: &str = "anna.sealed@example.com";
    comops_core::demo::seed(&plain, false).await.unwrap();
    let bot = BotId::parse("bot_fmlst").unwrap();
    let link = |user: &str, lead: &str, channel: &str, chat: &str| {
        let mut link = IdentityLink::telegram(user, lead, chat, "api");
        link.channel = channel.into();
        link
    };

    // A web chat visitor writes their phone, then (below) their email.
    use comops_core::store::webchat::{Author, NewWebChatMessage, WebChatVisitor};
    let said = |text: &str| NewWebChatMessage { text: text.into(), ..Default::default() };
    let visitor = WebChatVisitor { chat_id: "wc_sealed".into(), bot_id: bot.clone(), token_hash: "h".into(), name: String::new() };
    plain.create_webchat_visitor(&visitor).await.unwrap();

    // Before any key (an existing install): stored as given.
    plain.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN})).await.unwrap();
    plain.link_identity(&bot, &link("u-1", "WA-legacy", "whatsapp", PHONE)).await.unwrap();
    plain.append_webchat_message("wc_sealed", Author::Visitor, &said(&format!("мой телефон {PHONE}"))).await.unwrap().unwrap();
    assert!(raw_dump(&plain).await.contains(TOKEN));

    // A key is set: old rows still read and found, new ones sealed.
    let old = generate_key();
    let store = plain.clone().with_keyring(Keyring::new(Some(&old), &[]).unwrap());
    assert_eq!(store.bot_channel(&bot, "telegram").await.unwrap().unwrap()["token"], TOKEN);
    assert_eq!(store.lead_at_address(&bot, "whatsapp", PHONE).await.unwrap().as_deref(), Some("WA-legacy"));
    store.set_bot_channel(&bot, "secrets", &json!({"crm_key": CRM_KEY})).await.unwrap();
    store.link_identity(&bot, &link("u-2", "EM-anna", "email", "Anna.Sealed@Example.com")).await.unwrap();
    store.link_identity(&bot, &link("u-2", "EM-anna", "telegram", "7002")).await.unwrap();
    let new_lead = store.new_lead_id_for_address("whatsapp", "79990001122");
    assert!(new_lead.starts_with("WA-") && !new_lead.contains("7999"), "{new_lead}");

    // A run sets personal attributes and sends to the email address.
    store.start_run(&bot, "EM-anna", "u-2", "family_digest", "abababababababababababababababab").await.unwrap();
    let run = store.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap().pop().expect("the run");
    let mut attributes = serde_json::Map::new();
    attributes.insert("phone".into(), json!(PHONE));
    attributes.insert("email".into(), json!(EMAIL));
    attributes.insert("city".into(), json!("Казань"));
    let message = NewOutboxMessage {
        delivery_key: format!("{}:1:1:hi:email:{}", run.id, store.address_key("email", "Anna.Sealed@Example.com")),
        lead_id: "EM-anna".into(),
        channel: "email".into(),
        chat_id: "Anna.Sealed@Example.com".into(),
        payload: json!({"text": "Здравствуйте", "buttons": [], "media_url": null}),
        plan: Default::default(),
    };
    // It waits with the person's answers in its variables.
    let progress = RunProgress {
        state_json: json!({"vars": {"phone": PHONE, "email": EMAIL}}).to_string(),
        status: "waiting".into(),
        wake_at: Some(now_millis()),
        outcome: String::new(),
        messages: vec![message],
        traces: vec![],
        lead_change: LeadChange { attributes, ..Default::default() },
        start_runs: vec![],
        blocked_on: None,
    };
    store.save_run_progress(&run, &progress).await.unwrap();
    let event = json!({"kind": "text", "chat_id": PHONE, "text": "мой email anna.sealed@example.com"}).to_string();
    store.accept_update(&bot, "whatsapp", "wamid.1", &event, 0).await.unwrap().expect("recorded");
    let job = comops_core::job::JobRequest::parse(
        &json!({"scenario": "family_digest", "leadId": "EM-anna", "run_after_sec": 3600, "params": {"phone": PHONE}}),
        now_millis(),
    )
    .unwrap();
    store.schedule_job(&bot, &job, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "test").await.unwrap();
    store.append_webchat_message("wc_sealed", Author::Bot, &said("Спасибо! А почта?")).await.unwrap().unwrap();
    store.append_webchat_message("wc_sealed", Author::Visitor, &said(EMAIL)).await.unwrap().unwrap();
    assert!(!raw_dump(&store).await.contains(EMAIL), "what a visitor writes is sealed as it is stored");
    assert!(raw_dump(&store).await.contains("А почта?"), "the bot's own words are not");

    // `comops rotate-key` with the first key seals the rows from before it.
    let census = store.seal_census().await.unwrap();
    assert!(census.plaintext >= 2, "{census:?}");
    let report = store.reseal_all().await.unwrap();
    assert!(report.resealed >= 2, "{report:?}");
    let dump = raw_dump(&store).await;
    for secret in [TOKEN, CRM_KEY, PHONE, EMAIL, "Anna.Sealed@Example.com"] {
        assert!(!dump.contains(secret), "{secret} is stored in the clear:\n{dump}");
    }
    assert!(dump.contains("Казань") && dump.contains("7002"), "other attributes and Telegram chats stay readable");

    // …and everything reads as before.
    let everything_reads = |store: Store| {
        let bot = bot.clone();
        async move {
        assert_eq!(store.bot_channel(&bot, "telegram").await.unwrap().unwrap()["token"], TOKEN);
        assert_eq!(store.bot_channel_cached(&bot, "secrets").await.unwrap().unwrap()["crm_key"], CRM_KEY);
        assert_eq!(store.lead_at_address(&bot, "whatsapp", &format!("+{PHONE}")).await.unwrap().as_deref(), Some("WA-legacy"));
        assert_eq!(store.lead_at_address(&bot, "email", EMAIL).await.unwrap().as_deref(), Some("EM-anna"), "found case-insensitively");
        assert_eq!(store.leads(&bot, PHONE, 10, 0).await.unwrap().leads.len(), 1, "the studio finds a lead by phone");
        let lead = store.lead(&bot, "EM-anna").await.unwrap().unwrap();
        assert_eq!((lead.attributes["phone"].as_str(), lead.attributes["email"].as_str()), (Some(PHONE), Some(EMAIL)));
        let links = store.identities(&bot, &IdentityFilter { chat_id: Some(EMAIL.into()), ..Default::default() }, 10).await.unwrap();
        assert_eq!(links.iter().map(|l| l.chat_id.as_str()).collect::<Vec<_>>(), vec!["Anna.Sealed@Example.com"]);
        let addresses = store.addresses_of_lead(&bot, "EM-anna").await.unwrap();
        assert_eq!(addresses, vec![("email".to_string(), "Anna.Sealed@Example.com".to_string()), ("telegram".to_string(), "7002".to_string())]);
        let talk = store.conversation(&bot, "EM-anna", 10).await.unwrap();
        assert!(talk.iter().any(|e| e.chat_id == "Anna.Sealed@Example.com"), "{talk:?}");
        let chat = store.webchat_messages_after("wc_sealed", 0, 10).await.unwrap();
        let chat: Vec<_> = chat.iter().map(|m| (m.id, m.from, m.text.as_str())).collect();
        let phone_said = format!("мой телефон {PHONE}");
        assert_eq!(chat, [(1, Author::Visitor, phone_said.as_str()), (2, Author::Bot, "Спасибо! А почта?"), (3, Author::Visitor, EMAIL)]);
        }
    };
    everything_reads(store.clone()).await;

    // A second key: current, the first one previous; lookups work before and
    // after rotate-key, which is safe to run twice; then the first key goes.
    let new = generate_key();
    let rotating = plain.clone().with_keyring(Keyring::new(Some(&new), &[&old]).unwrap());
    assert_eq!(rotating.lead_at_address(&bot, "email", EMAIL).await.unwrap().as_deref(), Some("EM-anna"), "old blind index still found");
    assert!(rotating.reseal_all().await.unwrap().resealed >= 6);
    assert_eq!(rotating.reseal_all().await.unwrap().resealed, 0, "nothing left to do");
    let only_new = plain.clone().with_keyring(Keyring::new(Some(&new), &[]).unwrap());
    let census = only_new.seal_census().await.unwrap();
    assert_eq!(census.sealed.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), vec![only_new.keyring().current_id().unwrap()]);
    assert!(census.missing_keys(only_new.keyring()).is_empty());
    assert_eq!(census.plaintext, 0);
    everything_reads(only_new.clone()).await;
    // The run resumes with its variables.
    let resumed = only_new.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap().pop().expect("the waiting run");
    assert!(resumed.state_json.contains(PHONE) && resumed.state_json.contains(EMAIL), "{}", resumed.state_json);
    // The outbox message goes to the real address.
    let claimed = only_new.claim_due_messages(now_millis() + 1, 10, 30_000).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.chat_id.as_str()).collect::<Vec<_>>(), vec!["Anna.Sealed@Example.com"]);
    assert!(!claimed[0].chat_key.contains('@'));
    // Blocked: found through the blind index.
    only_new.deactivate_address(&bot, "email", "Anna.Sealed@Example.com", "").await.unwrap();
    assert_eq!(only_new.addresses_of_lead(&bot, "EM-anna").await.unwrap().len(), 1);

    // Without a key, or with the old one only, sealed values do not open.
    assert!(matches!(plain.bot_channel(&bot, "telegram").await, Err(StoreError::Sealed(SealError::NoKey))));
    assert!(!plain.seal_census().await.unwrap().missing_keys(plain.keyring()).is_empty());
    let stale = plain.clone().with_keyring(Keyring::new(Some(&old), &[]).unwrap());
    assert!(matches!(stale.bot_channel(&bot, "telegram").await, Err(StoreError::Sealed(SealError::UnknownKey(_)))));
    // A sealed value copied into another row does not open there.
    sqlx::query("UPDATE bot_channels SET config_json = (SELECT config_json FROM bot_channels WHERE bot_id = 'bot_fmlst' AND kind = 'telegram') WHERE bot_id = 'bot_fmlst' AND kind = 'secrets'")
        .execute(only_new.pool())
        .await
        .unwrap();
    assert!(matches!(only_new.bot_channel(&bot, "secrets").await, Err(StoreError::Sealed(SealError::Corrupt))));
}

/// The engine's hot writes go many rows per statement (events and runs on
/// accept, run states, sends, paced messages); each row still keeps its
/// own rule: an exclusive endpoint's second event for a lead gets no run,
/// a run or message whose lease moved on is left alone.
async fn batched_saves_suite(store: Store) {
    use comops_core::call::CallRequest;
    use comops_core::endpoint::EndpointDraft;
    use comops_core::store::events::NewEvent;
    use comops_core::store::identities::IdentityLink;
    use comops_core::store::outbox::DeliveryResult;
    use comops_core::store::runs::{NewOutboxMessage, RunProgress};
    use comops_core::{BotId, EventId, TokenId};

    let hop = |trace_id: &str, step: &str| crm_hop(trace_id, "order/shipped", step);
    comops_core::demo::seed(&store, false).await.unwrap();
    let shop = BotId::parse("bot_shop").unwrap();
    let draft = EndpointDraft { alias: "order/shipped".into(), scenario: "delivery_review".into(), enabled: true, ..Default::default() };
    let endpoint = store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    assert!(!endpoint.allow_overlap);
    for n in 201..=203 {
        store.link_identity(&shop, &IdentityLink::telegram(&n.to_string(), &format!("TG-{n}"), &n.to_string(), "test")).await.unwrap();
    }
    let event = |user: u32| {
        let request = CallRequest::parse(serde_json::json!({"orderId": user, "userId": user})).unwrap();
        let store = store.clone();
        let (shop, endpoint) = (shop.clone(), endpoint.clone());
        async move {
            let (leads, _) = store.resolve_recipients(&shop, &request.recipients).await.unwrap();
            NewEvent {
                id: EventId::generate(),
                bot: shop.clone(),
                endpoint,
                token: TokenId::parse("tok_crm").unwrap(),
                trace: hop(&format!("{user:032}"), "api.call"),
                params: request.params,
                recipients: request.recipients,
                leads,
                idempotency: None,
                http_status: 200,
                response_body: "{}".into(),
                hand_off_ms: None,
            }
        }
    };
    // One batch: the second event for TG-201 finds its run active.
    let mut batch = vec![event(201).await, event(201).await, event(202).await, event(203).await];
    batch[1].trace.trace_id = format!("{:032}", 8201);
    let accepted = store.accept_events(&batch).await;
    let counts: Vec<(usize, usize)> = accepted.iter().map(|a| a.as_ref().map(|a| (a.runs, a.skipped_active)).unwrap()).collect();
    assert_eq!(counts, [(1, 0), (0, 1), (1, 0), (1, 0)]);
    assert_eq!(store.count_events(&shop).await.unwrap(), (4, 3));
    // The skip's trace step came with the accept, after its call's trace;
    // the events that started their runs have none.
    let traces = store.list_traces(&Default::default()).await.unwrap();
    let of = |trace_id: &str| {
        let mut steps: Vec<_> = traces.iter().filter(|t| t.trace_id == trace_id).collect();
        steps.sort_by(|a, b| a.id.cmp(&b.id));
        steps.into_iter().map(|t| (t.step.as_str(), t.detail.as_str(), t.http_status, t.source_system.as_str())).collect::<Vec<_>>()
    };
    let second = batch[1].trace.trace_id.clone();
    assert_eq!(
        of(&second),
        [("api.call", "", 200, "CRM"), ("run.skipped", "1 lead(s) skipped: a run from this endpoint is still active for them", 200, "CRM")]
    );
    assert_eq!(traces.iter().filter(|t| t.step == "run.skipped").count(), 1, "{traces:?}");
    // A batch whose every event skips some: each says how many of its own.
    let mut both = event(201).await;
    both.recipients = comops_core::call::Recipients::Users(vec!["201".into(), "202".into()]);
    both.leads = store.resolve_recipients(&shop, &both.recipients).await.unwrap().0;
    both.trace.trace_id = format!("{:032}", 9201);
    let mut again = event(203).await;
    again.trace.trace_id = format!("{:032}", 9203);
    let accepted = store.accept_events(&[both.clone(), again]).await;
    assert_eq!(accepted.iter().map(|a| a.as_ref().map(|a| (a.runs, a.skipped_active)).unwrap()).collect::<Vec<_>>(), [(0, 2), (0, 1)]);
    let traces = store.list_traces(&Default::default()).await.unwrap();
    let skipped: Vec<&str> = traces.iter().filter(|t| t.step == "run.skipped").map(|t| t.detail.as_str()).collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(traces.iter().any(|t| t.trace_id == both.trace.trace_id && t.step == "run.skipped" && t.detail.starts_with("2 lead(s) skipped")), "{traces:?}");

    let now = now_millis() + 1;
    let runs = store.claim_runs(now, 10, 30_000).await.unwrap();
    assert_eq!(runs.len(), 3);
    let contexts = store.run_contexts(&runs).await.unwrap();
    for run in &runs {
        let context = &contexts[&run.id];
        assert_eq!(context.lead.as_ref().map(|l| l.id.as_str()), Some(run.lead_id.as_str()));
        let chat = run.lead_id.trim_start_matches("TG-").to_string();
        assert_eq!(context.addresses, [("telegram".to_string(), chat)]);
    }
    // Another worker took the third run over meanwhile: its save is dropped.
    sqlx::query("UPDATE runs SET lease_until = lease_until + 1 WHERE id = $1").bind(&runs[2].id).execute(store.pool()).await.unwrap();
    let progress = |n: usize, wake_at: Option<i64>, start: &[&str]| RunProgress {
        state_json: format!("{{\"n\":{n}}}"),
        status: "waiting".into(),
        wake_at,
        outcome: String::new(),
        messages: vec![NewOutboxMessage {
            delivery_key: format!("{}:k", runs[n].id),
            lead_id: runs[n].lead_id.clone(),
            channel: "telegram".into(),
            chat_id: runs[n].lead_id.trim_start_matches("TG-").into(),
            payload: serde_json::json!({"text": format!("hello {n}")}),
            plan: Default::default(),
        }],
        traces: vec![hop(&runs[n].trace_id, &format!("advance.{n}"))],
        lead_change: Default::default(),
        start_runs: start.iter().map(|s| s.to_string()).collect(),
        blocked_on: None,
    };
    let saves = [progress(0, None, &["review_reminder"]), progress(1, Some(now + 5_000), &[]), progress(2, None, &[])];
    // A save that starts a run goes alone (on PostgreSQL such a batch is
    // written statement by statement); the two others together (on
    // PostgreSQL as one statement).
    store.save_run_progress(&runs[0], &saves[0]).await.unwrap();
    let (b, c) = tokio::join!(store.save_run_progress(&runs[1], &saves[1]), store.save_run_progress(&runs[2], &saves[2]));
    (b.unwrap(), c.unwrap());
    let steps: Vec<String> = sqlx::query_scalar("SELECT step FROM trace_events WHERE step LIKE 'advance.%' ORDER BY step").fetch_all(store.pool()).await.unwrap();
    assert_eq!(steps, ["advance.0", "advance.1"], "the stale save's trace is not written");
    let state = |id: String| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (String, String, Option<i64>, i64)>("SELECT status, state_json, wake_at, lease_until FROM runs WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(state(runs[0].id.clone()).await, ("waiting".into(), "{\"n\":0}".into(), None, 0));
    assert_eq!(state(runs[1].id.clone()).await, ("waiting".into(), "{\"n\":1}".into(), Some(now + 5_000), 0));
    let (status, state_json, _, lease) = state(runs[2].id.clone()).await;
    assert_eq!((status.as_str(), state_json.as_str(), lease), ("pending", "", runs[2].lease_until + 1), "the stale save wrote nothing");
    // Six events (two that skipped all their leads), four runs.
    assert_eq!(store.count_events(&shop).await.unwrap(), (6, 4), "the first run started review_reminder");

    // Its two messages: one admitted, one paced back; then both sent, the
    // second by a claim that has since been lost.
    let now = now_millis() + 1;
    let messages = store.claim_due_messages(now, 10, 30_000).await.unwrap();
    assert_eq!(messages.iter().map(|m| m.payload["text"].as_str().unwrap()).collect::<Vec<_>>(), ["hello 0", "hello 1"]);
    let (first, second) = (&messages[0], &messages[1]);
    let marked = store.start_sends(&[(first.id.clone(), first.lease_until)], &[(second.clone(), now + 7)]).await.unwrap();
    assert_eq!(marked.into_iter().collect::<Vec<_>>(), [first.id.clone()]);
    let row = |id: String| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (String, i64, String, i64)>("SELECT status, next_attempt_at, provider_message_id, attempts FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(row(second.id.clone()).await, ("pending".into(), now + 7, String::new(), 0));
    let again = store.claim_due_messages(now + 8, 10, 30_000).await.unwrap();
    assert_eq!(again.len(), 1);
    store.start_sends(&[(again[0].id.clone(), again[0].lease_until)], &[]).await.unwrap();
    let stale = comops_core::store::outbox::OutboxMessage { lease_until: again[0].lease_until - 1, ..again[0].clone() };
    let trace = hop(&"f".repeat(32), "delivery");
    let sent = |id: &str| DeliveryResult::Sent { provider_message_id: id.into() };
    let (sent_first, sent_stale) = (sent("p-0"), sent("p-1"));
    let (a, b) = tokio::join!(store.finish_delivery(first, &sent_first, &trace), store.finish_delivery(&stale, &sent_stale, &trace));
    (a.unwrap(), b.unwrap());
    let (status, _, provider, attempts) = row(first.id.clone()).await;
    assert_eq!((status.as_str(), provider.as_str(), attempts), ("sent", "p-0", 1));
    let (status, _, provider, attempts) = row(second.id.clone()).await;
    assert_eq!((status.as_str(), provider.as_str(), attempts), ("sending", "", 0), "a lost claim's result is not filed");

    // On SQLite every hot write above went through one connection, which
    // the write lane still holds; closing gives it back (a closing pool
    // waits for all of its connections).
    // (Connections go back to the pool from a task of their own.)
    let expected = match store.dialect() {
        comops_core::store::Dialect::Sqlite => 1,
        comops_core::store::Dialect::Postgres => 0,
    };
    let mut held = u32::MAX;
    for _ in 0..100 {
        held = store.pool().size() - store.pool().num_idle() as u32;
        if held == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(held, expected, "connections held between turns (SQLite: the write lane's one)");
    tokio::time::timeout(std::time::Duration::from_secs(10), store.close()).await.expect("the store closes with its write lane");
}

/// The ComOps loop's trace overlay: a period's calls and errors per
/// endpoint, and runs per scenario by where they are, of the bots asked
/// for only.
async fn loop_figures_suite(store: Store) {
    use comops_core::store::scenario_figures::ScenarioFigures;
    use comops_core::BotId;

    let bots = [BotId::parse("bot_shop").unwrap(), BotId::parse("bot_rehau").unwrap()];
    // (bot, scenario, status, created at)
    let runs = [
        ("bot_shop", "order_thank_you", "done", 1_000),
        ("bot_shop", "order_thank_you", "done", 5_000),
        ("bot_shop", "order_thank_you", "waiting", 5_000),
        ("bot_shop", "order_thank_you", "pending", 6_000),
        ("bot_shop", "order_thank_you", "failed", 7_000),
        ("bot_shop", "order_review", "stopped", 7_000),
        ("bot_rehau", "registration_flow", "waiting", 2_000),
        ("bot_other", "order_thank_you", "done", 9_000),
    ];
    for (n, (bot, scenario, status, at)) in runs.into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, trace_id, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(format!("run_{n}"))
        .bind(format!("evt_{n}"))
        .bind(bot)
        .bind("ep_1")
        .bind(scenario)
        .bind(format!("TG-{n}"))
        .bind(format!("{n:032x}"))
        .bind(status)
        .bind(at as i64)
        .bind(at as i64)
        .execute(store.pool())
        .await
        .unwrap();
    }
    let figures = |bot: &str, scenario: &str, done: i64, waiting: i64, failed: i64| ScenarioFigures { bot_id: bot.into(), scenario: scenario.into(), done, waiting, failed };
    let all = store.scenario_figures(&bots, 0).await.unwrap();
    assert_eq!(
        all,
        [figures("bot_rehau", "registration_flow", 0, 1, 0), figures("bot_shop", "order_review", 0, 0, 1), figures("bot_shop", "order_thank_you", 2, 2, 1)],
        "pending counts as waiting, stopped as failed; another project's bot is left out"
    );
    assert_eq!(all.iter().map(ScenarioFigures::total).sum::<i64>(), 7);
    let recent = store.scenario_figures(&bots, 5_000).await.unwrap();
    assert_eq!(recent, [figures("bot_shop", "order_review", 0, 0, 1), figures("bot_shop", "order_thank_you", 1, 2, 1)]);
    assert!(store.scenario_figures(&bots, 10_000).await.unwrap().is_empty());
    assert!(store.scenario_figures(&[], 0).await.unwrap().is_empty());

    // Calls: dry runs are not counted; a refusal is an error.
    let call = |endpoint: &str, status: &str, dry_run: bool, at: i64| comops_core::TraceEvent { status: status.into(), dry_run, at, ..crm_hop(&format!("{at:032x}"), endpoint, "api.call") };
    for event in [call("order/delivered", "success", false, 1_000), call("order/delivered", "fail", false, 3_000), call("order/delivered", "success", true, 4_000), call("order/status", "success", false, 500)] {
        store.record_trace(&event).await.unwrap();
    }
    let calls = |since: i64| {
        let store = store.clone();
        let bots = bots.clone();
        async move { store.endpoint_figures(&bots, since).await.unwrap().into_iter().map(|f| (f.alias, f.calls, f.errors, f.last_call_at)).collect::<Vec<_>>() }
    };
    assert_eq!(calls(0).await, [("order/delivered".to_string(), 2, 1, Some(3_000)), ("order/status".to_string(), 1, 0, Some(500))]);
    assert_eq!(calls(1_000).await, [("order/delivered".to_string(), 2, 1, Some(3_000))]);
    assert_eq!(calls(2_000).await, [("order/delivered".to_string(), 1, 1, Some(3_000))]);
    assert!(calls(5_000).await.is_empty());
}

/// A project "Shop" with the bot `bot_shop`, whose traces the tally and
/// analytics suites write.
async fn shop_bot(store: &Store) -> comops_core::BotId {
    let project = store.create_project(&ProjectDraft { name: "Shop".into(), slug: String::new(), description: String::new() }.validate().unwrap(), None, None).await.unwrap();
    let draft = BotDraft { name: "Shop bot".into(), username: "shop_bot".into(), description: String::new(), enabled: true };
    let shop = comops_core::BotId::parse("bot_shop").unwrap();
    store.create_bot(&project.id, &draft.validate().unwrap(), Some(shop.clone())).await.unwrap();
    shop
}

/// Replies, outbound calls and steps of traces past the retention stay in
/// the analytics: their purge keeps them, once (also with two purges at
/// once), dry runs left out.
async fn kept_analytics_suite(store: Store) {
    use comops_core::analytics::Facts;
    const DAY: i64 = 86_400_000;
    const MINUTE: i64 = 60_000;

    let shop = shop_bot(&store).await;

    let now = now_millis();
    // Forty days ago, at midnight: past a 30-day retention.
    let old = (now / DAY - 40) * DAY;
    let hour = 60 * MINUTE;
    let hop = |step: &str, endpoint: &str, lead: &str, trace: &str, status: &str, dry_run: bool, at: i64| comops_core::TraceEvent {
        lead_id: lead.into(),
        status: status.into(),
        dry_run,
        at,
        ..crm_hop(trace, endpoint, step)
    };
    let history = [
        hop("user.reply", "", "lead_a", "trace-a", "success", false, old + hour),
        hop("user.reply", "", "lead_b", "trace-b", "success", false, old + 2 * hour),
        hop("user.reply", "", "lead_a", "trace-c", "success", true, old + 3 * hour),
        hop("user.reply", "", "lead_c", "trace-d", "success", false, now - 10 * DAY),
        hop("callback.http", "s-order/notify", "lead_a", "trace-a", "success", false, old + hour),
        hop("callback.http", "s-order/notify", "lead_b", "trace-b", "fail", false, old + 2 * hour),
        hop("callback.http", "s-order/notify", "lead_a", "trace-c", "fail", true, old + 3 * hour),
        hop("scenario.step", "s-order/hello", "lead_a", "trace-a", "success", false, old + hour),
        hop("scenario.step", "s-order/hello", "lead_b", "trace-b", "success", false, old + 2 * hour),
        hop("scenario.step", "s-order/hello", "lead_a", "trace-c", "success", true, old + 3 * hour),
        hop("scenario.step", "s-order/bye", "lead_a", "trace-a", "success", false, old + DAY + hour),
        hop("scenario.step", "s-order/bye", "lead_c", "trace-d", "success", false, now - 10 * DAY),
        hop("api.call", "order/new", "lead_a", "trace-a", "success", false, old),
    ];
    for event in &history {
        store.record_trace(event).await.unwrap();
    }
    // The runs whose traces the http steps are on (outbound calls count
    // for the runs of the period).
    store.start_run(&shop, "lead_a", "", "s-order", "trace-a").await.unwrap();
    store.start_run(&shop, "lead_b", "", "s-order", "trace-b").await.unwrap();
    // Traces are purged once tallied.
    while !store.roll_up_calls(now, 1_000).await.unwrap() {}
    let to = now_millis() + MINUTE;
    let facts = || {
        let (store, bot) = (store.clone(), shop.clone());
        async move {
            let Facts { mut replies, mut calls, mut steps, .. } = store.analytics_facts(&bot, old, to).await.unwrap();
            replies.sort_by(|a, b| (a.at, &a.lead).cmp(&(b.at, &b.lead)));
            calls.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
            steps.sort_by(|a, b| (a.day, &a.step).cmp(&(b.day, &b.step)));
            let replies: Vec<(String, i64)> = replies.into_iter().map(|r| (r.lead, r.at)).collect();
            let calls: Vec<(String, bool)> = calls.into_iter().map(|c| (c.trace_id, c.failed)).collect();
            // The same step and day from the log and from what was kept, summed.
            let mut summed: Vec<(String, i64, u64)> = Vec::new();
            for s in steps {
                match summed.last_mut() {
                    Some(last) if (last.0.as_str(), last.1) == (s.step.as_str(), s.day) => last.2 += s.count,
                    _ => summed.push((s.step, s.day, s.count)),
                }
            }
            (replies, calls, summed)
        }
    };
    let before = facts().await;
    let expected_replies = vec![("lead_a".to_string(), old + hour), ("lead_b".to_string(), old + 2 * hour), ("lead_c".to_string(), now - 10 * DAY)];
    assert_eq!(before.0, expected_replies, "dry runs left out");
    assert_eq!(before.1, vec![("trace-a".to_string(), false), ("trace-b".to_string(), true)]);
    let day = old / DAY;
    assert_eq!(
        before.2,
        vec![("hello".to_string(), day, 2), ("bye".to_string(), day + 1, 1), ("bye".to_string(), (now - 10 * DAY) / DAY, 1)]
    );

    // The first 90 minutes of that day, then the rest by two purges at
    // once: the day's "hello" count is kept in two parts, added up.
    assert_eq!(store.purge_traces(old + 90 * MINUTE).await.unwrap(), 4);
    assert_eq!(facts().await, before);
    let (one, two) = tokio::join!(store.purge_traces(now - 30 * DAY), store.purge_traces(now - 30 * DAY));
    assert_eq!(one.unwrap() + two.unwrap(), 7, "every other trace of forty days ago, dry runs too, removed once");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trace_events").fetch_one(store.pool()).await.unwrap();
    assert_eq!(left, 2);
    assert_eq!(facts().await, before, "the purged traces' replies, calls and steps are kept, once");
    let kept: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM kept_replies), (SELECT COUNT(*) FROM kept_http_calls), (SELECT CAST(SUM(steps) AS BIGINT) FROM kept_step_days)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(kept, (2, 2, 3));
    let hello: i64 = sqlx::query_scalar("SELECT steps FROM kept_step_days WHERE endpoint = 's-order/hello'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(hello, 2, "one row, added to");
    assert_eq!(store.purge_traces(now - 30 * DAY).await.unwrap(), 0);
    assert_eq!(facts().await, before);
    assert_eq!(store.traces_purged_before().await.unwrap(), None, "no period is said to miss traces");
}

/// All-time call figures read the same before and after the calls are
/// tallied and their traces purged; a pass counts each call once, even
/// beside another; a trace not tallied yet is never purged.
async fn call_tallies_suite(store: Store) {
    use comops_core::store::call_tallies::TALLY_LAG_MS;
    const DAY: i64 = 86_400_000;

    let shop = shop_bot(&store).await;
    let bots = [shop];

    let now = now_millis();
    // An hour into the day forty days ago: those traces share a day.
    let old = (now / DAY - 40) * DAY + 3_600_000;
    let hop = |endpoint: &str, step: &str, status: &str, dry_run: bool, at: i64| comops_core::TraceEvent {
        status: status.into(),
        dry_run,
        at,
        ..crm_hop(&format!("{at:032x}"), endpoint, step)
    };
    let history = [
        hop("order/delivered", "api.call", "success", false, old),
        hop("order/delivered", "api.call", "fail", false, old + 1),
        hop("order/delivered", "api.call", "success", true, old + 2),
        hop("order/delivered", "callback.http", "fail", false, old + 3),
        hop("order/status", "api.call", "success", false, old + 4),
        // The same bot, endpoint, step, status and day as the first: a
        // later pass adds to that day's row.
        hop("order/delivered", "api.call", "success", false, old + 5),
        hop("order/delivered", "api.call", "success", false, now - 20 * DAY),
        hop("order/delivered", "callback.http", "success", false, now - 20 * DAY + 1),
        // Exactly as old as the lag: not tallied yet at `now`.
        hop("order/status", "api.call", "success", false, now - TALLY_LAG_MS),
        hop("order/delivered", "api.call", "success", false, now - 60_000),
        hop("order/status", "api.call", "fail", false, now - 30_000),
    ];
    for event in &history {
        store.record_trace(event).await.unwrap();
    }
    // Every endpoint's figures since a moment (0: all time).
    let period = |since: i64| {
        let (store, bots) = (store.clone(), bots.clone());
        async move { store.endpoint_figures(&bots, since).await.unwrap().into_iter().map(|f| (f.alias, f.calls, f.errors, f.last_call_at)).collect::<Vec<_>>() }
    };
    let outbound = || {
        let store = store.clone();
        async move {
            let text = comops_core::metrics::render(&store.metric_families(|_| true).await.unwrap());
            text.lines().filter(|l| l.starts_with("comops_outbound_api_calls_total{")).map(str::to_string).collect::<Vec<_>>()
        }
    };
    let traces = || {
        let store = store.clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM trace_events").fetch_one(store.pool()).await.unwrap() }
    };
    let expected = vec![("order/delivered".to_string(), 5, 1, Some(now - 60_000)), ("order/status".to_string(), 3, 1, Some(now - 30_000))];
    let expected_outbound = vec![
        "comops_outbound_api_calls_total{bot=\"bot_shop\",result=\"fail\"} 1".to_string(),
        "comops_outbound_api_calls_total{bot=\"bot_shop\",result=\"success\"} 1".to_string(),
    ];
    assert_eq!(period(0).await, expected, "dry runs are not counted; a refusal is an error");
    assert_eq!(outbound().await, expected_outbound);

    // Nothing is purged before it is tallied.
    assert_eq!(store.purge_traces(now).await.unwrap(), 0);
    assert_eq!(traces().await, 11);
    assert_eq!(store.traces_purged_before().await.unwrap(), None, "nothing was removed");

    // Two traces per pass: forty days in a few passes (the days without
    // traces cost nothing), and no figure changes.
    let mut passes = 1;
    while !store.roll_up_calls(now, 2).await.unwrap() {
        passes += 1;
        assert!(passes < 20, "a pass moves the mark");
    }
    assert!(passes >= 4, "eight traces before the lag, two a pass: {passes}");
    let tallied: i64 = sqlx::query_scalar("SELECT CAST(SUM(calls) AS BIGINT) FROM call_tallies").fetch_one(store.pool()).await.unwrap();
    assert_eq!(tallied, 7, "the calls older than the lag, in and out, dry runs left out");
    let first_day: (i64, i64) = sqlx::query_as(
        "SELECT calls, last_at FROM call_tallies WHERE endpoint = 'order/delivered' AND step = 'api.call' AND status = 'success' AND day = $1",
    )
    .bind(old / DAY)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(first_day, (2, old + 5), "two passes added to one day's row");
    assert_eq!(period(0).await, expected);
    assert_eq!(outbound().await, expected_outbound);
    assert!(store.roll_up_calls(now, 2).await.unwrap());
    assert_eq!(period(0).await, expected, "a second pass counts nothing again");
    // A period starting within a day: that day is counted from its traces
    // from the moment on, the whole days after it from their tallies.
    assert_eq!(period(old + 1).await, [("order/delivered".to_string(), 4, 1, Some(now - 60_000)), ("order/status".to_string(), 3, 1, Some(now - 30_000))]);
    assert_eq!(period(old + 6).await, [("order/delivered".to_string(), 2, 0, Some(now - 60_000)), ("order/status".to_string(), 2, 1, Some(now - 30_000))]);
    assert_eq!(period(now - 20 * DAY + 1).await, [("order/delivered".to_string(), 1, 0, Some(now - 60_000)), ("order/status".to_string(), 2, 1, Some(now - 30_000))]);
    assert_eq!(period(now - 20 * DAY).await, period(now - 30 * DAY).await);

    // Thirty days' retention removes the six traces of forty days ago
    // (the dry run too); the figures and the counter stay.
    assert_eq!(store.purge_traces(now - 30 * DAY).await.unwrap(), 6);
    assert_eq!(period(0).await, expected);
    assert_eq!(outbound().await, expected_outbound);
    // What the analytics read from them is kept (`kept_analytics_suite`):
    // no period is said to miss its traces.
    assert_eq!(store.traces_purged_before().await.unwrap(), None);
    assert_eq!(store.analytics_facts(&bots[0], now - 60 * DAY, now).await.unwrap().traces_purged_before, None);
    // Figures since a moment: the same after the purge.
    let last_30_days = vec![("order/delivered".to_string(), 2, 0, Some(now - 60_000)), ("order/status".to_string(), 2, 1, Some(now - 30_000))];
    assert_eq!(period(now - 30 * DAY).await, last_30_days);
    assert_eq!(period(old / DAY * DAY).await, expected, "a period from the purged day's midnight counts its tally");
    // Purging everything leaves the traces of the last minutes, the one
    // exactly as old as the lag among them: not tallied.
    assert_eq!(store.purge_traces(now).await.unwrap(), 2);
    assert_eq!(traces().await, 3);
    assert_eq!(period(0).await, expected);
    assert_eq!(period(now - 30 * DAY).await, last_30_days, "a period longer than the log keeps its calls from the tallies");

    // Two passes at once (two processes after the lag; on PostgreSQL two
    // connections): counted once.
    let later = now + TALLY_LAG_MS + 1;
    let (a, b) = tokio::join!(store.roll_up_calls(later, 1_000), store.roll_up_calls(later, 1_000));
    assert!(a.unwrap() && b.unwrap());
    assert_eq!(period(0).await, expected);
    assert_eq!(store.purge_traces(later).await.unwrap(), 3);
    assert_eq!(traces().await, 0);
    assert_eq!(period(0).await, expected);
    assert_eq!(outbound().await, expected_outbound);
}

/// A turn dropped in the middle of a text that begins its own transaction
/// (a cancelled one-trip write) leaves no transaction open for the next
/// turn: the lane takes a fresh connection (SQLite; PostgreSQL takes one
/// per turn anyway).
#[tokio::test]
async fn a_dropped_trip_leaves_no_transaction_open() {
    use comops_core::store::Work;
    let store = sqlite_store().await;
    {
        let mut turn = store.write_turn(Work::Other).await;
        turn.trip_begins();
        sqlx::query("BEGIN IMMEDIATE").execute(turn.connection().await.unwrap()).await.unwrap();
        // Dropped before `trip_ended`, inside the transaction.
    }
    let mut turn = store.write_turn(Work::Other).await;
    let tx = turn.begin().await.expect("the next turn begins a transaction of its own");
    tx.rollback().await.unwrap();
    drop(turn);
    // And a trip seen to end keeps its connection, as any turn does.
    let mut turn = store.write_turn(Work::Other).await;
    turn.trip_begins();
    sqlx::query("BEGIN IMMEDIATE; COMMIT").execute(turn.connection().await.unwrap()).await.unwrap();
    turn.trip_ended(None);
    drop(turn);
    let mut turn = store.write_turn(Work::Other).await;
    turn.begin().await.expect("begins").rollback().await.unwrap();
}

/// SQLite with a send hand-off (`send_hand_off`): a save writes a message
/// planned a slot `sending` under the send lease and hands it over after
/// the commit; a second message of the same chat in the save, a message
/// behind an unfinished one of its chat, and a paced one are queued (the
/// paced one until its time); a replayed advance hands nothing.
#[tokio::test]
async fn saves_hand_planned_sends_to_the_dispatcher() {
    use comops_core::store::identities::IdentityLink;
    use comops_core::store::runs::{ClaimedRun, NewOutboxMessage, RunProgress};
    use comops_core::store::send_hand_off::{SendHandOff, SendPlan};
    use comops_core::BotId;

    let store = sqlite_store().await;
    comops_core::demo::seed(&store, false).await.unwrap();
    let shop = BotId::parse("bot_shop").unwrap();
    for n in 301..=304 {
        store.link_identity(&shop, &IdentityLink::telegram(&n.to_string(), &format!("TG-{n}"), &n.to_string(), "test")).await.unwrap();
        store.start_run(&shop, &format!("TG-{n}"), &n.to_string(), "delivery_review", &format!("{n:032}")).await.unwrap();
    }
    // A second run of the last lead: two saves for one chat.
    store.start_run(&shop, "TG-304", "304", "delivery_review", &format!("{:032}", 3041)).await.unwrap();
    let (sends, mut handed) = tokio::sync::mpsc::unbounded_channel();
    assert!(store.hand_sends_to(SendHandOff { sends: sends.clone(), lease_ms: 30_000 }));
    assert!(!store.hand_sends_to(SendHandOff { sends, lease_ms: 1 }), "set once");
    // Chat 303 has a message of an earlier run still sending.
    let now = now_millis();
    outbox_row(&store, "msg_0000earlier", "bot_shop", "303", "sending", now, now + 60_000).await;

    let mut runs = store.claim_runs(now_millis() + 1, 10, 30_000).await.unwrap();
    runs.sort_by(|a, b| a.lead_id.cmp(&b.lead_id));
    assert_eq!(runs.len(), 5);
    let message = |run: &ClaimedRun, n: u32, plan: SendPlan| NewOutboxMessage {
        delivery_key: format!("{}:{n}", run.id),
        lead_id: run.lead_id.clone(),
        channel: "telegram".into(),
        chat_id: run.lead_id.trim_start_matches("TG-").into(),
        payload: serde_json::json!({"text": format!("{} {n}", run.lead_id)}),
        plan,
    };
    let progress = |messages: Vec<NewOutboxMessage>| RunProgress {
        state_json: "{}".into(),
        status: "waiting".into(),
        wake_at: None,
        outcome: String::new(),
        messages,
        traces: vec![],
        lead_change: Default::default(),
        start_runs: vec![],
        blocked_on: None,
    };
    let row = |key: String| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (String, String, i64, i64)>("SELECT id, status, lease_until, next_attempt_at FROM outbox WHERE delivery_key = $1")
                .bind(key)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };

    let slot = now_millis() + 40;
    let first = progress(vec![message(&runs[0], 1, SendPlan::At(slot)), message(&runs[0], 2, SendPlan::Queue)]);
    store.save_run_progress(&runs[0], &first).await.unwrap();
    let given = handed.try_recv().expect("the save handed its send over");
    assert!(given.queued_due, "its second message is queued, due now");
    assert_eq!(given.sending.len(), 1);
    let (sending, at) = &given.sending[0];
    assert_eq!(*at, slot);
    assert_eq!((sending.chat_id.as_str(), sending.chat_key.as_str(), sending.payload["text"].as_str()), ("301", "301", Some("TG-301 1")));
    assert_eq!((sending.run_id.as_str(), sending.attempts), (runs[0].id.as_str(), 0));
    let (id, status, lease, _) = row(format!("{}:1", runs[0].id)).await;
    assert_eq!((id.as_str(), status.as_str(), lease), (sending.id.as_str(), "sending", sending.lease_until));
    assert!(lease >= now + 30_000, "under the send lease");
    let (_, status, lease, _) = row(format!("{}:2", runs[0].id)).await;
    assert_eq!((status.as_str(), lease), ("pending", 0), "behind the first of its chat");

    // Paced: queued until its time, and no pass is needed now.
    let later = now_millis() + 5_000;
    store.save_run_progress(&runs[1], &progress(vec![message(&runs[1], 1, SendPlan::After(later))])).await.unwrap();
    assert!(handed.try_recv().is_err(), "nothing to hand over");
    let (_, status, _, due) = row(format!("{}:1", runs[1].id)).await;
    assert_eq!((status.as_str(), due), ("pending", later));

    // Behind an unfinished message of its chat: queued, its slot unused.
    store.save_run_progress(&runs[2], &progress(vec![message(&runs[2], 1, SendPlan::At(now_millis()))])).await.unwrap();
    let given = handed.try_recv().expect("a queued message is due");
    assert!(given.sending.is_empty() && given.queued_due);
    assert_eq!(row(format!("{}:1", runs[2].id)).await.1, "pending");

    // Two runs' saves for one chat at once, each planned a slot: whether
    // they share a commit or not, only one message goes `sending`.
    let (one, other) = (progress(vec![message(&runs[3], 1, SendPlan::At(now_millis()))]), progress(vec![message(&runs[4], 1, SendPlan::At(now_millis() + 1_050))]));
    let (a, b) = tokio::join!(store.save_run_progress(&runs[3], &one), store.save_run_progress(&runs[4], &other));
    (a.unwrap(), b.unwrap());
    let mut handed_304 = Vec::new();
    while let Ok(given) = handed.try_recv() {
        handed_304.extend(given.sending.into_iter().map(|(message, _)| message.id));
    }
    let sending_304: Vec<String> = sqlx::query_scalar("SELECT id FROM outbox WHERE chat_id = '304' AND status = 'sending'").fetch_all(store.pool()).await.unwrap();
    assert_eq!(sending_304.len(), 1, "one message of a chat at a time");
    assert_eq!(handed_304, sending_304);

    // The first advance made again (its save lost, say): the same delivery
    // keys insert nothing, so nothing is handed over twice.
    sqlx::query("UPDATE runs SET status = 'pending' WHERE id = $1").bind(&runs[0].id).execute(store.pool()).await.unwrap();
    let again = store.claim_runs(now_millis() + 1, 10, 30_000).await.unwrap();
    assert_eq!(again.len(), 1);
    store.save_run_progress(&again[0], &first).await.unwrap();
    assert!(handed.try_recv().is_err(), "a replayed advance hands nothing");
    let sending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sending'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(sending, 3, "the earlier run's, the first save's and one of chat 304");
}

/// Every create and save of an endpoint is a version; a save from a stale
/// version is a conflict that writes nothing; an import that changes
/// nothing adds no version; endpoints made before versions were kept get
/// their first one when the store opens.
async fn endpoint_versions_suite(store: Store) {
    use comops_core::endpoint::EndpointDraft;
    let shop = shop_bot(&store).await;
    let draft = EndpointDraft { alias: "order/thank-you".into(), description: "Paid".into(), enabled: true, ..Default::default() };
    let created = store.create_endpoint_as(&shop, &draft.validate().unwrap(), "created", "ann@example.com").await.unwrap();
    assert_eq!(created.version, 1);

    let mut theirs = draft.clone();
    theirs.owner = "CRM team".into();
    let v2 = store.save_endpoint(&created.id, 1, &theirs.validate().unwrap(), "owner", "bob@example.com").await.unwrap();
    assert_eq!((v2.version, v2.owner.as_str()), (2, "CRM team"));

    // Ann still edits version 1: refused, nothing written.
    let mut mine = draft.clone();
    mine.description = "Paid and shipped".into();
    match store.save_endpoint(&created.id, 1, &mine.validate().unwrap(), "mine", "ann@example.com").await {
        Err(StoreError::Conflict { current, author }) => assert_eq!((current, author.as_str()), (2, "bob@example.com")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let now = store.endpoint(&created.id).await.unwrap();
    assert_eq!((now.version, now.description.as_str(), now.owner.as_str()), (2, "Paid", "CRM team"));
    // The cache serving the call route sees the saved version.
    let alias = comops_core::Alias::parse("order/thank-you").unwrap();
    assert_eq!(store.endpoint_by_alias(&shop, &alias).await.unwrap().unwrap().version, 2);

    let history = store.endpoint_history(&created.id, HistoryWindow::NEWEST).await.unwrap().versions;
    let summary: Vec<(i64, &str, &str)> = history.iter().map(|v| (v.version, v.note.as_str(), v.author.as_str())).collect();
    assert_eq!(summary, [(2, "owner", "bob@example.com"), (1, "created", "ann@example.com")]);
    assert_eq!(store.endpoint_version(&created.id, 1).await.unwrap().draft.owner, "");
    assert_eq!(store.endpoint_version(&created.id, 2).await.unwrap().draft.owner, "CRM team");
    assert!(matches!(store.endpoint_version(&created.id, 3).await, Err(StoreError::NotFound)));

    // An import of the same endpoint adds no version; a changed one does.
    let same = [theirs.validate().unwrap()];
    let done = store.import_endpoints(&shop, &same, "imported", "token:ci").await.unwrap();
    assert_eq!((done.created, done.updated, done.unchanged), (0, 0, 1));
    assert_eq!(store.endpoint(&created.id).await.unwrap().version, 2);
    let changed = [mine.validate().unwrap()];
    let done = store.import_endpoints(&shop, &changed, "imported", "token:ci").await.unwrap();
    assert_eq!((done.created, done.updated, done.unchanged), (0, 1, 0));
    assert_eq!(store.endpoint_history(&created.id, HistoryWindow::NEWEST).await.unwrap().versions[0].author, "token:ci");

    // An endpoint from before versions: its row as version 1 once the store opens.
    let old = store.create_endpoint(&shop, &EndpointDraft { alias: "order/old".into(), ..Default::default() }.validate().unwrap()).await.unwrap();
    sqlx::query("DELETE FROM endpoint_versions WHERE endpoint_id = $1").bind(old.id.as_str()).execute(store.pool()).await.unwrap();
    assert_eq!(store.endpoint_history(&old.id, HistoryWindow::NEWEST).await.unwrap().versions, []);
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let first = store.endpoint_history(&old.id, HistoryWindow::NEWEST).await.unwrap().versions;
    assert_eq!(first.iter().map(|v| v.version).collect::<Vec<_>>(), [1]);
    assert_eq!(store.endpoint_version(&old.id, 1).await.unwrap().draft.alias, "order/old");

    // Deleting an endpoint deletes its versions.
    store.delete_endpoint(&old.id).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM endpoint_versions WHERE endpoint_id = $1")
        .bind(old.id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// An admin's changes to users: role, disable (ending sessions), enable,
/// new password (ending sessions); never leaving no enabled admin.
async fn user_admin_suite(store: Store) {
    let user = |email: &str, role: Role| NewUser {
        email: Email::parse(email).unwrap(),
        password_hash: hash_password("long enough password"),
        role,
        locale: Locale::En,
        display_name: String::new(),
    };
    let admin = store.create_user(user("admin@example.com", Role::Admin)).await.unwrap();
    let ann = store.create_user(user("ann@example.com", Role::Analyst)).await.unwrap();

    // The only admin may not stop being one, nor be disabled.
    assert_eq!(store.set_user_role(&admin.id, Role::Viewer).await.unwrap(), UserChange::LastAdmin);
    assert_eq!(store.set_user_disabled(&admin.id, true).await.unwrap(), UserChange::LastAdmin);
    // With a second admin, the first may.
    assert_eq!(store.set_user_role(&ann.id, Role::Admin).await.unwrap(), UserChange::Done);
    assert_eq!(store.set_user_role(&admin.id, Role::Architect).await.unwrap(), UserChange::Done);
    // Ann is the last admin now; disabled admins do not count.
    assert_eq!(store.set_user_disabled(&ann.id, true).await.unwrap(), UserChange::LastAdmin);
    let listing = store.user_listing().await.unwrap();
    let roles: Vec<(&str, Role, bool)> = listing.iter().map(|u| (u.user.email.as_str(), u.user.role, u.disabled)).collect();
    assert_eq!(roles, [("admin@example.com", Role::Architect, false), ("ann@example.com", Role::Admin, false)]);

    // Disabling ends the sessions; enabling lets a new one in.
    let session = store.create_session(&admin.id).await.unwrap();
    assert_eq!(store.set_user_disabled(&admin.id, true).await.unwrap(), UserChange::Done);
    assert!(store.session_user(&session).await.unwrap().is_none());
    assert!(store.user_credentials(&admin.email).await.unwrap().unwrap().disabled);
    assert_eq!(store.set_user_disabled(&admin.id, false).await.unwrap(), UserChange::Done);
    let session = store.create_session(&admin.id).await.unwrap();
    assert!(store.session_user(&session).await.unwrap().is_some());

    // A new password ends the sessions too.
    store.set_user_password(&admin.id, &hash_password("another long password")).await.unwrap();
    assert!(store.session_user(&session).await.unwrap().is_none());
    let credentials = store.user_credentials(&admin.email).await.unwrap().unwrap();
    assert!(comops_core::auth::verify_password("another long password", &credentials.password_hash));

    let nobody = comops_core::UserId::parse("usr_nobody").unwrap();
    assert!(matches!(store.set_user_role(&nobody, Role::Viewer).await, Err(StoreError::NotFound)));
    assert!(matches!(store.set_user_password(&nobody, "x").await, Err(StoreError::NotFound)));
}


/// A person blocked the bot: a run from an endpoint that asks
/// (`on_blocked`) gets one report run for the lead, in its trace, however
/// often its messages meet the block, and so does one whose queued message
/// died with another's block; a run from an endpoint that does not ask
/// gets none.
async fn blocked_reports_suite(store: Store) {
    use comops_core::call::CallRequest;
    use comops_core::endpoint::EndpointDraft;
    use comops_core::store::identities::IdentityLink;

    let shop = shop_bot(&store).await;
    let link = IdentityLink::telegram("125", "TG-125", "125", "test");
    store.link_identity(&shop, &link).await.unwrap();
    let request = CallRequest::parse(serde_json::json!({"orderId": 9821, "userId": 125})).unwrap();
    let (leads, _) = store.resolve_recipients(&shop, &request.recipients).await.unwrap();
    let mut runs = Vec::new();
    let asks = [
        ("order/shipped", "report_blocked", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("order/status", "", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        ("order/paid", "report_blocked", "cccccccccccccccccccccccccccccccc"),
    ];
    for (alias, on_blocked, trace_id) in asks {
        let draft = EndpointDraft { alias: alias.into(), scenario: "order_notice".into(), on_blocked: on_blocked.into(), enabled: true, ..Default::default() };
        let endpoint = store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
        assert_eq!(endpoint.on_blocked, on_blocked);
        assert_eq!(store.accept_event(call_for_125(&shop, endpoint, &request, &leads, trace_id)).await.unwrap().runs, 1);
        let newest = store.runs_of_lead(&shop, "TG-125", 10).await.unwrap().into_iter().find(|r| r.trace_id == trace_id).unwrap();
        runs.push(newest.id);
    }
    // The third run has a message queued for the person.
    sqlx::query(
        "INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, payload_json, trace_id, status, next_attempt_at, created_at, lease_until) \
         VALUES ('m-paid', 'm-paid', $1, $2, 'TG-125', 'telegram', '125', '{\"text\":\"Оплачено\"}', 'cccccccccccccccccccccccccccccccc', 'pending', 0, 0, 0)",
    )
    .bind(&runs[2])
    .bind(shop.as_str())
    .execute(store.pool())
    .await
    .unwrap();
    // The first two runs' messages meet the block, the first run's twice
    // (the person is linked again in between, as after a re-drive).
    for run in [&runs[0], &runs[0], &runs[1]] {
        store.link_identity(&shop, &link).await.unwrap();
        store.deactivate_address(&shop, "telegram", "125", run).await.unwrap();
    }
    let status = |store: &Store| {
        let store = store.clone();
        let shop = shop.clone();
        async move { store.lead(&shop, "TG-125").await.unwrap().unwrap().status }
    };
    assert_eq!(status(&store).await, "stopped", "no address left");
    assert_eq!(store.blocked_channel(&shop, "TG-125").await.unwrap().as_deref(), Some("telegram"), "inactive because blocked");
    let mut reports: Vec<_> = store.runs_of_lead(&shop, "TG-125", 10).await.unwrap().into_iter().filter(|r| r.scenario == "report_blocked").collect();
    reports.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
    let reported: Vec<(&str, &str)> = reports.iter().map(|r| (r.status.as_str(), r.trace_id.as_str())).collect();
    assert_eq!(reported, [("pending", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), ("pending", "cccccccccccccccccccccccccccccccc")]);
    let claimed = store.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap();
    let report = claimed.into_iter().find(|r| r.scenario == "report_blocked").expect("a report run");
    assert_eq!(report.params["orderId"], 9821, "the report reads the call's params");
    let filter = comops_core::trace::TraceFilter { trace_id: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(), ..Default::default() };
    let steps: Vec<String> = store.list_traces(&filter).await.unwrap().into_iter().map(|t| t.step).collect();
    assert_eq!(steps.iter().filter(|s| *s == "report.blocked").count(), 1, "{steps:?}");

    // A run that a `run` step of the first started has no endpoint: its
    // block is reported by its starter's endpoint. A report run's own
    // block is not reported.
    sqlx::query(
        "INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, user_id, trace_id, status, created_at, updated_at, scenario_version, exclusive, lease_until) \
         VALUES ('run_child', $1, $2, '', 'follow_up', 'TG-125', '125', 'dddddddddddddddddddddddddddddddd', 'waiting', 0, 0, 0, 0, 0)",
    )
    .bind(&runs[0])
    .bind(shop.as_str())
    .execute(store.pool())
    .await
    .unwrap();
    // An operator has taken the lead over: its runs wait, but not a report.
    assert!(store.take_over(&shop, "TG-125", "op@example.com").await.unwrap());
    for run in ["run_child", &format!("{}_blocked", runs[0])] {
        store.link_identity(&shop, &link).await.unwrap();
        store.deactivate_address(&shop, "telegram", "125", run).await.unwrap();
    }
    let reports: Vec<(String, String)> =
        store.runs_of_lead(&shop, "TG-125", 20).await.unwrap().into_iter().filter(|r| r.scenario == "report_blocked").map(|r| (r.id, r.trace_id)).collect();
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert!(reports.contains(&("run_child_blocked".into(), "dddddddddddddddddddddddddddddddd".into())), "{reports:?}");
    sqlx::query("UPDATE runs SET status = 'pending', lease_until = 0 WHERE id = $1").bind(&runs[1]).execute(store.pool()).await.unwrap();
    let claimed: Vec<String> = store.claim_runs(now_millis() + 1, 10, 60_000).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(claimed, ["run_child_blocked"], "the report goes; the lead's own pending run waits for the operator");
    assert!(store.hand_back(&shop, "TG-125").await.unwrap());

    // Reachable again: linked anew (the business system), or writing in
    // (`reactivate_address`), the lead is active again.
    assert_eq!(status(&store).await, "stopped");
    store.link_identity(&shop, &link).await.unwrap();
    assert_eq!(status(&store).await, "active", "linked anew");
    store.deactivate_address(&shop, "telegram", "125", "").await.unwrap();
    assert!(store.reactivate_address(&shop, "telegram", "125").await.unwrap());
    assert_eq!((status(&store).await, store.leads_of_user(&shop, "125").await.unwrap()), ("active".to_string(), vec!["TG-125".to_string()]));
    assert!(!store.reactivate_address(&shop, "telegram", "125").await.unwrap(), "nothing to do for an active address");
    // Stopped by hand while another address was active: it stays stopped.
    store.link_identity(&shop, &IdentityLink { channel: "email".into(), chat_id: "anna@example.com".into(), ..link.clone() }).await.unwrap();
    assert!(store.set_lead_status(&shop, "TG-125", "stopped").await.unwrap());
    store.deactivate_address(&shop, "telegram", "125", "").await.unwrap();
    assert!(store.reactivate_address(&shop, "telegram", "125").await.unwrap());
    assert_eq!(status(&store).await, "stopped", "the lead was reachable by email all along");
}

/// A CRM's call of `endpoint` for user 125 (lead TG-125), without an
/// idempotency key, in trace `trace_id`.
fn call_for_125(
    shop: &comops_core::BotId,
    endpoint: comops_core::Endpoint,
    request: &comops_core::call::CallRequest,
    leads: &[comops_core::store::events::Recipient],
    trace_id: &str,
) -> comops_core::store::events::NewEvent {
    let trace = comops_core::TraceEvent { user_id: "125".into(), lead_id: "TG-125".into(), ..crm_hop(trace_id, endpoint.alias.as_str(), "api.call") };
    comops_core::store::events::NewEvent {
        id: comops_core::EventId::generate(),
        bot: shop.clone(),
        endpoint,
        token: comops_core::TokenId::parse("tok_crm").unwrap(),
        trace,
        params: request.params.clone(),
        recipients: request.recipients.clone(),
        leads: leads.to_vec(),
        idempotency: None,
        http_status: 200,
        response_body: "{}".into(),
        hand_off_ms: None,
    }
}

/// The audit log read back a filtered page at a time, newest first,
/// with each subject's current name.
async fn audit_log_suite(store: Store) {
    use comops_core::audit::{AuditFilter, AuditPage};
    let project = store.create_project(&ProjectDraft { name: "Fmlst".into(), slug: String::new(), description: String::new() }.validate().unwrap(), None, None).await.unwrap();
    let bot_draft = BotDraft { name: "Family bot".into(), username: String::new(), description: String::new(), enabled: true };
    let bot = store.create_bot(&project.id, &bot_draft.validate().unwrap(), None).await.unwrap();
    let ann = store
        .create_user(NewUser { email: Email::parse("ann@example.com").unwrap(), password_hash: hash_password("long enough password"), role: Role::Analyst, locale: Locale::Ru, display_name: String::new() })
        .await
        .unwrap();
    store.audit("system", "user.create", ann.id.as_str(), "ann@example.com as analyst").await.unwrap();
    store.audit("Admin@Example.com", "project.create", project.id.as_str(), "Fmlst").await.unwrap();
    store.audit("admin@example.com", "token.issue", "tok_gone", "crm").await.unwrap();
    store.audit("100% sure", "settings.telegram", bot.id.as_str(), "keys: [\"token\"]").await.unwrap();
    store.audit("token:Интеграция", "identity.link", bot.id.as_str(), "user 7 → lead_7 (telegram)").await.unwrap();
    store.audit("joann@example.com", "user.locale", ann.id.as_str(), "ru").await.unwrap();
    for n in 0..120 {
        store.audit("ops@example.com", "lead.status", bot.id.as_str(), &format!("lead_{n} → stopped")).await.unwrap();
    }
    let page = |filter: AuditFilter, limit: usize| {
        let store = store.clone();
        async move { store.audit_page(&filter, limit).await.unwrap() }
    };

    // All of it, 50 at a time, newest first, each entry once.
    let (mut seen, mut before, mut pages) = (Vec::new(), None, 0);
    loop {
        let AuditPage { entries, older } = page(AuditFilter { before: before.clone(), ..Default::default() }, 50).await;
        pages += 1;
        seen.extend(entries);
        match older {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 126);
    assert!(seen.windows(2).all(|w| (w[0].at, &w[0].id) > (w[1].at, &w[1].id)), "newest first, no repeats");
    assert_eq!(seen.last().unwrap().action, "user.create");
    assert_eq!(seen[0].detail, "lead_119 → stopped");

    // Filters: part of the actor in any case, an area, a subject, a time.
    let by_actor = page(AuditFilter { actor: "ADMIN@".into(), ..Default::default() }, 50).await;
    let actions: Vec<&str> = by_actor.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["token.issue", "project.create"]);
    assert_eq!(by_actor.older, None);
    // In double quotes: that actor exactly, any case; part of it finds
    // nothing.
    let exactly = page(AuditFilter { actor: "\"Ann@Example.com\"".into(), ..Default::default() }, 50).await;
    assert!(exactly.entries.is_empty(), "no entry is by ann@example.com herself");
    let joann = page(AuditFilter { actor: "\"JOANN@example.com\"".into(), ..Default::default() }, 50).await;
    assert_eq!(joann.entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["user.locale"]);
    assert!(page(AuditFilter { actor: "\"joann@\"".into(), ..Default::default() }, 50).await.entries.is_empty());
    assert_eq!(page(AuditFilter { actor: "\"admin@example.com\"".into(), ..Default::default() }, 50).await.entries.len(), 2);
    assert_eq!(page(AuditFilter { actor: "\"token:Интеграция\"".into(), ..Default::default() }, 50).await.entries.len(), 1);
    let percent = page(AuditFilter { actor: "0% s".into(), ..Default::default() }, 50).await;
    assert_eq!(percent.entries.len(), 1);
    // `%` and `_` are characters, not wildcards: only "100% sure" holds a `%`.
    assert_eq!(page(AuditFilter { actor: "%".into(), ..Default::default() }, 50).await.entries.len(), 1);
    for absent in ["_", "\\"] {
        assert!(page(AuditFilter { actor: absent.into(), ..Default::default() }, 50).await.entries.is_empty(), "{absent} is a character, not a wildcard");
    }
    let cyrillic = page(AuditFilter { actor: "Интеграция".into(), ..Default::default() }, 50).await;
    assert_eq!(cyrillic.entries.len(), 1, "text as typed is found on SQLite too, whose LOWER folds ASCII only");
    // A page that holds exactly what is left has no older one.
    assert_eq!(page(AuditFilter { actor: "admin@".into(), ..Default::default() }, 2).await.older, None);
    assert!(page(AuditFilter { actor: "admin@".into(), ..Default::default() }, 1).await.older.is_some());
    // Every filter at once, paged: the text binds and the times numbered
    // after them.
    let (mut ops, mut before) = (0, None);
    loop {
        let filter = AuditFilter { actor: "OPS@".into(), area: "lead".into(), subject: bot.id.as_str().into(), since: Some(0), before: before.clone() };
        let AuditPage { entries, older } = page(filter, 50).await;
        assert!(entries.iter().all(|e| e.actor == "ops@example.com" && e.action == "lead.status"));
        ops += entries.len();
        match older {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    assert_eq!(ops, 120);
    // The export: the newest that match, across pages, the cursor ignored.
    let exported = store.audit_export(&AuditFilter { before: seen[10..].first().map(|e| comops_core::audit::AuditCursor { at: e.at, id: e.id.clone() }), ..Default::default() }, 120).await.unwrap();
    assert_eq!(exported, seen[..120].to_vec());
    let everything = store.audit_export(&AuditFilter::default(), 10_000).await.unwrap();
    assert_eq!(everything.len(), 126);
    assert_eq!(store.audit_export(&AuditFilter { area: "token".into(), ..Default::default() }, 10_000).await.unwrap().len(), 1);
    // More than one read of 500: the export follows its own cursor.
    for n in 0..400 {
        store.audit("ops@example.com", "outbox.redrive", bot.id.as_str(), &format!("msg_{n}")).await.unwrap();
    }
    let everything = store.audit_export(&AuditFilter::default(), 10_000).await.unwrap();
    assert_eq!(everything.len(), 526);
    assert!(everything.windows(2).all(|w| (w[0].at, &w[0].id) > (w[1].at, &w[1].id)), "newest first, no repeats");
    assert_eq!(store.audit_export(&AuditFilter::default(), 510).await.unwrap(), everything[..510].to_vec());
    let tokens = page(AuditFilter { area: "token".into(), ..Default::default() }, 50).await;
    assert_eq!(tokens.entries.len(), 1);
    assert!(page(AuditFilter { area: "tok".into(), ..Default::default() }, 50).await.entries.is_empty(), "an area is matched whole");
    assert!(page(AuditFilter { area: "%".into(), ..Default::default() }, 50).await.entries.is_empty());
    let about_bot = page(AuditFilter { subject: bot.id.as_str().into(), area: "settings".into(), ..Default::default() }, 50).await;
    assert_eq!(about_bot.entries.len(), 1);
    assert!(page(AuditFilter { since: Some(now_millis() + 60_000), ..Default::default() }, 50).await.entries.is_empty());

    // Subjects by their current names; a deleted one has none.
    let named = |action: &str| seen.iter().find(|e| e.action == action).unwrap().subject_name.clone();
    assert_eq!(named("user.create").as_deref(), Some("ann@example.com"));
    assert_eq!(named("project.create").as_deref(), Some("Fmlst"));
    assert_eq!(named("settings.telegram").as_deref(), Some("Family bot"));
    assert_eq!(named("token.issue"), None);
    store.delete_project(&project.id).await.unwrap();
    let after = page(AuditFilter { area: "project".into(), ..Default::default() }, 50).await;
    assert_eq!(after.entries[0].subject_name, None);
}

/// Long histories read a page at a time, newest first: scenarios,
/// endpoints and maps alike, the next page from the oldest number shown
/// until none remain; a scenario version's step count is read from its
/// definition.
async fn history_pages_suite(store: Store) {
    use comops_core::history::{HistoryPage, PAGE};
    use comops_core::map::{MapContent, MapKind};
    use comops_core::scenario::Scenario;
    use comops_core::EndpointDraft;

    /// Every version number, page by page, and each page's `more`.
    fn numbers<T>(pages: &[HistoryPage<T>], version: fn(&T) -> i64) -> (Vec<i64>, Vec<bool>) {
        (pages.iter().flat_map(|p| p.versions.iter().map(version)).collect(), pages.iter().map(|p| p.more).collect())
    }
    let saves = PAGE as i64 * 2 + 20;
    let everyone: Vec<i64> = (1..=saves).rev().collect();

    let bot = shop_bot(&store).await;
    for k in 1..=saves {
        // Version k has k % 4 + 1 steps.
        let steps: Vec<_> = (0..k % 4 + 1).map(|i| serde_json::json!({"id": format!("s{i}"), "type": "end"})).collect();
        let scenario: Scenario = serde_json::from_value(serde_json::json!({"name": "long", "start": "s0", "steps": steps})).unwrap();
        assert_eq!(store.save_scenario(&bot, &scenario, &format!("save {k}"), "ann@example.com").await.unwrap(), k);
    }
    let mut pages = vec![store.scenario_history(&bot, "long", HistoryWindow::NEWEST).await.unwrap()];
    while let Some(last) = pages.last().filter(|p| p.more).and_then(|p| p.versions.last()) {
        let next = store.scenario_history(&bot, "long", HistoryWindow::before(last.version)).await.unwrap();
        pages.push(next);
    }
    assert_eq!(numbers(&pages, |v| v.version), (everyone.clone(), vec![true, true, false]));
    assert_eq!(pages[0].versions.len(), PAGE);
    for v in pages.iter().flat_map(|p| &p.versions) {
        assert_eq!((v.steps, v.note.clone()), (v.version as usize % 4 + 1, format!("save {}", v.version)));
    }
    let one = store.scenario_version_info(&bot, "long", 7).await.unwrap().unwrap();
    assert_eq!((one.version, one.steps, one.note.as_str(), one.author.as_str()), (7, 4, "save 7", "ann@example.com"));
    assert_eq!(store.scenario_version_info(&bot, "long", saves + 1).await.unwrap(), None);
    assert!(store.scenario_history(&bot, "long", HistoryWindow::before(1)).await.unwrap().versions.is_empty());
    assert!(store.scenario_history(&bot, "other", HistoryWindow::NEWEST).await.unwrap().versions.is_empty());

    let draft = EndpointDraft { alias: "order/long".into(), ..Default::default() };
    let endpoint = store.create_endpoint_as(&bot, &draft.validate().unwrap(), "created", "ann@example.com").await.unwrap();
    for k in 2..=saves {
        let changed = EndpointDraft { description: format!("v{k}"), ..draft.clone() };
        assert_eq!(store.save_endpoint(&endpoint.id, k - 1, &changed.validate().unwrap(), "", "ann@example.com").await.unwrap().version, k);
    }
    let mut pages = vec![store.endpoint_history(&endpoint.id, HistoryWindow::NEWEST).await.unwrap()];
    while let Some(last) = pages.last().filter(|p| p.more).and_then(|p| p.versions.last()) {
        let next = store.endpoint_history(&endpoint.id, HistoryWindow::before(last.version)).await.unwrap();
        pages.push(next);
    }
    assert_eq!(numbers(&pages, |v| v.version), (everyone.clone(), vec![true, true, false]));

    let project = store.bot(&bot).await.unwrap().project_id;
    let map = store.create_map(&project, "Long", &MapContent::empty(MapKind::Cjm), "created", "ann@example.com").await.unwrap();
    for k in 2..=saves {
        assert_eq!(store.save_map(&map.id, k - 1, &format!("Long {k}"), &map.content, "", "ann@example.com").await.unwrap(), k);
    }
    let mut pages = vec![store.map_history(&map.id, HistoryWindow::NEWEST).await.unwrap()];
    while let Some(last) = pages.last().filter(|p| p.more).and_then(|p| p.versions.last()) {
        let next = store.map_history(&map.id, HistoryWindow::before(last.version)).await.unwrap();
        pages.push(next);
    }
    assert_eq!(numbers(&pages, |v| v.version), (everyone, vec![true, true, false]));
    assert_eq!(pages[2].versions.last().map(|v| v.title.as_str()), Some("Long"));
}
