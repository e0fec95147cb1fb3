//! Integration points of one bot: pick the bot, then a dense table that
//! creates and edits endpoints in place (the request schema as a field
//! list), plus JSON export and import for CI.
//!
//! Every save is a version: the edit form carries the version it started
//! from and a change note, and each row opens its history
//! (`endpoint_history`); a save someone else's overtook is merged or
//! reloaded there, never lost.
//!
//! The chosen bot lives in the query string (`?bot=bot_shop`), so a link
//! or a reload keeps it. The table reloads only after a successful change:
//! a rejected save keeps what the user typed next to the errors.

use crate::api::endpoints::{
    endpoint_page, CreateEndpoint, DeleteEndpoint, BotEndpoints, EndpointSaveOutcome, EndpointTraffic, ExportEndpoints, ImportEndpoints,
    UpdateEndpoint,
};
use super::endpoint_history::{EndpointConflict, EndpointDiff, EndpointHistory};
use super::endpoint_test::TestEvent;
use crate::components::form::{can, general_error, ErrorBanner, TextField};
use crate::components::{l, percent_encode};
use crate::components::list_pages::{words, Hidden, ListFilter, Pager};
use crate::error::AppError;
use crate::i18n::{t, t1, tr, use_locale, K};
use comops_core::schema::{FieldKind, SchemaField, StringFormat};
use comops_core::{Endpoint, EndpointDraft, Permission, RequestSchema};
use crate::components::row_actions::RowActions;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// One row of the schema editor; its own signals, so typing in it does not
/// re-render the list.
#[derive(Clone, Copy)]
struct SchemaRow {
    name: RwSignal<String>,
    kind: RwSignal<String>,
    required: RwSignal<bool>,
    enum_values: RwSignal<String>,
    format: RwSignal<String>,
    description: RwSignal<String>,
}

impl SchemaRow {
    fn new(field: Option<&SchemaField>) -> Self {
        Self {
            name: RwSignal::new(field.map(|f| f.name.clone()).unwrap_or_default()),
            kind: RwSignal::new(field.map_or(FieldKind::String, |f| f.kind).as_str().to_string()),
            required: RwSignal::new(field.is_some_and(|f| f.required)),
            enum_values: RwSignal::new(field.map(|f| f.enum_values.join(", ")).unwrap_or_default()),
            format: RwSignal::new(field.and_then(|f| f.format).map(|f| f.as_str().to_string()).unwrap_or_default()),
            description: RwSignal::new(field.map(|f| f.description.clone()).unwrap_or_default()),
        }
    }

    fn field(&self) -> SchemaField {
        SchemaField {
            name: self.name.get_untracked().trim().to_string(),
            kind: FieldKind::parse(&self.kind.get_untracked()).unwrap_or(FieldKind::String),
            required: self.required.get_untracked(),
            enum_values: self
                .enum_values
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
                .collect(),
            format: StringFormat::parse(&self.format.get_untracked()),
            description: self.description.get_untracked(),
        }
    }
}

/// Field signals of an endpoint form.
#[derive(Clone, Copy)]
struct EndpointFields {
    alias: RwSignal<String>,
    description: RwSignal<String>,
    owner: RwSignal<String>,
    scenario: RwSignal<String>,
    response_description: RwSignal<String>,
    example: RwSignal<String>,
    isolated: RwSignal<bool>,
    enabled: RwSignal<bool>,
    allow_overlap: RwSignal<bool>,
    on_blocked: RwSignal<String>,
    rows: RwSignal<Vec<SchemaRow>>,
}

impl EndpointFields {
    fn new(endpoint: Option<&Endpoint>) -> Self {
        let draft = endpoint.map(EndpointDraft::from).unwrap_or_else(|| EndpointDraft { enabled: true, ..Default::default() });
        Self {
            alias: RwSignal::new(draft.alias),
            description: RwSignal::new(draft.description),
            owner: RwSignal::new(draft.owner),
            scenario: RwSignal::new(draft.scenario),
            response_description: RwSignal::new(draft.response_description),
            example: RwSignal::new(if endpoint.is_some() { draft.example } else { String::new() }),
            isolated: RwSignal::new(draft.isolated),
            enabled: RwSignal::new(draft.enabled),
            allow_overlap: RwSignal::new(draft.allow_overlap),
            on_blocked: RwSignal::new(draft.on_blocked),
            rows: RwSignal::new(draft.schema.fields.iter().map(|f| SchemaRow::new(Some(f))).collect()),
        }
    }

