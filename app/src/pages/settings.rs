//! Settings (admins only): pick a bot, then one card per channel kind with
//! its credentials, the URLs to register with the messenger, the entry
//! scenario and the bot's secrets.
//!
//! Secret fields are write-only here: the card shows "set" or "not set",
//! an empty input keeps the stored value, and "clear" drops it. Each card
//! saves on its own (Enter), Escape puts back what is stored. A kind this
//! build cannot check says so instead of offering a form.

use crate::api::settings::{fields_of, load_settings_page, ChannelCard, ChannelSave, FieldKind, SaveChannel, SettingsPage as PageData};
use crate::components::bot_picker::BotPicker;
use crate::components::form::{can, general_error, ErrorBanner};
use crate::components::{l, load_error, loading};
use crate::i18n::{setting_choice_text, setting_field_text, tr, use_locale, K};
use comops_core::Permission;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeMap;

const INPUT: &str = "w-full rounded border border-slate-300 px-2 py-1 text-sm aria-[invalid=true]:border-rose-500";

#[component]
pub fn SettingsPage() -> impl IntoView {
    let is_admin = can(Permission::Administer);
    view! {
        <div class="mb-4">
            <h1 class="text-xl font-semibold">{l(K::Settings)}</h1>
            <p class="text-slate-600">{l(K::StgIntro)}</p>
        </div>
        {if is_admin {
            view! { <SettingsAdmin/> }.into_any()
        } else {
            view! {
                <div class="rounded border border-amber-200 bg-amber-50 p-4 text-amber-900" data-testid="settings-forbidden">
                    {l(K::StgAdminsOnly)}
                </div>
            }
            .into_any()
        }}
    }
    .into_any()
}

#[component]
fn SettingsAdmin() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let bot_param = move || query.with(|q| q.get("bot").unwrap_or_default());
    let page = Resource::new(bot_param, load_settings_page);
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => load_error(err, locale.get_untracked()),
                    Ok(page) => view! { <BotSettings page/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn BotSettings(page: PageData) -> impl IntoView {
    let cards = page
        .cards
        .into_iter()
        .map(|card| {
            view! { <Card card bot_id=page.bot_id.clone() origin=page.origin.clone() scenarios=page.scenarios.clone()/> }
        })
        .collect_view();
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-3">
            <BotPicker bots=page.bots current=page.bot_id.clone() path="/settings"/>
        </div>
        <div class="grid gap-4 md:grid-cols-2 items-start" data-testid="channel-cards" data-bot=page.bot_id.clone()>
            {cards}
        </div>
    }
    .into_any()
}

/// Title and description of a kind.
fn kind_text(kind: &str) -> (K, K) {
    match kind {
        "telegram" => (K::StgTelegram, K::StgAboutTelegram),
        "webchat" => (K::StgWebchat, K::StgAboutWebchat),
        "whatsapp" => (K::StgWhatsapp, K::StgAboutWhatsapp),
        "vk" => (K::StgVk, K::StgAboutVk),
        "email" => (K::StgEmail, K::StgAboutEmail),
        "webhook" => (K::StgWebhook, K::StgAboutWebhook),
        "entry" => (K::StgEntry, K::StgAboutEntry),
        _ => (K::StgSecrets, K::StgAboutSecrets),
    }
}

