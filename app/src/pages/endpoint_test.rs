//! "Send test event" under an endpoint's row (SPEC §6, integration
//! points): a request body, prefilled with the endpoint's example, sent as
//! a dry-run call; the answer as a business system would get it — the
//! status and message, a refused body's field problems, whom the
//! recipients resolved to, the messages the first lead would get — and a
//! link to the call's trace. Ctrl+Enter sends.

use crate::api::test_events::{SendTestEvent, TestEventAnswer};
use crate::api_message::{api_message_text, field_problem_text};
use crate::i18n::{t1, tr, use_locale, K};
use leptos::prelude::*;

/// The test panel of endpoint `alias` on `bot`.
#[component]
pub fn TestEvent(bot: String, alias: String, example: String, enabled: bool) -> impl IntoView {
    let locale = use_locale();
    let body = RwSignal::new(if example.trim().is_empty() { "{}".to_string() } else { example });
    let send_event = ServerAction::<SendTestEvent>::new();
    // Once: each `pending()` makes a memo of its own.
    let pending = send_event.pending();
    let send = move || {
        if !pending.get_untracked() {
            send_event.dispatch(SendTestEvent { bot_id: bot.clone(), alias: alias.clone(), body: body.get_untracked() });
        }
    };
    let on_key = {
        let send = send.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                ev.prevent_default();
                send();
            }
        }
    };
    view! {
        <div class="space-y-2" data-testid="test-event">
            <p class="text-sm text-slate-600">{move || tr(K::TestEventIntro)}</p>
            {(!enabled).then(|| view! {
                <p class="text-sm text-amber-800" role="note" data-testid="test-event-disabled">{move || tr(K::TestEventDisabled)}</p>
            })}
            <label class="block text-sm">
                <span class="font-medium">{move || tr(K::TestEventBody)}</span>
                <textarea class="mt-1 block w-full rounded border border-slate-300 p-2 font-mono text-xs" rows="4" spellcheck="false"
                    data-testid="test-event-body" prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev)) on:keydown=on_key></textarea>
            </label>
            <button class="rounded bg-sky-700 px-3 py-1 text-sm text-white hover:bg-sky-800 disabled:opacity-50" data-testid="test-event-send"
                disabled=move || pending.get() on:click=move |_| send()>
                {move || tr(K::TestEventSend)}
            </button>
            {move || send_event.value().get().map(|result| match result {
                Err(err) => view! { <p role="alert" class="text-sm text-rose-700" data-testid="test-event-error">{move || err.message(locale.get())}</p> }.into_any(),
                Ok(answer) => view! { <TestEventResult answer/> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

/// What the test call got back.
#[component]
fn TestEventResult(answer: TestEventAnswer) -> impl IntoView {
    let locale = use_locale();
    let TestEventAnswer { status, message, trace_id, problems, leads, unresolved, messages, note, answer } = answer;
    let badge = if status < 300 { "bg-emerald-100 text-emerald-800" } else { "bg-amber-100 text-amber-900" };
    let trace = format!("/traces?trace_id={trace_id}");
    let (message_title, note_title) = (message.clone(), note.clone());
    view! {
        <div class="space-y-2 rounded border border-slate-200 bg-white p-3 text-sm" data-testid="test-event-answer" data-status=status.to_string()>
            <p>
                <span class=format!("mr-2 rounded px-1.5 py-0.5 text-xs tabular-nums {badge}") data-testid="test-event-status">"HTTP " {status}</span>
                <span data-testid="test-event-message" title=message_title>{move || api_message_text(locale.get(), &message)}</span>
                <a class="ml-3 text-sky-800 hover:underline" href=trace data-testid="test-event-trace">{move || tr(K::TestEventTrace)}</a>
            </p>
            {(!problems.is_empty()).then(|| view! {
                <ul class="list-disc pl-5 text-rose-700" data-testid="test-event-problems">
                    {problems.into_iter().map(|(field, problem)| {
                        let (name, original) = (field.clone(), problem.clone());
                        let words = move || field_problem_text(locale.get(), &name, &original);
                        view! { <li title=problem><span class="font-mono">{field}</span>": " {words}</li> }
                    }).collect_view()}
                </ul>
            })}
            {(status < 300).then(|| {
                let (leads, unresolved) = (leads.join(", "), unresolved.join(", "));
                view! {
                    <p class="text-slate-700" data-testid="test-event-recipients">
                        {move || t1(locale.get(), K::TestEventLeads, if leads.is_empty() { "—".to_string() } else { leads.clone() })}
                        {(!unresolved.is_empty()).then(|| view! {
                            <span class="ml-3 text-amber-800">{move || t1(locale.get(), K::TestEventUnresolved, &unresolved)}</span>
                        })}
                    </p>
                }
            })}
            {(!note.is_empty()).then(|| view! { <p class="text-slate-600" data-testid="test-event-note" title=note_title>{move || api_message_text(locale.get(), &note)}</p> })}
            {(!messages.is_empty()).then(|| view! {
                <div>
                    <p class="font-medium">{move || tr(K::DryMessages)}</p>
                    <ol class="mt-1 space-y-1">
                        {messages.into_iter().map(|m| {
                            let missing = m.missing.join(", ");
                            view! {
                                <li class="rounded bg-sky-50 px-2 py-1" data-testid="test-event-message-preview">
                                    <span class="mr-2 font-mono text-xs text-slate-500">{m.step}</span>
                                    <span class="whitespace-pre-wrap">{m.text}</span>
                                    {(!m.buttons.is_empty()).then(|| view! { <span class="ml-2 text-xs text-slate-600">"[" {m.buttons.join("] [")} "]"</span> })}
                                    {(!missing.is_empty()).then(|| view! { <p class="text-xs text-amber-800">{move || t1(locale.get(), K::DryMissing, &missing)}</p> })}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </div>
            })}
            <details>
                <summary class="cursor-pointer text-slate-600">{move || tr(K::TestEventWhole)}</summary>
                <pre class="mt-1 overflow-x-auto rounded bg-slate-50 p-2 font-mono text-xs" data-testid="test-event-json">{answer}</pre>
            </details>
        </div>
    }
}
