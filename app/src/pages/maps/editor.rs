//! One map as an editable table, saved with a change note.
//!
//! The editor holds the map's content as its JSON value and the version it
//! started from (`base`). A save names that version; when someone saved
//! after it the server answers `Conflict` and nothing is lost: the edits
//! stay on screen, and the analyst either reloads the current version
//! (after a confirm) or keeps the edits — they are re-based onto the
//! current version field by field (`model::rebase`), the differences
//! saved meanwhile are shown, and the next save stores both. `Invalid` answers show each problem under its cell.
//!
//! A long map opens first rows first: the first answer has the rows the
//! table draws first and the ids of the rest (`first_rows`), stand-in rows
//! keep the table's length, and once that frame is painted the whole
//! version is fetched and put in. Until it is, the table is inert and
//! `aria-busy`, and nothing can be edited or saved. The history is a panel
//! beside the table, opened by its button (the choice kept in the
//! browser); opened inside the app, it mounts after that paint too.

use super::history::{DiffView, MapHistory};
use super::model;
use crate::api::maps::{export_map_csv, import_map_csv, load_map, open_map, save_map, save_map_changes, BindableEndpoint, LinkTarget, LoadedMap, MapSaveOutcome};
use crate::components::editable_table::{EditableTable, EmotionCurve, LinkTargets, TriggerContext};
use crate::components::form::can;
use crate::components::row_window;
use crate::components::{format_millis, l, load_error, loading};
use crate::i18n::{problem_text, t, t1, use_locale, K};
use comops_core::map::MapKind;
use comops_core::{FieldError, Permission};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::Value;

const BUTTON: &str = "rounded border border-slate-300 px-2.5 py-1 text-sm hover:bg-slate-100 disabled:opacity-50";
const PRIMARY: &str = "rounded bg-sky-700 px-3 py-1 text-sm text-white hover:bg-sky-600 disabled:opacity-50";
const INPUT: &str = "rounded border border-slate-300 px-2 py-1 text-sm";
/// The browser's `localStorage` key of whether the history panel is open.
const HISTORY_OPEN: &str = "comops.map-history";

/// `/maps/{id}`, `?v=N` for an old version (read-only), `?row=r1` to open
/// at a row (the ComOps loop's "open in the map editor"): scrolled to,
/// highlighted and focused.
#[component]
pub fn MapEditorPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let version = move || query.with(|q| q.get("v").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    // Bumped to load the map again (reload after a conflict, restore, CSV import).
    let reload = RwSignal::new(0u32);
    // What a restore or CSV import said (the map, its new version, the
    // other maps it took links out of), for the editor that comes back
    // with that version: the one that saved is gone by then.
    let said = RwSignal::new(None::<Said>);
    // A communication map's trigger cells show the project's endpoints:
    // loaded with the map (one call), so the server's HTML and the
    // hydrating client render the same cells (fetched after hydration
    // they raced it).
    // A long map comes first rows first, unless the page opens at a row
    // (`?row=`), which may be anywhere in it. Read once, like the row:
    // `?row=` coming or going later reloads nothing.
    let first = query.with_untracked(|q| q.get("row").is_none()).then_some(row_window::FIRST_SENT);
    let map = Resource::new(move || (id(), version(), reload.get()), move |(id, v, _)| open_map(id, v, first));
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match map.await {
                    Ok((map, endpoints, targets)) => {
                        crate::components::mark("comops:map-answer");
                        let focus = query.with_untracked(|q| q.get("row"));
                        view! { <MapEditor map endpoints targets reload said focus/> }.into_any()
                    }
                    Err(err) => load_error(err, locale.get_untracked()),
                }
            })}
        </Transition>
    }
}

/// A save's word carried over a reload: map id, version, the other maps'.
type Said = (String, i64, Option<String>);

/// At most this many "go to row" buttons under a refused save.
const MAX_GOTO: usize = 12;

/// What the last save, restore or import said, for the banner.
#[derive(Clone, PartialEq)]
enum Status {
    None,
    Saved(i64),
    Invalid(usize, Vec<String>),
    Conflict { current: i64, author: String },
    Rebased { from: i64, to: i64 },
    /// A long map's rows after the first could not be fetched: held until reloaded.
    Incomplete(String),
    BadCsv(String),
    Failed(String),
}

