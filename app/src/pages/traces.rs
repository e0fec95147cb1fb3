//! The trace log: a filter bar, a dense table newest first with "Older"
//! paging, and one trace as a vertical timeline (oldest first) when its id
//! is clicked or named in the URL (`/traces?trace_id=…`); a map row's
//! trigger links here filtered by its endpoint (`?endpoint=…`). The
//! applied filter and page live in the address.

use crate::api::endpoints::list_bot_choices;
use crate::api::traces::{list_traces, trace_timeline, TraceQuery, PAGE_SIZE};
use crate::components::filter_form::{log_href, FilterField, FilterForm, LogAddress, LogPager, PeriodSelect, FILTER_INPUT};
use crate::components::{format_millis_exact, format_millis_seconds};
use crate::i18n::{duration_text, trace_status_text, trace_step_text, tr, use_locale, K};
use crate::trace_detail::detail_text;
use comops_core::TraceEvent;
use leptos::prelude::*;

/// Statuses the integration layer records, for the filter.
const STATUSES: [&str; 3] = ["success", "fail", "rejected"];

#[derive(Clone, Copy)]
struct FilterFields {
    trace_id: RwSignal<String>,
    bot_id: RwSignal<String>,
    endpoint: RwSignal<String>,
    user: RwSignal<String>,
    status: RwSignal<String>,
    period: RwSignal<String>,
}

impl FilterFields {
    fn new() -> Self {
        Self {
            trace_id: RwSignal::new(String::new()),
            bot_id: RwSignal::new(String::new()),
            endpoint: RwSignal::new(String::new()),
            user: RwSignal::new(String::new()),
            status: RwSignal::new(String::new()),
            period: RwSignal::new(String::new()),
        }
    }

    fn query(&self) -> TraceQuery {
        TraceQuery {
            trace_id: self.trace_id.get_untracked(),
            bot_id: self.bot_id.get_untracked(),
            endpoint: self.endpoint.get_untracked(),
            user: self.user.get_untracked(),
            status: self.status.get_untracked(),
            period: self.period.get_untracked(),
            before_id: String::new(),
        }
    }

    /// Shows `query` in the fields (the address's filter).
    fn show(&self, query: &TraceQuery) {
        self.trace_id.set(query.trace_id.clone());
        self.bot_id.set(query.bot_id.clone());
        self.endpoint.set(query.endpoint.clone());
        self.user.set(query.user.clone());
        self.status.set(query.status.clone());
        self.period.set(query.period.clone());
    }

    fn clear(&self) {
        self.show(&TraceQuery::default());
    }
}

/// The filter and page an address holds (`/traces?trace_id=…`,
/// `?endpoint=…&bot=…`, `&before=<event id>`).
fn query_of(params: &leptos_router::params::ParamsMap) -> TraceQuery {
    let get = |name: &str| params.get(name).unwrap_or_default();
    TraceQuery { trace_id: get("trace_id"), bot_id: get("bot"), endpoint: get("endpoint"), user: get("user"), status: get("status"), period: get("period"), before_id: get("before") }
}

/// The address of `query`.
fn href_of(query: &TraceQuery) -> String {
    log_href(
        "/traces",
        &[
            ("trace_id", &query.trace_id),
            ("bot", &query.bot_id),
            ("endpoint", &query.endpoint),
            ("user", &query.user),
            ("status", &query.status),
            ("period", &query.period),
            ("before", &query.before_id),
        ],
    )
}

/// A trace's status in the current language (reactive).
fn status_text(status: &str) -> impl Fn() -> String + Send + Sync + 'static {
    let (locale, status) = (use_locale(), status.to_string());
    move || trace_status_text(locale.get(), &status)
}

/// Colours of a status badge.
fn badge(status: &str) -> &'static str {
    match status {
        "success" => "bg-emerald-100 text-emerald-800",
        "fail" => "bg-rose-100 text-rose-800",
        "rejected" => "bg-amber-100 text-amber-800",
        _ => "bg-slate-100 text-slate-700",
    }
}