    /// Puts `draft` in the form.
    fn load(&self, draft: &EndpointDraft) {
        self.alias.set(draft.alias.clone());
        self.description.set(draft.description.clone());
        self.owner.set(draft.owner.clone());
        self.scenario.set(draft.scenario.clone());
        self.response_description.set(draft.response_description.clone());
        self.example.set(draft.example.clone());
        self.isolated.set(draft.isolated);
        self.enabled.set(draft.enabled);
        self.allow_overlap.set(draft.allow_overlap);
        self.on_blocked.set(draft.on_blocked.clone());
        self.rows.set(draft.schema.fields.iter().map(|f| SchemaRow::new(Some(f))).collect());
    }

    fn reset(&self) {
        self.load(&EndpointDraft { enabled: true, ..Default::default() });
    }

    fn draft(&self) -> EndpointDraft {
        EndpointDraft {
            alias: self.alias.get_untracked(),
            description: self.description.get_untracked(),
            owner: self.owner.get_untracked(),
            schema: RequestSchema { fields: self.rows.get_untracked().iter().map(SchemaRow::field).collect() },
            example: self.example.get_untracked(),
            response_description: self.response_description.get_untracked(),
            isolated: self.isolated.get_untracked(),
            enabled: self.enabled.get_untracked(),
            scenario: self.scenario.get_untracked(),
            allow_overlap: self.allow_overlap.get_untracked(),
            on_blocked: self.on_blocked.get_untracked(),
        }
    }
}

/// The latest error of an action, for forms that look up many fields.
fn latest_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: 'static,
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())))
}

/// The translated problem with `field` (built at run time, e.g.
/// `schema.fields[2].name`).
fn error_at(errors: Signal<Option<AppError>>, field: String) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || errors.with(|e| e.as_ref().and_then(|e| e.field(&field, locale.get()))))
}

