//! Form fields that show their own validation error.

use crate::error::AppError;
use crate::i18n::{tr, use_locale, K};
use crate::session::SessionInfo;
use comops_core::Permission;
use leptos::prelude::*;

/// A labelled text input bound to `value`, with the error for its field
/// (already translated) shown underneath.
#[component]
pub fn TextField(
    label: K,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<K>,
    #[prop(optional)] autofocus: bool,
    #[prop(default = "text")] kind: &'static str,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <label class="flex flex-col gap-1 min-w-0">
            <span class="text-xs font-medium text-slate-600">{move || tr(label)}</span>
            <input
                id=id
                name=name
                type=kind
                autofocus=autofocus
                class="rounded border border-slate-300 px-2 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 aria-[invalid=true]:border-rose-500"
                aria-invalid=move || error.get().is_some().to_string()
                placeholder=move || hint.map(tr).unwrap_or_default()
                bind:value=value
            />
            <Show when=move || error.get().is_some()>
                <span class="text-xs text-rose-600" data-error-for=name>{move || error.get()}</span>
            </Show>
        </label>
    }
}

/// A banner for an error that belongs to no single field.
#[component]
pub fn ErrorBanner(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <div role="alert" class="rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
                {move || message.get()}
            </div>
        </Show>
    }
}

/// The translated problem with `field` in the latest result of an action.
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    let locale = use_locale();
    Signal::derive(move || value.with(|v| match v {
        Some(Err(err)) => err.field(field, locale.get()),
        _ => None,
    }))
}

/// A banner text for errors not tied to a field: any but field problems,
/// which show under their fields, save a problem of the whole request
/// ("changed meanwhile, try again"; `Problem::of_the_request`).
pub fn general_error<T, S>(value: S) -> Signal<Option<String>>
where
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    let locale = use_locale();
    Signal::derive(move || value.with(|v| match v {
        Some(Err(err @ AppError::Invalid(errors))) if errors.iter().any(|e| e.problem.of_the_request()) => Some(err.message(locale.get())),
        Some(Err(AppError::Invalid(_))) | None | Some(Ok(_)) => None,
        Some(Err(err)) => Some(err.message(locale.get())),
    }))
}

/// Whether the logged-in user's role allows `permission` (for hiding
/// controls; the server checks again).
pub fn can(permission: Permission) -> bool {
    use_context::<SessionInfo>().and_then(|s| s.user).is_some_and(|u| u.allows(permission))
}

/// The logged-in user's email ("" for nobody).
pub fn my_email() -> String {
    use_context::<SessionInfo>().and_then(|s| s.user).map(|u| u.email.as_str().to_string()).unwrap_or_default()
}

