//! API tokens (admins only): issue with scopes, show the secret once,
//! list with status and last use, revoke with an inline confirm.
//!
//! Other roles see why the page is empty; the server functions refuse them
//! anyway. The secret lives only in the issue action's answer in memory: a
//! reload or "Done" forgets it, and no server function returns it again.

use crate::api::tokens::{list_tokens, IssueToken, IssuedToken, RevokeToken};
use crate::components::form::{can, field_error, general_error, ErrorBanner, TextField};
use crate::components::{format_millis, l, percent_encode};
use crate::components::list_pages::{words, Hidden, ListFilter, PagerRow};
use crate::i18n::{token_action_text, tr, use_locale, K};
use comops_core::token::TokenDraft;
use comops_core::{ApiToken, Millis, Permission, TokenAction};
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct TokenFields {
    name: RwSignal<String>,
    bots: RwSignal<String>,
    aliases: RwSignal<String>,
    actions: [RwSignal<bool>; 4],
    expires_in_days: RwSignal<String>,
    rate_per_minute: RwSignal<String>,
}

impl TokenFields {
    fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            bots: RwSignal::new(String::new()),
            aliases: RwSignal::new(String::new()),
            actions: TokenAction::ALL.map(|a| RwSignal::new(a == TokenAction::Call)),
            expires_in_days: RwSignal::new("365".into()),
            rate_per_minute: RwSignal::new("60".into()),
        }
    }

    fn reset(&self) {
        let fresh = Self::new();
        self.name.set(String::new());
        self.bots.set(String::new());
        self.aliases.set(String::new());
        for (mine, new) in self.actions.iter().zip(fresh.actions) {
            mine.set(new.get_untracked());
        }
        self.expires_in_days.set(fresh.expires_in_days.get_untracked());
        self.rate_per_minute.set(fresh.rate_per_minute.get_untracked());
    }

    fn draft(&self) -> TokenDraft {
        // A number the browser let through but we cannot read is sent as
        // out of range, so the server names the field.
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().unwrap_or(u32::MAX);
        TokenDraft {
            name: self.name.get_untracked(),
            bots: self.bots.get_untracked(),
            aliases: self.aliases.get_untracked(),
            actions: TokenAction::ALL.into_iter().zip(self.actions).filter(|(_, on)| on.get_untracked()).map(|(a, _)| a).collect(),
            expires_in_days: number(self.expires_in_days),
            rate_per_minute: number(self.rate_per_minute),
        }
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let is_admin = can(Permission::Administer);
    view! {
        <div class="mb-4">
            <h1 class="text-xl font-semibold">{move || tr(K::Tokens)}</h1>
            <p class="text-slate-600">{move || tr(K::SectionTokens)}</p>
        </div>
        {if is_admin {
            view! { <TokenAdmin/> }.into_any()
        } else {
            view! {
                <div class="rounded border border-amber-200 bg-amber-50 p-4 text-amber-900" data-testid="tokens-forbidden">
                    {move || tr(K::TokensAdminsOnly)}
                </div>
            }.into_any()
        }}
    }
    .into_any()
}

