//! Small building blocks shared by pages.

pub mod bot_picker;
pub mod call_figures;
pub mod canvas;
pub mod diff_table;
pub mod editable_table;
pub mod filter_form;
pub mod find_bar;
pub mod form;
pub mod layout;
pub mod list_pages;
pub mod local_store;
pub mod nav;
pub mod older_versions;
pub mod row_actions;
pub mod row_window;
pub mod table_find;

use crate::error::AppError;
use crate::i18n::{tr, K};
use comops_core::Locale;
use leptos::prelude::*;

/// The text of `key` in the current language, reactive: `{l(K::Save)}` in
/// a view, `placeholder=l(K::Filter)` on an attribute. One closure type for
/// every label, where each `move || tr(K::…)` would be a type of its own,
/// compiled into the browser bundle again.
pub fn l(key: K) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || tr(key)
}

/// The "Loading…" line of a `<Transition fallback=loading>`.
pub fn loading() -> impl IntoView {
    view! { <p>{l(K::Loading)}</p> }
}

/// A resource that failed to load, said in one line.
pub fn load_error(err: AppError, locale: Locale) -> AnyView {
    view! { <p class="my-2 text-rose-700" role="alert">{err.message(locale)}</p> }.into_any()
}

/// `2026-11-25 09:41` (UTC) from Unix milliseconds, without a date library
/// in the wasm bundle.
pub fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

/// `2026-11-25 09:41:07` (UTC): [`format_millis`] to the second, for the
/// logs, where events of one minute must read apart.
pub fn format_millis_seconds(ms: i64) -> String {
    format!("{}:{:02}", format_millis(ms), ms.div_euclid(1000).rem_euclid(60))
}

/// `2026-11-25 09:41:07.250` (UTC): to the millisecond, for a tooltip.
pub fn format_millis_exact(ms: i64) -> String {
    format!("{}.{:03}", format_millis_seconds(ms), ms.rem_euclid(1000))
}

/// The key a keyboard shortcut names, from a key event's `key` and
/// `code`: a named key as it is, a typed character in lower case, and for
/// a letter of a non-Latin layout the letter at that place on a US
/// keyboard, so Ctrl+S, Ctrl+Z and L work under a Russian layout too
/// (where S types «ы»), and AZERTY's Z stays Z.
pub fn shortcut_key(key: &str, code: &str) -> String {
    let mut chars = key.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        // A named key: "Escape", "ArrowUp", "Delete".
        return key.to_string();
    };
    match code.strip_prefix("Key") {
        Some(letter) if c.is_alphabetic() && !c.is_ascii_alphabetic() => letter.to_ascii_lowercase(),
        _ => c.to_lowercase().collect(),
    }
}

/// Navigates the browser with a full page load (used after login/logout so
/// the next page starts from the new session).
pub fn reload_to(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Focuses a canvas's wrapper (so its keys work) without scrolling the
/// page to it; a no-op on the server.
pub fn focus_without_scrolling(el: NodeRef<leptos::html::Div>) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = el.get_untracked() {
        focus_in_place(&el);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = el;
}

/// Focuses an element without scrolling the page to it.
#[cfg(feature = "hydrate")]
pub fn focus_in_place(el: &web_sys::HtmlElement) {
    let options = web_sys::FocusOptions::new();
    options.set_prevent_scroll(true);
    let _ = el.focus_with_options(&options);
}

/// Whether the view being built is the browser's own (a page opened
/// inside the app), not hydrated over what the server rendered.
pub(crate) fn built_in_browser() -> bool {
    cfg!(feature = "hydrate") && !Owner::current_shared_context().is_some_and(|shared| shared.during_hydration())
}

/// Runs `then` once the frame being drawn is painted: a task queued from
/// a frame's callbacks runs after that frame's style, layout and paint.
pub(crate) fn after_paint(then: impl FnOnce() + 'static) {
    request_animation_frame(move || set_timeout(then, std::time::Duration::ZERO));
}

/// Marks a moment on the page's performance timeline (`performance.mark`),
/// for the studio benches to split a page's work by; nothing on the server.
pub fn mark(name: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}

/// The router's `navigate` as a [`Callback`] taking an address, for
/// handlers that must be `Send + Sync` (the router's closure is neither).
/// It moves in the browser only: on the server nothing navigates, and a
/// value kept for one thread must not be dropped on another.
pub fn navigate_to() -> Callback<String> {
    let navigate = leptos_router::hooks::use_navigate();
    #[cfg(feature = "hydrate")]
    {
        let navigate = StoredValue::new_local(navigate);
        Callback::new(move |href: String| navigate.with_value(|go| go(&href, Default::default())))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        drop(navigate);
        Callback::new(|_: String| {})
    }
}

/// Saves `text` as a file named `name` of type `mime` (a download from a
/// blob URL; nothing on the server).
pub fn download(name: &str, mime: &str, text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let parts = web_sys::js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
        if let Ok(anchor) = document.create_element("a") {
            let anchor: web_sys::HtmlAnchorElement = anchor.unchecked_into();
            anchor.set_href(&url);
            anchor.set_download(name);
            anchor.click();
        }
        // The download has its own copy once it started.
        set_timeout(move || { let _ = web_sys::Url::revoke_object_url(&url); }, std::time::Duration::from_secs(30));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (name, mime, text);
}

/// `encodeURIComponent` without a JS binding: everything but unreserved
/// ASCII percent-encoded (a `data:` link's body, a URL's query value).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{format_millis, format_millis_exact, format_millis_seconds, percent_encode, shortcut_key};

    #[test]
    fn percent_encodes_all_but_unreserved_ascii() {
        assert_eq!(percent_encode(r#"{"a": "б"}"#), "%7B%22a%22%3A%20%22%D0%B1%22%7D");
        assert_eq!(percent_encode("a,b\r\nя"), "a%2Cb%0D%0A%D1%8F");
        assert_eq!(percent_encode("ann+ops@example.com"), "ann%2Bops%40example.com");
    }

    #[test]
    fn shortcut_keys_follow_the_typed_latin_letter_or_the_keys_place() {
        assert_eq!(shortcut_key("s", "KeyS"), "s");
        assert_eq!(shortcut_key("S", "KeyS"), "s");
        // Russian layout: the S key types «ы», the F key «а».
        assert_eq!(shortcut_key("ы", "KeyS"), "s");
        assert_eq!(shortcut_key("А", "KeyF"), "f");
        // AZERTY: Z is where QWERTY has W; the typed letter wins.
        assert_eq!(shortcut_key("z", "KeyW"), "z");
        assert_eq!(shortcut_key("Escape", "Escape"), "Escape");
        assert_eq!(shortcut_key("ArrowUp", "ArrowUp"), "ArrowUp");
        assert_eq!(shortcut_key("+", "Equal"), "+");
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_millis(0), "1970-01-01 00:00");
        // 2025-10-15T11:24:52Z, the seed's connected_at example.
        assert_eq!(format_millis(1_760_527_492_000), "2025-10-15 11:24");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(format_millis_seconds(1_760_527_492_250), "2025-10-15 11:24:52");
        assert_eq!(format_millis_exact(1_760_527_492_050), "2025-10-15 11:24:52.050");
        assert_eq!(format_millis_exact(-1), "1969-12-31 23:59:59.999");
    }
}