#[component]
pub fn TracesPage() -> impl IntoView {
    let locale = use_locale();
    let fields = FilterFields::new();
    // The applied filter lives in the address: links from runs and leads
    // (`?trace_id=…`, which also opens that trace) and from map rows
    // (`?endpoint=…&bot=…`), a reload, Back and a copied link show the
    // same rows.
    let address = LogAddress::new(query_of, href_of);
    let LogAddress { applied, show, .. } = address;
    let named = |query: &TraceQuery| Some(query.trace_id.clone()).filter(|id| !id.is_empty());
    fields.show(&applied.get_untracked());
    let selected = RwSignal::new(named(&applied.get_untracked()));
    Effect::watch(
        move || applied.get(),
        move |query, previous, _| {
            fields.show(query);
            if previous.is_none_or(|p| p.trace_id != query.trace_id) {
                selected.set(named(query));
            }
        },
        false,
    );
    let events = Resource::new(move || address.key(), |(query, _)| list_traces(query));
    let apply = move || show.run(fields.query());
    // Clicking a trace id filters by it and opens its timeline.
    let open_trace = Callback::new(move |id: String| {
        fields.trace_id.set(id.clone());
        apply();
        selected.set(Some(id));
    });

    view! {
        <div class="mb-4">
            <h1 class="text-xl font-semibold">{move || tr(K::Traces)}</h1>
            <p class="text-slate-600">{move || tr(K::SectionTraces)}</p>
        </div>
        <FilterBar fields on_apply=Callback::new(move |_| apply()) on_clear=Callback::new(move |_| { fields.clear(); selected.set(None); apply(); })/>
        {move || selected.get().map(|id| view! { <Timeline trace_id=id on_close=Callback::new(move |_| selected.set(None))/> })}
        <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Err(err) => view! { <p class="mt-4 text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                    Ok(list) => view! { <TraceTable list applied show open_trace/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn FilterBar(fields: FilterFields, on_apply: Callback<()>, on_clear: Callback<()>) -> impl IntoView {
    let bots = Resource::new(|| (), |_| list_bot_choices());
    let text = move |label: K, name: &'static str, value: RwSignal<String>, mono: bool| {
        view! {
            <FilterField label>
                <input type="text" name=name class=FILTER_INPUT class:font-mono=mono bind:value=value/>
            </FilterField>
        }
    };
    let locale = use_locale();
    let statuses = STATUSES.map(|s| view! { <option value=s>{move || trace_status_text(locale.get(), s)}</option> }).into_iter().collect_view();
    view! {
        <FilterForm testid="trace-filter" on_apply on_clear>
            {text(K::TraceId, "trace_id", fields.trace_id, true)}
            <FilterField label=K::Bot>
                <select name="bot_id" class=FILTER_INPUT prop:value=move || fields.bot_id.get()
                    on:change=move |ev| fields.bot_id.set(event_target_value(&ev))>
                    <option value="">{move || tr(K::AnyValue)}</option>
                    <Transition>
                        {move || Suspend::new(async move {
                            bots.await.unwrap_or_default().into_iter().map(|b| {
                                let id = b.id.clone();
                                view! { <option value=b.id selected=move || fields.bot_id.get() == id>{b.name}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </FilterField>
            {text(K::Endpoint, "endpoint", fields.endpoint, true)}
            {text(K::UserOrLead, "user", fields.user, false)}
            <FilterField label=K::Status>
                <select name="status" class=FILTER_INPUT prop:value=move || fields.status.get()
                    on:change=move |ev| fields.status.set(event_target_value(&ev))>
                    <option value="">{move || tr(K::AnyValue)}</option>
                    {statuses}
                </select>
            </FilterField>
            <PeriodSelect value=fields.period/>
        </FilterForm>
    }
    .into_any()
}

#[component]
fn TraceTable(list: Vec<TraceEvent>, applied: Memo<TraceQuery>, show: Callback<TraceQuery>, open_trace: Callback<String>) -> impl IntoView {
    let empty = list.is_empty();
    let older = (list.len() as i64 >= PAGE_SIZE).then(|| list.last().map(|e| e.id.clone())).flatten();
    let paged = Signal::derive(move || !applied.with(|q| q.before_id.is_empty()));
    view! {
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="traces-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-2 py-2">{move || tr(K::Time)}</th>
                        <th class="px-2 py-2">{move || tr(K::TraceId)}</th>
                        <th class="px-2 py-2">{move || tr(K::Source)}</th>
                        <th class="px-2 py-2">{move || tr(K::Endpoint)}</th>
                        <th class="px-2 py-2">{move || tr(K::UserLead)}</th>
                        <th class="px-2 py-2">{move || tr(K::Step)}</th>
                        <th class="px-2 py-2">{move || tr(K::Status)}</th>
                        <th class="px-2 py-2 text-right">{move || tr(K::LatencyMs)}</th>
                        <th class="px-2 py-2">{move || tr(K::Detail)}</th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="9" class="px-3 py-6 text-center text-slate-500" data-testid="no-traces">{move || tr(K::NoTraces)}</td></tr>
                    })}
                    {list.into_iter().map(|event| view! { <TraceRow event open_trace/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <LogPager paged older on_newest=Callback::new(move |_| show.run(TraceQuery { before_id: String::new(), ..applied.get_untracked() }))
            on_older=Callback::new(move |before_id| show.run(TraceQuery { before_id, ..applied.get_untracked() }))/>
    }
    .into_any()
}

#[component]
fn TraceRow(event: TraceEvent, open_trace: Callback<String>) -> impl IntoView {
    let trace_id = event.trace_id.clone();
    let short = trace_id.chars().take(12).collect::<String>();
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50 align-top" data-trace=event.trace_id.clone() data-status=event.status.clone()>
            <td class="px-2 py-1.5 text-slate-500 tabular-nums" title=format_millis_exact(event.at) data-testid="trace-time">{date_then_time(event.at)}</td>
            <td class="px-2 py-1.5">
                <button class="font-mono text-xs text-sky-800 hover:underline" title=trace_id.clone() data-testid="trace-link"
                    on:click=move |_| open_trace.run(trace_id.clone())>{short}"…"</button>
            </td>
            <td class="px-2 py-1.5">{event.source_system.clone()}</td>
            // Two short ids a column: the bot over its endpoint, the business
            // user over the lead, so the detail keeps its room in Russian too.
            <td class="px-2 py-1.5 font-mono text-xs wrap-anywhere">
                <span class="block text-slate-500" data-testid="trace-bot">{event.bot_id.clone()}</span>
                <span data-testid="trace-endpoint">{path_view(&event.endpoint)}</span>
            </td>
            <td class="px-2 py-1.5 font-mono text-xs wrap-anywhere">
                <span class="block" data-testid="trace-user">{event.user_id.clone()}</span>
                <span class="block text-slate-500" data-testid="trace-lead">{event.lead_id.clone()}</span>
            </td>
            <td class="px-2 py-1.5 text-xs" data-testid="trace-step" data-step=event.step.clone()>{step_view(event.step.clone())}</td>
            <td class="px-2 py-1.5">
                <span class=format!("whitespace-nowrap rounded px-1.5 py-0.5 text-xs {}", badge(&event.status)) data-testid="trace-status">{status_text(&event.status)}</span>
                {(event.http_status != 0).then(|| view! { <span class="ml-1 text-xs tabular-nums text-slate-500" data-testid="trace-http">{event.http_status}</span> })}
                {event.dry_run.then(|| view! { <span class="ml-1 whitespace-nowrap rounded bg-violet-100 px-1.5 py-0.5 text-xs text-violet-800" data-testid="dry-run">{move || tr(K::DryRun)}</span> })}
            </td>
            <td class="px-2 py-1.5 text-right tabular-nums">{event.latency_ms}</td>
            <td class="px-2 py-1.5 min-w-48 max-w-sm break-words text-slate-600" data-testid="trace-detail">{detail_view(event.step.clone(), event.detail.clone())}</td>
        </tr>
    }
    .into_any()
}

/// A time to the second whose date and time may sit on two lines when
/// the columns are tight, never breaking inside either.
fn date_then_time(at: i64) -> impl IntoView {
    let text = format_millis_seconds(at);
    let (date, time) = text.split_once(' ').map(|(d, t)| (d.to_string(), t.to_string())).unwrap_or_default();
    view! { <span class="whitespace-nowrap">{date}</span>" "<span class="whitespace-nowrap">{time}</span> }
}

/// How long after the trace's first event one came: `+850 ms`, `+42 s`.
fn offset_text(locale: comops_core::Locale, ms: i64) -> String {
    format!("+{}", duration_text(locale, Some(ms.max(0))))
}

/// A step in the reader's words with its name beside, for search (`api.call`);
/// a step the studio has no words for by its name alone.
fn step_view(step: String) -> impl IntoView {
    let locale = use_locale();
    move || match trace_step_text(locale.get(), &step) {
        Some(words) => view! { <span class="whitespace-nowrap">{words}</span>" "<span class="font-mono text-[11px] text-slate-400">{step.clone()}</span> }.into_any(),
        None => view! { <span class="font-mono">{step.clone()}</span> }.into_any(),
    }
}

/// A trace event's detail in the reader's language, following a switch.
fn detail_view(step: String, detail: String) -> impl IntoView {
    let locale = use_locale();
    move || detail_text(locale.get(), &step, &detail)
}

/// An endpoint path that may wrap after each `/` rather than inside a word.
fn path_view(path: &str) -> impl IntoView {
    path.split('/')
        .enumerate()
        .map(|(i, part)| view! { {(i > 0).then(|| view! { "/"<wbr/> })}{part.to_string()} })
        .collect_view()
}

/// One trace, oldest event first, as a vertical line of steps.
#[component]
fn Timeline(trace_id: String, on_close: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let id = trace_id.clone();
    let events = Resource::new(move || id.clone(), trace_timeline);
    view! {
        <section class="mb-4 rounded border border-sky-200 bg-white p-4" data-testid="trace-timeline">
            <div class="mb-3 flex items-center justify-between gap-2">
                <h2 class="font-semibold">{move || tr(K::Timeline)} " " <span class="font-mono text-xs">{trace_id.clone()}</span></h2>
                <button class="text-sm text-slate-600 hover:underline" on:click=move |_| on_close.run(())>{move || tr(K::Close)}</button>
            </div>
            <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                        Ok(list) => {
                            let first = list.first().map_or(0, |e| e.at);
                            view! {
                            <ol class="relative ml-2 border-l-2 border-slate-200">
                                {list.into_iter().enumerate().map(|(i, e)| view! {
                                    <li class="mb-3 ml-4" data-testid="timeline-step">
                                        <span class=format!("absolute -left-[7px] mt-1.5 h-3 w-3 rounded-full {}", badge(&e.status))></span>
                                        <div class="flex flex-wrap items-baseline gap-2 text-sm">
                                            <span class="text-xs text-slate-500 tabular-nums" title=format_millis_exact(e.at)>{format_millis_seconds(e.at)}</span>
                                            {(i > 0).then(|| view! {
                                                <span class="text-xs tabular-nums text-slate-500" data-testid="timeline-offset">{move || offset_text(locale.get(), e.at - first)}</span>
                                            })}
                                            <span class="text-xs font-medium" data-step=e.step.clone()>{step_view(e.step.clone())}</span>
                                            <span class=format!("rounded px-1.5 py-0.5 text-xs {}", badge(&e.status)) data-testid="trace-status">{status_text(&e.status)}</span>
                                            <span class="font-mono text-xs text-slate-600">{e.bot_id.clone()} " / " {e.endpoint.clone()}</span>
                                            {(e.http_status != 0).then(|| view! { <span class="text-xs text-slate-500">"HTTP " {e.http_status}</span> })}
                                            <span class="text-xs text-slate-500">{e.latency_ms} " " {move || tr(K::LatencyMs)}</span>
                                        </div>
                                        <p class="text-xs text-slate-600" data-testid="timeline-detail">{detail_view(e.step.clone(), e.detail.clone())}</p>
                                    </li>
                                }).collect_view()}
                            </ol>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use comops_core::Locale;

    #[test]
    fn a_steps_offset_reads_from_the_traces_first_event() {
        assert_eq!(super::offset_text(Locale::En, 850), "+850 ms");
        assert_eq!(super::offset_text(Locale::Ru, 42_000), "+42 с");
        assert_eq!(super::offset_text(Locale::En, -3), "+0 ms");
    }
}
