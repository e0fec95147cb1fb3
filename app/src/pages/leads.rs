//! Identities and leads of one bot (SPEC §6), the operator's desk (§1) and
//! the dead letters (§5), as three tabs under one bot picker.
//!
//! - **Leads**: search by lead, user or chat id; a dense table; a click
//!   opens the lead's attributes, tags, identity links (each deactivatable
//!   in place), runs (each linked to its trace) and conversation.
//! - **Operator**: the queue (handed-over leads waiting first) and one
//!   conversation with take over / reply / hand back; both refresh every
//!   few seconds while the tab is open.
//! - **Dead letters**: what could not be delivered, re-drivable after an
//!   in-place confirmation.
//!
//! Bot, tab and open lead live in the query string (`?bot=bot_shop&tab=
//! operator&lead=TG-125`), so links and reloads keep them. Actions a role
//! may not do are hidden; the server functions check the role anyway.

use crate::api::endpoints::{list_bot_choices, BotChoice};
use crate::api::leads::{
    dead_letters, lead_conversation, load_lead, operator_queue, search_leads, Conversation, DeactivateLink, DeadLetterPage, QueuePage,
    HandBack, LeadDetail, LeadPage, MessageView, OperatorReply, Redrive, SetLeadStatus, TakeOver, DETAIL_MESSAGES, DETAIL_RUNS,
};
use crate::components::form::{can, general_error, ErrorBanner};
use crate::components::format_millis;
use crate::i18n::{run_status_text, t1, tr, use_locale, K};
use crate::trace_detail::{delivery_reason_text, detail_text};
use comops_core::Permission;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// How often the operator tab re-reads the queue and the open conversation.
const REFRESH_MS: u64 = 3000;

/// The tabs, as they appear in the query string.
const TAB_LEADS: &str = "leads";
const TAB_OPERATOR: &str = "operator";
const TAB_DEAD: &str = "dead";

/// `/leads?bot=…&tab=…&lead=…`, each value percent-encoded.
fn leads_url(bot: &str, tab: &str, lead: &str) -> String {
    let mut url = format!("/leads?bot={}", encode(bot));
    if !tab.is_empty() && tab != TAB_LEADS {
        url.push_str(&format!("&tab={}", encode(tab)));
    }
    if !lead.is_empty() {
        url.push_str(&format!("&lead={}", encode(lead)));
    }
    url
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The first `max` characters, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

fn lead_badge(status: &str) -> &'static str {
    match status {
        "active" => "bg-emerald-100 text-emerald-800",
        "stopped" => "bg-rose-100 text-rose-800",
        _ => "bg-slate-100 text-slate-700",
    }
}

fn run_badge(status: &str) -> &'static str {
    match status {
        "done" => "bg-emerald-100 text-emerald-800",
        "failed" => "bg-rose-100 text-rose-800",
        "waiting" => "bg-amber-100 text-amber-800",
        _ => "bg-sky-100 text-sky-800",
    }
}

fn delivery_badge(status: &str) -> &'static str {
    match status {
        "sent" => "text-emerald-700",
        "dead" => "text-rose-700",
        _ => "text-slate-500",
    }
}

/// A lead status in the user's language (custom statuses set by
/// scenarios are shown as they are).
fn lead_status_text(status: &str) -> String {
    match status {
        "active" => tr(K::Active).to_string(),
        "stopped" => tr(K::LeadsStopped).to_string(),
        other => other.to_string(),
    }
}

fn delivery_text(status: &str) -> String {
    match status {
        "pending" | "claimed" => tr(K::LeadsDeliveryPending).to_string(),
        "sending" => tr(K::LeadsDeliverySending).to_string(),
        "sent" => tr(K::LeadsDeliverySent).to_string(),
        "dead" => tr(K::LeadsDeliveryDead).to_string(),
        other => other.to_string(),
    }
}

/// Who holds the conversation, in words.
fn holder_text(operator: &str) -> String {
    match operator {
        "" => tr(K::LeadsBotTalks).to_string(),
        "*" => tr(K::LeadsWaiting).to_string(),
        who => t1(use_locale().get(), K::LeadsTakenBy, who),
    }
}

const BUTTON: &str = "rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 disabled:opacity-50";
const PRIMARY: &str = "rounded bg-slate-900 px-3 py-1 text-sm text-white hover:bg-slate-700 disabled:opacity-50";

