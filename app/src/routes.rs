//! Which pages load on demand: the six largest pages are Leptos lazy
//! routes, so their code is a separate wasm chunk that the browser fetches
//! only for that page (SPEC §9's bundle budget, docs/decisions.md).
//!
//! The main module keeps the router, the layout, the smaller pages,
//! translations and the shared components. Every lazy route adds chunks of
//! code shared between lazy routes (one per combination that shares code),
//! so only large pages are worth one. A lazy route's view
//! is compiled into its own chunk by `tools/wasm-split` (run by
//! `scripts/common.sh`); on the server it renders like any other route, and
//! the page's chunks are preloaded from the HTML head.

use crate::pages;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// `/maps/:id`: the map editor and its history.
pub struct MapEditor;

#[lazy_route]
impl LazyRoute for MapEditor {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::maps::MapEditorPage/> }.into_any()
    }
}

/// `/maps/loop`: the ComOps loop canvas.
pub struct LoopView;

#[lazy_route]
impl LazyRoute for LoopView {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::maps::LoopViewPage/> }.into_any()
    }
}

/// `/endpoints`
pub struct Endpoints;

#[lazy_route]
impl LazyRoute for Endpoints {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::endpoints::EndpointsPage/> }.into_any()
    }
}

/// `/scenarios`: the list, the editor and the canvas.
pub struct Scenarios;

#[lazy_route]
impl LazyRoute for Scenarios {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::scenarios::ScenariosPage/> }.into_any()
    }
}

/// `/leads`
pub struct Leads;

#[lazy_route]
impl LazyRoute for Leads {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::leads::LeadsPage/> }.into_any()
    }
}

/// `/analytics`
pub struct Analytics;

#[lazy_route]
impl LazyRoute for Analytics {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::analytics::AnalyticsPage/> }.into_any()
    }
}
