//! Studio users and roles (admins only): a dense table with each user's
//! role as a select that saves on change, disable / enable, and a new
//! password; a form that creates a user. A generated password is shown
//! once, like a token's secret. A refused change (the last enabled admin,
//! disabling oneself) is said above the table and nothing changes.

use crate::api::users::{list_users, CreateUser, IssuedPassword, ResetUserPassword, SetUserDisabled, SetUserRole};
use crate::components::form::{can, field_error, ErrorBanner, TextField};
use crate::components::{format_millis, l, load_error, percent_encode};
use crate::components::list_pages::{words, Hidden, ListFilter, PagerRow};
use crate::error::AppError;
use crate::i18n::{problem_text, role_text, t1, use_locale, K};
use comops_core::user::UserListing;
use comops_core::{Locale, Permission, Role};
use leptos::prelude::*;

const INPUT: &str = "rounded border border-slate-300 px-2 py-1.5 text-sm";
const LINK: &str = "text-sky-800 hover:underline";

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <div class="mb-4">
            <h1 class="text-xl font-semibold">{l(K::Users)}</h1>
            <p class="text-slate-600">{l(K::SectionUsers)}</p>
        </div>
        {if can(Permission::Administer) {
            view! { <UserAdmin/> }.into_any()
        } else {
            view! {
                <div class="rounded border border-amber-200 bg-amber-50 p-4 text-amber-900" data-testid="users-forbidden">{l(K::UsersAdminsOnly)}</div>
            }
            .into_any()
        }}
    }
    .into_any()
}

/// What went wrong with a row's change, without the field's name.
fn said(err: &AppError, locale: Locale) -> String {
    match err {
        AppError::Invalid(list) => list.iter().map(|e| problem_text(locale, &e.problem)).collect::<Vec<_>>().join(" "),
        other => other.message(locale),
    }
}