#[component]
pub fn EndpointsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let bot_param = move || query.with(|q| q.get("bot").unwrap_or_default());
    let can_design = can(Permission::DesignIntegrations);
    let create = ServerAction::<CreateEndpoint>::new();
    let update = ServerAction::<UpdateEndpoint>::new();
    let delete = ServerAction::<DeleteEndpoint>::new();
    let import = ServerAction::<ImportEndpoints>::new();
    let export = ServerAction::<ExportEndpoints>::new();
    // Bumped after every successful change; the table reloads on it.
    let changes = RwSignal::new(0u32);
    let page = Resource::new(move || (bot_param(), changes.get()), |(bot, _)| endpoint_page(bot));
    let current_bot = move || page.get_untracked().and_then(Result::ok).map(|p| p.bot_id).unwrap_or_default();
    let show_new = RwSignal::new(false);
    let show_import = RwSignal::new(false);
    let editing = RwSignal::new(None::<String>);
    let list = ListFilter::default();
    let fields = EndpointFields::new(None);
    let import_text = RwSignal::new(String::new());

    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            show_new.set(false);
            fields.reset();
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(EndpointSaveOutcome::Saved(_))) = update.value().get() {
            editing.set(None);
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = import.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    let other_errors = Signal::derive(move || {
        general_error(create.value())
            .get()
            .or_else(|| general_error(update.value()).get())
            .or_else(|| general_error(delete.value()).get())
            .or_else(|| general_error(export.value()).get())
    });
    let create_errors = latest_error(create.value());

    view! {
        <div class="flex flex-wrap items-start justify-between gap-4 mb-4">
            <div>
                <h1 class="text-xl font-semibold">{move || tr(K::Endpoints)}</h1>
                <p class="text-slate-600">{move || tr(K::SectionEndpoints)}</p>
            </div>
            <div class="flex flex-wrap items-center gap-2">
                <button class="rounded border border-slate-300 px-3 py-1.5 hover:bg-slate-100" data-testid="export-endpoints"
                    on:click=move |_| { export.dispatch(ExportEndpoints { bot_id: current_bot() }); }>
                    {move || tr(K::ExportJson)}
                </button>
                <Show when=move || can_design fallback=move || view! {
                    <span class="text-xs text-slate-500" data-testid="read-only">{move || tr(K::ReadOnlyHint)}</span>
                }>
                    <button class="rounded border border-slate-300 px-3 py-1.5 hover:bg-slate-100" data-testid="import-endpoints"
                        on:click=move |_| show_import.update(|v| *v = !*v)>
                        {move || tr(K::ImportJson)}
                    </button>
                    <button class="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700" data-testid="new-endpoint"
                        on:click=move |_| show_new.update(|v| *v = !*v)>
                        {move || tr(K::NewEndpoint)}
                    </button>
                </Show>
            </div>
        </div>
        <ErrorBanner message=other_errors/>
        <ExportPanel export/>
        <Show when=move || show_import.get()>
            <ImportPanel import text=import_text bot_id=Signal::derive(current_bot) on_close=Callback::new(move |_| show_import.set(false))/>
        </Show>
        <Show when=move || show_new.get()>
            <div class="mb-4 rounded border border-slate-200 bg-white p-4" data-testid="endpoint-form">
                <EndpointForm
                    fields
                    errors=create_errors
                    submit_label=K::Create
                    pending=create.pending().into()
                    on_submit=Callback::new(move |_| { create.dispatch(CreateEndpoint { bot_id: current_bot(), draft: fields.draft() }); })
                    on_cancel=Callback::new(move |_| show_new.set(false))
                />
            </div>
        </Show>
        <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <p class="mt-4 text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                    Ok(page) => {
                        let on_changed = Callback::new(move |_| changes.update(|n| *n += 1));
                        view! { <EndpointTable page editing can_design update delete on_changed list/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The bot picker and the endpoint table of the chosen bot.
#[component]
fn EndpointTable(
    page: BotEndpoints,
    editing: RwSignal<Option<String>>,
    can_design: bool,
    update: ServerAction<UpdateEndpoint>,
    delete: ServerAction<DeleteEndpoint>,
    /// An endpoint was restored to an old version.
    on_changed: Callback<()>,
    /// The table's filter box and page (kept across reloads).
    list: ListFilter,
) -> impl IntoView {
    let navigate = use_navigate();
    let mut projects: Vec<String> = Vec::new();
    for bot in &page.bots {
        if !projects.contains(&bot.project) {
            projects.push(bot.project.clone());
        }
    }
    let groups = projects
        .into_iter()
        .map(|project| {
            let options = page
                .bots
                .iter()
                .filter(|b| b.project == project)
                .map(|b| {
                    let selected = b.id == page.bot_id;
                    view! { <option value=b.id.clone() selected=selected>{format!("{} ({})", b.name, b.id)}</option> }
                })
                .collect_view();
            view! { <optgroup label=project>{options}</optgroup> }
        })
        .collect_view();
    let empty = page.endpoints.is_empty();
    let docs = format!("/docs/{}", page.bot_id);
    let traffic = page.traffic;
    let missing = page.missing_scenarios;
    let (rows, pages) = list.rows(
        &page.bot_id,
        page.endpoints,
        |e| words(&[e.alias.as_str(), &e.description, &e.owner, &e.scenario, &e.on_blocked]),
        |endpoint, hidden| {
            let traffic = traffic.iter().find(|t| t.alias == endpoint.alias.as_str()).cloned();
            let scenario_missing = missing.contains(&endpoint.scenario);
            view! { <EndpointRow endpoint traffic scenario_missing editing can_design update delete on_changed hidden/> }
        },
    );
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-3">
            <label class="flex items-center gap-2 text-sm">
                <span class="text-xs font-medium text-slate-600">{move || tr(K::Bot)}</span>
                <select class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="bot-select"
                    on:change=move |ev| {
                        list.clear();
                        navigate(&format!("/endpoints?bot={}", event_target_value(&ev)), Default::default())
                    }>
                    {groups}
                </select>
            </label>
            <a class="text-sm text-sky-800 hover:underline" href=docs.clone() rel="external" data-testid="bot-docs">{move || tr(K::ApiDocs)}</a>
            <input type="search" name="filter" class="ml-auto rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="endpoint-filter"
                placeholder=l(K::Filter) bind:value=list.text/>
        </div>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="endpoints-table" data-bot=page.bot_id.clone()>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{move || tr(K::Alias)}</th>
                        <th class="px-3 py-2">{move || tr(K::Description)}</th>
                        <th class="px-3 py-2">{move || tr(K::Owner)}</th>
                        <th class="px-3 py-2">{move || tr(K::Scenario)}</th>
                        <th class="px-3 py-2">{move || tr(K::Isolated)}</th>
                        <th class="px-3 py-2">{move || tr(K::Status)}</th>
                        <th class="px-3 py-2">{move || tr(K::EndpointTraffic)}</th>
                        <th class="px-3 py-2"></th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="8" class="px-3 py-6 text-center text-slate-500" data-testid="no-endpoints">{move || tr(K::NoEndpoints)}</td></tr>
                    })}
                    {rows}
                </tbody>
            </table>
        </div>
        <Pager pages/>
    }
    .into_any()
}

