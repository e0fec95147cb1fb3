//! One table that edits any map in place: CJM stages, communication-map
//! rows, blueprint stages (a lane per column) and integration points.
//!
//! The map is held as its JSON value (`doc`), the same text the server
//! parses on save, so one component serves every kind: a [`Column`] names
//! a dotted path inside a row (`front_stage.text`). Cells read the value
//! once per `epoch` (bumped on reload, on add/move/delete and when a long
//! map's rows after the first come in), not on every
//! keystroke, so typing in a 1,000-row map does not re-render the table.
//! Where a row is (its index by id, [`RowIndex`]) is worked out once per
//! `epoch` for the whole table: each of a 1,000-row map's 9,000 cells
//! scanning the rows for its own made opening and saving quadratic.
//! Problems from the server (`stages[3].goal`) show under their cell; a
//! row's other problems (its id) at the row's end.

use crate::api::maps::BindableEndpoint;
use crate::components::find_bar::FindBar;
use crate::components::l;
use crate::components::row_window::{self, RowHeights};
use crate::components::table_find::Hit;
use crate::i18n::K;
use leptos::prelude::*;
use serde_json::Value;

/// How a column's cells are shown and edited.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ColKind {
    Text,
    /// An integer from -2 to 2 (the CJM's emotion score).
    Score,
    /// A communication row's API trigger: the bound endpoint, read-only.
    Trigger,
    /// An integration point's endpoint: its alias (typed while no bot is
    /// bound: a planned endpoint) and the live endpoint it is bound to.
    Endpoint,
    /// Links to items of the project's maps (`[{map, item}]`).
    Links(LinkKind),
    /// Shown, never edited here (bindings are the architect's).
    Fixed,
}

#[derive(Clone, Debug)]
pub struct Column {
    /// Dotted path inside a row.
    pub field: &'static str,
    pub label: String,
    pub kind: ColKind,
}

/// The value at a dotted `path` inside `v`.
pub fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

/// The text of the value at `path` ("" when absent).
pub fn cell_text(v: &Value, path: &str) -> String {
    match get_path(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Sets the value at a dotted `path`, creating objects on the way.
pub fn set_path(v: &mut Value, path: &str, new: Value) {
    let mut at = v;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !at.is_object() {
            *at = Value::Object(Default::default());
        }
        let Some(map) = at.as_object_mut() else { return };
        if keys.peek().is_none() {
            map.insert(key.to_string(), new);
            return;
        }
        at = map.entry(key.to_string()).or_insert(Value::Null);
    }
}

/// Where a row keeps its binding: a communication row in its `trigger`
/// (with the scenario), an integration point at its top level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BindingPaths {
    /// The bound bot's id.
    pub bot: &'static str,
    /// The endpoint's alias (a plan while no bot is bound).
    pub alias: &'static str,
    /// The scenario the binding starts (a communication row's only).
    pub scenario: Option<&'static str>,
}

impl BindingPaths {
    /// A communication row's.
    pub const TRIGGER: BindingPaths = BindingPaths { bot: "trigger.bot_id", alias: "trigger.alias", scenario: Some("trigger.scenario") };
    /// An integration point's.
    pub const POINT: BindingPaths = BindingPaths { bot: "bot_id", alias: "alias", scenario: None };
}

/// Binds an integration point to `endpoint` (its bot and alias), or
/// unbinds it (`None`: the bot cleared, the alias kept as the planned
/// endpoint's).
pub fn set_point(row: &mut Value, endpoint: Option<&BindableEndpoint>) {
    match endpoint {
        Some(e) => {
            set_path(row, "bot_id", Value::String(e.bot_id.clone()));
            set_path(row, "alias", Value::String(e.alias.clone()));
        }
        None => set_path(row, "bot_id", Value::Null),
    }
}

/// Binds a communication row's API trigger to `endpoint` (its bot and
/// alias, and its scenario when it has one), or unbinds it (`None`: bot
/// and alias cleared, the scenario kept). The one place that says what a
/// binding writes: the trigger cell's picker and the ComOps loop's drag
/// both use it.
pub fn set_trigger(row: &mut Value, endpoint: Option<&BindableEndpoint>) {
    match endpoint {
        Some(e) => {
            set_path(row, "trigger.bot_id", Value::String(e.bot_id.clone()));
            set_path(row, "trigger.alias", Value::String(e.alias.clone()));
            if !e.scenario.is_empty() {
                set_path(row, "trigger.scenario", Value::String(e.scenario.clone()));
            }
        }
        None => {
            set_path(row, "trigger.bot_id", Value::Null);
            set_path(row, "trigger.alias", Value::Null);
        }
    }
}

