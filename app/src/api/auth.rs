//! Log in, log out, switch language.

use crate::error::AppError;
use comops_core::Locale;
use leptos::prelude::*;

/// Checks the password, starts a session and sets its cookie. Failed
/// attempts are throttled per email and per client address.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::session::{backend, cookie, set_cookie, SESSION_COOKIE};
    use comops_core::auth::{dummy_hash, verify_password};
    use comops_core::store::{now_millis, LoginThrottle};
    use comops_core::Email;

    let backend = backend()?;
    let store = &backend.store;
    let now = now_millis();
    let address = client_address();
    let email_subject = format!("email:{}", email.trim().to_lowercase());
    let address_subject = format!("ip:{address}");

    let wait_ms = store
        .login_wait_ms(&email_subject, LoginThrottle::PER_EMAIL, now)
        .await?
        .max(store.login_wait_ms(&address_subject, LoginThrottle::PER_ADDRESS, now).await?);
    if wait_ms > 0 {
        set_status(http::StatusCode::TOO_MANY_REQUESTS);
        return Err(AppError::Throttled { retry_after_secs: (wait_ms + 999) / 1000 });
    }

    let credentials = match Email::parse(&email) {
        Ok(email) => store.user_credentials(&email).await?,
        Err(_) => None,
    };
    // Verify even for an unknown email so timing does not reveal which
    // emails have accounts. argon2 is CPU-bound: keep it off the reactor.
    let phc = credentials.as_ref().map_or_else(|| dummy_hash().to_string(), |c| c.password_hash.clone());
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|_| AppError::Internal)?;

    let user = match credentials {
        Some(c) if password_ok && !c.disabled => c.user,
        _ => {
            store.record_login_failure(&email_subject, now).await?;
            store.record_login_failure(&address_subject, now).await?;
            tracing::warn!(subject = %email_subject, %address, "failed login");
            set_status(http::StatusCode::UNAUTHORIZED);
            return Err(AppError::BadCredentials);
        }
    };
    store.clear_login_failures(&email_subject).await?;
    let secret = store.create_session(&user.id).await?;
    set_cookie(cookie(SESSION_COOKIE, &secret, comops_core::store::SESSION_TTL_MS / 1000, true));
    tracing::info!(user = %user.email, "logged in");
    Ok(())
}

/// Ends the current session and clears its cookie.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::session::{backend, cookie, set_cookie, SESSION_COOKIE};
    let backend = backend()?;
    if let Some(secret) = request_cookie(SESSION_COOKIE) {
        backend.store.delete_session(&secret).await?;
    }
    set_cookie(cookie(SESSION_COOKIE, "", 0, true));
    Ok(())
}

/// Switches the studio language; remembered on the user (and in a cookie
/// for the login page).
#[server(prefix = "/api", endpoint = "set_locale")]
pub async fn set_locale(locale: Locale) -> Result<(), AppError> {
    use crate::session::{backend, cookie, session, set_cookie, LANG_COOKIE};
    if let Some(user) = session().user {
        backend()?.store.set_user_locale(&user.id, locale).await?;
    }
    set_cookie(cookie(LANG_COOKIE, locale.as_str(), 365 * 24 * 3600, false));
    Ok(())
}

#[cfg(feature = "ssr")]
fn set_status(code: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(code);
    }
}

/// The peer address of the request (the server is started with connect info).
#[cfg(feature = "ssr")]
fn client_address() -> String {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The value of one request cookie.
#[cfg(feature = "ssr")]
pub fn request_cookie(name: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    crate::session::cookie_value(&parts.headers, name)
}