#[component]
pub fn LeadsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let bots = Resource::new(|| (), |_| list_bot_choices());
    view! {
        <div class="mb-4">
            <h1 class="text-xl font-semibold">{move || tr(K::Leads)}</h1>
            <p class="text-slate-600">{move || tr(K::SectionLeads)}</p>
        </div>
        <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
            {move || {
                let wanted = query.with(|q| q.get("bot").unwrap_or_default());
                Suspend::new(async move {
                    match bots.await {
                        Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                        Ok(bots) if bots.is_empty() => view! {
                            <p class="text-slate-500" data-testid="no-bots">{move || tr(K::LeadsNoBots)}</p>
                        }.into_any(),
                        Ok(bots) => {
                            let bot = if bots.iter().any(|b| b.id == wanted) { wanted } else { bots[0].id.clone() };
                            view! { <BotLeads bots bot/> }.into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

/// The bot picker, the tabs and the open tab of one bot.
#[component]
fn BotLeads(bots: Vec<BotChoice>, bot: String) -> impl IntoView {
    let query = use_query_map();
    let tab = Memo::new(move |_| query.with(|q| q.get("tab").unwrap_or_default()));
    let lead = Memo::new(move |_| query.with(|q| q.get("lead").unwrap_or_default()));
    let navigate = use_navigate();
    let go = {
        let bot = bot.clone();
        Callback::new(move |(tab, lead): (String, String)| navigate(&leads_url(&bot, &tab, &lead), Default::default()))
    };
    let navigate = use_navigate();
    let options = bots
        .iter()
        .map(|b| {
            let selected = b.id == bot;
            view! { <option value=b.id.clone() selected=selected>{format!("{} · {} ({})", b.project, b.name, b.id)}</option> }
        })
        .collect_view();
    let tab_button = move |key: K, name: &'static str| {
        let active = move || {
            let now = tab.get();
            now == name || (name == TAB_LEADS && now != TAB_OPERATOR && now != TAB_DEAD)
        };
        view! {
            <button role="tab" data-testid=format!("tab-{name}") aria-selected=move || active().to_string()
                class="-mb-px border-b-2 px-3 py-1.5 text-sm"
                class=("border-sky-700", active) class=("font-medium", active) class=("border-transparent", move || !active())
                class=("text-slate-600", move || !active())
                on:click=move |_| go.run((name.to_string(), lead.get_untracked()))>
                {move || tr(key)}
            </button>
        }
    };
    // The operator's desk runs on browser-only data (`LocalResource`s,
    // refreshed every few seconds), so it is drawn only once the page is
    // hydrated: rendered on the server, those resources re-ran the page's
    // suspense after the desk's owner was gone, and the render panicked
    // ("reactive value already disposed") — a blank studio in the browser.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let body = {
        let bot = bot.clone();
        move || {
            let bot = bot.clone();
            match tab.get().as_str() {
                // `hydrated` is read for this tab only: the others are not
                // drawn again when it turns.
                TAB_OPERATOR if !hydrated.get() => view! { <p>{move || tr(K::Loading)}</p> }.into_any(),
                TAB_OPERATOR => view! { <OperatorTab bot lead go/> }.into_any(),
                TAB_DEAD => view! { <DeadLettersTab bot go/> }.into_any(),
                _ => view! { <LeadsTab bot lead go/> }.into_any(),
            }
        }
    };
    view! {
        <div class="mb-3 flex flex-wrap items-end justify-between gap-3">
            <label class="flex items-center gap-2 text-sm">
                <span class="text-xs font-medium text-slate-600">{move || tr(K::Bot)}</span>
                <select class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="bot-select" name="bot"
                    on:change=move |ev| {
                        let tab = tab.get_untracked();
                        navigate(&leads_url(&event_target_value(&ev), &tab, ""), Default::default())
                    }>
                    {options}
                </select>
            </label>
            <div role="tablist" class="flex gap-1 border-b border-slate-200" data-testid="lead-tabs" data-bot=bot.clone()>
                {tab_button(K::Leads, TAB_LEADS)}
                {tab_button(K::LeadsTabOperator, TAB_OPERATOR)}
                {tab_button(K::LeadsTabDead, TAB_DEAD)}
            </div>
        </div>
        {body}
    }
    .into_any()
}

/// Search, the lead table and the open lead.
#[component]
fn LeadsTab(bot: String, lead: Memo<String>, go: Callback<(String, String)>) -> impl IntoView {
    let locale = use_locale();
    let typed = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    let offset = RwSignal::new(0i64);
    // Bumped after a change in the detail panel: the table reloads too.
    let changes = RwSignal::new(0u32);
    let page = {
        let bot = bot.clone();
        Resource::new(move || (applied.get(), offset.get(), changes.get()), move |(q, off, _)| search_leads(bot.clone(), q, off))
    };
    let search = move || {
        offset.set(0);
        applied.set(typed.get_untracked().trim().to_string());
    };
    let clear = move || {
        typed.set(String::new());
        offset.set(0);
        applied.set(String::new());
    };
    let panel = {
        let bot = bot.clone();
        move || {
            let id = lead.get();
            (!id.is_empty()).then(|| view! { <LeadPanel bot=bot.clone() lead_id=id changes go/> })
        }
    };
    view! {
        <form class="mb-3 flex flex-wrap items-end gap-2" data-testid="lead-search"
            on:submit=move |ev| { ev.prevent_default(); search(); }
            on:keydown=move |ev| if ev.key() == "Escape" { clear() }>
            <label class="flex flex-col gap-1">
                <span class="text-xs font-medium text-slate-600">{move || tr(K::LeadsSearch)}</span>
                <input type="search" name="q" class="w-72 rounded border border-slate-300 px-2 py-1.5 font-mono text-sm"
                    placeholder=move || tr(K::LeadsSearchHint) bind:value=typed/>
            </label>
            <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-sm text-white hover:bg-sky-600" data-testid="search-leads">
                {move || tr(K::LeadsFind)}
            </button>
            <button type="button" class="rounded border border-slate-300 px-3 py-1.5 text-sm" on:click=move |_| clear()>
                {move || tr(K::Clear)}
            </button>
        </form>
        {panel}
        <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                    Ok(page) => view! { <LeadTable page lead offset go/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn LeadTable(page: LeadPage, lead: Memo<String>, offset: RwSignal<i64>, go: Callback<(String, String)>) -> impl IntoView {
    let empty = page.rows.is_empty();
    let (more, total, shown) = (page.more, page.total, page.rows.len() as i64);
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            let id = row.lead.id.clone();
            let (open_click, open_key, selected) = (id.clone(), id.clone(), id.clone());
            let status = row.lead.status.clone();
            let status_class = format!("rounded px-1.5 py-0.5 text-xs {}", lead_badge(&status));
            let paused = !row.lead.operator.is_empty();
            let tags = row.lead.tags.iter().map(|t| view! { <span class="mr-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs">{t.clone()}</span> }).collect_view();
            let channels = row
                .channels
                .iter()
                .map(|(channel, active)| {
                    view! { <span class="mr-1 text-xs" class=("line-through", !*active) class=("text-slate-400", !*active)>{channel.clone()}</span> }
                })
                .collect_view();
            view! {
                <tr class="cursor-pointer border-t border-slate-100 hover:bg-slate-50" tabindex="0" data-lead=id.clone()
                    class=("bg-sky-50", move || lead.get() == selected)
                    on:click=move |_| go.run((TAB_LEADS.into(), open_click.clone()))
                    on:keydown=move |ev| if ev.key() == "Enter" { go.run((TAB_LEADS.into(), open_key.clone())) }>
                    <td class="px-2 py-1.5 font-mono text-xs">{id.clone()}</td>
                    <td class="px-2 py-1.5 whitespace-nowrap">
                        <span class=status_class data-testid="lead-status">
                            {move || lead_status_text(&status)}
                        </span>
                        {paused.then(|| view! { <span class="ml-1 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-800">{move || tr(K::LeadsPaused)}</span> })}
                    </td>
                    <td class="px-2 py-1.5">{tags}</td>
                    <td class="px-2 py-1.5">{channels}</td>
                    <td class="px-2 py-1.5 whitespace-nowrap text-slate-500">{format_millis(row.lead.updated_at)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="leads-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-2 py-2">{move || tr(K::Lead)}</th>
                        <th class="px-2 py-2">{move || tr(K::Status)}</th>
                        <th class="px-2 py-2">{move || tr(K::LeadsTags)}</th>
                        <th class="px-2 py-2">{move || tr(K::LeadsChannels)}</th>
                        <th class="px-2 py-2">{move || tr(K::Updated)}</th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="5" class="px-3 py-6 text-center text-slate-500" data-testid="no-leads">{move || tr(K::LeadsNone)}</td></tr>
                    })}
                    {rows}
                </tbody>
            </table>
        </div>
        <Pager offset more shown total=Some(total)/>
    }
    .into_any()
}

/// Previous / next page buttons over an offset, and "51–100 of 230" when
/// the `total` is known (`shown`: rows on this page).
#[component]
fn Pager(offset: RwSignal<i64>, more: bool, shown: i64, total: Option<i64>) -> impl IntoView {
    use crate::api::leads::PAGE_SIZE;
    let range = total.filter(|_| shown > 0).map(|total| {
        let first = offset.get_untracked() + 1;
        move || format!("{first}–{} {} {total}", first + shown - 1, tr(K::Of))
    });
    view! {
        <div class="mt-2 flex items-center gap-3 text-sm text-slate-600">
            {range.map(|range| view! { <span data-testid="page-range">{range}</span> })}
            <Show when=move || { offset.get() > 0 }>
                <button class=BUTTON data-testid="previous-page" on:click=move |_| offset.update(|o| *o = (*o - PAGE_SIZE).max(0))>
                    {move || tr(K::PrevPage)}
                </button>
            </Show>
            {more.then(|| view! {
                <button class=BUTTON data-testid="next-page" on:click=move |_| offset.update(|o| *o += PAGE_SIZE)>{move || tr(K::NextPage)}</button>
            })}
        </div>
    }
    .into_any()
}

/// A button whose action is confirmed in place (no browser dialog): the
/// question, the action again and Cancel; Escape cancels.
#[component]
fn ConfirmButton(label: K, question: K, testid: &'static str, on_confirm: Callback<()>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    // The question takes the focus, so Enter confirms and Escape cancels.
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    view! {
        <Show when=move || confirming.get() fallback=move || view! {
            <button class="text-rose-700 hover:underline" data-testid=testid on:click=move |_| confirming.set(true)>{move || tr(label)}</button>
        }>
            <span on:keydown=move |ev| if ev.key() == "Escape" { confirming.set(false) }>
                <span class="mr-2 text-rose-700">{move || tr(question)}</span>
                <button class="mr-2 font-medium text-rose-700" data-testid=format!("confirm-{testid}") node_ref=confirm_button
                    on:click=move |_| { confirming.set(false); on_confirm.run(()); }>
                    {move || tr(label)}
                </button>
                <button class="text-slate-600" on:click=move |_| confirming.set(false)>{move || tr(K::Cancel)}</button>
            </span>
        </Show>
    }
    .into_any()
}

/// One lead: attributes, tags, links, runs and the conversation.
#[component]
fn LeadPanel(bot: String, lead_id: String, changes: RwSignal<u32>, go: Callback<(String, String)>) -> impl IntoView {
    let locale = use_locale();
    let can_operate = can(Permission::Operate);
    let deactivate = ServerAction::<DeactivateLink>::new();
    let set_status = ServerAction::<SetLeadStatus>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = deactivate.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = set_status.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    let errors = Signal::derive(move || general_error(deactivate.value()).get().or_else(|| general_error(set_status.value()).get()));
    let detail = {
        let (bot, lead_id) = (bot.clone(), lead_id.clone());
        Resource::new(move || changes.get(), move |_| load_lead(bot.clone(), lead_id.clone()))
    };
    let title = lead_id.clone();
    view! {
        <section class="mb-4 rounded border border-sky-200 bg-white p-4" data-testid="lead-detail" data-lead=lead_id.clone()>
            <div class="mb-3 flex items-center justify-between gap-2">
                <h2 class="font-semibold">{move || tr(K::Lead)} " " <span class="font-mono">{title.clone()}</span></h2>
                <button class="text-sm text-slate-600 hover:underline" data-testid="close-lead"
                    on:click=move |_| go.run((TAB_LEADS.into(), String::new()))>{move || tr(K::Close)}</button>
            </div>
            <ErrorBanner message=errors/>
            <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
                {move || {
                    let bot = bot.clone();
                    Suspend::new(async move {
                        match detail.await {
                            Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                            Ok(detail) => view! { <LeadBody bot detail can_operate deactivate set_status go/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn LeadBody(
    bot: String,
    detail: LeadDetail,
    can_operate: bool,
    deactivate: ServerAction<DeactivateLink>,
    set_status: ServerAction<SetLeadStatus>,
    go: Callback<(String, String)>,
) -> impl IntoView {
    let LeadDetail { lead, links, runs, older_runs, conversation, older_messages } = detail;
    let locale = use_locale();
    let set_status_pending = set_status.pending();
    let status = lead.status.clone();
    let operator = lead.operator.clone();
    let lead_id = lead.id.clone();
    let actions = can_operate.then(|| {
        let (bot, id_status, id_take) = (bot.clone(), lead_id.clone(), lead_id.clone());
        let target = if status == "active" { "stopped" } else { "active" };
        let label = if target == "active" { K::LeadsSetActive } else { K::LeadsSetStopped };
        view! {
            <button class=BUTTON data-testid=format!("set-{target}") disabled=move || set_status_pending.get()
                on:click=move |_| { set_status.dispatch(SetLeadStatus { bot_id: bot.clone(), lead_id: id_status.clone(), status: target.into() }); }>
                {move || tr(label)}
            </button>
            <button class=PRIMARY data-testid="open-operator" on:click=move |_| go.run((TAB_OPERATOR.into(), id_take.clone()))>
                {move || tr(K::LeadsTakeOver)} "…"
            </button>
        }
    });
    let attributes_empty = lead.attributes.is_empty();
    let attributes = lead
        .attributes
        .into_iter()
        .map(|(name, value)| view! {
            <tr class="border-t border-slate-100" data-attribute=name.clone()>
                <td class="px-2 py-1 font-mono text-xs text-slate-600">{name.clone()}</td>
                <td class="px-2 py-1 break-words">{value}</td>
            </tr>
        })
        .collect_view();
    let tags_empty = lead.tags.is_empty();
    let tags = lead.tags.into_iter().map(|t| view! { <span class="mr-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs" data-testid="lead-tag">{t}</span> }).collect_view();
    let links_empty = links.is_empty();
    let link_rows = links
        .into_iter()
        .map(|link| {
            let key = format!("{}:{}", link.channel, link.chat_id);
            let active = link.is_active;
            let action = (can_operate && active).then(|| {
                let bot = bot.clone();
                let link = link.clone();
                view! {
                    <ConfirmButton label=K::LeadsDeactivate question=K::LeadsConfirmDeactivate testid="deactivate"
                        on_confirm=Callback::new(move |_| {
                            deactivate.dispatch(DeactivateLink {
                                bot_id: bot.clone(),
                                lead_id: link.lead_id.clone(),
                                user_id: link.user_id.clone(),
                                channel: link.channel.clone(),
                                chat_id: link.chat_id.clone(),
                            });
                        })/>
                }
            });
            view! {
                <tr class="border-t border-slate-100" data-link=key data-active=active.to_string()>
                    <td class="px-2 py-1 whitespace-nowrap font-mono text-xs">{link.user_id.clone()}</td>
                    <td class="px-2 py-1">{link.channel.clone()}</td>
                    <td class="px-2 py-1 font-mono text-xs">{link.chat_id.clone()}</td>
                    <td class="px-2 py-1">
                        <span class=if active { "text-emerald-700" } else { "text-slate-400" }>
                            {move || tr(if active { K::LeadsLinkActive } else { K::LeadsLinkInactive })}
                        </span>
                    </td>
                    <td class="px-2 py-1 text-slate-600">{link.source.clone()}</td>
                    <td class="px-2 py-1 whitespace-nowrap text-slate-500">{format_millis(link.connected_at)}</td>
                    <td class="px-2 py-1 whitespace-nowrap text-right">{action}</td>
                </tr>
            }
        })
        .collect_view();
    let runs_empty = runs.is_empty();
    let run_rows = runs
        .into_iter()
        .map(|run| {
            let trace = format!("/traces?trace_id={}", encode(&run.trace_id));
            view! {
                <tr class="border-t border-slate-100" data-run=run.id.clone()>
                    <td class="px-2 py-1 font-mono text-xs">{run.scenario.clone()}</td>
                    <td class="px-2 py-1 tabular-nums">"v" {run.scenario_version}</td>
                    <td class="px-2 py-1"><span class=format!("rounded px-1.5 py-0.5 text-xs {}", run_badge(&run.status)) data-status=run.status.clone()>{{
                        let (locale, status) = (use_locale(), run.status.clone());
                        move || run_status_text(locale.get(), &status)
                    }}</span></td>
                    // A goal as named; a failure in the reader's language
                    // where the engine says it.
                    <td class="px-2 py-1 text-slate-600">{{
                        let (locale, failed, outcome) = (use_locale(), run.status == "failed", run.outcome.clone());
                        move || if failed { detail_text(locale.get(), "scenario.error", &outcome) } else { outcome.clone() }
                    }}</td>
                    <td class="px-2 py-1 whitespace-nowrap text-slate-500">{format_millis(run.created_at)}</td>
                    <td class="px-2 py-1 whitespace-nowrap">
                        {(!run.trace_id.is_empty()).then(|| view! {
                            <a class="text-sky-800 hover:underline" href=trace data-testid="run-trace">{move || tr(K::LeadsTraceLink)}</a>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let head = "px-2 py-1.5";
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-2">
            <span class=format!("rounded px-1.5 py-0.5 text-xs {}", lead_badge(&lead.status)) data-testid="detail-status">
                {move || lead_status_text(&status)}
            </span>
            <span class="text-sm text-slate-600" data-testid="detail-holder">{move || holder_text(&operator)}</span>
            <span class="text-xs text-slate-500">{move || tr(K::LeadsCreated)} " " {format_millis(lead.created_at)}</span>
            <span class="flex-1"></span>
            {actions}
        </div>
        // Side by side only on wide screens: the links and runs tables need
        // the panel's width (their last columns were cut off beside the
        // conversation, in Russian most).
        <div class="grid gap-4 2xl:grid-cols-2">
            <div class="flex min-w-0 flex-col gap-4">
                <div>
                    <h3 class="mb-1 text-sm font-semibold">{move || tr(K::LeadsAttributes)}</h3>
                    {if attributes_empty {
                        view! { <p class="text-sm text-slate-500">{move || tr(K::LeadsNoAttributes)}</p> }.into_any()
                    } else {
                        view! {
                            <table class="w-full text-left text-sm" data-testid="attributes-table">
                                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                                    <tr><th class=head>{move || tr(K::LeadsAttribute)}</th><th class=head>{move || tr(K::LeadsValue)}</th></tr>
                                </thead>
                                <tbody>{attributes}</tbody>
                            </table>
                        }.into_any()
                    }}
                </div>
                <div>
                    <h3 class="mb-1 text-sm font-semibold">{move || tr(K::LeadsTags)}</h3>
                    {if tags_empty { view! { <p class="text-sm text-slate-500">{move || tr(K::LeadsNoTags)}</p> }.into_any() } else { view! { <div>{tags}</div> }.into_any() }}
                </div>
                <div class="overflow-x-auto">
                    <h3 class="mb-1 text-sm font-semibold">{move || tr(K::LeadsLinks)}</h3>
                    <table class="w-full text-left text-sm" data-testid="links-table">
                        <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                            <tr>
                                <th class=head>{move || tr(K::User)}</th>
                                <th class=head>{move || tr(K::LeadsChannel)}</th>
                                <th class=head>{move || tr(K::LeadsChatId)}</th>
                                <th class=head>{move || tr(K::Status)}</th>
                                <th class=head>{move || tr(K::Source)}</th>
                                <th class=head>{move || tr(K::LeadsConnected)}</th>
                                <th class=head></th>
                            </tr>
                        </thead>
                        <tbody>
                            {links_empty.then(|| view! { <tr><td colspan="7" class="px-2 py-3 text-slate-500">{move || tr(K::LeadsNoLinks)}</td></tr> })}
                            {link_rows}
                        </tbody>
                    </table>
                </div>
                <div class="overflow-x-auto">
                    <h3 class="mb-1 text-sm font-semibold">{move || tr(K::LeadsRuns)}
                        {older_runs.then(|| view! { <span class="ml-2 text-xs font-normal text-slate-500" data-testid="older-runs">{move || t1(locale.get(), K::LeadsLatestOnly, DETAIL_RUNS)}</span> })}
                    </h3>
                    <table class="w-full text-left text-sm" data-testid="runs-table">
                        <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                            <tr>
                                <th class=head>{move || tr(K::Scenario)}</th>
                                <th class=head>{move || tr(K::LeadsVersion)}</th>
                                <th class=head>{move || tr(K::Status)}</th>
                                <th class=head>{move || tr(K::LeadsOutcome)}</th>
                                <th class=head>{move || tr(K::LeadsStarted)}</th>
                                <th class=head></th>
                            </tr>
                        </thead>
                        <tbody>
                            {runs_empty.then(|| view! { <tr><td colspan="6" class="px-2 py-3 text-slate-500">{move || tr(K::LeadsNoRuns)}</td></tr> })}
                            {run_rows}
                        </tbody>
                    </table>
                </div>
            </div>
            <div class="min-w-0">
                <h3 class="mb-1 text-sm font-semibold">{move || tr(K::LeadsConversation)}
                    {older_messages.then(|| view! { <span class="ml-2 text-xs font-normal text-slate-500" data-testid="older-messages">{move || t1(locale.get(), K::LeadsLatestOnly, DETAIL_MESSAGES)}</span> })}
                </h3>
                <Transcript messages=conversation/>
            </div>
        </div>
    }
    .into_any()
}

/// A conversation as a chat: the person's messages on the left, the bot's
/// and operators' on the right with their delivery status. Newest at the
/// bottom; the box starts scrolled there (a reversed flex column).
#[component]
fn Transcript(messages: Vec<MessageView>) -> impl IntoView {
    let locale = use_locale();
    if messages.is_empty() {
        return view! { <p class="text-sm text-slate-500" data-testid="transcript-empty">{move || tr(K::LeadsNoMessages)}</p> }.into_any();
    }
    let items = messages
        .into_iter()
        .rev()
        .map(|m| {
            let inbound = m.direction == "in";
            let by_operator = m.author.starts_with("operator ");
            let author = m.author.clone();
            let who = move || {
                if inbound {
                    tr(K::LeadsFromPerson).to_string()
                } else if let Some(email) = author.strip_prefix("operator ") {
                    t1(locale.get(), K::LeadsByOperator, email)
                } else {
                    tr(K::LeadsFromBot).to_string()
                }
            };
            let status = m.status.clone();
            let bubble = if inbound {
                "self-start border border-slate-200 bg-white"
            } else if by_operator {
                "self-end border border-amber-200 bg-amber-50"
            } else {
                "self-end border border-sky-200 bg-sky-50"
            };
            view! {
                <li class=format!("max-w-[85%] rounded px-3 py-1.5 {bubble}") data-testid="message" data-direction=m.direction.clone()
                    data-status=m.status.clone()>
                    <p class="whitespace-pre-wrap break-words text-sm">{m.text.clone()}</p>
                    <p class="mt-0.5 text-[11px] text-slate-500">
                        {format_millis(m.at)} " · " {m.channel.clone()} " · " {who}
                        {(!inbound).then(|| view! { " · " <span class=delivery_badge(&m.status) data-testid="delivery">{move || delivery_text(&status)}</span> })}
                    </p>
                </li>
            }
        })
        .collect_view();
    view! {
        <ol class="flex max-h-[28rem] flex-col-reverse gap-1.5 overflow-y-auto rounded border border-slate-200 bg-slate-50 p-2" data-testid="transcript">
            {items}
        </ol>
    }
    .into_any()
}

/// The operator's desk: the queue and one conversation, refreshed every
/// few seconds while open.
#[component]
fn OperatorTab(bot: String, lead: Memo<String>, go: Callback<(String, String)>) -> impl IntoView {
    let locale = use_locale();
    let ticks = RwSignal::new(0u32);
    let changes = RwSignal::new(0u32);
    Effect::new(move |_| {
        let tick = move || ticks.update(|n| *n = n.wrapping_add(1));
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_millis(REFRESH_MS)) {
            on_cleanup(move || handle.clear());
        }
    });
    // Browser-only and memoized: a refresh that brings nothing new changes
    // no DOM, so focus and scroll stay where the operator left them.
    let fetched = {
        let bot = bot.clone();
        LocalResource::new(move || {
            ticks.track();
            changes.track();
            operator_queue(bot.clone())
        })
    };
    let queue = Memo::new(move |_| fetched.get());
    let panel = {
        let bot = bot.clone();
        move || {
            let id = lead.get();
            if id.is_empty() {
                view! { <p class="rounded border border-dashed border-slate-300 bg-white p-4 text-sm text-slate-500">{move || tr(K::LeadsPickLead)}</p> }.into_any()
            } else {
                view! { <ConversationPanel bot=bot.clone() lead_id=id ticks changes go/> }.into_any()
            }
        }
    };
    view! {
        <p class="mb-3 text-sm text-slate-600">{move || tr(K::LeadsOperatorHint)}</p>
        <div class="grid gap-4 lg:grid-cols-[20rem_1fr]">
            <div class="min-w-0">
                <h2 class="mb-1 text-sm font-semibold">{move || tr(K::LeadsQueue)}</h2>
                {move || {
                    match queue.get() {
                        None => view! { <p>{move || tr(K::Loading)}</p> }.into_any(),
                        Some(Err(err)) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                        Some(Ok(queue)) if queue.entries.is_empty() => view! {
                            <p class="text-sm text-slate-500" data-testid="queue-empty">{move || tr(K::LeadsQueueEmpty)}</p>
                        }.into_any(),
                        Some(Ok(QueuePage { entries, total })) => view! {
                            {(total > entries.len() as i64).then(|| {
                                let shown = entries.len();
                                view! {
                                    <p class="mb-1 text-xs text-amber-800" data-testid="queue-more">
                                        {move || t1(locale.get(), K::LeadsQueueMore, shown).replacen("{}", &total.to_string(), 1)}
                                    </p>
                                }
                            })}
                            <ul class="divide-y divide-slate-100 rounded border border-slate-200 bg-white" data-testid="operator-queue">
                                {entries.into_iter().map(|entry| {
                                    let (id, open) = (entry.lead_id.clone(), entry.lead_id.clone());
                                    let selected = entry.lead_id.clone();
                                    let operator = entry.operator.clone();
                                    view! {
                                        <li class="flex items-center justify-between gap-2 px-2 py-1.5 text-sm" data-queue=id.clone()
                                            data-waiting=entry.waiting.to_string() class=("bg-sky-50", move || lead.get() == selected)>
                                            <div class="min-w-0">
                                                <div class="font-mono text-xs">{id.clone()}</div>
                                                <div class="truncate text-xs" class=("text-amber-700", entry.waiting) class=("text-slate-500", !entry.waiting)>
                                                    {move || holder_text(&operator)} " · " {format_millis(entry.since)}
                                                </div>
                                            </div>
                                            <button class=BUTTON data-testid="open-conversation"
                                                on:click=move |_| go.run((TAB_OPERATOR.into(), open.clone()))>{move || tr(K::LeadsOpen)}</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                }}
            </div>
            <div class="min-w-0">{panel}</div>
        </div>
    }
    .into_any()
}

/// One conversation with take over, reply and hand back.
#[component]
fn ConversationPanel(bot: String, lead_id: String, ticks: RwSignal<u32>, changes: RwSignal<u32>, go: Callback<(String, String)>) -> impl IntoView {
    let locale = use_locale();
    let can_operate = can(Permission::Operate);
    let me = crate::components::form::my_email();
    let take = ServerAction::<TakeOver>::new();
    let reply = ServerAction::<OperatorReply>::new();
    let give_back = ServerAction::<HandBack>::new();
    let (take_pending, give_back_pending) = (take.pending(), give_back.pending());
    let text = RwSignal::new(String::new());
    for done in [take.version(), give_back.version()] {
        Effect::new(move |previous: Option<usize>| {
            let now = done.get();
            if previous.is_some_and(|p| p != now) {
                changes.update(|n| *n += 1);
            }
            now
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(_)) = reply.value().get() {
            text.set(String::new());
            changes.update(|n| *n += 1);
        }
    });
    // As the queue: fetched in the browser, re-rendered only on a change.
    let fetched = {
        let (bot, lead_id) = (bot.clone(), lead_id.clone());
        LocalResource::new(move || {
            ticks.track();
            changes.track();
            lead_conversation(bot.clone(), lead_id.clone())
        })
    };
    let conversation = Memo::new(move |_| fetched.get());
    let errors = Signal::derive(move || {
        general_error(take.value()).get().or_else(|| general_error(give_back.value()).get()).or_else(|| general_error(reply.value()).get())
    });
    let reply_error = Signal::derive(move || reply.value().with(|v| match v {
        Some(Err(err)) => err.field("text", locale.get()),
        _ => None,
    }));
    let reply_result = move || {
        reply.value().with(|v| match v {
            Some(Ok(0)) => Some((true, tr(K::LeadsNoAddress).to_string())),
            Some(Ok(n)) => Some((false, t1(locale.get(), K::LeadsSentTo, n))),
            _ => None,
        })
    };
    // Once: each `pending()` makes a memo of its own, which a handler
    // would leave behind at every press.
    let replying = reply.pending();
    let send = {
        let (bot, lead_id) = (bot.clone(), lead_id.clone());
        move || {
            if replying.get_untracked() || text.get_untracked().trim().is_empty() {
                return;
            }
            reply.dispatch(OperatorReply { bot_id: bot.clone(), lead_id: lead_id.clone(), text: text.get_untracked() });
        }
    };
    let send_key = send.clone();
    let title = lead_id.clone();
    let lead_link = lead_id.clone();
    let section_lead = lead_id.clone();
    view! {
        <section class="rounded border border-sky-200 bg-white p-4" data-testid="operator-conversation" data-lead=section_lead>
            <ErrorBanner message=errors/>
            {move || {
                let (bot, lead_id, me, title, lead_link) = (bot.clone(), lead_id.clone(), me.clone(), title.clone(), lead_link.clone());
                match conversation.get() {
                    None => view! { <p>{move || tr(K::Loading)}</p> }.into_any(),
                    Some(Err(err)) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                    Some(Ok(c)) => {
                        let Conversation { operator, status, messages, .. } = c;
                        let mine = operator == me;
                        let status_class = format!("rounded px-1.5 py-0.5 text-xs {}", lead_badge(&status));
                        let held = !operator.is_empty();
                        let holder = operator.clone();
                        let (bot_take, id_take, bot_back, id_back) = (bot.clone(), lead_id.clone(), bot.clone(), lead_id.clone());
                        view! {
                            <div class="mb-3 flex flex-wrap items-center gap-2">
                                <h2 class="font-semibold">
                                    <button class="font-mono hover:underline" data-testid="conversation-lead"
                                        on:click=move |_| go.run((TAB_LEADS.into(), lead_link.clone()))>{title}</button>
                                </h2>
                                <span class=status_class>{move || lead_status_text(&status)}</span>
                                <span class="text-sm text-slate-600" data-testid="conversation-holder" data-operator=operator.clone()>
                                    {move || holder_text(&holder)}
                                </span>
                                <span class="flex-1"></span>
                                {(can_operate && !mine).then(|| view! {
                                    <button class=PRIMARY data-testid="take-over" disabled=move || take_pending.get()
                                        on:click=move |_| { take.dispatch(TakeOver { bot_id: bot_take.clone(), lead_id: id_take.clone() }); }>
                                        {move || tr(K::LeadsTakeOver)}
                                    </button>
                                })}
                                {(can_operate && held).then(|| view! {
                                    <button class=BUTTON data-testid="hand-back" disabled=move || give_back_pending.get()
                                        on:click=move |_| { give_back.dispatch(HandBack { bot_id: bot_back.clone(), lead_id: id_back.clone() }); }>
                                        {move || tr(K::LeadsHandBack)}
                                    </button>
                                })}
                            </div>
                            <Transcript messages/>
                        }.into_any()
                    }
                }
            }}
            {can_operate.then(|| view! {
                <form class="mt-3 flex flex-col gap-1" data-testid="reply-form"
                    on:submit=move |ev| { ev.prevent_default(); send(); }>
                    <label class="flex flex-col gap-1">
                        <span class="text-xs font-medium text-slate-600">{move || tr(K::LeadsReply)}</span>
                        <textarea name="reply" rows="3" class="rounded border border-slate-300 px-2 py-1.5 text-sm aria-[invalid=true]:border-rose-500"
                            aria-invalid=move || reply_error.get().is_some().to_string()
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))
                            on:keydown=move |ev| {
                                if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                    ev.prevent_default();
                                    send_key();
                                } else if ev.key() == "Escape" {
                                    text.set(String::new());
                                }
                            }></textarea>
                    </label>
                    <Show when=move || reply_error.get().is_some()>
                        <span class="text-xs text-rose-600" data-error-for="text">{move || reply_error.get()}</span>
                    </Show>
                    <div class="flex items-center gap-3">
                        <button type="submit" class=PRIMARY data-testid="send-reply" disabled=move || replying.get()>{move || tr(K::LeadsSend)}</button>
                        <span class="flex-1 text-xs text-slate-500">{move || tr(K::LeadsReplyHint)}</span>
                        {move || reply_result().map(|(warn, message)| view! {
                            <span class="text-sm" class=("text-amber-700", warn) class=("text-emerald-700", !warn) data-testid="reply-result">{message}</span>
                        })}
                    </div>
                </form>
            })}
        </section>
    }
    .into_any()
}

/// Dead letters with in-place confirmed re-drive.
#[component]
fn DeadLettersTab(bot: String, go: Callback<(String, String)>) -> impl IntoView {
    let locale = use_locale();
    let can_operate = can(Permission::Operate);
    let offset = RwSignal::new(0i64);
    let changes = RwSignal::new(0u32);
    let redrive = ServerAction::<Redrive>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = redrive.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    let errors = general_error(redrive.value());
    let done = move || matches!(redrive.value().get(), Some(Ok(())));
    let letters = {
        let bot = bot.clone();
        Resource::new(move || (offset.get(), changes.get()), move |(off, _)| dead_letters(bot.clone(), off))
    };
    view! {
        <p class="mb-3 text-sm text-slate-600" data-testid="dead-hint">{move || tr(K::LeadsDeadHint)}</p>
        <ErrorBanner message=errors/>
        <Show when=done>
            <p class="mb-2 text-sm text-emerald-700" data-testid="redriven">{move || tr(K::LeadsRedriven)}</p>
        </Show>
        <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
            {move || {
                let bot = bot.clone();
                Suspend::new(async move {
                    match letters.await {
                        Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                        Ok(page) => view! { <DeadLetterTable bot page offset can_operate redrive go/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

#[component]
fn DeadLetterTable(
    bot: String,
    page: DeadLetterPage,
    offset: RwSignal<i64>,
    can_operate: bool,
    redrive: ServerAction<Redrive>,
    go: Callback<(String, String)>,
) -> impl IntoView {
    let empty = page.letters.is_empty();
    let more = page.more;
    let rows = page
        .letters
        .into_iter()
        .map(|letter| {
            let lead = letter.lead_id.clone();
            let action = can_operate.then(|| {
                let (bot, id) = (bot.clone(), letter.id.clone());
                view! {
                    <ConfirmButton label=K::LeadsRedrive question=K::LeadsConfirmRedrive testid="redrive"
                        on_confirm=Callback::new(move |_| { redrive.dispatch(Redrive { bot_id: bot.clone(), message_id: id.clone() }); })/>
                }
            });
            view! {
                <tr class="border-t border-slate-100 align-top hover:bg-slate-50" data-letter=letter.id.clone() data-lead=letter.lead_id.clone()>
                    <td class="px-2 py-1.5 whitespace-nowrap text-slate-500">{format_millis(letter.created_at)}</td>
                    <td class="px-2 py-1.5 whitespace-nowrap">
                        <button class="font-mono text-xs text-sky-800 hover:underline" data-testid="letter-lead" on:click=move |_| go.run((TAB_LEADS.into(), lead.clone()))>
                            {letter.lead_id.clone()}
                        </button>
                    </td>
                    <td class="px-2 py-1.5">{letter.channel.clone()} <span class="ml-1 font-mono text-xs text-slate-500">{letter.chat_id.clone()}</span></td>
                    <td class="px-2 py-1.5 max-w-xs break-words" title=letter.text.clone()>{excerpt(&letter.text, 80)}</td>
                    <td class="px-2 py-1.5 max-w-xs break-words text-rose-800" data-testid="letter-error">{
                        let (error, locale) = (letter.last_error.clone(), use_locale());
                        move || delivery_reason_text(locale.get(), &error)
                    }</td>
                    <td class="px-2 py-1.5 text-right tabular-nums">{letter.attempts}</td>
                    <td class="px-2 py-1.5 whitespace-nowrap text-right">{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="dead-letters">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-2 py-2">{move || tr(K::Time)}</th>
                        <th class="px-2 py-2">{move || tr(K::Lead)}</th>
                        <th class="px-2 py-2">{move || tr(K::LeadsChannel)}</th>
                        <th class="px-2 py-2">{move || tr(K::LeadsText)}</th>
                        <th class="px-2 py-2">{move || tr(K::LeadsError)}</th>
                        <th class="px-2 py-2 text-right">{move || tr(K::LeadsAttempts)}</th>
                        <th class="px-2 py-2"></th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="7" class="px-3 py-6 text-center text-slate-500" data-testid="no-dead-letters">{move || tr(K::LeadsDeadNone)}</td></tr>
                    })}
                    {rows}
                </tbody>
            </table>
        </div>
        <Pager offset more shown=0 total=None/>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_bot_tab_and_lead_encoded() {
        assert_eq!(leads_url("bot_shop", "leads", ""), "/leads?bot=bot_shop");
        assert_eq!(leads_url("bot_shop", "operator", "TG-125"), "/leads?bot=bot_shop&tab=operator&lead=TG-125");
        assert_eq!(leads_url("bot_shop", "dead", "EM-a+b@x.ru"), "/leads?bot=bot_shop&tab=dead&lead=EM-a%2Bb%40x.ru");
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("Ваш заказ отправлен!", 9), "Ваш заказ…");
        assert_eq!(excerpt("short", 80), "short");
    }
}