/// An endpoint's calls and errors since it was made, its last call, and
/// a link to its traces.
#[component]
fn EndpointTrafficCell(bot: String, alias: String, traffic: Option<EndpointTraffic>) -> impl IntoView {
    let locale = use_locale();
    let (calls, errors, last) = traffic.map_or((0, 0, None), |t| (t.calls, t.errors, t.last_call_at));
    let traces = crate::components::call_figures::traces_href(&bot, &alias);
    view! {
        <td class="px-3 py-2 text-xs text-slate-500" data-testid="endpoint-traffic" data-calls=calls data-errors=errors>
            {move || crate::components::call_figures::call_figures(locale.get(), calls, errors, last)}" · "
            <a class="text-sky-800 hover:underline" href=traces data-testid="endpoint-traces">{move || tr(K::Traces)}</a>
        </td>
    }
}

#[component]
fn EndpointRow(
    endpoint: Endpoint,
    /// None: never called.
    traffic: Option<EndpointTraffic>,
    editing: RwSignal<Option<String>>,
    can_design: bool,
    update: ServerAction<UpdateEndpoint>,
    delete: ServerAction<DeleteEndpoint>,
    on_changed: Callback<()>,
    /// Off screen: filtered out or on another page.
    hidden: Hidden,
    /// Its scenario does not exist on the bot: a call would run nothing.
    scenario_missing: bool,
) -> impl IntoView {
    let id = endpoint.id.to_string();
    let fields = EndpointFields::new(Some(&endpoint));
    // The version the form's edits start from, and its content (what a
    // merge compares the edits with).
    let base = RwSignal::new(endpoint.version);
    let original = StoredValue::new(EndpointDraft::from(&endpoint));
    let note = RwSignal::new(String::new());
    // After a merge: (the old base, the version the edits now build on).
    let rebased = RwSignal::new(None::<(i64, i64)>);
    let history_open = RwSignal::new(false);
    let test_open = RwSignal::new(false);
    let is_editing = {
        let id = id.clone();
        move || editing.get().as_deref() == Some(id.as_str())
    };
    let docs = crate::components::call_figures::docs_href(endpoint.bot_id.as_str(), endpoint.alias.as_str());
    let show = {
        let id = id.clone();
        let e = endpoint.clone();
        move || {
            let (id_edit, id_delete) = (id.clone(), id.clone());
            let (isolated, enabled) = (e.isolated, e.enabled);
            view! {
                <td class="px-3 py-2 font-mono text-xs whitespace-nowrap">{e.alias.to_string()}</td>
                <td class="px-3 py-2 text-slate-600 max-w-md">{e.description.clone()}</td>
                <td class="px-3 py-2">{e.owner.clone()}</td>
                <td class="px-3 py-2 font-mono text-xs">
                    {e.scenario.clone()}
                    {scenario_missing.then(|| view! {
                        <span class="ml-1 inline-block whitespace-nowrap rounded bg-amber-100 px-1 font-sans text-amber-900" data-testid="scenario-missing"
                            title=move || tr(K::EndpointScenarioMissingHint)>{move || tr(K::EndpointScenarioMissing)}</span>
                    })}
                </td>
                <td class="px-3 py-2">{move || if isolated { tr(K::Yes) } else { "" }}</td>
                <td class="px-3 py-2">
                    <span class=if enabled { "text-emerald-700" } else { "text-slate-400" }>
                        {move || tr(if enabled { K::Enabled } else { K::Disabled })}
                    </span>
                </td>
                <EndpointTrafficCell bot=e.bot_id.to_string() alias=e.alias.to_string() traffic=traffic.clone()/>
                // The actions wrap onto lines of their own rather than run
                // off the table's right edge (Russian's longer words did).
                <td class="px-3 py-2 text-right">
                    <div class="flex flex-wrap items-baseline justify-end gap-x-3 gap-y-1 whitespace-nowrap">
                        <a class="text-sky-800 hover:underline" href=docs.clone() rel="external">{move || tr(K::Docs)}</a>
                        <button class="text-sky-800 hover:underline" data-testid="endpoint-history-toggle"
                            aria-expanded=move || history_open.get().to_string() on:click=move |_| history_open.update(|o| *o = !*o)>
                            {format!("v{}", e.version)}" · "{move || tr(K::MapHistory)}
                        </button>
                        {can_design.then(|| view! {
                            <button class="text-sky-800 hover:underline" data-testid="endpoint-test-toggle"
                                aria-expanded=move || test_open.get().to_string() on:click=move |_| test_open.update(|o| *o = !*o)>
                                {move || tr(K::TestEvent)}
                            </button>
                        })}
                        {can_design.then(|| {
                            let (id_edit, id_delete) = (id_edit.clone(), id_delete.clone());
                            view! {
                                <span>
                                    <RowActions
                                        on_edit=Callback::new(move |_| editing.set(Some(id_edit.clone())))
                                        on_delete=Callback::new(move |_| { delete.dispatch(DeleteEndpoint { id: id_delete.clone() }); })
                                    />
                                </span>
                            }
                        })}
                    </div>
                </td>
            }
        }
    };
    let errors = latest_error(update.value());
    // Someone else's version overtook this row's edit: (current, author, theirs).
    let conflict = {
        let is_editing = is_editing.clone();
        Signal::derive(move || match update.value().get() {
            Some(Ok(EndpointSaveOutcome::Conflict { current, author, theirs })) if is_editing() => Some((current, author, theirs)),
            _ => None,
        })
    };
    // The form's new schema rows belong to the row, not to the conflict
    // notice whose button runs `take` (it goes away right after).
    let row_owner = StoredValue::new(Owner::current());
    let take = move |theirs: EndpointDraft, current: i64, merge: bool| {
        let loaded = if merge {
            comops_core::endpoint::versions::rebase(&original.get_value(), &theirs, &fields.draft())
        } else {
            theirs.clone()
        };
        match row_owner.get_value() {
            Some(owner) => owner.with(|| fields.load(&loaded)),
            None => fields.load(&loaded),
        }
        rebased.set(merge.then(|| (base.get_untracked(), current)));
        original.set_value(theirs);
        base.set(current);
        // Clearing the answer removes the notice whose button runs this:
        // not from inside its own click handler.
        request_animation_frame(move || update.clear());
    };
    let edit = move || {
        let id = id.clone();
        let id_notice = id.clone();
        let locale = use_locale();
        view! {
            <td colspan="8" class="px-3 py-3 bg-sky-50">
                {move || conflict.get().map(|(current, author, theirs)| {
                    let theirs = StoredValue::new(theirs);
                    view! {
                        <EndpointConflict id=id_notice.clone() base=base.get_untracked() current author
                            on_merge=Callback::new(move |_| take(theirs.get_value(), current, true))
                            on_reload=Callback::new(move |_| take(theirs.get_value(), current, false))/>
                    }
                })}
                {let id_rebased = id.clone(); move || rebased.get().map(|(from, to)| view! {
                    <div role="status" class="mb-3 rounded border border-sky-200 bg-sky-100/50 px-3 py-2 text-sm text-sky-900" data-testid="rebased">
                        <p>{move || t1(locale.get(), K::MapRebased, to)}</p>
                        <EndpointDiff id=id_rebased.clone() from to/>
                    </div>
                })}
                <EndpointForm
                    fields
                    errors
                    submit_label=K::Save
                    pending=update.pending().into()
                    note=note
                    on_submit=Callback::new(move |_| {
                        update.dispatch(UpdateEndpoint { id: id.clone(), base: base.get_untracked(), draft: fields.draft(), note: note.get_untracked() });
                    })
                    on_cancel=Callback::new(move |_| editing.set(None))
                />
            </td>
        }
    };
    let history = {
        let (id, alias, current) = (endpoint.id.to_string(), endpoint.alias.to_string(), endpoint.version);
        move || history_open.get().then(|| view! {
            <tr class="bg-slate-50/60" class:hidden=move || hidden.get() data-history-of=alias.clone()>
                <td colspan="8" class="px-3 py-2">
                    <EndpointHistory id=id.clone() alias=alias.clone() current can_design on_restored=on_changed/>
                </td>
            </tr>
        })
    };
    let test = {
        let (bot, alias, example, enabled) = (endpoint.bot_id.to_string(), endpoint.alias.to_string(), original.get_value().example, endpoint.enabled);
        move || test_open.get().then(|| view! {
            <tr class="bg-slate-50/60" class:hidden=move || hidden.get() data-test-of=alias.clone()>
                <td colspan="8" class="px-3 py-2">
                    <TestEvent bot=bot.clone() alias=alias.clone() example=example.clone() enabled/>
                </td>
            </tr>
        })
    };
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50 align-top" class:hidden=move || hidden.get() data-endpoint=endpoint.alias.to_string()>
            <Show when=is_editing fallback=show>{edit.clone()}</Show>
        </tr>
        {test}
        {history}
    }
    .into_any()
}

