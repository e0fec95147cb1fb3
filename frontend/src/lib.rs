#![recursion_limit = "256"]

//! The studio's browser entry: hydrates the server-rendered page.

mod failure;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    failure::report_panics();
    // Asynchronous hydration: most pages are lazy routes (app/src/routes.rs)
    // whose code arrives as a separate wasm chunk, loaded before the page
    // hydrates (what `leptos::mount::hydrate_lazy` does).
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        let owner = leptos::mount::hydrate_from_async(body.clone(), comops_app::App).await;
        owner.forget();
        // Lets browser tests wait until the page reacts to clicks.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
