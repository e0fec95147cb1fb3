//! The side form of one step: the fields of its type, from one table
//! ([`form_of`]) rendered by one function, so every step type's form looks
//! and behaves the same. Enter (in a one-line field) applies, Escape
//! closes without applying.

use super::draft::{ButtonRow, PairRow, StepDraft};
use super::model::rename_references;
use super::{BUTTON, INPUT, PRIMARY};
use crate::api::scenarios::StepIssue;
use crate::components::l;
use crate::i18n::{button_kind_text, expect_text, step_type_text, t, tr, use_locale, K};
use comops_core::scenario::Scenario;
use comops_core::Locale;
use crate::scenario_issues::scenario_issue_text;
use leptos::prelude::*;

/// Step types in the add-step picker, in the order SPEC §4 lists them.
pub(super) const STEP_TYPES: [&str; 12] = ["message", "ask", "http", "script", "set", "if", "switch", "wait", "goto", "run", "handover", "end"];
const EXPECTS: [&str; 7] = ["text", "number", "phone", "email", "choice", "contact", "rating"];
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const BUTTON_KINDS: [&str; 4] = ["reply", "inline", "url", "contact"];

/// One field of the step form, by what it edits. The form of each step
/// type is a list of these ([`form_of`]), rendered by one function: a
/// table instead of twelve hand-written forms keeps the browser bundle
/// small and the forms consistent.
#[derive(Clone, Copy)]
enum Field {
    /// A one-line text field, half width.
    Line(K, &'static str),
    /// A one-line text field, full width.
    Wide(K, &'static str),
    /// A multi-line template or code area.
    Area(K, &'static str, u32),
    /// Another step's id (suggested from the scenario's steps).
    Ref(K, &'static str),
    /// One of fixed values, each said in words when there are any.
    Pick(K, &'static str, &'static [&'static str], Option<fn(Locale, &str) -> String>),
    Buttons,
    /// Name/value rows: `headers`, `vars`, `attributes` or `cases`.
    Pairs(K, &'static str, K, K),
}

/// The fields of a step type, in form order.
fn form_of(kind: &str) -> &'static [Field] {
    use Field::*;
    match kind {
        "message" => &[Area(K::ScnText, "text", 4), Buttons, Line(K::ScnMediaUrl, "media_url"), Ref(K::ScnNext, "next")],
        "ask" => &[
            Area(K::ScnPrompt, "prompt", 3),
            Pick(K::ScnExpect, "expect", &EXPECTS, Some(expect_text)),
            Line(K::ScnVar, "var"),
            Line(K::ScnChoices, "choices"),
            Line(K::ScnMaxReasks, "max_reasks"),
            Line(K::ScnTimeoutSec, "timeout_sec"),
            Ref(K::ScnNext, "next"),
            Ref(K::ScnOnNoReply, "on_no_reply"),
            Ref(K::ScnOnDeliveryFailed, "on_delivery_failed"),
            Area(K::ScnReask, "reask", 2),
            Buttons,
        ],
        "http" => &[
            Pick(K::ScnMethod, "method", &METHODS, None),
            Line(K::ScnSaveAs, "save_as"),
            Wide(K::ScnUrl, "url"),
            Pairs(K::ScnHeaders, "headers", K::Name, K::ScnValue),
            Area(K::ScnBody, "body", 4),
            Line(K::ScnTimeoutMs, "timeout_ms"),
            Line(K::ScnRetries, "retries"),
            Ref(K::ScnNext, "next"),
            Ref(K::ScnOnError, "on_error"),
        ],
        "script" => &[Area(K::ScnCode, "code", 12), Ref(K::ScnNext, "next"), Ref(K::ScnOnError, "on_error")],
        "set" => &[
            Pairs(K::ScnVars, "vars", K::Name, K::ScnValue),
            Pairs(K::ScnAttributes, "attributes", K::Name, K::ScnValue),
            Line(K::ScnAddTags, "add_tags"),
            Line(K::ScnRemoveTags, "remove_tags"),
            Line(K::ScnLeadStatus, "status"),
            Ref(K::ScnNext, "next"),
        ],
        "if" => &[Wide(K::ScnCondition, "condition"), Ref(K::ScnThen, "then"), Ref(K::ScnOtherwise, "otherwise")],
        "switch" => &[
            Wide(K::ScnSwitchValue, "value"),
            Pairs(K::ScnCases, "cases", K::ScnEquals, K::ScnNext),
            Ref(K::ScnDefaultBranch, "default"),
        ],
        "wait" => &[Line(K::ScnWaitSeconds, "seconds"), Line(K::ScnWaitUntil, "until"), Ref(K::ScnNext, "next")],
        "goto" => &[Ref(K::ScnTarget, "target")],
        "run" => &[Line(K::ScnRunScenario, "scenario"), Ref(K::ScnNext, "next")],
        "handover" => &[Area(K::ScnHandoverNote, "note", 3), Ref(K::ScnNext, "next")],
        _ => &[Line(K::ScnGoal, "goal")],
    }
}

/// What the step form calls `field` of a step (`next`, `buttons[1].url`:
/// the part before the first `[` or `.`), for the problem list; none for
/// a field no form shows.
pub(super) fn field_label(field: &str) -> Option<K> {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    if base == "id" {
        return Some(K::ScnStepId);
    }
    STEP_TYPES.iter().flat_map(|kind| form_of(kind)).find_map(|f| match *f {
        Field::Buttons => (base == "buttons").then_some(K::ScnButtons),
        Field::Line(k, n) | Field::Wide(k, n) | Field::Area(k, n, _) | Field::Ref(k, n) | Field::Pick(k, n, _, _) | Field::Pairs(k, n, _, _) => {
            (n == base).then_some(k)
        }
    })
}

/// `field` of a step as its form names it (`prompt` → «Вопрос»), or as
/// written when no form shows it.
pub(super) fn field_words(locale: Locale, field: &str) -> String {
    field_label(field).map_or_else(|| field.to_string(), |k| t(locale, k).to_string())
}

/// The problem with `field` of step `index`: a number that does not
/// parse, else the latest check's message.
fn step_field_error(
    issues: Signal<Vec<StepIssue>>,
    bad_numbers: RwSignal<Vec<&'static str>>,
    index: usize,
    field: &'static str,
) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || {
        if bad_numbers.with(|b| b.contains(&field)) {
            return Some(t(locale.get(), K::ScnNotANumber).to_string());
        }
        issues.with(|all| all.iter().find(|e| e.index == Some(index) && e.field == field).map(|e| scenario_issue_text(locale.get(), &e.issue)))
    })
}

/// One field of the step form.
fn field_view(field: Field, draft: StepDraft, error: impl Fn(&'static str) -> Signal<Option<String>>) -> AnyView {
    match field {
        Field::Line(label, name) => view! { <Line label name value=draft.text(name) error=error(name) wide=false/> }.into_any(),
        Field::Wide(label, name) => view! { <Line label name value=draft.text(name) error=error(name) wide=true/> }.into_any(),
        Field::Area(label, name, rows) => view! { <Area label name value=draft.text(name) error=error(name) rows/> }.into_any(),
        Field::Ref(label, name) => view! { <StepRef label name value=draft.text(name) error=error(name)/> }.into_any(),
        Field::Pick(label, name, options, words) => match words {
            Some(words) => view! { <Choice label name value=draft.text(name) options words/> }.into_any(),
            None => view! { <Choice label name value=draft.text(name) options/> }.into_any(),
        },
        Field::Buttons => view! { <ButtonsEditor rows=draft.buttons/> }.into_any(),
        Field::Pairs(label, name, key_label, value_label) => view! { <PairsEditor label rows=draft.pairs(name) key_label value_label/> }.into_any(),
    }
}

/// The side form of one step: the fields of its type. Enter (in a
/// one-line field) applies, Escape closes without applying.
#[component]
pub(super) fn StepForm(
    scenario: RwSignal<Scenario>,
    index: usize,
    issues: Signal<Vec<StepIssue>>,
    read_only: bool,
    on_apply: Callback<()>,
    on_close: Callback<()>,
) -> impl IntoView {
    let Some(step) = scenario.with_untracked(|s| s.steps.get(index).cloned()) else {
        return ().into_any();
    };
    let locale = use_locale();
    let draft = StepDraft::new(&step);
    let bad_numbers = RwSignal::new(Vec::<&'static str>::new());
    let original_id = step.id.clone();
    let apply = move || {
        if read_only {
            return;
        }
        match draft.step() {
            Err(bad) => bad_numbers.set(bad),
            Ok(new_step) => {
                let old = original_id.clone();
                scenario.update(|s| {
                    if index < s.steps.len() {
                        let new_id = new_step.id.clone();
                        s.steps[index] = new_step;
                        rename_references(s, &old, &new_id);
                    }
                });
                on_apply.run(());
            }
        }
    };
    let error = move |field: &'static str| step_field_error(issues, bad_numbers, index, field);
    let mine = Signal::derive(move || issues.with(|all| all.iter().filter(|e| e.index == Some(index)).cloned().collect::<Vec<_>>()));
    let step_ids = Signal::derive(move || scenario.with(|s| s.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>()));
    let fields = move || form_of(&draft.kind.get()).iter().map(|f| field_view(*f, draft, error)).collect_view();
    view! {
        <form class="flex flex-col gap-2 rounded border border-sky-200 bg-white p-3 shadow-sm" data-testid="step-form" data-step-index=index
            on:submit=move |ev| { ev.prevent_default(); apply(); }
            on:keydown=move |ev| if ev.key() == "Escape" { ev.prevent_default(); on_close.run(()) }>
            <datalist id="step-ids">
                {move || step_ids.get().into_iter().map(|id| view! { <option value=id></option> }).collect_view()}
            </datalist>
            <fieldset class="grid grid-cols-2 gap-2" disabled=read_only>
                <Line label=K::ScnStepId name="id" value=draft.id error=error("id") wide=false autofocus=true/>
                <Choice label=K::ScnStepType name="type" value=draft.kind options=&STEP_TYPES words=step_type_text/>
                <Show when=move || mine.with(|m| !m.is_empty())>
                    <ul class="col-span-2 rounded bg-rose-50 px-2 py-1 text-xs text-rose-800" data-testid="form-problems">
                        {move || mine.get().into_iter().map(|e| view! { <li>{format!("{}: {}", field_words(locale.get(), &e.field), scenario_issue_text(locale.get(), &e.issue))}</li> }).collect_view()}
                    </ul>
                </Show>
                {fields}
            </fieldset>
            <div class="flex items-center gap-2">
                {(!read_only).then(|| view! { <button type="submit" class=PRIMARY data-testid="apply-step">{l(K::ScnApply)}</button> })}
                <button type="button" class=BUTTON data-testid="close-step" on:click=move |_| on_close.run(())>{l(K::Close)}</button>
                <span class="text-[11px] text-slate-500">{l(K::ScnStepFormHint)}</span>
            </div>
        </form>
    }
    .into_any()
}

/// A one-line field of the step form (`wide`: both columns).
#[component]
fn Line(
    label: K,
    name: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    wide: bool,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    view! {
        <label class="flex min-w-0 flex-col gap-0.5" class:col-span-2=wide>
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <input name=name class=INPUT autofocus=autofocus aria-invalid=move || error.get().is_some().to_string() bind:value=value/>
            <FieldError name error/>
        </label>
    }
    .into_any()
}

/// A field naming another step (free text, the step ids suggested).
#[component]
fn StepRef(label: K, name: &'static str, value: RwSignal<String>, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <label class="flex min-w-0 flex-col gap-0.5">
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <input name=name list="step-ids" class=format!("{INPUT} font-mono") aria-invalid=move || error.get().is_some().to_string() bind:value=value/>
            <FieldError name error/>
        </label>
    }
    .into_any()
}

/// A template or code area of the step form (both columns).
#[component]
fn Area(label: K, name: &'static str, value: RwSignal<String>, error: Signal<Option<String>>, rows: u32) -> impl IntoView {
    view! {
        <label class="col-span-2 flex min-w-0 flex-col gap-0.5">
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <textarea name=name rows=rows spellcheck="false" class=format!("{INPUT} font-mono text-xs")
                aria-invalid=move || error.get().is_some().to_string() bind:value=value></textarea>
            <FieldError name error/>
        </label>
    }
    .into_any()
}

/// The message under a field, when it has a problem.
#[component]
fn FieldError(name: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <span class="text-xs text-rose-600" data-error-for=name>{move || error.get()}</span>
        </Show>
    }
    .into_any()
}

/// A select of fixed values, each shown as `words` says it (as it is
/// without).
#[component]
fn Choice(
    label: K,
    name: &'static str,
    value: RwSignal<String>,
    options: &'static [&'static str],
    #[prop(optional)] words: Option<fn(Locale, &str) -> String>,
) -> impl IntoView {
    let locale = use_locale();
    let shown = move |option: &'static str| move || words.map(|say| say(locale.get(), option)).unwrap_or_else(|| option.to_string());
    view! {
        <label class="flex min-w-0 flex-col gap-0.5">
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <select name=name class=INPUT prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {options.iter().map(|option| view! { <option value=*option selected=move || value.get() == *option>{shown(option)}</option> }).collect_view()}
            </select>
        </label>
    }
    .into_any()
}

/// Buttons of a message or ask: label, kind, value, url.
#[component]
fn ButtonsEditor(rows: RwSignal<Vec<ButtonRow>>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <fieldset class="col-span-2 rounded border border-slate-200 p-1.5" data-testid="buttons-editor">
            <legend class="px-1 text-[11px] font-medium text-slate-600">{l(K::ScnButtons)}</legend>
            {move || rows.get().into_iter().enumerate().map(|(i, row)| view! {
                <div class="mb-1 grid grid-cols-[1fr_5.5rem_1fr_auto] gap-1" data-button-row=i>
                    <input name="button-label" class=INPUT placeholder=l(K::ScnButtonLabel) bind:value=row.label/>
                    <select name="button-kind" class=INPUT prop:value=move || row.kind.get() on:change=move |ev| row.kind.set(event_target_value(&ev))>
                        {BUTTON_KINDS.into_iter().map(|k| view! { <option value=k selected=move || row.kind.get() == k>{move || button_kind_text(locale.get(), k)}</option> }).collect_view()}
                    </select>
                    <input name="button-value" class=INPUT
                        placeholder=move || if row.kind.get() == "url" { "https://…" } else { tr(K::ScnValue) }
                        prop:value=move || if row.kind.get() == "url" { row.url.get() } else { row.value.get() }
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            if row.kind.get_untracked() == "url" { row.url.set(v) } else { row.value.set(v) }
                        }/>
                    <button type="button" class="px-1 text-rose-700" title=l(K::RemoveField)
                        on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"×"</button>
                </div>
            }).collect_view()}
            <button type="button" class="text-xs text-sky-800 hover:underline" data-testid="add-button"
                on:click=move |_| rows.update(|r| r.push(ButtonRow::new(None)))>{l(K::ScnAddButton)}</button>
        </fieldset>
    }
    .into_any()
}

/// Name/value rows: headers, vars, attributes, switch cases.
#[component]
fn PairsEditor(label: K, rows: RwSignal<Vec<PairRow>>, key_label: K, value_label: K) -> impl IntoView {
    view! {
        <fieldset class="col-span-2 rounded border border-slate-200 p-1.5">
            <legend class="px-1 text-[11px] font-medium text-slate-600">{l(label)}</legend>
            {move || rows.get().into_iter().enumerate().map(|(i, row)| view! {
                <div class="mb-1 grid grid-cols-[1fr_1.5fr_auto] gap-1" data-pair-row=i>
                    <input name="pair-key" class=format!("{INPUT} font-mono") placeholder=l(key_label) bind:value=row.key/>
                    <input name="pair-value" class=format!("{INPUT} font-mono") placeholder=l(value_label) bind:value=row.value/>
                    <button type="button" class="px-1 text-rose-700" title=l(K::RemoveField)
                        on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"×"</button>
                </div>
            }).collect_view()}
            <button type="button" class="text-xs text-sky-800 hover:underline"
                on:click=move |_| rows.update(|r| r.push(PairRow::new("", "")))>{l(K::ScnAddRow)}</button>
        </fieldset>
    }
    .into_any()
}

