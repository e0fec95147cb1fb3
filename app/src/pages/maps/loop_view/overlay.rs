//! The loop's trace overlay ("Runs", or R on the canvas): on each live
//! endpoint its calls and errors, on each scenario its runs done, waiting
//! and failed or stopped, over a period (the last 24 hours, 7 or 30 days,
//! or all time). The figures come from `api::maps::loop_overlay` (two
//! grouped queries), are put on their nodes by `LoopGraph::traffic`, and
//! take the place of the node's second line, with a thin bar of the
//! shares along its bottom.
//!
//! Off until asked for; read again each time it is turned on or the
//! period changes, so the figures are live as of that moment. Whether it
//! is on, and the period, survive the loop being read again after a save.

use super::super::loop_model::{LoopGraph, Traffic, NODE_H as H, NODE_W as W};
use super::BUTTON;
use crate::api::maps::loop_overlay;
use crate::components::l;
use crate::error::AppError;
use crate::i18n::{t, use_locale, K};
use leptos::prelude::*;

/// The periods offered, in days (0: all time), and their names.
const PERIODS: [(u32, K); 4] = [(1, K::LoopRunsDay), (7, K::LoopRunsWeek), (30, K::LoopRunsMonth), (0, K::LoopRunsAll)];
/// The period shown first.
const DEFAULT_DAYS: u32 = 7;

/// Where the overlay's figures are.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    Loading,
    /// Per node (by index), what it shows.
    Ready(Vec<Option<Traffic>>),
    Failed(AppError),
}

/// The overlay's state: handles only, `Copy` into every node.
#[derive(Clone, Copy)]
pub(super) struct Overlay {
    pub on: RwSignal<bool>,
    /// The period in days (0: all time).
    pub days: RwSignal<u32>,
    reading: RwSignal<Reading>,
}

impl Overlay {
    /// On with period `kept` when the loop had it on before it was read
    /// again. Whenever it is on, the figures of `project` for the period
    /// are read (in the browser only: it starts off on the server).
    pub fn new(project: String, graph: StoredValue<LoopGraph>, kept: Option<u32>) -> Overlay {
        let overlay = Overlay { on: RwSignal::new(kept.is_some()), days: RwSignal::new(kept.unwrap_or(DEFAULT_DAYS)), reading: RwSignal::new(Reading::Loading) };
        Effect::new(move |_| {
            if !overlay.on.get() {
                return;
            }
            let days = overlay.days.get();
            let project = project.clone();
            overlay.reading.set(Reading::Loading);
            leptos::task::spawn_local(async move {
                let next = match loop_overlay(project, days).await {
                    Ok(traffic) => Reading::Ready(graph.with_value(|g| g.traffic(&traffic))),
                    Err(err) => Reading::Failed(err),
                };
                // An answer for a period no longer asked for is dropped.
                if overlay.on.get_untracked() && overlay.days.get_untracked() == days {
                    overlay.reading.set(next);
                }
            });
        });
        overlay
    }

    pub fn toggle(self) {
        self.on.update(|on| *on = !*on);
    }

    /// What the loop keeps of it when read again: the period, when on.
    pub fn kept(self) -> Option<u32> {
        self.on.get().then(|| self.days.get())
    }

    /// What node `i` shows, while the overlay is on and its figures are in.
    pub fn of(self, i: usize) -> Option<Traffic> {
        if !self.on.get() {
            return None;
        }
        self.reading.with(|r| match r {
            Reading::Ready(figures) => figures.get(i).copied().flatten(),
            _ => None,
        })
    }
}

