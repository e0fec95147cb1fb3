//! The audit log (admins only): a filter bar (who, area, subject,
//! period), a dense table newest first with "Older" paging read from the
//! server, each action in the reader's language and each subject by its
//! current name. Clicking a subject filters by it. The applied filter and
//! page live in the address (`/audit?subject=…`, `?actor="…"` from a
//! user's row), so a reload, Back or a copied link shows the same rows.

use crate::api::audit::{export_audit, read_audit, AuditQuery};
use crate::audit_detail::audit_detail_text;
use crate::components::filter_form::{log_href, FilterField, FilterForm, LogAddress, LogPager, PeriodSelect, FILTER_INPUT};
use crate::components::form::{can, general_error, ErrorBanner};
use crate::components::{download, format_millis_exact, format_millis_seconds, l, load_error, loading};
use crate::i18n::{audit_action_text, audit_area_text, t, t1, tr, use_locale, K};
use comops_core::audit::{is_named_kind, AuditEntry, AuditPage, AREAS};
use comops_core::Permission;
use leptos::prelude::*;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    view! {
        <div class="mb-4">
            <h1 class="text-xl font-semibold">{l(K::Audit)}</h1>
            <p class="text-slate-600">{l(K::SectionAudit)}</p>
        </div>
        {if can(Permission::Administer) {
            view! { <AuditLog/> }.into_any()
        } else {
            view! {
                <div class="rounded border border-amber-200 bg-amber-50 p-4 text-amber-900" data-testid="audit-forbidden">{l(K::AuditAdminsOnly)}</div>
            }
            .into_any()
        }}
    }
    .into_any()
}

/// The filter's fields as typed, before they are applied.
#[derive(Clone, Copy)]
struct FilterFields {
    actor: RwSignal<String>,
    area: RwSignal<String>,
    subject: RwSignal<String>,
    period: RwSignal<String>,
}

impl FilterFields {
    fn new() -> Self {
        let field = || RwSignal::new(String::new());
        Self { actor: field(), area: field(), subject: field(), period: field() }
    }

    fn query(&self) -> AuditQuery {
        AuditQuery {
            actor: self.actor.get_untracked(),
            area: self.area.get_untracked(),
            subject: self.subject.get_untracked(),
            period: self.period.get_untracked(),
            before: String::new(),
        }
    }

    /// Shows `query` in the fields (the address's filter).
    fn show(&self, query: &AuditQuery) {
        self.actor.set(query.actor.clone());
        self.area.set(query.area.clone());
        self.subject.set(query.subject.clone());
        self.period.set(query.period.clone());
    }

    fn clear(&self) {
        self.show(&AuditQuery::default());
    }
}

/// The filter and page an address holds (`/audit?actor=…&before=…`).
fn query_of(params: &leptos_router::params::ParamsMap) -> AuditQuery {
    let get = |name: &str| params.get(name).unwrap_or_default();
    AuditQuery { actor: get("actor"), area: get("area"), subject: get("subject"), period: get("period"), before: get("before") }
}

/// The address of `query`.
fn href_of(query: &AuditQuery) -> String {
    log_href("/audit", &[("actor", &query.actor), ("area", &query.area), ("subject", &query.subject), ("period", &query.period), ("before", &query.before)])
}