#[component]
fn MapEditor(map: LoadedMap, endpoints: Vec<BindableEndpoint>, targets: Vec<LinkTarget>, reload: RwSignal<u32>, said: RwSignal<Option<Said>>, focus: Option<String>) -> impl IntoView {
    let locale = use_locale();
    let kind = map.kind;
    let list = model::list_of(kind);
    let map_id = StoredValue::new(map.id.clone());
    // What a restore or import of this very version said before the reload.
    let (said_status, said_cut) = said.with_untracked(|said| match said {
        Some((id, version, cut)) if *id == map.id && *version == map.version => (Status::Saved(*version), cut.clone()),
        _ => (Status::None, None),
    });
    // A save's word on the other maps it took links to deleted stages out of.
    let cut_note = RwSignal::new(said_cut);
    let old = map.version != map.current;
    let shown = map.version;
    let editable = can(Permission::EditMaps) && !old;
    let mut content = parse_content(&map.content);
    comops_core::map::first_rows::stand_ins(&mut content, list, &map.later);
    // The whole map is in: until then the table is inert and saves wait.
    let complete = RwSignal::new(map.later.is_empty());
    crate::components::mark("comops:map-parsed");
    let doc = RwSignal::new(content.clone());
    // The content the edits started from (what a re-base compares with).
    let origin = StoredValue::new(content);
    crate::components::mark("comops:map-copied");
    let title = RwSignal::new(map.title.clone());
    let note = RwSignal::new(String::new());
    // Saves and restores build on the current version (an old one is read-only).
    let base = RwSignal::new(map.current);
    // When and by whom the version in the header was saved: this editor's
    // own saves move it, as they move the version.
    let saved_at = RwSignal::new(map.created_at);
    let saved_by = RwSignal::new(map.author.clone());
    let me = StoredValue::new(crate::components::form::my_email());
    let epoch = RwSignal::new(0u32);
    let dirty = RwSignal::new(false);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let status = RwSignal::new(said_status);
    let history_epoch = RwSignal::new(0u32);
    // Opened inside the app, the history panel (and its call) waits until
    // the first rows are painted: its answer, taken in and drawn in that
    // frame, held the rows back. Hydrated, it is the server's as it was.
    let history_shown = RwSignal::new(!crate::components::built_in_browser());
    if !history_shown.get_untracked() {
        crate::components::after_paint(move || {
            let _ = history_shown.try_set(true);
        });
    }
    // The history is a side panel one opens by its button beside the
    // title: closed, the table has the page's width (a communication map
    // has ten columns, of which three fitted beside the panel at 1280 px).
    // Open or closed is kept in the browser; an old version opens with it
    // open (one comes there from it).
    let history_open = RwSignal::new(old);
    if !old {
        // After hydration: the server drew it closed.
        Effect::new(move |_| {
            if crate::components::local_store::get(HISTORY_OPEN).as_deref() == Some("open") {
                history_open.set(true);
            }
        });
    }
    let toggle_history = move |_| {
        let open = !history_open.get_untracked();
        history_open.set(open);
        crate::components::local_store::set(HISTORY_OPEN, if open { "open" } else { "closed" });
    };
    let confirm_reload = RwSignal::new(false);
    let pending = RwSignal::new(false);
    // A row to scroll to and focus (a problem's "go to row" button).
    let goto = RwSignal::new(None::<usize>);
    // A memo: 9,000 cells of a 1,000-row map read it, and a save that
    // clears no problems must not wake them.
    let messages = Memo::new(move |_| {
        let loc = locale.get();
        errors.with(|errs| errs.iter().map(|e| (e.field.clone(), problem_text(loc, &e.problem))).collect::<Vec<_>>())
    });

    // `sent`: the content a save sent (None: a restore or CSV import,
    // which reload the map). It, not what is on screen by the time the
    // answer comes, is the new base: edits typed while the save was on
    // its way stay unsaved, and go with the next save's changes.
    let outcome = move |result: Result<MapSaveOutcome, crate::error::AppError>, sent: Option<Value>| {
        pending.set(false);
        let loc = locale.get_untracked();
        // The maps whose links to stages this save took out (the editor's
        // own set, a restore's or a CSV import's), said beside "saved".
        if let Ok(MapSaveOutcome::Saved { links_taken_out, .. }) = &result {
            let also = links_taken_out.iter().map(|m| format!("«{}» v{}", m.title, m.version)).collect::<Vec<_>>().join(", ");
            cut_note.set((!also.is_empty()).then(|| t1(loc, K::MapLinksCutAlso, also)));
        }
        match (result, sent) {
            (Ok(MapSaveOutcome::Saved { version, .. }), None) => {
                // A restore or CSV import: the editor comes back with that
                // version; until then nothing more is saved on the old base.
                pending.set(true);
                status.set(Status::Saved(version));
                said.set(Some((map_id.get_value(), version, cut_note.get_untracked())));
                reload.update(|r| *r += 1);
            }
            (Ok(MapSaveOutcome::Saved { version, .. }), Some(sent)) => {
                dirty.set(doc.with_untracked(|now| *now != sent));
                origin.set_value(sent);
                errors.set(Vec::new());
                base.set(version);
                saved_at.set(client_now());
                saved_by.set(me.get_value());
                note.set(String::new());
                status.set(Status::Saved(version));
                history_epoch.update(|e| *e += 1);
            }
            (Ok(MapSaveOutcome::Invalid { errors: errs }), _) => {
                let unplaced = errs
                    .iter()
                    .filter(|e| !e.field.starts_with(&format!("{list}[")))
                    .map(|e| format!("{}: {}", e.field, problem_text(loc, &e.problem)))
                    .collect();
                status.set(Status::Invalid(errs.len(), unplaced));
                errors.set(errs);
            }
            (Ok(MapSaveOutcome::Conflict { current, author }), _) => status.set(Status::Conflict { current, author }),
            // The message names the line and column already, in the reader's language.
            (Ok(MapSaveOutcome::BadCsv { message, .. }), _) => status.set(Status::BadCsv(format!("CSV: {message}"))),
            (Err(err), _) => status.set(Status::Failed(err.message(loc))),
        }
    };
    // What changed since the base version (one edited row of a 1,000-row
    // map is ~0.4 kB, the whole map ~420 kB); the whole map when its rows
    // cannot be told apart by id.
    // Stages deleted take along the links other maps hold to them: the
    // server cuts those in the save's commit (`api::maps::holders`) and
    // names the maps, which the banner says.
    let save = Action::new(move |_: &()| {
        let (id, title, note, base) = (map_id.get_value(), title.get_untracked(), note.get_untracked(), base.get_untracked());
        // Never a save of stand-in rows (the button and Ctrl+S wait too).
        let whole = complete.get_untracked();
        let sent = doc.get_untracked();
        let changes = origin.with_value(|o| comops_core::map::changes::changes(list, o, &sent));
        cut_note.set(None);
        async move {
            if !whole {
                pending.set(false);
                return;
            }
            let result = match changes {
                Some(changes) => save_map_changes(id, title, changes.to_string(), note, base).await,
                None => save_map(id, title, sent.to_string(), note, base).await,
            };
            if status.is_disposed() {
                return;
            }
            outcome(result, Some(sent))
        }
    });
    // Keep my edits: put them onto the current version, show what changed meanwhile.
    let keep_mine = Action::new(move |_: &()| {
        let call = load_map(map_id.get_value(), 0);
        async move {
            match call.await {
                Ok(theirs) => {
                    let theirs_value = parse_content(&theirs.content);
                    let merged = origin.with_value(|o| doc.with_untracked(|mine| model::rebase(list, o, mine, &theirs_value)));
                    let from = base.get_untracked();
                    doc.set(merged);
                    origin.set_value(theirs_value);
                    base.set(theirs.version);
                    dirty.set(true);
                    errors.set(Vec::new());
                    epoch.update(|e| *e += 1);
                    status.set(Status::Rebased { from, to: theirs.version });
                }
                Err(err) => status.set(Status::Failed(err.message(locale.get_untracked()))),
            }
        }
    });

    // The rest of a long map: the same version, put in place of the stand-ins.
    if !complete.get_untracked() {
        let (id, wanted) = (map.id.clone(), map.version);
        Effect::new(move |_| {
            whole_after_paint(id.clone(), wanted, move || !doc.is_disposed(), move |answer| match answer {
                Ok(whole) => {
                    let value = parse_content(&whole.content);
                    origin.set_value(value.clone());
                    doc.set(value);
                    epoch.update(|e| *e += 1);
                    complete.set(true);
                    crate::components::mark("comops:map-complete");
                }
                Err(err) => status.set(Status::Incomplete(err.message(locale.get_untracked()))),
            })
        });
    }

    let banner = move || {
        let loc = locale.get();
        match status.get() {
            Status::None => ().into_any(),
            Status::Saved(v) => view! {
                <p class="text-sm text-emerald-700" role="status" data-testid="saved">
                    {t1(loc, K::MapSavedAs, v)}
                    {move || cut_note.get().map(|also| view! { " "<span data-testid="saved-links-cut">{also}</span> })}
                </p>
            }
            .into_any(),
            Status::Invalid(n, unplaced) => view! {
                <div role="alert" class="rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="invalid">
                    <p>{t1(loc, K::MapProblems, n)}</p>
                    {unplaced.into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
                    {move || {
                        // The rows with problems, also those a long map has not rendered.
                        let rows = errors.with(|errs| model::problem_rows(list, errs.iter().map(|e| e.field.as_str())));
                        (!rows.is_empty()).then(|| view! {
                            <p class="mt-1 flex flex-wrap items-center gap-1" data-testid="problem-rows">
                                <span>{l(K::MapGoToProblem)}</span>
                                {rows.into_iter().take(MAX_GOTO).map(|i| view! {
                                    <button type="button" class="rounded border border-rose-300 bg-white px-1.5 text-xs hover:bg-rose-100"
                                        data-testid="goto-problem" data-row-index=i on:click=move |_| goto.set(Some(i))>{i + 1}</button>
                                }).collect_view()}
                            </p>
                        })
                    }}
                </div>
            }
            .into_any(),
            Status::Conflict { current, author } => view! {
                <div role="alert" class="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="conflict">
                    <p>{t1(loc, K::MapConflict, author)}" "{t1(loc, K::MapConflictCurrent, current)}</p>
                    <div class="mt-2 flex flex-wrap gap-2">
                        <Show when=move || confirm_reload.get() fallback=move || view! {
                            <button class=BUTTON data-testid="conflict-reload" on:click=move |_| confirm_reload.set(true)>{l(K::MapReload)}</button>
                        }>
                            <span>{l(K::MapReloadConfirm)}</span>
                            <button class=BUTTON data-testid="confirm-reload" on:click=move |_| reload.update(|r| *r += 1)>{l(K::MapReload)}</button>
                            <button class=BUTTON on:click=move |_| confirm_reload.set(false)>{l(K::Cancel)}</button>
                        </Show>
                        <button class=BUTTON data-testid="conflict-keep" on:click=move |_| { keep_mine.dispatch(()); }>{l(K::MapKeepMine)}</button>
                    </div>
                </div>
            }
            .into_any(),
            Status::Rebased { from, to } => view! {
                <div role="status" class="rounded border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900" data-testid="rebased">
                    <p>{t1(loc, K::MapRebased, to)}</p>
                    <DiffView map_id=map_id.get_value() from to/>
                </div>
            }
            .into_any(),
            Status::Incomplete(m) => view! {
                <div role="alert" class="rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="incomplete">
                    <p>{t(loc, K::MapIncomplete)}" "{m}</p>
                    <button class=BUTTON data-testid="incomplete-reload" on:click=move |_| reload.update(|r| *r += 1)>{l(K::MapIncompleteRetry)}</button>
                </div>
            }
            .into_any(),
            Status::BadCsv(m) | Status::Failed(m) => view! {
                <p role="alert" class="rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="save-error">{m}</p>
            }
            .into_any(),
        }
    };
    let back = format!("/maps?project={}", map.project_id);
    let current_href = format!("/maps/{}", map.id);
    let header_field = match kind {
        MapKind::Cjm | MapKind::Blueprint => Some(("persona", K::MapPersona)),
        MapKind::Communication => Some(("process", K::MapProcess)),
        MapKind::Integration => None,
    };
    let header = header_field.map(|(field, label)| {
        let value = move || doc.with(|d| crate::components::editable_table::cell_text(d, field));
        view! {
            <label class="mb-2 flex items-center gap-2 text-sm">
                <span class="text-slate-600">{l(label)}</span>
                <input class="grow rounded border border-slate-300 px-2 py-1 text-sm disabled:bg-slate-50"
                    disabled=move || !editable || !complete.get() data-testid="map-header"
                    value=untrack(value) prop:value=value on:input=move |ev| {
                        let v = event_target_value(&ev);
                        doc.update(|d| crate::components::editable_table::set_path(d, field, Value::String(v)));
                        dirty.set(true);
                    }/>
            </label>
        }
    });
    if matches!(kind, MapKind::Communication | MapKind::Integration) {
        provide_context(TriggerContext {
            endpoints: RwSignal::new(endpoints).into(),
            can_bind: editable && can(Permission::DesignIntegrations),
        });
    }
    provide_context(LinkTargets(StoredValue::new(targets)));
    let columns = model::columns(kind, locale.get_untracked());
    let labels = Callback::new(move |locale| model::columns(kind, locale).into_iter().map(|c| c.label).collect());
    let new_row = Callback::new(move |_: ()| doc.with_untracked(|d| model::new_row(kind, d)));
    crate::components::mark("comops:map-editor-set-up");

    view! {
        <div class="mb-3 flex flex-wrap items-baseline justify-between gap-3">
            <div class="min-w-0">
                <a class="text-xs text-sky-800 hover:underline" href=back>{l(K::MapAllMaps)}</a>
                <h1 class="text-xl font-semibold" data-testid="map-title">{move || title.get()}</h1>
                <p class="text-xs text-slate-500">
                    {l(model::kind_label(kind))}" · "<span data-testid="map-version">{move || format!("v{}", if old { shown } else { base.get() })}</span>
                    " · "<span data-testid="map-saved-at">{move || format_millis(saved_at.get())}</span>" · "
                    <span data-testid="map-author">{move || saved_by.get()}</span>
                </p>
            </div>
            <div class="flex flex-wrap items-baseline gap-2">
                {old.then(|| view! {
                    <p class="rounded bg-amber-50 px-2 py-1 text-sm text-amber-900" data-testid="old-version">
                        {l(K::MapOldVersion)}" "<a class="text-sky-800 hover:underline" href=current_href>{l(K::MapBackToCurrent)}</a>
                    </p>
                })}
                <button type="button" class=BUTTON data-testid="history-toggle" aria-controls="map-history"
                    aria-expanded=move || history_open.get().to_string() on:click=toggle_history>
                    {l(K::MapHistory)}
                </button>
            </div>
        </div>
        <div class="flex flex-col gap-4 xl:flex-row" on:keydown=move |ev| {
            // Ctrl+S / Cmd+S saves (with the note typed so far), under a
            // Russian layout too.
            // Not with Alt: AltGr (Ctrl+Alt on Windows) types letters such as «ś».
            let s = crate::components::shortcut_key(&ev.key(), &ev.code()) == "s" && !ev.alt_key();
            if editable && (ev.ctrl_key() || ev.meta_key()) && s {
                // Never the browser's "save page", also while a save is
                // on its way or the map's rest is (then nothing is saved).
                ev.prevent_default();
                if !pending.get_untracked() && complete.get_untracked() {
                    pending.set(true);
                    save.dispatch(());
                }
            }
        }>
            <div class="min-w-0 grow">
                {editable.then(|| view! {
                    <form class="mb-3 flex flex-wrap items-end gap-2" data-testid="save-form" on:submit=move |ev| {
                        ev.prevent_default();
                        pending.set(true);
                        save.dispatch(());
                    }>
                        <label class="flex flex-col gap-1">
                            <span class="text-xs text-slate-600">{l(K::MapTitle)}</span>
                            <input class=INPUT name="title" value=title.get_untracked() bind:value=title/>
                        </label>
                        <label class="flex grow flex-col gap-1">
                            <span class="text-xs text-slate-600">{l(K::MapNote)}</span>
                            <input class=INPUT name="note" data-testid="change-note" bind:value=note/>
                        </label>
                        <button type="submit" class=PRIMARY data-testid="save-map" disabled=move || pending.get() || !complete.get()>{l(K::Save)}</button>
                        <Show when=move || dirty.get()>
                            <span class="text-xs text-amber-700" data-testid="unsaved">{l(K::ScnUnsaved)}</span>
                        </Show>
                    </form>
                })}
                <div class="mb-3">{banner}</div>
                // Held while a long map's rows after the first are on their way.
                <div data-testid="map-body" inert=move || !complete.get() aria-busy=move || (!complete.get()).then_some("true")>
                    {header}
                    {(kind == MapKind::Cjm).then(|| view! { <EmotionCurve doc/> })}
                    {(kind == MapKind::Blueprint).then(|| view! { <super::blueprint::BlueprintGrid doc dirty editable/> })}
                    <EditableTable doc list columns editable epoch dirty errors=messages new_row focus goto labels held=Signal::derive(move || !complete.get())/>
                </div>
                <CsvPanel map_id=map_id.get_value() editable base note on_outcome=Callback::new(move |r| outcome(r, None))/>
            </div>
            <Show when=move || history_open.get()>
                <aside id="map-history" class="xl:w-96 shrink-0">
                    <Show when=move || history_shown.get()>
                        <MapHistory map_id=map_id.get_value() old editable=can(Permission::EditMaps) base history_epoch
                            on_outcome=Callback::new(move |r| outcome(r, None))/>
                    </Show>
                </aside>
            </Show>
        </div>
    }
}

/// CSV export (into a text box to copy) and import (replaces the rows).
#[component]
fn CsvPanel(
    map_id: String,
    editable: bool,
    base: RwSignal<i64>,
    note: RwSignal<String>,
    on_outcome: Callback<Result<MapSaveOutcome, crate::error::AppError>>,
) -> impl IntoView {
    let map_id = StoredValue::new(map_id);
    let text = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let locale = use_locale();
    let export = Action::new(move |_: &()| {
        let call = export_map_csv(map_id.get_value(), 0);
        async move {
            match call.await {
                Ok(csv) => text.set(csv.trim_start_matches('\u{feff}').to_string()),
                Err(err) => text.set(err.message(locale.get_untracked())),
            }
        }
    });
    let import = Action::new(move |_: &()| {
        let call = import_map_csv(map_id.get_value(), text.get_untracked(), note.get_untracked(), base.get_untracked());
        async move { on_outcome.run(call.await) }
    });
    view! {
        <section class="mt-4 rounded border border-slate-200 bg-white p-3" data-testid="csv-panel">
            <div class="flex flex-wrap gap-2">
                <button class=BUTTON data-testid="csv-export" on:click=move |_| {
                    open.set(true);
                    export.dispatch(());
                }>{l(K::MapCsvExport)}</button>
                {editable.then(|| view! {
                    <button class=BUTTON data-testid="csv-open-import" on:click=move |_| open.set(true)>{l(K::MapCsvImport)}"…"</button>
                })}
            </div>
            <Show when=move || open.get()>
                // Only those who may import are told to paste.
                {editable.then(|| view! { <p class="mt-2 text-xs text-slate-500">{l(K::MapCsvHint)}</p> })}
                <textarea class="mt-1 h-40 w-full rounded border border-slate-300 p-2 font-mono text-xs" data-testid="csv-text"
                    readonly=!editable bind:value=text></textarea>
                {editable.then(|| view! {
                    <button class=BUTTON data-testid="csv-import" on:click=move |_| { import.dispatch(()); }>{l(K::MapCsvImport)}</button>
                })}
            </Show>
        </section>
    }
}

/// Calls `then` with version `version` of map `id`, whole, asked for once
/// the frame being drawn is painted (a task queued from a frame's
/// callbacks runs after that frame's paint), so taking it in does not
/// hold up that frame. Neither asked for nor answered once `alive` says
/// the editor is gone (the page left, or reloaded).
fn whole_after_paint(
    id: String,
    version: i64,
    alive: impl Fn() -> bool + Copy + 'static,
    then: impl FnOnce(Result<LoadedMap, crate::error::AppError>) + 'static,
) {
    crate::components::after_paint(move || {
        if !alive() {
            return;
        }
        leptos::task::spawn_local(async move {
            let answer = load_map(id, version).await;
            if alive() {
                then(answer);
            }
        });
    });
}

/// The content's JSON text as a value (`from_slice`, like server_fn's
/// decoder: one copy of the parser in the bundle).
fn parse_content(text: &str) -> Value {
    serde_json::from_slice(text.as_bytes()).unwrap_or(Value::Null)
}

/// The browser's clock, in Unix milliseconds (the server's is not at hand
/// when a save answers; the next load shows the stored time).
fn client_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