#[component]
fn UserAdmin() -> impl IntoView {
    let locale = use_locale();
    let create = ServerAction::<CreateUser>::new();
    let create_pending = create.pending();
    let role = ServerAction::<SetUserRole>::new();
    let disabled = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let changes = RwSignal::new(0u32);
    let users = Resource::new(move || changes.get(), |_| list_users());
    let show_new = RwSignal::new(false);
    let filter = ListFilter::default();
    let (email, new_role, new_locale) = (RwSignal::new(String::new()), RwSignal::new("viewer".to_string()), RwSignal::new("en".to_string()));
    // The password to show once: from a create or a reset.
    let issued = RwSignal::new(None::<IssuedPassword>);
    Effect::new(move |_| {
        if let Some(Ok(made)) = create.value().get() {
            show_new.set(false);
            email.set(String::new());
            issued.set(Some(made));
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(made)) = reset.value().get() {
            issued.set(Some(made));
        }
    });
    // A role or state change reloads the table either way: a refused role
    // select must show the role that is still stored.
    Effect::new(move |_| {
        if role.value().with(Option::is_some) || disabled.value().with(Option::is_some) {
            changes.update(|n| *n += 1);
        }
    });
    let problem = Signal::derive(move || {
        let loc = locale.get();
        [role.value().get(), disabled.value().get()]
            .into_iter()
            .flatten()
            .find_map(|r| r.err())
            .or_else(|| reset.value().get().and_then(Result::err))
            .or_else(|| create.value().get().and_then(Result::err).filter(|e| !matches!(e, AppError::Invalid(_))))
            .map(|e| said(&e, loc))
    });
    view! {
        <div class="mb-3 flex flex-wrap items-center justify-end gap-2">
            <input type="search" name="filter" class=INPUT data-testid="user-filter" placeholder=l(K::Filter) bind:value=filter.text/>
            <button class="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700" data-testid="new-user"
                on:click=move |_| show_new.update(|v| *v = !*v)>{l(K::NewUser)}</button>
        </div>
        <ErrorBanner message=problem/>
        {move || issued.get().map(|made| view! {
            <div class="mb-4 rounded border-2 border-amber-400 bg-amber-50 p-4" role="status" data-testid="user-password-issued">
                <p class="mb-2 font-medium text-amber-900">{move || t1(locale.get(), K::UserPasswordOnce, &made.email)}</p>
                <input readonly class="w-full rounded border border-amber-300 bg-white px-2 py-1.5 font-mono text-sm select-all"
                    data-testid="user-password" value=made.password.clone()/>
                <p class="mt-2 text-xs text-amber-900">{l(K::UserPasswordHint)}</p>
                <button class="mt-2 rounded border border-amber-400 px-3 py-1 text-sm" data-testid="user-password-done"
                    on:click=move |_| issued.set(None)>{l(K::Done)}</button>
            </div>
        })}
        <Show when=move || show_new.get()>
            <form class="mb-4 flex flex-wrap items-start gap-3 rounded border border-slate-200 bg-white p-4" data-testid="user-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateUser { email: email.get_untracked(), role: new_role.get_untracked(), locale: new_locale.get_untracked() });
                }
                on:keydown=move |ev| if ev.key() == "Escape" { show_new.set(false) }>
                <div class="min-w-64"><TextField label=K::Email name="email" value=email error=field_error(create.value(), "email") autofocus=true/></div>
                <label class="flex flex-col gap-1 text-sm">
                    <span class="text-xs font-medium text-slate-600">{l(K::Role)}</span>
                    <select name="role" class=INPUT on:change=move |ev| new_role.set(event_target_value(&ev))>{role_options(Role::Viewer)}</select>
                </label>
                <label class="flex flex-col gap-1 text-sm">
                    <span class="text-xs font-medium text-slate-600">{l(K::Language)}</span>
                    <select name="locale" class=INPUT on:change=move |ev| new_locale.set(event_target_value(&ev))>
                        <option value="en">"English"</option>
                        <option value="ru">"Русский"</option>
                    </select>
                </label>
                <button type="submit" class="mt-5 rounded bg-sky-700 px-3 py-1.5 text-white hover:bg-sky-600" disabled=move || create_pending.get()>
                    {l(K::Create)}
                </button>
            </form>
        </Show>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="users-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{l(K::Email)}</th>
                        <th class="px-3 py-2">{l(K::Role)}</th>
                        <th class="px-3 py-2">{l(K::Language)}</th>
                        <th class="px-3 py-2">{l(K::Status)}</th>
                        <th class="px-3 py-2">{l(K::UserCreated)}</th>
                        <th class="px-3 py-2"></th>
                    </tr>
                </thead>
                <tbody>
                    <Transition fallback=move || view! { <tr><td class="px-3 py-2" colspan="6">{l(K::Loading)}</td></tr> }>
                        {move || Suspend::new(async move {
                            match users.await {
                                Err(err) => view! { <tr><td colspan="6">{load_error(err, locale.get_untracked())}</td></tr> }.into_any(),
                                Ok(list) => {
                                    let (rows, pages) = filter.rows(
                                        "",
                                        list.users,
                                        |u| words(&[u.user.email.as_str(), u.user.role.as_str()]),
                                        |u, hidden| {
                                            let me = u.user.id.as_str() == list.me;
                                            view! { <UserRow listing=u me hidden role disabled reset/> }
                                        },
                                    );
                                    view! { {rows} <PagerRow pages colspan=6/> }.into_any()
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

/// The roles as `<option>`s, `current` selected.
fn role_options(current: Role) -> impl IntoView {
    let locale = use_locale();
    Role::ALL
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == current>{move || role_text(locale.get(), r)}</option> })
        .collect_view()
}

/// One user: the role saves on change; disable / enable; a new password
/// after a confirm.
#[component]
fn UserRow(
    listing: UserListing,
    /// The admin looking at the list.
    me: bool,
    /// Off screen: filtered out or on another page.
    hidden: Hidden,
    role: ServerAction<SetUserRole>,
    disabled: ServerAction<SetUserDisabled>,
    reset: ServerAction<ResetUserPassword>,
) -> impl IntoView {
    let locale = use_locale();
    let user = listing.user;
    let id = StoredValue::new(user.id.to_string());
    let confirming = RwSignal::new(false);
    let is_disabled = listing.disabled;
    // A row's change starts without the last change's answer on screen.
    let fresh = move || {
        role.clear();
        disabled.clear();
        reset.clear();
    };
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50" class:hidden=move || hidden.get() data-user=user.email.to_string()
            data-disabled=is_disabled.to_string()>
            <td class="px-3 py-2">
                {user.email.to_string()}
                {me.then(|| view! { <span class="ml-2 rounded bg-sky-100 px-1.5 py-0.5 text-[10px] uppercase text-sky-800">{l(K::UserYou)}</span> })}
            </td>
            <td class="px-3 py-2">
                <select name="role" class=INPUT data-testid="user-role" aria-label=l(K::Role)
                    on:change=move |ev| { fresh(); role.dispatch(SetUserRole { id: id.get_value(), role: event_target_value(&ev) }); }>
                    {role_options(user.role)}
                </select>
            </td>
            <td class="px-3 py-2 uppercase text-xs">{user.locale.as_str()}</td>
            <td class="px-3 py-2" data-testid="user-status">
                {if is_disabled {
                    view! { <span class="text-slate-500">{l(K::UserDisabledState)}</span> }.into_any()
                } else {
                    view! { <span class="text-emerald-700">{l(K::Active)}</span> }.into_any()
                }}
            </td>
            <td class="px-3 py-2 text-xs text-slate-600">{format_millis(listing.created_at)}</td>
            <td class="px-3 py-2 whitespace-nowrap text-right">
                <a class=format!("{LINK} mr-3") data-testid="user-audit" title=l(K::UserAuditTitle)
                    href=format!("/audit?actor={}", percent_encode(&format!("\"{}\"", user.email.as_str())))>{l(K::Audit)}</a>
                <Show when=move || confirming.get() fallback=move || view! {
                    {(!me || is_disabled).then(|| view! {
                        <button class=format!("{LINK} mr-3") data-testid="user-toggle"
                            on:click=move |_| { fresh(); disabled.dispatch(SetUserDisabled { id: id.get_value(), disabled: !is_disabled }); }>
                            {l(if is_disabled { K::UserEnable } else { K::UserDisable })}
                        </button>
                    })}
                    <button class=LINK data-testid="user-reset" on:click=move |_| confirming.set(true)>{l(K::UserNewPassword)}</button>
                }>
                    <span class="mr-2 text-amber-800">{move || crate::i18n::t(locale.get(), K::UserNewPasswordConfirm)}</span>
                    <button class="mr-2 font-medium text-sky-800" data-testid="user-reset-confirm"
                        on:click=move |_| { confirming.set(false); fresh(); reset.dispatch(ResetUserPassword { id: id.get_value() }); }>
                        {l(K::UserNewPassword)}
                    </button>
                    <button class="text-slate-600" on:click=move |_| confirming.set(false)>{l(K::Cancel)}</button>
                </Show>
            </td>
        </tr>
    }
    .into_any()
}