#[component]
fn TokenAdmin() -> impl IntoView {
    let locale = use_locale();
    let issue = ServerAction::<IssueToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let changes = RwSignal::new(0u32);
    let tokens = Resource::new(move || changes.get(), |_| list_tokens());
    let show_new = RwSignal::new(false);
    let fields = TokenFields::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = issue.value().get() {
            show_new.set(false);
            fields.reset();
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = revoke.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    let other_errors = Signal::derive(move || general_error(issue.value()).get().or_else(|| general_error(revoke.value()).get()));
    let issued = move || issue.value().with(|v| v.as_ref().and_then(|r| r.as_ref().ok().cloned()));
    let filter = ListFilter::default();

    view! {
        <div class="mb-3 flex justify-end gap-2">
            <input type="search" name="filter" class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="token-filter"
                placeholder=l(K::Filter) bind:value=filter.text/>
            <button class="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700" data-testid="new-token"
                on:click=move |_| show_new.update(|v| *v = !*v)>
                {move || tr(K::NewToken)}
            </button>
        </div>
        <ErrorBanner message=other_errors/>
        {move || issued().map(|issued| view! { <SecretBox issued on_done=Callback::new(move |_| issue.clear())/> })}
        <Show when=move || show_new.get()>
            <TokenForm fields issue on_cancel=Callback::new(move |_| show_new.set(false))/>
        </Show>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="tokens-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{move || tr(K::Name)}</th>
                        <th class="px-3 py-2">{move || tr(K::Scopes)}</th>
                        <th class="px-3 py-2">{move || tr(K::Expires)}</th>
                        <th class="px-3 py-2">{move || tr(K::LastUsed)}</th>
                        <th class="px-3 py-2">{move || tr(K::CreatedBy)}</th>
                        <th class="px-3 py-2">{move || tr(K::Status)}</th>
                        <th class="px-3 py-2"></th>
                    </tr>
                </thead>
                <tbody>
                    <Transition fallback=move || view! { <tr><td class="px-3 py-2" colspan="7">{move || tr(K::Loading)}</td></tr> }>
                        {move || Suspend::new(async move {
                            match tokens.await {
                                Err(err) => view! {
                                    <tr><td colspan="7" class="px-3 py-2 text-rose-700" role="alert">{err.message(locale.get_untracked())}</td></tr>
                                }.into_any(),
                                Ok(list) if list.tokens.is_empty() => view! {
                                    <tr><td colspan="7" class="px-3 py-6 text-center text-slate-500" data-testid="no-tokens">{move || tr(K::NoTokens)}</td></tr>
                                }.into_any(),
                                Ok(list) => {
                                    let now = list.now;
                                    let (rows, pages) = filter.rows(
                                        "",
                                        list.tokens,
                                        |t| {
                                            let (bots, aliases, _) = scope_summary(t);
                                            words(&[&t.name, &bots, &aliases])
                                        },
                                        |token, hidden| view! { <TokenRow token now revoke hidden/> },
                                    );
                                    view! { {rows} <PagerRow pages colspan=7/> }.into_any()
                                }
                            }
                        })}
                    </Transition>
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The one and only display of a new token's secret.
#[component]
fn SecretBox(issued: IssuedToken, on_done: Callback<()>) -> impl IntoView {
    view! {
        <div class="mb-4 rounded border-2 border-amber-400 bg-amber-50 p-4" role="status" data-testid="token-issued">
            <p class="mb-2 font-medium text-amber-900">{move || tr(K::TokenSecretOnce)} " — " {issued.token.name.clone()}</p>
            <input readonly class="w-full rounded border border-amber-300 bg-white px-2 py-1.5 font-mono text-sm select-all"
                data-testid="token-secret" value=issued.secret.clone()/>
            <p class="mt-2 text-xs text-amber-900">{move || tr(K::TokenCopyHint)}</p>
            <button class="mt-2 rounded border border-amber-400 px-3 py-1 text-sm" data-testid="token-secret-done"
                on:click=move |_| on_done.run(())>{move || tr(K::Done)}</button>
        </div>
    }
    .into_any()
}

#[component]
fn TokenForm(fields: TokenFields, issue: ServerAction<IssueToken>, on_cancel: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let issue_pending = issue.pending();
    let actions_error = field_error(issue.value(), "actions");
    let boxes = TokenAction::ALL
        .into_iter()
        .zip(fields.actions)
        .map(|(action, on)| {
            let name = action.as_str();
            view! {
                <label class="flex items-center gap-1.5 text-sm">
                    <input type="checkbox" name=format!("action-{name}") bind:checked=on/>
                    <span>{move || token_action_text(locale.get(), action)}</span>
                    <span class="font-mono text-xs text-slate-500">{name}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <form
            class="mb-4 flex flex-col gap-3 rounded border border-slate-200 bg-white p-4"
            data-testid="token-form"
            on:submit=move |ev| { ev.prevent_default(); issue.dispatch(IssueToken { draft: fields.draft() }); }
            on:keydown=move |ev| if ev.key() == "Escape" { on_cancel.run(()) }
        >
            <div class="grid gap-3 md:grid-cols-[2fr_2fr_2fr_1fr_1fr] items-start">
                <TextField label=K::Name name="name" value=fields.name error=field_error(issue.value(), "name") autofocus=true/>
                <TextField label=K::Bots name="bots" value=fields.bots error=field_error(issue.value(), "bots") hint=K::TokenBotsHint/>
                <TextField label=K::AliasesOrPrefixes name="aliases" value=fields.aliases error=field_error(issue.value(), "aliases") hint=K::TokenAliasesHint/>
                <TextField label=K::ExpiresInDays name="expires_in_days" kind="number" value=fields.expires_in_days
                    error=field_error(issue.value(), "expires_in_days") hint=K::ZeroNever/>
                <TextField label=K::RatePerMinute name="rate_per_minute" kind="number" value=fields.rate_per_minute
                    error=field_error(issue.value(), "rate_per_minute") hint=K::ZeroUnlimited/>
            </div>
            <fieldset class="flex flex-wrap items-center gap-4">
                <legend class="mb-1 text-xs font-medium text-slate-600">{move || tr(K::Actions)}</legend>
                {boxes}
                <Show when=move || actions_error.get().is_some()>
                    <span class="text-xs text-rose-600" data-error-for="actions">{move || actions_error.get()}</span>
                </Show>
            </fieldset>
            <div class="flex gap-2">
                <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white hover:bg-sky-600" disabled=move || issue_pending.get()>
                    {move || tr(K::IssueToken)}
                </button>
                <button type="button" class="rounded border border-slate-300 px-3 py-1.5" on:click=move |_| on_cancel.run(())>
                    {move || tr(K::Cancel)}
                </button>
            </div>
        </form>
    }
    .into_any()
}

/// A token's state at `now`.
fn status(token: &ApiToken, now: Millis) -> K {
    if token.revoked_at.is_some() {
        K::Revoked
    } else if token.expires_at.is_some_and(|at| at <= now) {
        K::Expired
    } else {
        K::Active
    }
}

/// `bots: bot_shop · aliases: order/* · call, dry_run`.
fn scope_summary(token: &ApiToken) -> (String, String, String) {
    let join = |items: Vec<String>| items.join(", ");
    (
        join(token.scope.bots.iter().map(ToString::to_string).collect()),
        join(token.scope.aliases.iter().map(ToString::to_string).collect()),
        join(token.scope.actions.iter().map(|a| a.as_str().to_string()).collect()),
    )
}

#[component]
fn TokenRow(
    token: ApiToken,
    now: Millis,
    revoke: ServerAction<RevokeToken>,
    /// Off screen: filtered out or on another page.
    hidden: Hidden,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let state = status(&token, now);
    let (bots, aliases, actions) = scope_summary(&token);
    let badge = match state {
        K::Active => "bg-emerald-100 text-emerald-800",
        K::Expired => "bg-amber-100 text-amber-800",
        _ => "bg-slate-200 text-slate-600",
    };
    let id = token.id.to_string();
    let audit_href = format!("/audit?subject={}", percent_encode(&id));
    let expires = token.expires_at.map(format_millis);
    let last_used = token.last_used_at.map(format_millis);
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50" class:hidden=move || hidden.get() data-token=token.name.clone()>
            <td class="px-3 py-2 font-medium">{token.name.clone()}</td>
            <td class="px-3 py-2 text-xs">
                <div>
                    <span class="text-slate-500">{move || tr(K::Bots)} ": "</span>
                    <span class="font-mono">{if bots.is_empty() { "*".to_string() } else { bots.clone() }}</span>
                </div>
                <div>
                    <span class="text-slate-500">{move || tr(K::Aliases)} ": "</span>
                    <span class="font-mono">{if aliases.is_empty() { "*".to_string() } else { aliases.clone() }}</span>
                </div>
                <div class="font-mono">{actions}</div>
            </td>
            <td class="px-3 py-2 whitespace-nowrap text-slate-600">{move || expires.clone().unwrap_or_else(|| tr(K::Never).to_string())}</td>
            <td class="px-3 py-2 whitespace-nowrap text-slate-600">{move || last_used.clone().unwrap_or_else(|| tr(K::Never).to_string())}</td>
            <td class="px-3 py-2 text-slate-600">{token.created_by.clone()}</td>
            <td class="px-3 py-2">
                <span class=format!("rounded px-1.5 py-0.5 text-xs {badge}") data-testid="token-status">{move || tr(state)}</span>
            </td>
            <td class="px-3 py-2 whitespace-nowrap text-right">
                <a class="mr-3 text-sky-800 hover:underline" data-testid="token-audit" title=move || tr(K::TokenAuditTitle)
                    href=audit_href>{move || tr(K::Audit)}</a>
                {(state != K::Revoked).then(|| view! {
                    <Show when=move || confirming.get() fallback=move || view! {
                        <button class="text-rose-700 hover:underline" data-testid="revoke" on:click=move |_| confirming.set(true)>
                            {move || tr(K::Revoke)}
                        </button>
                    }>
                        {
                            let id = id.clone();
                            view! {
                                <span class="text-rose-700 mr-2">{move || tr(K::ConfirmRevoke)}</span>
                                <button class="text-rose-700 font-medium mr-2" data-testid="confirm-revoke"
                                    on:click=move |_| { revoke.dispatch(RevokeToken { id: id.clone() }); }>{move || tr(K::Revoke)}</button>
                                <button class="text-slate-600" on:click=move |_| confirming.set(false)>{move || tr(K::Cancel)}</button>
                            }
                        }
                    </Show>
                })}
            </td>
        </tr>
    }
    .into_any()
}
