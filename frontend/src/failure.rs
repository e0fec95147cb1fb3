//! What the page says when the studio's code stops: a wasm chunk that did
//! not load (the network, or a deploy replaced it — chunk names carry their
//! build's hash, so an old tab gets a 404 rather than another build's
//! code), or a bug. The wasm cannot go on after a panic, so instead of a
//! page that silently ignores clicks the person sees why and a link that
//! reloads it. The link is plain HTML: it works with the wasm stopped.

use leptos::web_sys::{Document, Element};

/// Logs panics to the console (as before) and shows the notice.
pub fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_notice();
    }));
}

/// Puts the notice at the top of the page, once.
fn show_notice() {
    let document = leptos::prelude::document();
    if document.get_element_by_id(NOTICE_ID).is_some() {
        return;
    }
    let russian = document.document_element().and_then(|root| root.get_attribute("lang")).is_some_and(|lang| lang.starts_with("ru"));
    let (text, reload) = if russian { RU } else { EN };
    let _ = build_notice(&document, text, reload);
}

const NOTICE_ID: &str = "studio-stopped";
const EN: (&str, &str) = ("Part of the studio failed to load (perhaps a new version was just deployed), so this page no longer responds.", "Reload the page");
const RU: (&str, &str) = ("Часть студии не загрузилась (возможно, только что вышла новая версия), поэтому страница больше не отвечает.", "Перезагрузить страницу");

fn build_notice(document: &Document, text: &str, reload: &str) -> Option<Element> {
    let notice = document.create_element("div").ok()?;
    notice.set_id(NOTICE_ID);
    notice.set_attribute("role", "alert").ok()?;
    notice.set_attribute("data-testid", "studio-stopped").ok()?;
    notice
        .set_attribute("class", "fixed inset-x-0 top-0 z-50 flex items-center justify-center gap-3 border-b border-rose-200 bg-rose-50 px-4 py-2 text-sm text-rose-900 shadow")
        .ok()?;
    let message = document.create_element("span").ok()?;
    message.set_text_content(Some(text));
    let link = document.create_element("a").ok()?;
    let here = document.location().and_then(|location| location.href().ok()).unwrap_or_else(|| "/".into());
    link.set_attribute("href", &here).ok()?;
    // The router must leave this link alone: its click handler is wasm.
    link.set_attribute("rel", "external").ok()?;
    link.set_attribute("data-testid", "studio-reload").ok()?;
    link.set_attribute("class", "rounded bg-rose-700 px-2 py-1 font-medium text-white hover:bg-rose-800").ok()?;
    link.set_text_content(Some(reload));
    notice.append_child(&message).ok()?;
    notice.append_child(&link).ok()?;
    document.body()?.prepend_with_node_1(&notice).ok()?;
    Some(notice)
}