/// The create/edit form of an endpoint. Enter submits (from any one-line
/// input), Escape cancels.
#[component]
fn EndpointForm(
    fields: EndpointFields,
    errors: Signal<Option<AppError>>,
    submit_label: K,
    pending: Signal<bool>,
    /// The change note of a new version (editing only).
    #[prop(optional)]
    note: Option<RwSignal<String>>,
    on_submit: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let err = move |field: &str| error_at(errors, field.to_string());
    let check = |label: K, value: RwSignal<bool>, name: &'static str| {
        view! {
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name=name bind:checked=value/>
                <span>{move || tr(label)}</span>
            </label>
        }
    };
    view! {
        <form
            class="flex flex-col gap-3"
            on:submit=move |ev| { ev.prevent_default(); on_submit.run(()); }
            on:keydown=move |ev| if ev.key() == "Escape" { on_cancel.run(()) }
        >
            <div class="grid gap-3 md:grid-cols-5 items-start">
                <TextField label=K::Alias name="alias" value=fields.alias error=err("alias") hint=K::AliasHint autofocus=true/>
                <TextField label=K::Description name="description" value=fields.description error=err("description")/>
                <TextField label=K::Owner name="owner" value=fields.owner error=err("owner")/>
                <TextField label=K::Scenario name="scenario" value=fields.scenario error=err("scenario")/>
                <TextField label=K::OnBlocked name="on_blocked" value=fields.on_blocked error=err("on_blocked") hint=K::OnBlockedHint/>
            </div>
            <div class="flex flex-wrap gap-4">
                {check(K::Enabled, fields.enabled, "enabled")}
                {check(K::Isolated, fields.isolated, "isolated")}
                {check(K::AllowOverlap, fields.allow_overlap, "allow_overlap")}
            </div>
            <SchemaEditor rows=fields.rows errors/>
            <div class="grid gap-3 md:grid-cols-2 items-start">
                <TextArea label=K::ExampleRequest name="example" value=fields.example error=err("example") rows=5 mono=true/>
                <TextArea label=K::ResponseDescription name="response_description" value=fields.response_description error=err("response_description") rows=5 mono=false/>
            </div>
            <div class="flex flex-wrap items-end gap-2">
                {note.map(|note| view! {
                    <div class="min-w-64 flex-1"><TextField label=K::MapNote name="note" value=note error=err("note")/></div>
                })}
                <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white hover:bg-sky-600" disabled=move || pending.get()>
                    {move || tr(submit_label)}
                </button>
                <button type="button" class="rounded border border-slate-300 px-3 py-1.5" on:click=move |_| on_cancel.run(())>
                    {move || tr(K::Cancel)}
                </button>
            </div>
        </form>
    }
    .into_any()
}

