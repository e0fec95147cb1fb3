//! `comops serve`: open the store, bootstrap, build the router, listen.

use crate::config::Config;
use crate::http::{self, AppState};
use comops_app::session::Backend;
use leptos::config::LeptosOptions;
use std::net::SocketAddr;

/// `demo`: seed the demo project (`Some(true)`: with endpoints and
/// scenarios; `Some(false)`: bots only); `demo_leads`: link its example
/// users to leads too.
pub async fn serve(config: Config, demo: Option<bool>, demo_leads: bool) -> Result<(), String> {
    let store = crate::cli::open_store(&config).await?;
    check_data_keys(&store).await?;
    crate::bootstrap::first_admin(&store).await?;
    let seeded = match demo {
        Some(integration) => comops_core::demo::seed(&store, integration).await.map_err(|e| e.to_string())?,
        None => false,
    };
    if seeded {
        println!("demo project created: prj_demo (bots bot_shop, bot_rehau, bot_fmlst, bot_helpdesk)");
    }
    // The demo's example leads are a convenience: not linking them is
    // said, and the server starts anyway.
    if demo_leads {
        match comops_core::demo::seed_leads(&store).await {
            Ok(0) => {}
            Ok(linked) => println!("demo leads linked: {linked} example users on Telegram (a test event shows who gets what)"),
            Err(err) => tracing::warn!(error = %err, "cannot link the demo's example leads"),
        }
    }
    // Read before binding: a wrong path is a start-up error, not a dead port.
    let tls = match &config.tls {
        Some((cert, key)) => Some(crate::tls::server_config(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let leptos_options = LeptosOptions::builder()
        .output_name("comops")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    if !config.site_root.join("pkg").join("comops.js").exists() {
        tracing::warn!(site_root = %config.site_root.display(), "no built studio bundle (pkg/comops.js); run scripts/build-site");
    }
    // Accepted runs go from the event writer straight to the executor.
    let (handed_runs, handed) = tokio::sync::mpsc::channel(comops_core::store::writer::HAND_OFF_ROOM);
    let hand_off = comops_core::store::writer::RunHandOff { runs: handed_runs, lease_ms: config.run_lease_ms };
    let state = AppState::new(http::Services {
        leptos_options,
        backend: Backend { store: store.clone(), secure_cookies: config.secure_cookies, studio_dry_runs: Default::default() },
        rate_limiter: Default::default(),
        events: comops_core::store::writer::EventWriter::start(store.clone(), Some(hand_off)),
        http: reqwest::Client::new(),
        webchat: http::WebChat::default(),
        bells: crate::engine::Bells::default(),
        telegram_api_base: config.telegram_api_base.clone(),
    });
    crate::workers::spawn_scheduler(store.clone());
    match config.trace_retention_days {
        0 => tracing::info!("every trace is kept (--trace-retention-days 0)"),
        days => tracing::info!(days, "traces older than this many days are removed; calls stay counted (--trace-retention-days, 0 keeps all)"),
    }
    crate::workers::spawn_trace_upkeep(store.clone(), config.trace_retention_days);
    // SQLite (one process, its send clocks in memory): a run's save takes
    // its messages straight to `sending` and hands them to the dispatcher
    // (the store refuses on PostgreSQL, whose processes share the clocks).
    let pacers = crate::engine::Pacers::new(config.channel_limits.clone());
    let (sends, handed_sends) = tokio::sync::mpsc::unbounded_channel();
    let (direct_sends, handed_sends) = if store.hand_sends_to(comops_core::store::send_hand_off::SendHandOff { sends, lease_ms: config.send_lease_ms }) {
        (Some(crate::engine::dispatch::DirectSends::new(pacers.clone(), config.send_lease_ms)), Some(handed_sends))
    } else {
        (None, None)
    };
    crate::engine::executor::spawn(store.clone(), state.bells.runs.clone(), state.bells.outbox.clone(), handed, config.run_lease_ms, direct_sends);
    crate::engine::inbound::spawn_sweeper(store.clone(), state.http.clone());
    crate::engine::polling::spawn(store.clone(), state.http.clone(), config.telegram_api_base.clone());
    crate::engine::dispatch::spawn(
        store.clone(),
        crate::engine::dispatch::DispatchConfig {
            telegram_api_base: config.telegram_api_base.clone(),
            lease_ms: config.send_lease_ms,
            retry_base_ms: config.send_retry_base_ms,
            webchat: state.webchat.hub.clone(),
        },
        state.bells.outbox.clone(),
        pacers,
        handed_sends,
    );
    // Open web chat streams would hold a graceful shutdown forever.
    let webchat = state.webchat.clone();
    let router = http::router(state);
    let shutdown = async move {
        shutdown_signal().await;
        webchat.close();
    };
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(tls) => {
            use axum::serve::ListenerExt;
            // Tests and scripts read this line to find the port.
            println!("comops listening on https://{addr}");
            // `tap_io` only lends the listener axum's `ConnectInfo<SocketAddr>`.
            let listener = crate::tls::TlsListener::new(listener, tls).map_err(|e| e.to_string())?.tap_io(|_| {});
            axum::serve(listener, service).with_graceful_shutdown(shutdown).await.map_err(|e| e.to_string())?;
        }
        None => {
            println!("comops listening on http://{addr}");
            axum::serve(listener, service).with_graceful_shutdown(shutdown).await.map_err(|e| e.to_string())?;
        }
    }
    store.close().await;
    Ok(())
}

/// Refuses to start when sealed values cannot be opened with the configured
/// keys (rather than failing on every send later); warns once when secrets
/// are stored unencrypted.
async fn check_data_keys(store: &comops_core::store::Store) -> Result<(), String> {
    use comops_core::seal::{KEY_ENV, PREVIOUS_ENV};
    let census = store.channel_seal_census().await.map_err(|e| e.to_string())?;
    let missing = census.missing_keys(store.keyring());
    if !missing.is_empty() {
        return Err(format!(
            "the database holds values sealed with key(s) {} that are not configured: set {KEY_ENV} (and {PREVIOUS_ENV} during a rotation)",
            missing.join(", ")
        ));
    }
    match store.keyring().current_id() {
        None => tracing::warn!("{KEY_ENV} is not set: channel credentials, secrets and personal data are stored unencrypted (`comops keygen` makes a key)"),
        Some(id) if census.plaintext > 0 => tracing::warn!(key = id, "channel settings stored before the data key was set are not sealed yet: run `comops rotate-key`"),
        Some(id) => tracing::info!(key = id, "sealing secrets and personal data at rest"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