#[component]
fn AuditLog() -> impl IntoView {
    let locale = use_locale();
    let fields = FilterFields::new();
    // The applied filter lives in the address: a reload, Back, a copied
    // link or a link from a user's or token's row shows the same rows.
    let address = LogAddress::new(query_of, href_of);
    let LogAddress { applied, show, .. } = address;
    fields.show(&applied.get_untracked());
    Effect::watch(move || applied.get(), move |query, _, _| fields.show(query), false);
    let page = Resource::new(move || address.key(), |(query, _)| read_audit(query));
    let apply = move || show.run(fields.query());
    let by_subject = Callback::new(move |id: String| {
        fields.subject.set(id);
        apply();
    });
    // The applied filter's newest entries as a CSV file.
    let export = Action::new(|query: &AuditQuery| export_audit(query.clone()));
    let exporting = export.pending();
    let export_error = general_error(export.value());
    Effect::new(move |_| {
        if let Some(Ok(text)) = export.value().get() {
            download("comops-audit.csv", "text/csv", &text);
        }
    });
    view! {
        <FilterBar fields on_apply=Callback::new(move |_| apply()) on_clear=Callback::new(move |_| { fields.clear(); apply(); })/>
        <div class="mb-2 flex items-center justify-end gap-3">
            <span class="text-xs text-slate-500">{l(K::AuditExportNote)}</span>
            <button class="rounded border border-slate-300 px-3 py-1 text-sm" data-testid="audit-export" disabled=move || exporting.get()
                on:click=move |_| { export.dispatch(applied.get_untracked()); }>{l(K::AuditExport)}</button>
        </div>
        <ErrorBanner message=export_error/>
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => load_error(err, locale.get_untracked()),
                    Ok(page) => view! { <AuditTable page applied show by_subject/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn FilterBar(fields: FilterFields, on_apply: Callback<()>, on_clear: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let areas = AREAS.map(|a| view! { <option value=a>{move || audit_area_text(locale.get(), a)}</option> }).into_iter().collect_view();
    view! {
        <FilterForm testid="audit-filter" on_apply on_clear>
            <FilterField label=K::AuditActor>
                <input type="text" name="actor" class=FILTER_INPUT bind:value=fields.actor/>
            </FilterField>
            <FilterField label=K::AuditArea>
                <select name="area" class=FILTER_INPUT prop:value=move || fields.area.get() on:change=move |ev| fields.area.set(event_target_value(&ev))>
                    <option value="">{l(K::AnyValue)}</option>
                    {areas}
                </select>
            </FilterField>
            <FilterField label=K::AuditSubject>
                <input type="text" name="subject" class=format!("{FILTER_INPUT} font-mono") bind:value=fields.subject/>
            </FilterField>
            <PeriodSelect value=fields.period/>
        </FilterForm>
    }
    .into_any()
}

#[component]
fn AuditTable(page: AuditPage, applied: Memo<AuditQuery>, show: Callback<AuditQuery>, by_subject: Callback<String>) -> impl IntoView {
    let empty = page.entries.is_empty();
    let older = page.older.map(|cursor| cursor.to_string());
    let paged = Signal::derive(move || applied.with(|q| !q.before.is_empty()));
    view! {
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="audit-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-2 py-2">{l(K::Time)}</th>
                        <th class="px-2 py-2">{l(K::AuditActor)}</th>
                        <th class="px-2 py-2">{l(K::AuditAction)}</th>
                        <th class="px-2 py-2">{l(K::AuditSubject)}</th>
                        <th class="px-2 py-2">{l(K::Detail)}</th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="5" class="px-3 py-6 text-center text-slate-500" data-testid="no-audit">{l(K::NoAuditEntries)}</td></tr>
                    })}
                    {page.entries.into_iter().map(|entry| view! { <AuditRow entry by_subject/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <LogPager paged older on_newest=Callback::new(move |_| show.run(AuditQuery { before: String::new(), ..applied.get_untracked() }))
            on_older=Callback::new(move |before| show.run(AuditQuery { before, ..applied.get_untracked() }))/>
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry, by_subject: Callback<String>) -> impl IntoView {
    let locale = use_locale();
    let action = entry.action.clone();
    let (action_d, detail) = (entry.action.clone(), entry.detail.clone());
    let subject = entry.subject.clone();
    let gone = entry.subject_name.is_none() && is_named_kind(&entry.subject);
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50 align-top" data-action=entry.action.clone() data-testid="audit-row">
            <td class="px-2 py-1.5 whitespace-nowrap text-slate-500 tabular-nums" title=format_millis_exact(entry.at)>{format_millis_seconds(entry.at)}</td>
            <td class="px-2 py-1.5 wrap-anywhere" data-testid="audit-actor" title=entry.actor.clone()>{actor_view(entry.actor.clone())}</td>
            <td class="px-2 py-1.5 whitespace-nowrap" title=entry.action.clone() data-testid="audit-action">{move || audit_action_text(locale.get(), &action)}</td>
            <td class="px-2 py-1.5">
                {entry.subject_name.clone().map(|name| view! { <span class="block" data-testid="audit-subject-name">{name}</span> })}
                {(!subject.is_empty()).then(|| {
                    let id = subject.clone();
                    view! {
                        <button class="font-mono text-xs text-sky-800 hover:underline" title=move || tr(K::AuditBySubject) data-testid="audit-subject"
                            on:click=move |_| by_subject.run(id.clone())>{subject.clone()}</button>
                    }
                })}
                {gone.then(|| view! { <span class="ml-1 text-xs text-slate-500">"(" {l(K::AuditSubjectGone)} ")"</span> })}
            </td>
            <td class="px-2 py-1.5 min-w-48 max-w-md break-words text-slate-600" data-testid="audit-detail">{move || audit_detail_text(locale.get(), &action_d, &detail)}</td>
        </tr>
    }
    .into_any()
}

/// Who did it: a user by email as written; the server itself, its command
/// line and a token (`system`, `cli`, `token:CRM`) in the reader's words
/// (the name filtered by stays in the cell's title).
fn actor_view(actor: String) -> impl IntoView {
    let locale = use_locale();
    move || match (actor.as_str(), actor.strip_prefix("token:")) {
        ("system", _) => t(locale.get(), K::AuditActorSystem).to_string(),
        ("cli", _) => t(locale.get(), K::AuditActorCli).to_string(),
        (_, Some(name)) => t1(locale.get(), K::AuditActorToken, name),
        _ => actor.clone(),
    }
}
