//! Analytics: a filter bar (bot, period, scope: the whole bot, one
//! endpoint, scenario or communication map), SPEC §8's six metrics as
//! cards with what each rests on, the weekly engagement trend, the funnel
//! Event → Communication → Reply → Action and the heatmap of scenario
//! steps per day, drawn as SVG; the figures per endpoint; CSV export.
//! The URL holds the filter (`/analytics?bot=…&from=…&to=…&of=endpoint:…`),
//! so a view can be shared.

use crate::api::analytics::{analytics_report, AnalyticsPage as PageData, AnalyticsQuery};
use crate::components::bot_picker::BotPicker;
use crate::components::{l, loading, percent_encode};
use crate::i18n::{decimal_text, duration_text, t, t1, use_locale, K};
use comops_core::analytics::{date_of, to_csv, Heatmap, Ratio, Rates, Report, WeekPoint, MAX_PERIOD_DAYS};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const INPUT: &str = "rounded border border-slate-300 px-2 py-1.5 text-sm";
const CARD: &str = "rounded border border-slate-200 bg-white p-3";

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|q| {
            let (scope, value) = q.get("of").and_then(|of| of.split_once(':').map(|(s, v)| (s.to_string(), v.to_string()))).unwrap_or_default();
            AnalyticsQuery { bot_id: q.get("bot").unwrap_or_default(), from: q.get("from").unwrap_or_default(), to: q.get("to").unwrap_or_default(), scope, value }
        })
    });
    let data = Resource::new(move || query.get(), analytics_report);
    view! {
        <h1 class="mb-3 text-xl font-semibold">{l(K::Analytics)}</h1>
        <Transition fallback=loading>
            {move || data.get().map(|result| match result {
                Ok(page) => view! { <Analytics page/> }.into_any(),
                Err(err) => {
                    // A period that cannot be shown (dates the wrong way
                    // round, too long) is said in words, with a way back:
                    // the filter is in the URL, so a reload shows it again.
                    let locale_now = locale.get_untracked();
                    let bad_period = err.field("from", locale_now).is_some() || err.field("to", locale_now).is_some();
                    let message = if bad_period { t(locale_now, K::AnBadPeriod).to_string() } else { err.message(locale_now) };
                    let reset = format!("/analytics?bot={}", query.with_untracked(|q| q.bot_id.clone()));
                    view! {
                        <p role="alert" class="rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="analytics-error">
                            {message}
                        </p>
                        <a class="mt-2 inline-block text-sm text-sky-800 hover:underline" href=reset data-testid="analytics-reset">{l(K::AnResetPeriod)}</a>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn Analytics(page: PageData) -> impl IntoView {
    let locale = use_locale();
    let PageData { bots, query, scopes, report } = page;
    let current_scope = format!("{}:{}", query.scope, query.value);
    let scope_options = scopes
        .iter()
        .map(|choice| {
            let value = format!("{}:{}", choice.scope, choice.value);
            let kind = match choice.scope.as_str() {
                "endpoint" => K::AnKindEndpoint,
                "scenario" => K::AnKindScenario,
                _ => K::AnKindMap,
            };
            let selected = value == current_scope;
            let label = choice.label.clone();
            view! { <option value=value selected=selected>{move || format!("{} · {}", t(locale.get(), kind), label)}</option> }
        })
        .collect_view();
    let empty = report.funnel.event == 0 && report.heatmap.max() == 0;
    let csv = to_csv(&report);
    let csv_href = format!("data:text/csv;charset=utf-8,{}", percent_encode(&csv));
    let csv_name = format!("analytics-{}-{}-{}.csv", query.bot_id, query.from, query.to);
    view! {
        <form method="get" action="/analytics" class="mb-4 flex flex-wrap items-end gap-3" data-testid="analytics-filter">
            <BotPicker bots current=query.bot_id.clone() path="/analytics"/>
            <input type="hidden" name="bot" value=query.bot_id.clone()/>
            <label class="flex flex-col text-xs font-medium text-slate-600">{l(K::AnFrom)}
                <input type="date" name="from" class=INPUT value=query.from.clone() data-testid="analytics-from"/>
            </label>
            <label class="flex flex-col text-xs font-medium text-slate-600">{l(K::AnTo)}
                <input type="date" name="to" class=INPUT value=query.to.clone() data-testid="analytics-to"/>
            </label>
            <label class="flex flex-col text-xs font-medium text-slate-600">{l(K::AnScope)}
                <select name="of" class=INPUT data-testid="analytics-scope">
                    <option value="" selected=query.scope.is_empty()>{l(K::AnAllRuns)}</option>
                    {scope_options}
                </select>
            </label>
            <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-sm text-white" data-testid="analytics-show">{l(K::AnShow)}</button>
            <a class="text-sm text-sky-800 hover:underline" href=csv_href download=csv_name data-testid="analytics-csv">{l(K::AnDownloadCsv)}</a>
        </form>
        {report.truncated.then(|| view! {
            <p class="mb-3 rounded bg-amber-50 px-2 py-1 text-sm text-amber-900" data-testid="analytics-truncated">
                {move || t1(locale.get(), K::AnTruncated, comops_core::analytics::MAX_RUNS)}
            </p>
        })}
        {report.traces_purged_before.map(|at| {
            let moment = utc_minute(at);
            view! {
                <p class="mb-3 rounded bg-amber-50 px-2 py-1 text-sm text-amber-900" data-testid="analytics-traces-purged">
                    {move || t1(locale.get(), K::AnTracesPurged, &moment)}
                </p>
            }
        })}
        {empty.then(|| view! { <p class="mb-3 text-sm text-slate-500" data-testid="analytics-empty">{l(K::AnNoData)}</p> })}
        <RateCards rates=report.rates.clone()/>
        <div class="mt-4 grid gap-4 lg:grid-cols-2">
            <section class=CARD>
                <h2 class="mb-2 text-sm font-semibold">{l(K::AnWeekly)}</h2>
                <WeeklyChart weeks=report.weekly.clone()/>
            </section>
            <section class=CARD>
                <h2 class="mb-2 text-sm font-semibold">{l(K::AnFunnel)}</h2>
                <FunnelChart report=report.clone()/>
            </section>
        </div>
        <section class={format!("{CARD} mt-4 overflow-x-auto")}>
            <h2 class="mb-2 text-sm font-semibold">{l(K::AnHeatmap)}</h2>
            <HeatmapChart heatmap=report.heatmap.clone()/>
        </section>
        <EndpointTable report/>
        <p class="mt-2 text-xs text-slate-500">{move || t1(locale.get(), K::AnPeriodNote, MAX_PERIOD_DAYS)}</p>
    }
    .into_any()
}

#[component]
fn RateCards(rates: Rates) -> impl IntoView {
    let ratio = |r: &Ratio| format!("{} / {}", r.part, r.whole);
    let locale = use_locale();
    let response_ms = rates.response_ms;
    // A decimal comma in Russian.
    let number = move |text: String| Signal::derive(move || decimal_text(locale.get(), text.clone()));
    let cards = [
        ("delivery", K::AnDelivery, number(rates.delivery.percent()), ratio(&rates.delivery), K::AnDeliveryHint),
        ("engagement", K::AnEngagement, number(rates.engagement.percent()), ratio(&rates.engagement), K::AnEngagementHint),
        ("response", K::AnResponse, Signal::derive(move || duration_text(locale.get(), response_ms)), rates.responses.to_string(), K::AnResponseHint),
        ("conversion", K::AnConversion, number(rates.conversion.percent()), ratio(&rates.conversion), K::AnConversionHint),
        ("csat", K::AnCsat, number(csat_text(rates.csat)), rates.ratings.to_string(), K::AnCsatHint),
        ("error", K::AnError, number(rates.error.percent()), ratio(&rates.error), K::AnErrorHint),
    ];
    let cards = cards
        .into_iter()
        .map(|(id, title, value, basis, hint)| {
            view! {
                <div class=CARD data-testid={format!("metric-{id}")}>
                    <div class="text-xs font-medium text-slate-600">{l(title)}</div>
                    <div class="text-2xl font-semibold tabular-nums" data-testid="metric-value">{move || value.get()}</div>
                    <div class="text-xs text-slate-500"><span data-testid="metric-basis">{basis}</span>" · "{l(hint)}</div>
                </div>
            }
        })
        .collect_view();
    view! { <div class="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6" data-testid="metric-cards">{cards}</div> }
}

/// Engagement per week as a line over 0–100 %; weeks nobody was messaged
/// break the line.
#[component]
fn WeeklyChart(weeks: Vec<WeekPoint>) -> impl IntoView {
    let locale = use_locale();
    const W: f64 = 460.0;
    const H: f64 = 150.0;
    const PAD: f64 = 28.0;
    let n = weeks.len().max(1) as f64;
    let x = move |i: usize| PAD + (W - 2.0 * PAD) * if n > 1.0 { i as f64 / (n - 1.0) } else { 0.5 };
    let y = move |v: f64| H - PAD - (H - 2.0 * PAD) * v;
    let mut segments: Vec<Vec<(f64, f64)>> = vec![vec![]];
    for (i, week) in weeks.iter().enumerate() {
        match (week.engagement.value(), segments.last_mut()) {
            (Some(v), Some(segment)) => segment.push((x(i), y(v))),
            _ => segments.push(vec![]),
        }
    }
    let lines = segments
        .into_iter()
        .filter(|s| s.len() > 1)
        .map(|s| {
            let points = s.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
            view! { <polyline points=points fill="none" stroke="#0369a1" stroke-width="2"/> }
        })
        .collect_view();
    let dots = weeks
        .iter()
        .enumerate()
        .map(|(i, week)| {
            let label = date_of(week.monday)[5..].to_string();
            let value = week.engagement.value();
            let (day, percent) = (date_of(week.monday), week.engagement.percent());
            // Follows a switch of language, as the page's other numbers do.
            let title = move || format!("{day} · {}", decimal_text(locale.get(), percent.clone()));
            view! {
                <g data-testid="week" data-week={date_of(week.monday)} data-part={week.engagement.part} data-whole={week.engagement.whole}>
                    {value.map(|v| view! {
                        <circle cx={x(i)} cy={y(v)} r="3.5" fill="#0369a1"><title>{title.clone()}</title></circle>
                        <text x={x(i)} y={y(v) - 7.0} font-size="10" text-anchor="middle" fill="#334155">{format!("{:.0}%", v * 100.0)}</text>
                    })}
                    <text x={x(i)} y={H - 8.0} font-size="10" text-anchor="middle" fill="#64748b">{label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg viewBox={format!("0 0 {W} {H}")} class="w-full" role="img" data-testid="weekly-chart">
            <line x1=PAD y1={y(0.0)} x2={W - PAD} y2={y(0.0)} stroke="#cbd5e1"/>
            <line x1=PAD y1={y(1.0)} x2={W - PAD} y2={y(1.0)} stroke="#e2e8f0" stroke-dasharray="3 3"/>
            <text x="2" y={y(1.0) + 3.0} font-size="9" fill="#94a3b8">"100%"</text>
            <text x="2" y={y(0.0) + 3.0} font-size="9" fill="#94a3b8">"0%"</text>
            {lines}
            {dots}
        </svg>
    }
}

#[component]
fn FunnelChart(report: Report) -> impl IntoView {
    let locale = use_locale();
    let f = report.funnel;
    let top = f.event.max(1) as f64;
    let stages = [
        ("event", K::AnFunnelEvent, f.event),
        ("communication", K::AnFunnelCommunication, f.communication),
        ("reply", K::AnFunnelReply, f.reply),
        ("action", K::AnFunnelAction, f.action),
    ];
    let bars = stages
        .into_iter()
        .enumerate()
        .map(|(i, (id, label, count))| {
            let y = 6.0 + i as f64 * 34.0;
            let width = 300.0 * count as f64 / top;
            let share = if f.event > 0 { format!("{count} · {:.0}%", 100.0 * count as f64 / top) } else { count.to_string() };
            view! {
                <g data-testid={format!("funnel-{id}")} data-count=count>
                    <text x="0" y={y + 17.0} font-size="11" fill="#334155">{move || t(locale.get(), label)}</text>
                    <rect x="110" y=y width={width.max(1.0)} height="24" rx="3" fill="#0ea5e9" opacity={0.35 + 0.15 * (4 - i) as f64}/>
                    <text x={116.0 + width} y={y + 17.0} font-size="11" fill="#0f172a">{share}</text>
                </g>
            }
        })
        .collect_view();
    view! { <svg viewBox="0 0 480 142" class="w-full" role="img" data-testid="funnel-chart">{bars}</svg> }
}

#[component]
fn HeatmapChart(heatmap: Heatmap) -> impl IntoView {
    const CELL: f64 = 14.0;
    const LABEL: f64 = 220.0;
    let max = heatmap.max().max(1) as f64;
    let width = LABEL + CELL * heatmap.days.len() as f64 + 4.0;
    let height = 18.0 + CELL * heatmap.steps.len() as f64 + 4.0;
    let days = heatmap
        .days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 == 0)
        .map(|(i, day)| view! { <text x={LABEL + CELL * i as f64} y="10" font-size="9" fill="#64748b">{date_of(*day)[5..].to_string()}</text> })
        .collect_view();
    let rows = heatmap
        .steps
        .iter()
        .zip(&heatmap.counts)
        .enumerate()
        .map(|(r, (step, counts))| {
            let y = 18.0 + CELL * r as f64;
            let cells = counts
                .iter()
                .zip(&heatmap.days)
                .enumerate()
                .map(|(c, (count, day))| {
                    let opacity = if *count == 0 { 0.0 } else { 0.15 + 0.85 * *count as f64 / max };
                    let title = format!("{step} · {} · {count}", date_of(*day));
                    view! {
                        <rect x={LABEL + CELL * c as f64} y=y width={CELL - 1.0} height={CELL - 1.0} fill="#0369a1" fill-opacity=opacity stroke="#f1f5f9" data-count=*count>
                            <title>{title}</title>
                        </rect>
                    }
                })
                .collect_view();
            let total: u64 = counts.iter().sum();
            view! {
                <g data-testid="heat-row" data-step=step.clone() data-total=total>
                    <text x={LABEL - 6.0} y={y + 10.5} font-size="10" text-anchor="end" fill="#334155">{step.clone()}</text>
                    {cells}
                </g>
            }
        })
        .collect_view();
    view! { <svg width=width height=height role="img" data-testid="heatmap">{days}{rows}</svg> }
}

#[component]
fn EndpointTable(report: Report) -> impl IntoView {
    let locale = use_locale();
    let rows = report
        .endpoints
        .into_iter()
        .map(|row| {
            let r = row.rates;
            let response_ms = r.response_ms;
            let number = move |text: String| move || decimal_text(locale.get(), text.clone());
            let alias = if row.alias.is_empty() { None } else { Some(format!("/{}", row.alias)) };
            view! {
                <tr class="border-t border-slate-100" data-alias=row.alias.clone()>
                    <td class="px-3 py-1.5 font-mono text-xs">{match alias { Some(a) => view! { <span>{a}</span> }.into_any(), None => view! { <span class="text-slate-500">{l(K::AnFromMessenger)}</span> }.into_any() }}</td>
                    <td class="px-3 py-1.5 tabular-nums">{row.runs}</td>
                    <td class="px-3 py-1.5 tabular-nums">{number(r.delivery.percent())}</td>
                    <td class="px-3 py-1.5 tabular-nums">{number(r.engagement.percent())}</td>
                    <td class="px-3 py-1.5 tabular-nums">{move || duration_text(locale.get(), response_ms)}</td>
                    <td class="px-3 py-1.5 tabular-nums">{number(r.conversion.percent())}</td>
                    <td class="px-3 py-1.5 tabular-nums">{number(csat_text(r.csat))}</td>
                    <td class="px-3 py-1.5 tabular-nums">{number(r.error.percent())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="mt-4 overflow-x-auto rounded border border-slate-200 bg-white">
            <h2 class="px-3 pt-3 text-sm font-semibold">{l(K::AnByEndpoint)}</h2>
            <table class="w-full text-left text-sm" data-testid="analytics-endpoints">
                <thead class="text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{l(K::AnKindEndpoint)}</th>
                        <th class="px-3 py-2">{l(K::AnRuns)}</th>
                        <th class="px-3 py-2">{l(K::AnDelivery)}</th>
                        <th class="px-3 py-2">{l(K::AnEngagement)}</th>
                        <th class="px-3 py-2">{l(K::AnResponse)}</th>
                        <th class="px-3 py-2">{l(K::AnConversion)}</th>
                        <th class="px-3 py-2">{l(K::AnCsat)}</th>
                        <th class="px-3 py-2">{l(K::AnError)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// `YYYY-MM-DD HH:MM UTC` of epoch milliseconds.
fn utc_minute(at: i64) -> String {
    use comops_core::analytics::{date_of, DAY_MS};
    let minute = at.rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02} UTC", date_of(at.div_euclid(DAY_MS)), minute / 60, minute % 60)
}

/// A mean rating as the cards and the table show it (`4.25`), `—` without one.
fn csat_text(csat: Option<f64>) -> String {
    csat.map(|c| format!("{c:.2}")).unwrap_or_else(|| "—".into())
}