/// The rows of `list` in the map.
pub fn rows<'a>(doc: &'a Value, list: &str) -> &'a [Value] {
    doc.get(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn row_id(row: &Value) -> String {
    row.get("id").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Each row's index in the list, by id: one look-up per cell instead of a
/// scan of the rows.
#[derive(Clone, Default, PartialEq, Debug)]
pub struct RowIndex(std::collections::HashMap<String, usize>);

impl RowIndex {
    /// The index of every row of `list` in `doc` (the first, should two share an id).
    pub fn of(doc: &Value, list: &str) -> Self {
        let mut index = std::collections::HashMap::new();
        for (i, row) in rows(doc, list).iter().enumerate() {
            index.entry(row_id(row)).or_insert(i);
        }
        Self(index)
    }

    /// Where the row `id` is.
    pub fn get(&self, id: &str) -> Option<usize> {
        self.0.get(id).copied()
    }
}

fn position(doc: &Value, list: &str, id: &str) -> Option<usize> {
    rows(doc, list).iter().position(|r| row_id(r) == id)
}

fn with_rows(doc: RwSignal<Value>, list: &'static str, f: impl FnOnce(&mut Vec<Value>)) {
    doc.update(|d| {
        if !d.get(list).is_some_and(Value::is_array) {
            set_path(d, list, Value::Array(Vec::new()));
        }
        if let Some(Value::Array(rows)) = d.get_mut(list) {
            f(rows);
        }
    });
}

/// A fresh id for a new row: `{prefix}-{n}`, unused in the map.
pub fn fresh_id(doc: &Value, list: &str, prefix: &str) -> String {
    let taken: Vec<String> = rows(doc, list).iter().map(row_id).collect();
    (taken.len() + 1..).map(|n| format!("{prefix}-{n}")).find(|id| !taken.contains(id)).unwrap_or_default()
}

// A cell's text box: its look is `.map-cell` in style/main.css (grows with
// its text, scrolls past 12rem), one short class instead of a dozen
// utilities on each of a 1,000-row map's 7,000 textareas (half the HTML).
const CELL: &str = "map-cell";
const ICON: &str = "rounded px-1 text-slate-500 hover:bg-slate-200 hover:text-slate-900 disabled:opacity-30";

/// The editable (or, for viewers, read-only) table of a map's rows.
/// `errors` are (path, message) pairs; `new_row` builds the row "add" appends.
/// A long map renders only the rows near the screen (`row_window`); the
/// arrow keys walk a column from row to row, scrolling the next row in.
#[component]
pub fn EditableTable(
    doc: RwSignal<Value>,
    list: &'static str,
    columns: Vec<Column>,
    editable: bool,
    epoch: RwSignal<u32>,
    dirty: RwSignal<bool>,
    #[prop(into)] errors: Signal<Vec<(String, String)>>,
    new_row: Callback<(), Value>,
    /// The id of the row to open at (`/maps/{id}?row=r1`): scrolled into
    /// view, highlighted and focused.
    focus: Option<String>,
    /// Set to a row's index to scroll it in (rendering it if the window
    /// is elsewhere) and focus it.
    #[prop(optional)]
    goto: Option<RwSignal<Option<usize>>>,
    /// While true the table is held (a long map's rows after the first are
    /// on their way, and it is inert): Ctrl+F leaves the browser's find be.
    #[prop(optional, into)]
    held: Option<Signal<bool>>,
    /// The column headers in a language, so they follow a switch of the
    /// page's language (else `columns`' labels, as given).
    #[prop(optional)]
    labels: Option<Callback<comops_core::Locale, Vec<String>>>,
) -> impl IntoView {
    crate::components::mark("comops:map-table");
    let columns = StoredValue::new(columns);
    // Rows move only with the epoch; cells find theirs here.
    let index = Memo::new(move |_| {
        epoch.track();
        doc.with_untracked(|d| RowIndex::of(d, list))
    });
    let ids = Memo::new(move |_| {
        epoch.track();
        doc.with_untracked(|d| rows(d, list).iter().map(row_id).collect::<Vec<_>>())
    });
    let focus_at = focus.as_deref().and_then(|f| index.with_untracked(|ix| ix.get(f)));
    let focus = StoredValue::new(focus);
    // The open-at row is revealed once, not again whenever it scrolls back in.
    let revealed = StoredValue::new(false);
    let window = Window::new(ids, focus_at);
    // The rows' texts changed under the same ids (a long map's rest came
    // in, or a reload): measure them again.
    Effect::new(move |seen: Option<()>| {
        epoch.track();
        if seen.is_some() {
            window.schedule();
        }
    });
    let shown = move || {
        let range = window.range.get();
        let whole = !window.on();
        ids.with(|ids| {
            if whole {
                return ids.clone();
            }
            let end = range.end.min(ids.len());
            ids[range.start.min(end)..end].to_vec()
        })
    };
    if let Some(i) = focus_at {
        // Once the table is on the page (after the map loads).
        Effect::new(move |_| {
            if window.body.get().is_some() && !revealed.get_value() {
                revealed.set_value(true);
                request_animation_frame(move || window.reveal(i));
            }
        });
    }
    if let Some(goto) = goto {
        Effect::new(move |_| {
            if let Some(i) = goto.get() {
                window.reveal(i);
                #[cfg(feature = "hydrate")]
                focus_problem(window, i);
            }
        });
    }
    // Find in map: the hit shown (its cell outlined), the cells searched.
    let found = RwSignal::new(None::<Hit>);
    let searched: Vec<&'static str> = columns.with_value(|cols| {
        cols.iter()
            .flat_map(|c| match c.kind {
                ColKind::Text | ColKind::Fixed => vec![c.field],
                ColKind::Trigger => vec!["trigger.alias", "trigger.scenario"],
                ColKind::Endpoint => vec!["alias"],
                ColKind::Links(_) => vec![],
                ColKind::Score => vec![],
            })
            .collect()
    });
    let show_hit = Callback::new(move |hit: Hit| window.show(hit.row));
    let caret_to_hit = Callback::new(move |hit: Hit| {
        #[cfg(feature = "hydrate")]
        select_hit(window, &hit);
        #[cfg(not(feature = "hydrate"))]
        let _ = hit;
    });
    let add = move |_| {
        let row = new_row.run(());
        with_rows(doc, list, |rows| rows.push(row));
        dirty.set(true);
        epoch.update(|e| *e += 1);
    };
    let column_count = columns.with_value(Vec::len);
    let locale = crate::i18n::use_locale();
    let headers = move || {
        let named = labels.map(|labels| labels.run(locale.get()));
        columns.with_value(|cols| {
            cols.iter()
                .enumerate()
                .map(|(i, c)| {
                    let label = named.as_ref().and_then(|n| n.get(i).cloned()).unwrap_or_else(|| c.label.clone());
                    view! { <th class="px-2 py-1.5 font-medium">{label}</th> }
                })
                .collect_view()
        })
    };
    let span = column_count + 2;
    let spacer = move |px: Signal<f64>| {
        view! {
            <Show when=move || window.on()>
                <tr data-spacer="" aria-hidden="true"><td colspan=span style=move || format!("height: {:.0}px", px.get())></td></tr>
            </Show>
        }
    };
    // The text a cell had when it took the focus, for Escape to put back.
    let before_edit = StoredValue::new(None::<String>);
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        if !revert_on_escape(&ev, before_edit, doc, list, index) {
            walk(ev, window, ids, index)
        }
    };
    let focused = move |ev: leptos::ev::FocusEvent| note_text_before_edit(&ev, before_edit);
    // Effects run once the view is in the page: the rows are drawn by then.
    Effect::new(move |_| crate::components::mark("comops:map-rows-mounted"));
    view! {
        <FindBar doc list fields=searched current=found show=show_hit done=caret_to_hit held=held.unwrap_or(Signal::stored(false))/>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            // Fixed layout (style/main.css): widths come from this header
            // row, and the table is wide enough for every text column.
            <table class="w-full text-left text-sm" data-testid="map-table" data-rows=move || ids.with(Vec::len)
                style=format!("min-width: {}rem", 4 + 12 * column_count + if editable { 6 } else { 2 })>
                <thead class="bg-slate-50 text-xs text-slate-500">
                    <tr>
                        <th class="px-2 py-1.5 w-10">"#"</th>
                        {headers}
                        // The row buttons stay in view at the right edge
                        // when the table is wider than the page (RU).
                        <th class=if editable { "sticky right-0 bg-slate-50 px-2 py-1.5 w-24" } else { "px-2 py-1.5 w-8" }></th>
                    </tr>
                </thead>
                <tbody node_ref=window.body on:keydown=keys on:focusin=focused>
                    {spacer(window.above)}
                    <For each=shown key=|id| id.clone() let:id>
                        <TableRow id doc list columns editable epoch index dirty errors focus found/>
                    </For>
                    {spacer(window.below)}
                </tbody>
            </table>
        </div>
        {editable.then(|| view! {
            <button type="button" class="mt-2 rounded border border-slate-300 px-2.5 py-1 text-sm hover:bg-slate-100" data-testid="add-row" on:click=add>
                {l(K::MapAddRow)}
            </button>
        })}
    }
}

/// The rows of the table in the page and the spacers' heights, moved as
/// the page scrolls and as rows are added, moved or deleted.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Window {
    ids: Memo<Vec<String>>,
    range: RwSignal<std::ops::Range<usize>>,
    above: Signal<f64>,
    below: Signal<f64>,
    heights: RwSignal<RowHeights>,
    body: NodeRef<leptos::html::Tbody>,
    /// A row the arrow keys moved to before it was rendered: (index, field).
    pending: StoredValue<Option<(usize, String)>>,
    scheduled: StoredValue<bool>,
    /// Set until the open-at row (`?row=`) is revealed: the window stays
    /// where the server put it, around that row, until then.
    holding: StoredValue<bool>,
    /// The page is being printed: every row is drawn, so the paper has the
    /// whole map.
    printing: RwSignal<bool>,
    /// Set until the first rows are painted when the browser built them
    /// itself: the first fit (and the overscan it adds) waits for that
    /// paint instead of joining its frame.
    unpainted: StoredValue<bool>,
}