/// The toolbar's part: the "Runs" toggle and, while it is on, the period,
/// what the figures mean and whether they are still being read.
#[component]
pub(super) fn RunsToolbar(overlay: Overlay) -> impl IntoView {
    let locale = use_locale();
    let Overlay { on, days, reading } = overlay;
    let periods = move || {
        PERIODS
            .into_iter()
            .map(|(n, key)| view! { <option value=n.to_string() selected=move || days.get() == n>{l(key)}</option> })
            .collect_view()
    };
    let status = move || {
        let loc = locale.get();
        reading.with(|r| match r {
            Reading::Loading => view! { <span class="text-slate-500" data-testid="loop-runs-loading">{t(loc, K::LoopRunsLoading)}</span> }.into_any(),
            Reading::Ready(_) => view! { <span class="text-slate-500" data-testid="loop-runs-legend">{t(loc, K::LoopRunsLegend)}</span> }.into_any(),
            Reading::Failed(err) => view! { <span class="text-rose-700" role="alert">{err.message(loc)}</span> }.into_any(),
        })
    };
    view! {
        <button type="button" class=BUTTON title="R" data-testid="loop-runs" aria-pressed=move || on.get().to_string()
            class=("bg-sky-100", move || on.get()) class=("border-sky-400", move || on.get())
            on:click=move |_| overlay.toggle()>{l(K::LoopRuns)}</button>
        {move || on.get().then(|| view! {
            <label class="ml-1 text-[11px] text-slate-600">
                <span class="sr-only">{l(K::LoopRunsPeriod)}</span>
                <select class="rounded border border-slate-300 bg-white px-1 py-0.5 text-xs" data-testid="loop-runs-period"
                    on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(DEFAULT_DAYS))>
                    {periods()}
                </select>
            </label>
            <span class="ml-1 text-[11px]">{status}</span>
        })}
    }
}

/// One node's figures while the overlay shows them: the words and numbers
/// on the node's second line and the bar of the shares along its bottom.
pub(super) fn node_figures(i: usize, overlay: Overlay) -> impl IntoView {
    let locale = use_locale();
    move || {
        let traffic = overlay.of(i)?;
        let loc = locale.get();
        let part = |key: K, n: i64, class: &'static str| view! { <tspan class=class>{format!("{} {n}", t(loc, key))}</tspan> };
        let dot = || view! { <tspan class="fill-slate-400">" · "</tspan> };
        let (line, colours, attrs) = match traffic {
            Traffic::Calls { calls, errors } => (
                (part(K::LoopRunsCalls, calls, "fill-slate-700"), dot(), part(K::LoopRunsErrors, errors, if errors > 0 { "fill-rose-700" } else { "fill-slate-700" })).into_any(),
                ["fill-sky-500", "fill-rose-500", ""],
                [Some(calls), Some(errors), None, None, None],
            ),
            Traffic::Runs { done, waiting, failed } => (
                (
                    part(K::LoopRunsDone, done, "fill-emerald-700"),
                    dot(),
                    part(K::LoopRunsWaiting, waiting, "fill-amber-700"),
                    dot(),
                    part(K::LoopRunsFailed, failed, if failed > 0 { "fill-rose-700" } else { "fill-slate-700" }),
                )
                    .into_any(),
                ["fill-emerald-500", "fill-amber-400", "fill-rose-500"],
                [None, None, Some(done), Some(waiting), Some(failed)],
            ),
        };
        // The bar: 6 units in from each side, 3 high, just above the bottom edge.
        let (x0, width) = (6.0, W - 12.0);
        let mut x = x0;
        let segments = traffic
            .shares()
            .into_iter()
            .zip(colours)
            .filter(|(share, _)| *share > 0.0)
            .map(|(share, class)| {
                let at = x;
                x += share * width;
                view! { <rect x=at y=H - 5.0 width=share * width height="3" class=class/> }
            })
            .collect_view();
        let [calls, errors, done, waiting, failed] = attrs;
        Some(view! {
            <g data-testid="runs-figures" data-calls=calls data-errors=errors data-done=done data-waiting=waiting data-failed=failed pointer-events="none">
                <rect x=x0 y=H - 5.0 width=width height="3" class="fill-slate-200"/>
                {segments}
                <text x="14" y="31" class="text-[10px] font-medium tabular-nums">{line}</text>
            </g>
        })
    }
}
