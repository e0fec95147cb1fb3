//! Who is asking: the session as the studio sees it, on both sides.
//!
//! The server's session middleware resolves the cookie once per request and
//! puts a [`SessionInfo`] into the request's extensions. During SSR the page
//! reads it from there; the page also embeds it as JSON so the browser,
//! while hydrating, starts from exactly the same user and language without
//! a round trip. Server functions call [`require`] to check the role.

use comops_core::{Locale, SessionUser};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: Option<SessionUser>,
    pub locale: Locale,
}

/// The id of the `<script type="application/json">` carrying the session.
pub const SESSION_SCRIPT_ID: &str = "comops-session";

/// The cookie holding the session secret.
pub const SESSION_COOKIE: &str = "comops_session";
/// The cookie remembering the language of a visitor who is not logged in.
pub const LANG_COOKIE: &str = "comops_lang";

/// The session of the page being rendered or hydrated.
pub fn current() -> SessionInfo {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<SessionInfo>().cloned())
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        read_embedded().unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        SessionInfo::default()
    }
}

/// JSON for the embedded script: `<` escaped so no value can close the tag.
pub fn embed_json(info: &SessionInfo) -> String {
    serde_json::to_string(info).unwrap_or_else(|_| "{}".into()).replace('<', "\\u003c")
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn read_embedded() -> Option<SessionInfo> {
    let text = web_sys::window()?.document()?.get_element_by_id(SESSION_SCRIPT_ID)?.text_content()?;
    serde_json::from_str(&text).ok()
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use super::SessionInfo;
    use crate::error::AppError;
    use comops_core::store::Store;
    use comops_core::{Permission, SessionUser};
    use leptos::prelude::*;

    /// What server functions need from the server process.
    #[derive(Clone, Debug)]
    pub struct Backend {
        pub store: Store,
        /// Add `Secure` to cookies (the studio is served over HTTPS).
        pub secure_cookies: bool,
        /// Each user's dry runs from the studio (test events and scenario
        /// dry runs), by email: see [`take_dry_run`].
        pub studio_dry_runs: std::sync::Arc<comops_core::rate_limit::RateLimiter<String>>,
    }

    /// Dry runs one studio user may start a minute, per process: test
    /// events and scenario dry runs together. A dry run may run script
    /// steps (up to 2 s of a blocking thread), and no token's rate holds
    /// the studio back as it does the API's dry runs.
    pub const STUDIO_DRY_RUNS_PER_MINUTE: u32 = 30;

    /// Takes one of `user`'s studio dry runs, or says how long to wait.
    pub fn take_dry_run(user: &SessionUser) -> Result<(), AppError> {
        backend()?
            .studio_dry_runs
            .check(&user.email.to_string(), STUDIO_DRY_RUNS_PER_MINUTE, std::time::Instant::now())
            .map_err(|wait| AppError::TooFast { retry_after_secs: (wait.as_secs_f64().ceil() as u64).max(1) })
    }

    /// What a test call got: the HTTP status, the JSON answer and the
    /// call's trace id.
    pub type TestCallAnswer = (u16, serde_json::Value, String);

    /// A test event the studio sends: a body for `alias` of `bot`, from
    /// `user` (their email, for the trace's source).
    pub struct TestCall {
        pub bot: String,
        pub alias: String,
        pub body: Vec<u8>,
        pub user: String,
    }

    /// Sends the studio's test events through the integration API's own
    /// handling (the server's `call` module, which this crate cannot
    /// reach): a [`TestCall`] → what a dry-run call would get. The server
    /// provides it beside [`Backend`].
    #[derive(Clone)]
    pub struct TestCalls(
        #[allow(clippy::type_complexity)]
        pub std::sync::Arc<dyn Fn(TestCall) -> std::pin::Pin<Box<dyn std::future::Future<Output = TestCallAnswer> + Send>> + Send + Sync>,
    );

    pub fn backend() -> Result<Backend, AppError> {
        use_context::<Backend>().ok_or_else(|| {
            tracing::error!("server function called without a Backend in context");
            AppError::Internal
        })
    }

    pub fn session() -> SessionInfo {
        super::current()
    }

    /// The logged-in user if their role allows `permission`; otherwise
    /// 401/403 (the status is also set on the HTTP response).
    pub fn require(permission: Permission) -> Result<SessionUser, AppError> {
        let set_status = |code: http::StatusCode| {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(code);
            }
        };
        let Some(user) = session().user else {
            set_status(http::StatusCode::UNAUTHORIZED);
            return Err(AppError::Unauthenticated);
        };
        if !user.allows(permission) {
            set_status(http::StatusCode::FORBIDDEN);
            return Err(AppError::Forbidden);
        }
        Ok(user)
    }

    /// Appends a `Set-Cookie` header to the server function's response.
    pub fn set_cookie(value: String) {
        if let (Some(response), Ok(value)) =
            (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&value))
        {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }

    /// The value of cookie `name` in request headers.
    pub fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }

    /// A cookie string with the flags every ComOps cookie carries.
    pub fn cookie(name: &str, value: &str, max_age_secs: i64, http_only: bool) -> String {
        let secure = use_context::<Backend>().is_some_and(|b| b.secure_cookies);
        format!(
            "{name}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Lax{}{}",
            if http_only { "; HttpOnly" } else { "" },
            if secure { "; Secure" } else { "" }
        )
    }
}