/// The browser window's inner height in CSS pixels, when there is one.
fn screen_height() -> Option<f64> {
    #[cfg(feature = "hydrate")]
    return leptos::web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64());
    #[cfg(not(feature = "hydrate"))]
    None
}

impl Window {
    fn new(ids: Memo<Vec<String>>, focus_at: Option<usize>) -> Self {
        // The server renders a tall screen's worth, and hydration must
        // find the same rows; a browser opening a map itself builds only
        // what its screen shows, and the overscan after the first paint.
        // Opening at a row (`?row=`) keeps the server's window: the row
        // is revealed mid-screen, with rows above it too.
        let here = super::built_in_browser() && focus_at.is_none();
        let rows = ids.with_untracked(Vec::len);
        let first = if here { row_window::first_of(rows, None, row_window::screen_rows(screen_height())) } else { row_window::first(rows, focus_at) };
        let range = RwSignal::new(first);
        let heights = RwSignal::new(RowHeights::default());
        let above = Signal::derive(move || {
            let r = range.get();
            heights.with(|h| ids.with(|ids| h.sum(ids, 0..r.start)))
        });
        let below = Signal::derive(move || {
            let r = range.get();
            heights.with(|h| ids.with(|ids| h.sum(ids, r.end..ids.len())))
        });
        let window = Self {
            ids,
            range,
            above,
            below,
            heights,
            body: NodeRef::new(),
            pending: StoredValue::new(None),
            scheduled: StoredValue::new(false),
            holding: StoredValue::new(focus_at.is_some()),
            printing: RwSignal::new(false),
            unpainted: StoredValue::new(here),
        };
        // Rows added or deleted: keep the window inside the table (a
        // small map renders whole).
        Effect::new(move |_| {
            let n = ids.with(Vec::len);
            let fitted = row_window::clamp(range.get_untracked(), n);
            if fitted != range.get_untracked() {
                range.set(fitted);
            }
            window.schedule();
        });
        #[cfg(feature = "hydrate")]
        {
            let scrolled = window_event_listener(leptos::ev::scroll, move |_| window.schedule());
            let resized = window_event_listener(leptos::ev::resize, move |_| window.schedule());
            let print = window_event_listener_untyped("beforeprint", move |_| window.printing.set(true));
            let printed = window_event_listener_untyped("afterprint", move |_| {
                window.printing.set(false);
                window.schedule();
            });
            // The browser's scroll anchoring off while windowed (fit keeps
            // the screen still itself): `map-windowed` in style/main.css.
            Effect::new(move |_| set_windowed_class(window.on()));
            on_cleanup(move || {
                set_windowed_class(false);
                scrolled.remove();
                resized.remove();
                print.remove();
                printed.remove();
            });
        }
        window
    }

    /// Whether the table is windowed (spacers shown): a long map, not
    /// being printed.
    fn on(&self) -> bool {
        !self.printing.get() && self.ids.with(|ids| row_window::windowed(ids.len()))
    }

    /// Fits the window to the screen at the next frame (once per frame).
    fn schedule(self) {
        if !self.on() || self.scheduled.get_value() {
            return;
        }
        self.scheduled.set_value(true);
        request_animation_frame(move || {
            // The table may be gone by now (the page left in between).
            if self.body.is_disposed() {
                return;
            }
            if self.unpainted.get_value() {
                // This frame paints the first rows: they fill the screen
                // now, the overscan comes after the paint (a task queued
                // from a frame's callbacks runs after its paint).
                self.unpainted.set_value(false);
                self.fit_to(0);
                set_timeout(
                    move || {
                        if self.body.is_disposed() {
                            return;
                        }
                        self.scheduled.set_value(false);
                        self.fit();
                    },
                    std::time::Duration::ZERO,
                );
                return;
            }
            self.scheduled.set_value(false);
            self.fit();
        });
    }

    /// Measures the rendered rows and moves the window to the screen.
    fn fit(self) {
        self.fit_to(row_window::OVERSCAN);
    }

    /// [`Window::fit`] with `overscan` rows beyond the screen's edges;
    /// without any (the first rows a browser built itself, before their
    /// paint), the window only grows to fill the screen.
    fn fit_to(self, overscan: usize) {
        #[cfg(not(feature = "hydrate"))]
        let _ = overscan;
        #[cfg(feature = "hydrate")]
        {
            let Some(body) = self.body.get_untracked() else { return };
            if !self.on() || self.holding.get_value() {
                return;
            }
            let changed: Vec<(String, f64)> = rendered_rows(&body).filter_map(|tr| Some((tr.get_attribute("data-row")?, f64::from(tr.offset_height())))).collect();
            if self.heights.with_untracked(|h| changed.iter().any(|(id, px)| (h.of(id) - px).abs() >= 0.5)) {
                // New heights (and a new mean for the rows not seen) change
                // the spacer above: scroll by as much, so what is on screen
                // stays put (style/main.css turns the browser's own scroll
                // anchoring off for long maps).
                let range = self.range.get_untracked();
                let spacers = move || self.heights.with_untracked(|h| self.ids.with_untracked(|ids| (h.sum(ids, 0..range.start), h.sum(ids, range.end..ids.len()))));
                let (above, _) = spacers();
                self.heights.update(|h| {
                    for (id, px) in &changed {
                        h.measured(id, *px);
                    }
                });
                let (above_now, below_now) = spacers();
                // The signals redraw the spacers after this task; the scroll needs them now.
                set_spacer(body.first_element_child(), above_now);
                set_spacer(body.last_element_child(), below_now);
                if (above_now - above).abs() >= 0.5 {
                    if let Some(w) = leptos::web_sys::window() {
                        w.scroll_by_with_x_and_y(0.0, above_now - above);
                    }
                }
            }
            let top = -body.get_bounding_client_rect().top();
            let screen = leptos::web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0);
            let next = self.heights.with_untracked(|h| self.ids.with_untracked(|ids| row_window::around_with(ids, h, top, top + screen, overscan)));
            let now = self.range.get_untracked();
            // Grown to the screen, or (a table built again while the page
            // is scrolled far down: a restore, an import) moved to it.
            let next = if overscan > 0 || next.start > now.end || now.start > next.end { next } else { now.start.min(next.start)..now.end.max(next.end) };
            if next != now {
                self.range.set(next);
                if overscan > 0 {
                    self.schedule();
                }
            }
        }
    }

    /// Scrolls the open-at row `i` to mid-screen, highlighted (by its
    /// row) and focused, then lets the window follow the screen.
    fn reveal(self, i: usize) {
        #[cfg(feature = "hydrate")]
        self.then(i, reveal);
        #[cfg(not(feature = "hydrate"))]
        let _ = i;
    }

    /// Scrolls row `i` to mid-screen unless all of it is on screen, without
    /// taking the focus (the find bar keeps it).
    fn show(self, i: usize) {
        #[cfg(feature = "hydrate")]
        self.then(i, |tr| {
            if !on_screen(tr) {
                center(tr);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = i;
    }

    /// Calls `f` with row `i`'s element, rendering the rows around it first
    /// (scrolled to mid-screen) if the window is elsewhere; then lets the
    /// window follow the screen.
    #[cfg(feature = "hydrate")]
    fn then(self, i: usize, f: fn(&leptos::web_sys::HtmlElement)) {
        self.holding.set_value(false);
        let Some(id) = self.ids.with_untracked(|ids| ids.get(i).cloned()) else { return };
        match row_of(self, &id) {
            Some(tr) => f(&tr),
            None => {
                self.bring(i);
                request_animation_frame(move || {
                    if let Some(tr) = row_of(self, &id) {
                        f(&tr);
                    }
                });
            }
        }
        self.schedule();
    }

    /// Scrolls row `i` to mid-screen and renders the rows around it.
    #[cfg(feature = "hydrate")]
    fn bring(self, i: usize) {
        {
            let Some(body) = self.body.get_untracked() else { return };
            let n = self.ids.with_untracked(Vec::len);
            let offset = self.heights.with_untracked(|h| self.ids.with_untracked(|ids| h.sum(ids, 0..i)));
            if let Some(w) = leptos::web_sys::window() {
                let screen = w.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(800.0);
                w.scroll_by_with_x_and_y(0.0, body.get_bounding_client_rect().top() + offset - screen / 2.0);
            }
            self.range.set(row_window::including(self.range.get_untracked(), i, n));
            self.fit();
        }
    }
}

/// Changes row `i` of the map's `list` with `change` (nothing if there is
/// no such row).
fn update_row(doc: RwSignal<Value>, list: &str, i: usize, change: impl FnOnce(&mut Value)) {
    doc.update(|d| {
        if let Some(row) = d.get_mut(list).and_then(Value::as_array_mut).and_then(|rows| rows.get_mut(i)) {
            change(row);
        }
    });
}

/// Notes a text cell's text as it takes the focus (one listener on the
/// table's body, not one per cell).
fn note_text_before_edit(ev: &leptos::ev::FocusEvent, before_edit: StoredValue<Option<String>>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let cell = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok());
        before_edit.set_value(cell.filter(|c| c.has_attribute("data-field")).map(|c| c.value()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, before_edit);
}

/// Escape in a text cell puts back the text it had when it took the focus
/// (in the cell and in the map's data) and leaves the cell; whether it was
/// Escape in a cell.
fn revert_on_escape(ev: &leptos::ev::KeyboardEvent, before_edit: StoredValue<Option<String>>, doc: RwSignal<Value>, list: &'static str, index: Memo<RowIndex>) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if ev.key() != "Escape" {
            return false;
        }
        let Some(cell) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok()).filter(|c| c.has_attribute("data-field")) else {
            return false;
        };
        if let Some(before) = before_edit.get_value().filter(|before| *before != cell.value()) {
            cell.set_value(&before);
            let field = cell.get_attribute("data-field").unwrap_or_default();
            let row = cell.closest("tr[data-row]").ok().flatten().and_then(|tr| tr.get_attribute("data-row"));
            if let Some(i) = row.and_then(|id| index.with_untracked(|ix| ix.get(&id))) {
                update_row(doc, list, i, |row| set_path(row, &field, Value::String(before)));
            }
        }
        let _ = cell.blur();
        true
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, before_edit, doc, list, index);
        false
    }
}