/// A labelled textarea with its field error.
#[component]
fn TextArea(
    label: K,
    name: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    rows: u32,
    mono: bool,
) -> impl IntoView {
    let class = if mono {
        "rounded border border-slate-300 px-2 py-1.5 font-mono text-xs aria-[invalid=true]:border-rose-500"
    } else {
        "rounded border border-slate-300 px-2 py-1.5 text-sm aria-[invalid=true]:border-rose-500"
    };
    view! {
        <label class="flex flex-col gap-1 min-w-0">
            <span class="text-xs font-medium text-slate-600">{move || tr(label)}</span>
            <textarea name=name rows=rows class=class aria-invalid=move || error.get().is_some().to_string() bind:value=value></textarea>
            <Show when=move || error.get().is_some()>
                <span class="text-xs text-rose-600" data-error-for=name>{move || error.get()}</span>
            </Show>
        </label>
    }
    .into_any()
}

/// The request schema as an editable field list.
#[component]
fn SchemaEditor(rows: RwSignal<Vec<SchemaRow>>, errors: Signal<Option<AppError>>) -> impl IntoView {
    let list_error = error_at(errors, "schema.fields".into());
    view! {
        <fieldset class="rounded border border-slate-200 bg-white p-2" data-testid="schema-editor">
            <legend class="px-1 text-xs font-medium text-slate-600">{move || tr(K::RequestSchema)}</legend>
            <table class="w-full text-left text-sm">
                <thead class="text-xs text-slate-500">
                    <tr>
                        <th class="px-1 py-1">{move || tr(K::FieldName)}</th>
                        <th class="px-1 py-1">{move || tr(K::FieldType)}</th>
                        <th class="px-1 py-1">{move || tr(K::Required)}</th>
                        <th class="px-1 py-1">{move || tr(K::EnumValues)}</th>
                        <th class="px-1 py-1">{move || tr(K::Format)}</th>
                        <th class="px-1 py-1">{move || tr(K::Description)}</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().enumerate().map(|(i, row)| view! { <SchemaRowView i row rows errors/> }).collect_view()}
                </tbody>
            </table>
            <Show when=move || list_error.get().is_some()>
                <span class="text-xs text-rose-600" data-error-for="schema.fields">{move || list_error.get()}</span>
            </Show>
            <button type="button" class="mt-1 text-sm text-sky-800 hover:underline" data-testid="add-field"
                on:click=move |_| rows.update(|r| r.push(SchemaRow::new(None)))>
                {move || tr(K::AddField)}
            </button>
        </fieldset>
    }
    .into_any()
}

