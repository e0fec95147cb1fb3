//! The dense step table of the editor: position, id (start marked), type,
//! a one-line summary, where it goes, its problems, and row actions.

use super::model::expect_name;
use crate::api::scenarios::StepIssue;
use crate::components::l;
use crate::i18n::{expect_text, link_text, step_type_text, t, t1, use_locale, K};
use super::step_form::field_words;
use crate::scenario_issues::scenario_issue_text;
use comops_core::scenario::{Scenario, StepKind};
use comops_core::Locale;
use leptos::prelude::*;

/// The dense step table: position, id (start marked), type, a one-line
/// summary, where it goes, its problems, and row actions.
#[component]
pub(super) fn StepsTable(
    scenario: RwSignal<Scenario>,
    issues: Signal<Vec<StepIssue>>,
    selected: RwSignal<Option<usize>>,
    editable: bool,
    on_change: Callback<()>,
) -> impl IntoView {
    let locale = use_locale();
    let move_step = move |from: usize, to: usize| {
        scenario.update(|s| {
            if from < s.steps.len() && to < s.steps.len() {
                s.steps.swap(from, to);
            }
        });
        selected.update(|sel| {
            *sel = match *sel {
                Some(i) if i == from => Some(to),
                Some(i) if i == to => Some(from),
                other => other,
            }
        });
        on_change.run(());
    };
    let remove = move |at: usize| {
        scenario.update(|s| {
            if at < s.steps.len() {
                s.steps.remove(at);
            }
        });
        selected.update(|sel| {
            *sel = match *sel {
                Some(i) if i == at => None,
                Some(i) if i > at => Some(i - 1),
                other => other,
            }
        });
        on_change.run(());
    };
    let make_start = move |at: usize| {
        scenario.update(|s| {
            if let Some(step) = s.steps.get(at) {
                s.start = step.id.clone();
            }
        });
        on_change.run(());
    };
    let rows = move || {
        let (steps, start) = scenario.with(|s| (s.steps.clone(), s.start.clone()));
        let all_issues = issues.get();
        let count = steps.len();
        steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                let mine: Vec<StepIssue> = all_issues.iter().filter(|e| e.index == Some(i)).cloned().collect();
                let is_start = step.id == start;
                let has_issues = !mine.is_empty();
                let branches = step
                    .kind
                    .transitions()
                    .into_iter()
                    .map(|(field, target)| format!("{} → {target}", link_text(locale.get(), &field)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let summary = summary(locale.get(), &step.kind);
                let type_name = step.kind.type_name();
                let stop = |ev: leptos::ev::MouseEvent| ev.stop_propagation();
                view! {
                    <tr class="cursor-pointer border-t border-slate-100 align-top hover:bg-slate-50"
                        class:bg-sky-50=move || selected.get() == Some(i)
                        class:border-l-4=has_issues class:border-l-rose-500=has_issues
                        data-step=step.id.clone() data-step-index=i
                        on:click=move |_| selected.set(Some(i))>
                        <td class="px-2 py-1.5 text-xs text-slate-400">{i + 1}</td>
                        <td class="px-2 py-1.5 font-mono text-xs whitespace-nowrap">
                            {step.id.clone()}
                            {is_start.then(|| view! {
                                <span class="ml-1.5 rounded bg-emerald-100 px-1 py-0.5 text-[10px] uppercase text-emerald-800" data-testid="start-badge">{l(K::ScnStartStep)}</span>
                            })}
                        </td>
                        <td class="px-2 py-1.5 text-xs"><span class="rounded bg-slate-100 px-1.5 py-0.5" title=type_name>{step_type_text(locale.get(), type_name)}</span></td>
                        <td class="px-2 py-1.5 text-slate-700">
                            <span class="line-clamp-1 break-all">{summary}</span>
                            {has_issues.then(|| view! {
                                <ul class="mt-0.5 text-xs text-rose-700" data-testid="step-problems">
                                    {mine.into_iter().map(|e| view! { <li>{format!("{}: {}", field_words(locale.get(), &e.field), scenario_issue_text(locale.get(), &e.issue))}</li> }).collect_view()}
                                </ul>
                            })}
                        </td>
                        <td class="px-2 py-1.5 font-mono text-[11px] text-slate-600">{branches}</td>
                        <td class="px-2 py-1.5 whitespace-nowrap text-right text-xs" on:click=stop>
                            {editable.then(|| view! {
                                <button class="px-1 text-slate-600 hover:text-slate-900 disabled:opacity-30" title=l(K::ScnMoveUp)
                                    data-testid="step-up" disabled={i == 0} on:click=move |_| move_step(i, i.saturating_sub(1))>"↑"</button>
                                <button class="px-1 text-slate-600 hover:text-slate-900 disabled:opacity-30" title=l(K::ScnMoveDown)
                                    data-testid="step-down" disabled={i + 1 >= count} on:click=move |_| move_step(i, i + 1)>"↓"</button>
                                // A flag, its words in the tooltip: the column stays narrow
                                // beside the open step form.
                                <button class="px-1 text-sky-800 hover:text-sky-950 disabled:opacity-30" data-testid="make-start"
                                    title=l(K::ScnSetStart) aria-label=l(K::ScnSetStart) disabled=is_start on:click=move |_| make_start(i)>"⚑"</button>
                                <button class="px-1 text-rose-700 hover:underline" data-testid="remove-step" title=l(K::ScnRemoveStep)
                                    on:click=move |_| remove(i)>"×"</button>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="steps-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-2 py-1.5">"#"</th>
                        <th class="px-2 py-1.5">{l(K::ScnStepId)}</th>
                        <th class="px-2 py-1.5">{l(K::ScnStepType)}</th>
                        <th class="px-2 py-1.5">{l(K::ScnSummary)}</th>
                        <th class="px-2 py-1.5">{l(K::ScnBranches)}</th>
                        <th class="px-2 py-1.5"></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// One line about what a step does, in `locale`'s words.
pub(super) fn summary(locale: Locale, kind: &StepKind) -> String {
    fn cut(text: &str, max: usize) -> String {
        let line = text.lines().next().unwrap_or_default();
        if line.chars().count() > max || text.lines().nth(1).is_some() {
            format!("{}…", line.chars().take(max).collect::<String>())
        } else {
            line.to_string()
        }
    }
    match kind {
        StepKind::Message { text, buttons, media_url, .. } => {
            let mut out = cut(text, 80);
            if !buttons.is_empty() {
                out.push_str(&format!(" [{}]", buttons.iter().map(|b| b.label.as_str()).collect::<Vec<_>>().join(" | ")));
            }
            if media_url.is_some() {
                out.push_str(" 🖼");
            }
            out
        }
        StepKind::Ask { prompt, expect, var, .. } => {
            format!("{} → vars.{var} ({})", cut(prompt, 60), expect_text(locale, expect_name(*expect)))
        }
        StepKind::Http { method, url, save_as, .. } => format!("{} {} → vars.{save_as}", method.as_str(), cut(url, 60)),
        StepKind::Script { code, .. } => cut(code, 80),
        StepKind::Set { vars, attributes, add_tags, remove_tags, status, .. } => {
            let mut parts = Vec::new();
            if !vars.is_empty() {
                parts.push(t1(locale, K::ScnSummaryVars, vars.keys().cloned().collect::<Vec<_>>().join(", ")));
            }
            if !attributes.is_empty() {
                parts.push(t1(locale, K::ScnSummaryAttributes, attributes.keys().cloned().collect::<Vec<_>>().join(", ")));
            }
            if !add_tags.is_empty() {
                parts.push(format!("+{}", add_tags.join(" +")));
            }
            if !remove_tags.is_empty() {
                parts.push(format!("-{}", remove_tags.join(" -")));
            }
            if let Some(status) = status {
                parts.push(t1(locale, K::ScnSummaryStatus, status));
            }
            parts.join("; ")
        }
        StepKind::If { condition, .. } => cut(condition, 80),
        StepKind::Switch { value, cases, .. } => format!("{} ({})", cut(value, 60), t1(locale, K::ScnSummaryCases, cases.len())),
        StepKind::Wait { seconds, until, .. } => match (seconds, until) {
            (Some(s), _) => format!("{s} {}", t(locale, K::UnitSeconds)),
            (None, Some(u)) => t1(locale, K::ScnSummaryUntil, cut(u, 60)),
            _ => String::new(),
        },
        StepKind::Goto { target } => format!("→ {target}"),
        StepKind::Run { scenario, .. } => scenario.clone(),
        StepKind::Handover { note, .. } => cut(note, 80),
        StepKind::End { goal } => goal.as_ref().map(|g| t1(locale, K::ScnSummaryGoal, g)).unwrap_or_default(),
    }
}


#[cfg(test)]
mod tests {
    use super::summary;
    use comops_core::scenario::StepKind;
    use comops_core::Locale;

    #[test]
    fn summaries_are_one_line() {
        let s = super::super::model::tests::scenario();
        assert_eq!(summary(Locale::En, &s.steps[0].kind), "? → vars.r (rating)");
        assert_eq!(summary(Locale::Ru, &s.steps[0].kind), "? → vars.r (оценка)");
        assert_eq!(summary(Locale::En, &s.steps[1].kind), "vars.r (1 cases)");
        assert_eq!(summary(Locale::Ru, &s.steps[1].kind), "vars.r (вариантов: 1)");
        assert_eq!(summary(Locale::En, &StepKind::Script { code: "a\nb".into(), next: String::new(), on_error: None }), "a…");
    }
}