/// ArrowDown in a cell's last line (ArrowUp in its first), or Enter
/// anywhere in it, moves to the same column of the next (previous) row,
/// rendering and scrolling it in if it is outside the window (Shift+Enter
/// starts a new line in the cell). Keys pressed before that
/// row is drawn count from it, so a held key never loses a step.
fn walk(ev: leptos::ev::KeyboardEvent, window: Window, ids: Memo<Vec<String>>, index: Memo<RowIndex>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let (down, anywhere) = match ev.key().as_str() {
            "ArrowDown" => (true, false),
            "ArrowUp" => (false, false),
            "Enter" => (true, true),
            _ => return,
        };
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.shift_key() {
            // Shift+Enter: the browser's own new line in the cell.
            return;
        }
        let Some(cell) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok()) else { return };
        let Some(field) = cell.get_attribute("data-field") else { return };
        if anywhere {
            // Enter never breaks the line, even in the last row.
            ev.prevent_default();
        }
        let pending = window.pending.get_value().filter(|(_, f)| *f == field);
        if pending.is_none() && !anywhere && !caret_at_edge(&cell, down) {
            return;
        }
        let from = match pending {
            Some((i, _)) => Some(i),
            None => cell
                .closest("tr[data-row]")
                .ok()
                .flatten()
                .and_then(|tr| tr.get_attribute("data-row"))
                .and_then(|id| index.with_untracked(|ix| ix.get(&id))),
        };
        let Some(from) = from else { return };
        let n = ids.with_untracked(Vec::len);
        let to = if down { from + 1 } else { from.wrapping_sub(1) };
        if to >= n {
            return;
        }
        ev.prevent_default();
        let Some(id) = ids.with_untracked(|ids| ids.get(to).cloned()) else { return };
        if let Some(target) = cell_of(window, &id, &field) {
            window.pending.set_value(None);
            put_caret(&target, down);
            window.schedule();
            return;
        }
        window.pending.set_value(Some((to, field.clone())));
        window.bring(to);
        request_animation_frame(move || {
            let Some((i, field)) = window.pending.get_value() else { return };
            if i != to {
                // A later key moved on; its own frame focuses that row.
                return;
            }
            window.pending.set_value(None);
            if let Some(target) = cell_of(window, &id, &field) {
                put_caret(&target, down);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, window, ids, index);
}

/// Marks the page's root as showing a windowed table (or no longer).
#[cfg(feature = "hydrate")]
fn set_windowed_class(on: bool) {
    let Some(root) = leptos::web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else { return };
    let _ = root.class_list().toggle_with_force("map-windowed", on);
}

/// Sets a spacer row's height (`tr` is the body's first or last row).
#[cfg(feature = "hydrate")]
fn set_spacer(tr: Option<leptos::web_sys::Element>, px: f64) {
    let Some(td) = tr.filter(|tr| tr.has_attribute("data-spacer")).and_then(|tr| tr.first_element_child()) else { return };
    let _ = td.set_attribute("style", &format!("height: {px:.0}px"));
}

/// The map rows in the table's body (not the spacers), top to bottom.
#[cfg(feature = "hydrate")]
fn rendered_rows(body: &leptos::web_sys::HtmlElement) -> impl Iterator<Item = leptos::web_sys::HtmlElement> {
    use leptos::wasm_bindgen::JsCast;
    std::iter::successors(body.first_element_child(), |el| el.next_element_sibling())
        .filter(|el| el.has_attribute("data-row"))
        .filter_map(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
}

/// Row `id`'s element, when that row is rendered.
#[cfg(feature = "hydrate")]
fn row_of(window: Window, id: &str) -> Option<leptos::web_sys::HtmlElement> {
    let body = window.body.get_untracked()?;
    // Ids are the map's own text: compared, never put into a selector.
    rendered_rows(&body).find(|tr| tr.get_attribute("data-row").as_deref() == Some(id))
}

/// Focuses row `i`'s first cell with a problem, once the row is drawn
/// (after [`Window::reveal`] has brought it in), so it can be put right at
/// once; the row stays focused when no cell of it is marked.
#[cfg(feature = "hydrate")]
fn focus_problem(window: Window, i: usize) {
    use leptos::wasm_bindgen::JsCast;
    let Some(id) = window.ids.with_untracked(|ids| ids.get(i).cloned()) else { return };
    request_animation_frame(move || {
        request_animation_frame(move || {
            let cell = row_of(window, &id)
                .and_then(|tr| tr.query_selector("[aria-invalid=true]").ok().flatten())
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(cell) = cell {
                crate::components::focus_in_place(&cell);
            }
        })
    });
}

/// The text box of `field` (a column's path, from the code) in row `id`,
/// when that row is rendered.
#[cfg(feature = "hydrate")]
fn cell_of(window: Window, id: &str, field: &str) -> Option<leptos::web_sys::HtmlTextAreaElement> {
    use leptos::wasm_bindgen::JsCast;
    row_of(window, id)?
        .query_selector(&format!("textarea[data-field=\"{field}\"]"))
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok())
}

/// Whether the caret (no selection) is in the text's last line (`down`)
/// or its first: there the arrow leaves the cell.
#[cfg(feature = "hydrate")]
fn caret_at_edge(cell: &leptos::web_sys::HtmlTextAreaElement, down: bool) -> bool {
    let (Ok(Some(start)), Ok(Some(end))) = (cell.selection_start(), cell.selection_end()) else { return true };
    if start != end {
        return false;
    }
    // Selection offsets count UTF-16 units.
    let text: Vec<u16> = cell.value().encode_utf16().collect();
    let at = (start as usize).min(text.len());
    let newline = u16::from(b'\n');
    if down { !text[at..].contains(&newline) } else { !text[..at].contains(&newline) }
}

/// Focuses a cell arrived at by an arrow key: the caret in its first line
/// coming down, at its end coming up.
#[cfg(feature = "hydrate")]
fn put_caret(cell: &leptos::web_sys::HtmlTextAreaElement, down: bool) {
    let _ = cell.focus();
    let text: Vec<u16> = cell.value().encode_utf16().collect();
    let newline = u16::from(b'\n');
    let at = if down { text.iter().position(|c| *c == newline).unwrap_or(text.len()) } else { text.len() };
    let at = u32::try_from(at).unwrap_or(u32::MAX);
    let _ = cell.set_selection_range(at, at);
}

#[component]
fn TableRow(
    id: String,
    doc: RwSignal<Value>,
    list: &'static str,
    columns: StoredValue<Vec<Column>>,
    editable: bool,
    epoch: RwSignal<u32>,
    index: Memo<RowIndex>,
    dirty: RwSignal<bool>,
    errors: Signal<Vec<(String, String)>>,
    focus: StoredValue<Option<String>>,
    found: RwSignal<Option<Hit>>,
) -> impl IntoView {
    let focused = focus.with_value(|f| f.as_deref() == Some(id.as_str()));
    let id = StoredValue::new(id);
    let at = move || index.with(|ix| id.with_value(|id| ix.get(id)));
    // The path prefix of this row's problems (`rows[3].`), once per move.
    let prefix = Memo::new(move |_| at().map(|i| format!("{list}[{i}].")));
    let moved = move |up: bool| {
        let Some(i) = doc.with_untracked(|d| position(d, list, &id.get_value())) else { return };
        with_rows(doc, list, |rows| {
            let j = if up { i.checked_sub(1) } else { Some(i + 1) };
            if let Some(j) = j.filter(|j| *j < rows.len()) {
                rows.swap(i, j);
            }
        });
        dirty.set(true);
        epoch.update(|e| *e += 1);
    };
    let remove = move |_| {
        with_rows(doc, list, |rows| rows.retain(|r| row_id(r) != id.get_value()));
        dirty.set(true);
        epoch.update(|e| *e += 1);
    };
    let known: Vec<&'static str> = columns.with_value(|cols| cols.iter().map(|c| c.field.split('.').next().unwrap_or(c.field)).collect());
    // Problems of this row that belong to none of its cells.
    let row_errors = move || {
        if errors.with(Vec::is_empty) {
            return String::new();
        }
        let Some(p) = prefix.get() else { return String::new() };
        errors.with(|errs| {
            errs.iter()
                .filter(|(path, _)| path.starts_with(&p) && !known.iter().any(|f| path[p.len()..].starts_with(f)))
                .map(|(path, msg)| format!("{}: {msg}", &path[p.len()..]))
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    let fields: Vec<&'static str> = columns.with_value(|cols| cols.iter().map(|c| c.field).collect());
    let cells = columns.with_value(|cols| cols.iter().cloned().map(|col| view! { <TableCell id doc list col editable epoch index dirty/> }).collect_view());
    // The find bar's hit and the server's problems, marked on this row's
    // cells by one effect per row (see `mark_cells`).
    let tr = NodeRef::<leptos::html::Tr>::new();
    let marked = StoredValue::new(false);
    Effect::new(move |_| {
        let hit = found.with(|hit| hit.as_ref().filter(|h| Some(h.row) == at()).map(|h| h.field));
        let problems: Vec<(&'static str, String)> = match prefix.get() {
            Some(p) if !errors.with(Vec::is_empty) => errors.with(|errs| {
                fields
                    .iter()
                    .filter_map(|field| {
                        let head = field.split('.').next().unwrap_or(field);
                        errs.iter().find(|(path, _)| path.strip_prefix(p.as_str()).is_some_and(|rest| rest.starts_with(head))).map(|(_, m)| (*field, m.clone()))
                    })
                    .collect()
            }),
            _ => Vec::new(),
        };
        let marks = hit.is_some() || !problems.is_empty();
        // Nothing to mark and nothing marked: the usual case does no DOM work.
        if !marks && !marked.get_value() {
            return;
        }
        if let Some(tr) = tr.get() {
            mark_cells(&tr, hit, &problems);
            marked.set_value(marks);
        }
    });
    // The row's buttons, labelled in the page's language (one effect for
    // their six labels).
    let locale = crate::i18n::use_locale();
    let buttons = move || {
        let t = |key| crate::i18n::t(locale.get(), key);
        view! {
            <button type="button" class=ICON title=t(K::ScnMoveUp) aria-label=t(K::ScnMoveUp) data-testid="row-up" on:click=move |_| moved(true)>"↑"</button>
            <button type="button" class=ICON title=t(K::ScnMoveDown) aria-label=t(K::ScnMoveDown) data-testid="row-down" on:click=move |_| moved(false)>"↓"</button>
            <button type="button" class=ICON title=t(K::Delete) aria-label=t(K::Delete) data-testid="row-delete" on:click=remove>"×"</button>
        }
    };
    view! {
        <tr node_ref=tr data-row=id.get_value() data-focused=focused.then_some("true") tabindex=focused.then_some("-1")
            class=if focused { "border-t border-slate-100 align-top bg-amber-50 outline outline-2 -outline-offset-2 outline-amber-400" } else { "border-t border-slate-100 align-top hover:bg-slate-50" }>
            <td class="px-2 py-1 text-xs text-slate-400">{move || at().map(|i| i + 1)}</td>
            {cells}
            <td class=if editable { "sticky right-0 bg-white px-2 py-1 whitespace-nowrap text-right shadow-[-4px_0_4px_-4px_rgb(0_0_0/0.15)]" } else { "px-2 py-1 whitespace-nowrap text-right" }>
                {editable.then_some(buttons)}
                <div class="text-xs text-rose-600" data-testid="row-error">{row_errors}</div>
            </td>
        </tr>
    }
}

/// Marks a row's cells in place: `data-found` on the cell of the find
/// bar's `hit` (a trigger cell holds two fields), `aria-invalid` on each
/// text box and the message under each cell from `problems` (field,
/// message). Done by one effect per row rather than three reactive
/// attributes per cell: a 32-row screen of a communication map made
/// ~900 of them, most never to change (no hit, no problems), and building
/// them was a good part of opening a long map.
fn mark_cells(tr: &leptos::web_sys::HtmlElement, hit: Option<&str>, problems: &[(&'static str, String)]) {
    #[cfg(feature = "hydrate")]
    for td in std::iter::successors(tr.first_element_child(), |el| el.next_element_sibling()) {
        let Some(field) = td.get_attribute("data-col") else { continue };
        let found = hit.is_some_and(|h| h == field || h.strip_prefix(field.as_str()).is_some_and(|rest| rest.starts_with('.')));
        let _ = if found { td.set_attribute("data-found", "") } else { td.remove_attribute("data-found") };
        let problem = problems.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str());
        if let Ok(Some(text)) = td.query_selector("[aria-invalid]") {
            let _ = text.set_attribute("aria-invalid", if problem.is_some() { "true" } else { "false" });
        }
        if let Ok(Some(under)) = td.query_selector("[data-error-for]") {
            under.set_text_content(problem);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (tr, hit, problems);
}

#[component]
fn TableCell(
    id: StoredValue<String>,
    doc: RwSignal<Value>,
    list: &'static str,
    col: Column,
    editable: bool,
    epoch: RwSignal<u32>,
    index: Memo<RowIndex>,
    dirty: RwSignal<bool>,
) -> impl IntoView {
    let field = col.field;
    let at = move || index.with(|ix| id.with_value(|id| ix.get(id)));
    // The epoch too: a reload or re-base replaces values, not always rows.
    let value = move || {
        epoch.track();
        let i = at();
        doc.with_untracked(|d| i.and_then(|i| rows(d, list).get(i)).map(|r| cell_text(r, field)).unwrap_or_default())
    };
    let set = move |new: Value| {
        let Some(i) = index.with_untracked(|ix| id.with_value(|id| ix.get(id))) else { return };
        update_row(doc, list, i, |row| set_path(row, field, new));
        dirty.set(true);
    };
    // A property is not HTML: the server also writes the value as the text
    // box's content (a textarea's text, an input's `value`), so a page load
    // shows the cells' text before the bundle hydrates them, or if it never
    // does. The browser keeps to the property.
    let initial = move || untrack(value);
    let body = match col.kind {
        ColKind::Text if editable => view! {
            <textarea rows="1" class=CELL data-field=field aria-label=col.label.clone() aria-invalid="false"
                inner_html=cfg!(feature = "ssr").then(|| textarea_html(&initial()))
                prop:value=value on:input=move |ev| set(Value::String(event_target_value(&ev)))></textarea>
        }
        .into_any(),
        ColKind::Score if editable => view! {
            <input type="number" min="-2" max="2" step="1" class="w-14 rounded border border-slate-300 px-1 py-0.5 text-sm" data-field=field
                aria-label=col.label.clone() value=initial() prop:value=value
                on:input=move |ev| {
                    // Emptied: the stage has no score (left off the curve).
                    let typed = event_target_value(&ev);
                    if typed.trim().is_empty() {
                        set(Value::Null);
                    } else if let Ok(n) = typed.trim().parse::<i64>() {
                        set(Value::from(n));
                    }
                }/>
        }
        .into_any(),
        ColKind::Trigger => view! { <TriggerCell id doc list editable epoch index dirty paths=BindingPaths::TRIGGER/> }.into_any(),
        ColKind::Endpoint => view! { <TriggerCell id doc list editable epoch index dirty paths=BindingPaths::POINT/> }.into_any(),
        ColKind::Links(links) => view! { <LinksCell id doc list field editable epoch index dirty links/> }.into_any(),
        _ => view! { <span class="whitespace-pre-wrap" data-field=field>{value}</span> }.into_any(),
    };
    // Found and problem marks: `mark_cells`, by the row.
    view! {
        <td class="px-1 py-1" data-col=field>
            {body}
            <div class="text-xs text-rose-600" data-error-for=field></div>
        </td>
    }
}

/// Text as a textarea's content in HTML. The renderer writes a textarea's
/// children unescaped (raw text to it), and a cell holding `</textarea>`
/// would end the element there: the text is escaped here, and the
/// browser's parser turns it back. The parser also drops one newline
/// right after `<textarea>`: a text starting with one gets another.
fn textarea_html(text: &str) -> String {
    let escaped = comops_core::html::escape(text);
    if text.starts_with('\n') {
        format!("\n{escaped}")
    } else {
        escaped
    }
}

/// What a links column links to: CJM stages, or blueprint cells.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkKind {
    CjmStage,
    BlueprintCell,
}

/// What link cells may link to: the CJM stages and blueprint cells of the
/// project's maps, loaded with the map.
#[derive(Clone, Copy)]
pub struct LinkTargets(pub StoredValue<Vec<crate::api::maps::LinkTarget>>);

/// A link target's name: its map, its stage and, for a blueprint cell,
/// its lane, in `locale`.
fn target_label(locale: comops_core::Locale, target: &crate::api::maps::LinkTarget) -> String {
    let lane = target.lane.as_deref().map(|lane| comops_core::map::blueprint::Lane::parse(lane).map_or(lane, |lane| lane.name(locale)));
    let stage = if target.stage.trim().is_empty() { target.item.clone() } else { target.stage.clone() };
    match lane {
        Some(lane) => format!("{} · {stage} · {lane}", target.map_title),
        None => format!("{} · {stage}", target.map_title),
    }
}

/// A row's links to items of the project's maps (a communication row's
/// CJM stages or blueprint cells, a blueprint stage's CJM stages), each
/// named by its map and stage; whoever edits the map removes one (×) or
/// links another ("link…": a list of the rest, drawn only then, so a long
/// map does not carry one per row). A link to an item that is gone is
/// shown as such (the save keeps it: it was checked when made).
#[component]
fn LinksCell(
    id: StoredValue<String>,
    doc: RwSignal<Value>,
    list: &'static str,
    field: &'static str,
    editable: bool,
    epoch: RwSignal<u32>,
    index: Memo<RowIndex>,
    dirty: RwSignal<bool>,
    links: LinkKind,
) -> impl IntoView {
    let locale = crate::i18n::use_locale();
    let targets = use_context::<LinkTargets>();
    let bumped = RwSignal::new(0u32);
    let picking = RwSignal::new(false);
    let linked = move || -> Vec<(String, String)> {
        epoch.track();
        bumped.track();
        let i = index.with(|ix| id.with_value(|id| ix.get(id)));
        doc.with_untracked(|d| {
            i.and_then(|i| rows(d, list).get(i))
                .and_then(|r| r.get(field))
                .and_then(Value::as_array)
                .map(|refs| refs.iter().map(|r| (cell_text(r, "map"), cell_text(r, "item"))).collect())
                .unwrap_or_default()
        })
    };
    let change = move |edit: &dyn Fn(&mut Vec<Value>)| {
        let Some(i) = index.with_untracked(|ix| id.with_value(|id| ix.get(id))) else { return };
        update_row(doc, list, i, |row| {
            if !row.get(field).is_some_and(Value::is_array) {
                set_path(row, field, Value::Array(Vec::new()));
            }
            if let Some(refs) = row.get_mut(field).and_then(Value::as_array_mut) {
                edit(refs);
            }
        });
        dirty.set(true);
        picking.set(false);
        bumped.update(|b| *b += 1);
    };
    let wanted = move |t: &crate::api::maps::LinkTarget| (t.lane.is_some()) == (links == LinkKind::BlueprintCell);
    let chips = move || {
        let loc = locale.get();
        linked()
            .into_iter()
            .map(|(map, item)| {
                let key = format!("{map}#{item}");
                let found = targets.and_then(|t| t.0.with_value(|all| all.iter().find(|t| t.map == map && t.item == item).map(|t| target_label(loc, t))));
                let missing = found.is_none();
                let label = found.unwrap_or_else(|| format!("{key} ({})", crate::i18n::t(loc, K::MapLinkMissing)));
                let (m, it) = (map.clone(), item.clone());
                let remove = editable.then(|| view! {
                    <button type="button" class="ml-0.5 text-slate-400 hover:text-rose-700" data-testid="link-remove"
                        title=crate::i18n::t(loc, K::MapLinkRemove) aria-label=crate::i18n::t(loc, K::MapLinkRemove)
                        on:click=move |_| change(&|refs| refs.retain(|r| !(cell_text(r, "map") == m && cell_text(r, "item") == it)))>"×"</button>
                });
                view! {
                    <span class="mr-1 inline-block rounded bg-slate-100 px-1 py-0.5" class:text-rose-700=missing data-link=key>{label}{remove}</span>
                }
            })
            .collect_view()
    };
    let options = move || {
        let loc = locale.get();
        let now = linked();
        targets
            .map(|t| {
                t.0.with_value(|all| {
                    all.iter()
                        .filter(|t| wanted(t) && !now.iter().any(|(m, i)| *m == t.map && *i == t.item))
                        .map(|t| view! { <option value=format!("{}#{}", t.map, t.item)>{target_label(loc, t)}</option> })
                        .collect_view()
                })
            })
    };
    let add = move |choice: String| {
        if let Some((map, item)) = choice.split_once('#') {
            let link = serde_json::json!({"map": map, "item": item});
            change(&|refs| refs.push(link.clone()));
        }
    };
    view! {
        <div class="text-xs" data-field=field>
            {chips}
            {editable.then(|| view! {
                <PickOnAsk picking ask=K::MapLink ask_testid="link-add" testid="link-select" first=None on_pick=Callback::new(add)>
                    {options}
                </PickOnAsk>
            })}
        </div>
    }
}

/// A button (`ask`) that becomes a list to pick from when pressed — drawn
/// only then, so a long map does not carry one list per row; Escape puts
/// the button back. The list's first entry (`first`, else "—") picks
/// nothing; `children` are the other options.
#[component]
fn PickOnAsk(
    picking: RwSignal<bool>,
    ask: K,
    ask_testid: &'static str,
    testid: &'static str,
    first: Option<K>,
    on_pick: Callback<String>,
    children: ChildrenFn,
) -> impl IntoView {
    view! {
        <Show when=move || picking.get() fallback=move || view! {
            <button type="button" class="text-sky-800 hover:underline" data-testid=ask_testid on:click=move |_| picking.set(true)>{l(ask)}</button>
        }>
            <select class="mt-1 w-full rounded border border-slate-300 px-1 py-0.5 text-xs" data-testid=testid
                on:change=move |ev| on_pick.run(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Escape" { picking.set(false) }>
                <option value="">{move || first.map_or("—", |key| l(key)())}</option>
                {children()}
            </select>
        </Show>
    }
}

/// What trigger cells know beyond the map: the project's endpoints with
/// their live traffic, and whether this user may bind rows to them (the
/// server checks again on save).
#[derive(Clone, Copy)]
pub struct TriggerContext {
    pub endpoints: Signal<Vec<BindableEndpoint>>,
    pub can_bind: bool,
}

/// Scrolls the page so a row sits mid-screen, then focuses it (without
/// scrolling again).
#[cfg(feature = "hydrate")]
fn reveal(row: &leptos::web_sys::HtmlElement) {
    center(row);
    crate::components::focus_in_place(row);
}

/// Scrolls the page so a row sits mid-screen.
#[cfg(feature = "hydrate")]
fn center(row: &leptos::web_sys::HtmlElement) {
    if let Some(window) = leptos::web_sys::window() {
        let rect = row.get_bounding_client_rect();
        let height = window.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(0.0);
        window.scroll_by_with_x_and_y(0.0, rect.top() + rect.height() / 2.0 - height / 2.0);
    }
}

/// Whether all of a row is on screen (below the find bar, which sticks to
/// the top: a row under it counts as off screen).
#[cfg(feature = "hydrate")]
fn on_screen(row: &leptos::web_sys::HtmlElement) -> bool {
    let Some(height) = leptos::web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()) else { return false };
    let rect = row.get_bounding_client_rect();
    rect.top() >= 48.0 && rect.bottom() <= height
}

/// Puts the caret on a find hit: its cell focused and the hit's text
/// selected (a cell that is not a text box: its row focused).
#[cfg(feature = "hydrate")]
fn select_hit(window: Window, hit: &Hit) {
    let Some(id) = window.ids.with_untracked(|ids| ids.get(hit.row).cloned()) else { return };
    let (field, start, end) = (hit.field, hit.start, hit.end);
    window.show(hit.row);
    request_animation_frame(move || match cell_of(window, &id, field) {
        Some(cell) => {
            crate::components::focus_in_place(&cell);
            let _ = cell.set_selection_range(start, end);
        }
        None => {
            if let Some(tr) = row_of(window, &id) {
                let _ = tr.set_attribute("tabindex", "-1");
                crate::components::focus_in_place(&tr);
            }
        }
    });
}

/// A communication row's API trigger, or an integration point's endpoint
/// (`paths`): the bound endpoint with links to it, its docs, traces and
/// scenario, and its calls, errors and last call; architects re-bind it by
/// picking another endpoint of the project. An integration point bound to
/// no bot shows its alias as a field whoever edits the map may type (a
/// planned endpoint).
#[component]
fn TriggerCell(
    id: StoredValue<String>,
    doc: RwSignal<Value>,
    list: &'static str,
    editable: bool,
    epoch: RwSignal<u32>,
    index: Memo<RowIndex>,
    dirty: RwSignal<bool>,
    paths: BindingPaths,
) -> impl IntoView {
    let locale = crate::i18n::use_locale();
    let ctx = use_context::<TriggerContext>();
    // Looked up in place: a 1,000-row map has as many trigger cells, and
    // none should copy the project's endpoint list to find one entry.
    let endpoint = move |bot: &str, alias: &str| {
        ctx.and_then(|c| c.endpoints.with(|all| all.iter().find(|e| e.bot_id == bot && e.alias == alias).cloned()))
    };
    let bumped = RwSignal::new(0u32);
    let picking = RwSignal::new(false);
    let at = move || index.with(|ix| id.with_value(|id| ix.get(id)));
    let trigger = move || {
        epoch.track();
        bumped.track();
        let i = at();
        doc.with_untracked(|d| {
            i.and_then(|i| rows(d, list).get(i))
                .map(|r| (cell_text(r, paths.bot), cell_text(r, paths.alias), paths.scenario.map(|s| cell_text(r, s)).unwrap_or_default()))
                .unwrap_or_default()
        })
    };
    let bind = move |choice: String| {
        let found = choice.split_once('|').and_then(|(bot, alias)| endpoint(bot, alias));
        let Some(i) = index.with_untracked(|ix| id.with_value(|id| ix.get(id))) else { return };
        update_row(doc, list, i, |row| if paths.scenario.is_some() { set_trigger(row, found.as_ref()) } else { set_point(row, found.as_ref()) });
        dirty.set(true);
        picking.set(false);
        bumped.update(|b| *b += 1);
    };
    // A planned endpoint's alias, as typed (empty: none).
    let plan = move |typed: String| {
        let Some(i) = index.with_untracked(|ix| id.with_value(|id| ix.get(id))) else { return };
        let typed = typed.trim().to_string();
        update_row(doc, list, i, |row| set_path(row, paths.alias, if typed.is_empty() { Value::Null } else { Value::String(typed) }));
        dirty.set(true);
        bumped.update(|b| *b += 1);
    };
    let can_bind = editable && ctx.is_some_and(|c| c.can_bind);
    let shown = move || {
        let (bot, alias, scenario) = trigger();
        let loc = locale.get();
        let scenario_view = (!scenario.is_empty()).then(|| {
            let href = format!("/scenarios?bot={bot}&name={scenario}");
            view! { <a class="block text-slate-600 hover:underline" href=href data-testid="trigger-scenario">{scenario.clone()}</a> }
        });
        if paths.scenario.is_none() && bot.is_empty() {
            // An integration point bound to no bot: its alias is a plan.
            let typed = alias.clone();
            let not_bound = crate::i18n::t(loc, K::MapNotBound);
            if !editable {
                return view! { <span>{alias.clone()}</span>" "<span class="text-slate-400">{not_bound}</span> }.into_any();
            }
            // One line: the field says it is not bound by its title.
            return view! {
                <input class="w-full rounded border border-slate-300 px-1 py-0.5 text-xs" data-field="alias" value=typed.clone() prop:value=typed
                    aria-label=crate::i18n::t(loc, K::MapAlias) title=not_bound placeholder="order/status" on:change=move |ev| plan(event_target_value(&ev))/>
            }
            .into_any();
        }
        if alias.is_empty() {
            return view! { <span class="text-slate-400">{crate::i18n::t(loc, K::MapNotBound)}</span>{scenario_view} }.into_any();
        }
        let figures = endpoint(&bot, &alias).map(|e| {
            view! {
                <span class="block text-slate-500" data-testid="trigger-figures" data-calls=e.calls data-errors=e.errors>
                    {crate::components::call_figures::call_figures(loc, e.calls, e.errors, e.last_call_at)}
                </span>
            }
        });
        view! {
            <a class="text-sky-800 hover:underline" href=format!("/endpoints?bot={bot}") data-testid="trigger-endpoint">{alias.clone()}</a>
            {paths.scenario.is_none().then(|| view! { <span class="block text-slate-500" data-testid="trigger-bot">{bot.clone()}</span> })}
            " · "
            <a class="text-sky-800 hover:underline" href=super::call_figures::docs_href(&bot, &alias) rel="external" data-testid="trigger-docs">{crate::i18n::t(loc, K::MapDocs)}</a>
            " · "
            <a class="text-sky-800 hover:underline" href=super::call_figures::traces_href(&bot, &alias) data-testid="trigger-traces">{crate::i18n::t(loc, K::Traces)}</a>
            {figures}
            {scenario_view}
        }
        .into_any()
    };
    let options = move || {
        let (bot, alias, _) = trigger();
        ctx.map(|c| {
            c.endpoints.with(|all| {
                all.iter()
                    .map(|e| {
                        let selected = e.bot_id == bot && e.alias == alias;
                        view! { <option value=format!("{}|{}", e.bot_id, e.alias) selected=selected>{format!("{} /{}", e.bot_id, e.alias)}</option> }
                    })
                    .collect_view()
            })
        })
    };
    view! {
        <div class="font-mono text-xs" data-field=if paths.scenario.is_some() { "trigger" } else { "endpoint" }>
            {shown}
            {can_bind.then(|| view! {
                <PickOnAsk picking ask=K::MapBind ask_testid="trigger-bind" testid="trigger-select" first=Some(K::MapNotBound) on_pick=Callback::new(bind)>
                    {options}
                </PickOnAsk>
            })}
        </div>
    }
}

/// The CJM's emotion curve: one column per stage, named under the axis,
/// and a point at its score, −2 (bottom) to +2 (top); a stage nobody has
/// scored yet has no point and the line passes it by.
#[component]
pub fn EmotionCurve(doc: RwSignal<Value>) -> impl IntoView {
    /// Width of one stage's column, left margin for the score labels.
    const STEP: i64 = 88;
    const LEFT: i64 = 28;
    let y_of = |score: i64| 32 - score * 12;
    let stages = move || {
        doc.with(|d| {
            rows(d, "stages")
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let score = s.get("emotion_score").and_then(Value::as_i64).map(|n| n.clamp(-2, 2));
                    (LEFT + i as i64 * STEP + STEP / 2, score, cell_text(s, "stage"))
                })
                .collect::<Vec<_>>()
        })
    };
    let line = move || {
        stages().iter().filter_map(|(x, score, _)| score.map(|s| format!("{x},{}", y_of(s)))).collect::<Vec<_>>().join(" ")
    };
    let width = move || (LEFT + stages().len().max(1) as i64 * STEP).to_string();
    let short = |name: &str| {
        let mut cut: String = name.chars().take(12).collect();
        if name.chars().count() > 12 {
            cut.push('…');
        }
        cut
    };
    view! {
        <figure class="my-2 overflow-x-auto" data-testid="emotion-curve">
            <figcaption class="text-xs text-slate-500">{l(K::MapEmotionCurve)}</figcaption>
            <svg height="84" width=width class="overflow-visible text-slate-500" role="img" aria-label=l(K::MapEmotionCurve)>
                {[2i64, 0, -2].into_iter().map(|s| view! {
                    <text x="0" y=y_of(s) + 4 font-size="10" fill="currentColor">{if s > 0 { format!("+{s}") } else { s.to_string() }}</text>
                }).collect_view()}
                <line x1=LEFT y1="32" x2="100%" y2="32" stroke="#e2e8f0" stroke-dasharray="3 3"></line>
                <polyline points=line fill="none" stroke="#0369a1" stroke-width="2"></polyline>
                {move || stages().into_iter().map(|(x, score, name)| view! {
                    <text x=x y="76" font-size="10" text-anchor="middle" fill="currentColor" data-testid="curve-stage">
                        {short(&name)}<title>{name.clone()}</title>
                    </text>
                    {score.map(|s| view! { <circle cx=x cy=y_of(s) r="4" fill="#0369a1" data-testid="curve-point"><title>{format!("{name}: {s:+}")}</title></circle> })}
                }).collect_view()}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::textarea_html;

    #[test]
    fn textarea_html_cannot_end_the_element_and_keeps_a_first_newline() {
        assert_eq!(
            textarea_html("</textarea><iframe srcdoc=\"<script>x</script>\"> & more"),
            "&lt;/textarea&gt;&lt;iframe srcdoc=&quot;&lt;script&gt;x&lt;/script&gt;&quot;&gt; &amp; more"
        );
        assert_eq!(textarea_html("\nsecond line"), "\n\nsecond line");
        assert_eq!(textarea_html("Событие №1"), "Событие №1");
        assert_eq!(textarea_html(""), "");
    }
}