#[component]
fn SchemaRowView(i: usize, row: SchemaRow, rows: RwSignal<Vec<SchemaRow>>, errors: Signal<Option<AppError>>) -> impl IntoView {
    let err = move |what: &str| error_at(errors, format!("schema.fields[{i}].{what}"));
    let input_class = "w-full rounded border border-slate-300 px-1.5 py-1 text-sm aria-[invalid=true]:border-rose-500";
    let cell = move |value: RwSignal<String>, what: &'static str, mono: bool| {
        let error = err(what);
        let name = format!("schema-{what}");
        view! {
            <td class="px-1 py-1 align-top">
                <input type="text" name=name class=input_class class:font-mono=mono
                    aria-invalid=move || error.get().is_some().to_string() bind:value=value/>
                <Show when=move || error.get().is_some()>
                    <span class="text-xs text-rose-600" data-error-for=format!("schema.fields[{i}].{what}")>{move || error.get()}</span>
                </Show>
            </td>
        }
    };
    let kinds = FieldKind::ALL.into_iter().map(|k| {
        let kind = k.as_str();
        view! { <option value=kind selected=move || row.kind.get() == kind>{kind}</option> }
    }).collect_view();
    let formats = StringFormat::ALL.into_iter().map(|f| {
        let format = f.as_str();
        view! { <option value=format selected=move || row.format.get() == format>{format}</option> }
    }).collect_view();
    let format_error = err("format");
    view! {
        <tr data-schema-row=i>
            {cell(row.name, "name", true)}
            <td class="px-1 py-1 align-top">
                <select name="schema-type" class=input_class class:min-w-24=true prop:value=move || row.kind.get()
                    on:change=move |ev| row.kind.set(event_target_value(&ev))>{kinds}</select>
            </td>
            <td class="px-1 py-1 align-top text-center">
                <input type="checkbox" name="schema-required" bind:checked=row.required/>
            </td>
            {cell(row.enum_values, "enum", false)}
            <td class="px-1 py-1 align-top">
                <select name="schema-format" class=input_class prop:value=move || row.format.get()
                    on:change=move |ev| row.format.set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {formats}
                </select>
                <Show when=move || format_error.get().is_some()>
                    <span class="text-xs text-rose-600">{move || format_error.get()}</span>
                </Show>
            </td>
            {cell(row.description, "description", false)}
            <td class="px-1 py-1 align-top">
                <button type="button" class="text-rose-700 hover:underline" data-testid="remove-field" title=move || tr(K::RemoveField)
                    on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"×"</button>
            </td>
        </tr>
    }
    .into_any()
}

