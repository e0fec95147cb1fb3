//! The older pages of a version history (maps, endpoints, scenarios). The
//! server sends the newest page ([`comops_core::history::PAGE`] versions);
//! "Older versions" reads the next one below it, as long as older ones
//! remain.

use super::l;
use crate::error::AppError;
use crate::i18n::{use_locale, K};
use comops_core::history::HistoryPage;
use leptos::prelude::*;
use std::future::Future;

const BUTTON: &str = "mt-1 rounded border border-slate-300 bg-white px-2 py-0.5 text-xs hover:bg-slate-100";

/// The pages read after the first, and whether more remain.
pub struct OlderVersions<T: Send + Sync + 'static> {
    rows: RwSignal<Vec<T>>,
    /// `None` until a page was read: the first page says then.
    more: RwSignal<Option<bool>>,
    reading: RwSignal<bool>,
    error: RwSignal<Option<AppError>>,
    /// Bumped when the history is read again: a page read for the one
    /// before is dropped when it comes.
    epoch: RwSignal<u32>,
}

impl<T: Send + Sync + 'static> Clone for OlderVersions<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for OlderVersions<T> {}

impl<T: Clone + Send + Sync + 'static> OlderVersions<T> {
    /// None read yet. What was read is dropped whenever `epoch` changes
    /// (the history is read again from its newest page then).
    pub fn new<E: PartialEq + Clone + 'static>(epoch: impl FnMut() -> E + 'static) -> Self {
        let this = OlderVersions {
            rows: RwSignal::new(Vec::new()),
            more: RwSignal::new(None),
            reading: RwSignal::new(false),
            error: RwSignal::new(None),
            epoch: RwSignal::new(0),
        };
        Effect::watch(
            epoch,
            move |_, _, _| {
                this.epoch.update(|n| *n += 1);
                this.rows.set(Vec::new());
                this.more.set(None);
                this.error.set(None);
                this.reading.set(false);
            },
            false,
        );
        this
    }

    /// The versions read so far, each drawn by `item`.
    pub fn rows(self, item: impl Fn(T) -> AnyView + Clone + Send + Sync + 'static) -> impl IntoView {
        move || self.rows.get().into_iter().map(item.clone()).collect_view()
    }

    /// "Older versions" while versions older than those shown remain
    /// (`first`: the first page; `version`: a row's number; `read`: the
    /// page of versions before a number), and why a read failed.
    pub fn button<F, Fut>(self, first: &HistoryPage<T>, version: fn(&T) -> i64, read: F) -> impl IntoView
    where
        F: Fn(i64) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<HistoryPage<T>, AppError>> + 'static,
    {
        let locale = use_locale();
        let first_more = first.more;
        let first_oldest = first.versions.last().map(version);
        // The history is being read again (a save or restore): this first
        // page is on its way out, and a page below its oldest would skip
        // what the new first page shifts down. The button waits for it.
        let built_at = self.epoch.get_untracked();
        let stale = move || self.epoch.get() != built_at;
        let load = move |_| {
            if self.reading.get_untracked() || self.epoch.get_untracked() != built_at {
                return;
            }
            let Some(before) = self.rows.with_untracked(|rows| rows.last().map(version)).or(first_oldest) else { return };
            self.reading.set(true);
            let epoch = self.epoch.get_untracked();
            let page = read(before);
            leptos::task::spawn_local(async move {
                let page = page.await;
                // The history was read again meanwhile: this page belongs
                // to the list before, and its button was reset.
                if self.epoch.try_get_untracked() != Some(epoch) {
                    return;
                }
                match page {
                    Ok(page) => {
                        self.rows.update(|rows| rows.extend(page.versions));
                        self.more.set(Some(page.more));
                        self.error.set(None);
                    }
                    Err(err) => self.error.set(Some(err)),
                }
                self.reading.set(false);
            });
        };
        view! {
            {move || self.more.get().unwrap_or(first_more).then(|| view! {
                <button type="button" class=BUTTON data-testid="older-versions" disabled=move || self.reading.get() || stale() on:click=load.clone()>
                    {l(K::OlderVersions)}
                </button>
            })}
            {move || self.error.get().map(|err| view! { <p class="text-sm text-rose-700" role="alert">{err.message(locale.get())}</p> })}
        }
    }
}