/// The URLs a messenger must be told, with their labels.
fn register_urls(kind: &str, origin: &str, bot: &str) -> Vec<(K, String)> {
    match kind {
        "telegram" => vec![(K::StgUrlWebhook, format!("{origin}/telegram/{bot}/webhook"))],
        "whatsapp" => vec![(K::StgUrlWebhook, format!("{origin}/whatsapp/{bot}/webhook"))],
        "vk" => vec![(K::StgUrlCallback, format!("{origin}/vk/{bot}/callback"))],
        "webhook" => vec![(K::StgUrlInbound, format!("{origin}/webhook/{bot}/inbound"))],
        "webchat" => vec![
            (K::StgUrlChatPage, format!("{origin}/webchat/{bot}")),
            (K::StgEmbedSnippet, format!(r#"<script src="{origin}/webchat/{bot}/widget.js" async></script>"#)),
        ],
        _ => Vec::new(),
    }
}

/// One `secrets` entry being edited.
#[derive(Clone, Copy)]
struct SecretRow {
    name: RwSignal<String>,
    value: RwSignal<String>,
    /// Stored already: the name is fixed and an empty value keeps it.
    stored: bool,
}

/// The editable state of a card, rebuilt from what is stored.
#[derive(Clone, Copy)]
struct CardFields {
    values: StoredValue<BTreeMap<&'static str, RwSignal<String>>>,
    clear: StoredValue<BTreeMap<&'static str, RwSignal<bool>>>,
    secrets: RwSignal<Vec<SecretRow>>,
}

impl CardFields {
    fn new(card: &ChannelCard) -> Self {
        let specs = fields_of(&card.kind);
        let values = specs.iter().map(|f| (f.name, RwSignal::new(String::new()))).collect();
        let clear = specs.iter().filter(|f| f.kind == FieldKind::Secret).map(|f| (f.name, RwSignal::new(false))).collect();
        let fields = Self { values: StoredValue::new(values), clear: StoredValue::new(clear), secrets: RwSignal::new(Vec::new()) };
        fields.reset(card);
        fields
    }

    /// Puts back what `card` says is stored (secrets empty, not cleared).
    fn reset(&self, card: &ChannelCard) {
        for spec in fields_of(&card.kind) {
            let stored = card.values.get(spec.name).cloned();
            let value = match spec.kind {
                FieldKind::Secret => String::new(),
                FieldKind::Flag => stored.unwrap_or_else(|| "true".into()),
                FieldKind::Choice(options) => stored.filter(|v| !v.is_empty()).unwrap_or_else(|| options[0].to_string()),
                _ => stored.unwrap_or_default(),
            };
            if let Some(signal) = self.values.with_value(|v| v.get(spec.name).copied()) {
                signal.set(value);
            }
        }
        self.clear.with_value(|c| c.values().for_each(|s| s.set(false)));
        if card.kind == "secrets" {
            self.secrets.set(
                card.secrets_set
                    .iter()
                    .map(|name| SecretRow { name: RwSignal::new(name.clone()), value: RwSignal::new(String::new()), stored: true })
                    .collect(),
            );
        }
    }

    fn value(&self, name: &str) -> Option<RwSignal<String>> {
        self.values.with_value(|v| v.get(name).copied())
    }

    /// The JSON object to submit, and the secrets to clear.
    fn submission(&self, kind: &str) -> (String, String) {
        let mut object = serde_json::Map::new();
        if kind == "secrets" {
            for row in self.secrets.get_untracked() {
                let name = row.name.get_untracked().trim().to_string();
                if !name.is_empty() {
                    object.insert(name, serde_json::Value::String(row.value.get_untracked()));
                }
            }
        } else {
            self.values.with_value(|values| {
                for (name, value) in values {
                    object.insert((*name).to_string(), serde_json::Value::String(value.get_untracked()));
                }
            });
        }
        let clear = self
            .clear
            .with_value(|c| c.iter().filter(|(_, on)| on.get_untracked()).map(|(name, _)| *name).collect::<Vec<_>>().join(","));
        (serde_json::Value::Object(object).to_string(), clear)
    }
}

#[component]
fn Card(card: ChannelCard, bot_id: String, origin: String, scenarios: Vec<String>) -> impl IntoView {
    let locale = use_locale();
    let kind = card.kind.clone();
    let (title, about) = kind_text(&kind);
    let urls = register_urls(&kind, &origin, &bot_id);
    let state = RwSignal::new(card.clone());
    let fields = CardFields::new(&card);
    let save = ServerAction::<SaveChannel>::new();
    let save_pending = save.pending();
    Effect::new(move |_| {
        if let Some(Ok(ChannelSave::Saved(card))) = save.value().get() {
            fields.reset(&card);
            state.set(card);
        }
    });
    let errors = move || match save.value().get() {
        Some(Ok(ChannelSave::Invalid(errors))) => errors,
        _ => Vec::new(),
    };
    let field_error = move |name: String| Signal::derive(move || errors().into_iter().find(|e| e.field == name).map(|e| e.message));
    let saved = move || matches!(save.value().get(), Some(Ok(ChannelSave::Saved(_))));
    // Whether this build can check the kind does not change while the page is open.
    let available = card.available;
    let banner = Signal::derive(move || {
        if matches!(save.value().get(), Some(Ok(ChannelSave::Unavailable))) {
            return Some(tr(K::StgNotAvailable).to_string());
        }
        general_error(save.value()).get().or_else(|| {
            // Problems with fields this card has no input for (e.g. `body`).
            let shown: Vec<&str> = fields_of(&state.with_untracked(|c| c.kind.clone())).iter().map(|f| f.name).collect();
            let other: Vec<String> = errors()
                .into_iter()
                .filter(|e| !shown.contains(&e.field.as_str()) && !state.with_untracked(|c| c.kind == "secrets"))
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            (!other.is_empty()).then(|| other.join("; "))
        })
    });
    let kind_submit = kind.clone();
    let bot_submit = bot_id.clone();
    let submit = move || {
        let (json, clear) = fields.submission(&kind_submit);
        save.dispatch(SaveChannel { bot_id: bot_submit.clone(), kind: kind_submit.clone(), json, clear });
    };
    let specs = fields_of(&kind);
    let is_secrets = kind == "secrets";
    let inputs = specs
        .iter()
        .map(|spec| {
            let name = spec.name;
            let value = fields.value(name).unwrap_or_else(|| RwSignal::new(String::new()));
            let error = field_error(name.to_string());
            let input = match spec.kind {
                FieldKind::Secret => {
                    let is_set = move || state.with(|c| c.secrets_set.iter().any(|s| s == name));
                    let clear = fields.clear.with_value(|c| c.get(name).copied()).unwrap_or_else(|| RwSignal::new(false));
                    view! {
                        <div class="flex items-center gap-2">
                            <input type="password" name=name autocomplete="new-password" class=INPUT
                                aria-invalid=move || error.get().is_some().to_string()
                                placeholder=move || if is_set() { tr(K::StgKeepHint) } else { "" }
                                disabled=move || clear.get()
                                bind:value=value/>
                            <span class=move || if is_set() { "whitespace-nowrap rounded bg-emerald-100 px-1.5 py-0.5 text-[11px] text-emerald-800" } else { "whitespace-nowrap rounded bg-slate-100 px-1.5 py-0.5 text-[11px] text-slate-600" }
                                data-secret-state=name>
                                {move || tr(if is_set() { K::StgSecretSet } else { K::StgSecretNotSet })}
                            </span>
                            <Show when=is_set>
                                <label class="flex items-center gap-1 whitespace-nowrap text-[11px] text-slate-600">
                                    <input type="checkbox" name=format!("clear-{name}") bind:checked=clear/>
                                    {l(K::StgClear)}
                                </label>
                            </Show>
                        </div>
                    }
                    .into_any()
                }
                FieldKind::Flag => view! {
                    <input type="checkbox" name=name class="self-start" checked=untrack(move || value.get() != "false") prop:checked=move || value.get() != "false"
                        on:change=move |ev| value.set(if event_target_checked(&ev) { "true".into() } else { "false".into() })/>
                }
                .into_any(),
                FieldKind::Choice(options) => view! {
                    <select name=name class=INPUT prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                        {options.iter().map(|o| view! { <option value=*o selected=move || value.get() == *o>{move || setting_choice_text(locale.get(), o)}</option> }).collect_view()}
                    </select>
                }
                .into_any(),
                FieldKind::Scenario => {
                    let options = scenarios.clone();
                    view! {
                        <select name=name class=INPUT prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                            <option value="">{l(K::StgNoneOption)}</option>
                            {options.into_iter().map(|s| {
                                let selected = { let s = s.clone(); move || value.get() == s };
                                view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                            }).collect_view()}
                        </select>
                    }
                    .into_any()
                }
                FieldKind::Text | FieldKind::Number => view! {
                    <input name=name class=INPUT inputmode=if spec.kind == FieldKind::Number { "numeric" } else { "text" }
                        aria-invalid=move || error.get().is_some().to_string() bind:value=value/>
                }
                .into_any(),
            };
            view! {
                <label class="flex min-w-0 flex-col gap-0.5" data-field=name>
                    <span class="text-[11px] text-slate-600">
                        {move || setting_field_text(locale.get(), name)}
                        " "<span class="font-mono text-slate-400">{name}</span>
                    </span>
                    {input}
                    <Show when=move || error.get().is_some()>
                        <span class="text-xs text-rose-600" data-error-for=name>{move || error.get()}</span>
                    </Show>
                </label>
            }
        })
        .collect_view();
    let url_rows = (!urls.is_empty()).then(|| {
        view! {
            <div class="rounded bg-slate-50 p-2" data-testid="register-urls">
                <p class="mb-1 text-[11px] font-medium uppercase text-slate-500">{l(K::StgRegisterUrls)}</p>
                {urls.into_iter().map(|(label, url)| view! {
                    <div class="mb-1 flex flex-col gap-0.5">
                        <span class="text-[11px] text-slate-600">{l(label)}</span>
                        <code class="block select-all break-all rounded border border-slate-200 bg-white px-2 py-1 font-mono text-xs"
                            data-url=url.clone()>{url.clone()}</code>
                    </div>
                }).collect_view()}
            </div>
        }
    });
    let reset = move || fields.reset(&state.get_untracked());
    let status = move || {
        if !available {
            ("bg-slate-100 text-slate-600", K::StgNotAvailable)
        } else if state.with(|c| c.configured) {
            ("bg-emerald-100 text-emerald-800", K::StgConfigured)
        } else {
            ("bg-slate-100 text-slate-600", K::StgNotConfigured)
        }
    };
    view! {
        <section class="flex flex-col gap-2 rounded border border-slate-200 bg-white p-3" data-channel=kind.clone()>
            <div class="flex items-start justify-between gap-2">
                <div>
                    <h2 class="font-semibold">{l(title)}</h2>
                    <p class="text-xs text-slate-600">{l(about)}</p>
                </div>
                <span class=move || format!("whitespace-nowrap rounded px-1.5 py-0.5 text-[11px] {}", status().0) data-testid="channel-status">
                    {move || tr(status().1)}
                </span>
            </div>
            {url_rows}
            {if available {
                view! {
                    <form class="flex flex-col gap-2"
                        on:submit=move |ev| { ev.prevent_default(); submit(); }
                        on:keydown=move |ev| if ev.key() == "Escape" { reset() }>
                        {if is_secrets {
                            view! { <SecretsEditor rows=fields.secrets errors=Signal::derive(errors)/> }.into_any()
                        } else {
                            inputs.into_any()
                        }}
                        <ErrorBanner message=banner/>
                        <div class="flex items-center gap-2">
                            <button type="submit" class="rounded bg-sky-700 px-3 py-1 text-white hover:bg-sky-600 disabled:opacity-50"
                                data-testid="save-channel" disabled=move || save_pending.get()>{l(K::Save)}</button>
                            <Show when=saved>
                                <span class="text-xs text-emerald-700" data-testid="channel-saved">{l(K::Saved)}</span>
                            </Show>
                        </div>
                    </form>
                }
                .into_any()
            } else {
                view! { <p class="text-sm text-slate-500" data-testid="not-available">{l(K::StgNotAvailable)}</p> }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// The bot's secrets: stored ones by name (value write-only), new ones
/// with name and value; removing a row deletes that secret on save.
#[component]
fn SecretsEditor(rows: RwSignal<Vec<SecretRow>>, errors: Signal<Vec<comops_core::schema::PayloadError>>) -> impl IntoView {
    view! {
        <div class="flex flex-col gap-1" data-testid="secrets-editor">
            {move || rows.get().into_iter().enumerate().map(|(i, row)| {
                let error = Signal::derive(move || {
                    let name = row.name.get();
                    errors.with(|all| all.iter().find(|e| e.field == name).map(|e| e.message.clone()))
                });
                view! {
                    <div class="grid grid-cols-[1fr_1.3fr_auto] items-center gap-1" data-secret-row=i>
                        <input name="secret-name" class=format!("{INPUT} font-mono") readonly=row.stored
                            placeholder="CRM_TOKEN" bind:value=row.name/>
                        <input type="password" name="secret-value" autocomplete="new-password" class=INPUT
                            aria-invalid=move || error.get().is_some().to_string()
                            placeholder=move || if row.stored { tr(K::StgKeepHint) } else { "" }
                            bind:value=row.value/>
                        <button type="button" class="px-1 text-rose-700" title=l(K::RemoveField)
                            on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"×"</button>
                        <Show when=move || error.get().is_some()>
                            <span class="col-span-3 text-xs text-rose-600" data-error-for=move || row.name.get()>{move || error.get()}</span>
                        </Show>
                    </div>
                }
            }).collect_view()}
            <button type="button" class="self-start text-xs text-sky-800 hover:underline" data-testid="add-secret"
                on:click=move |_| rows.update(|r| r.push(SecretRow { name: RwSignal::new(String::new()), value: RwSignal::new(String::new()), stored: false }))>
                {l(K::StgAddSecret)}
            </button>
        </div>
    }
    .into_any()
}