/// The export document of the current bot, to copy or download.
#[component]
fn ExportPanel(export: ServerAction<ExportEndpoints>) -> impl IntoView {
    let json = move || export.value().with(|v| v.as_ref().and_then(|r| r.as_ref().ok().cloned()));
    view! {
        <Show when=move || json().is_some()>
            <div class="mb-4 rounded border border-slate-200 bg-white p-3" data-testid="export-panel">
                <div class="mb-2 flex items-center justify-between gap-2">
                    <span class="text-sm font-medium">{move || tr(K::ExportJson)}</span>
                    <div class="flex gap-3 text-sm">
                        <a class="text-sky-800 hover:underline" download="endpoints.json" data-testid="download-export"
                            href=move || format!("data:application/json;charset=utf-8,{}", percent_encode(&json().unwrap_or_default()))>
                            {move || tr(K::Download)}
                        </a>
                        <button class="text-slate-600 hover:underline" on:click=move |_| export.clear()>{move || tr(K::Close)}</button>
                    </div>
                </div>
                <textarea readonly rows=12 class="w-full rounded border border-slate-300 p-2 font-mono text-xs" data-testid="export-json"
                    prop:value=move || json().unwrap_or_default()></textarea>
            </div>
        </Show>
    }
    .into_any()
}

/// Paste an export document; every draft is checked before anything is
/// written.
#[component]
fn ImportPanel(import: ServerAction<ImportEndpoints>, text: RwSignal<String>, bot_id: Signal<String>, on_close: Callback<()>) -> impl IntoView {
    let import_pending = import.pending();
    let locale = use_locale();
    let result = move || {
        import.value().with(|v| match v {
            Some(Ok(report)) => Some(Ok(t(locale.get(), K::ImportDone)
                .replacen("{}", &report.created.to_string(), 1)
                .replacen("{}", &report.updated.to_string(), 1)
                .replacen("{}", &report.unchanged.to_string(), 1))),
            Some(Err(err)) => Some(Err(err.message(locale.get()))),
            None => None,
        })
    };
    view! {
        <form class="mb-4 flex flex-col gap-2 rounded border border-slate-200 bg-white p-3" data-testid="import-form"
            on:submit=move |ev| { ev.prevent_default(); import.dispatch(ImportEndpoints { bot_id: bot_id.get_untracked(), json: text.get_untracked() }); }
            on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
            <label class="flex flex-col gap-1">
                <span class="text-xs font-medium text-slate-600">{move || tr(K::ImportHint)}</span>
                <textarea name="import" rows=10 class="w-full rounded border border-slate-300 p-2 font-mono text-xs" bind:value=text></textarea>
            </label>
            {move || match result() {
                Some(Ok(done)) => view! { <p class="text-sm text-emerald-700" data-testid="import-result">{done}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="text-sm text-rose-700" role="alert" data-testid="import-error">{message}</p> }.into_any(),
                None => ().into_any(),
            }}
            <div class="flex gap-2">
                <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white hover:bg-sky-600" disabled=move || import_pending.get()>
                    {move || tr(K::Import)}
                </button>
                <button type="button" class="rounded border border-slate-300 px-3 py-1.5" on:click=move |_| on_close.run(())>
                    {move || tr(K::Close)}
                </button>
            </div>
        </form>
    }
    .into_any()
}

