//! English and Russian texts of the studio.
//!
//! Every visible string is a [`K`] key; [`t`] matches exhaustively, so a
//! key without both translations does not compile. The current language
//! lives in an [`I18n`] context signal: switching it re-renders every text
//! in place, and the server remembers the choice per user.

use comops_core::{Locale, Problem, Role};
use leptos::prelude::*;

/// The language signal shared by the whole studio.
#[derive(Clone, Copy)]
pub struct I18n(pub RwSignal<Locale>);

/// The current language (reactive when read inside a closure).
pub fn use_locale() -> RwSignal<Locale> {
    use_context::<I18n>().map(|i| i.0).unwrap_or_else(|| RwSignal::new(Locale::En))
}

/// A reactive text for `key`: `{move || tr(K::Projects)}` in views.
pub fn tr(key: K) -> &'static str {
    t(use_locale().get(), key)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K {
    AppTagline,
    Projects,
    Maps,
    Endpoints,
    Scenarios,
    Leads,
    Traces,
    Analytics,
    Tokens,
    Settings,
    LogIn,
    LogOut,
    LoggingIn,
    Email,
    Password,
    LoginTitle,
    LoginHint,
    BadCredentials,
    Throttled,
    Language,
    NewProject,
    NewBot,
    Name,
    Slug,
    SlugHint,
    Description,
    Bots,
    Updated,
    Create,
    Save,
    Cancel,
    Edit,
    Delete,
    ConfirmDelete,
    NoProjects,
    NoBots,
    Username,
    UsernameHint,
    Enabled,
    Status,
    Disabled,
    Loading,
    Back,
    ErrForbidden,
    ErrNotFound,
    ErrInternal,
    ErrUnauthenticated,
    ErrNetwork,
    ErrRequired,
    ErrBadSlug,
    ErrBadEmail,
    ErrBadBotUsername,
    ErrTaken,
    ErrBadRole,
    ErrBadAlias,
    ErrBadFieldName,
    ErrNotAllowedForType,
    ErrBadJson,
    ErrUnknown,
    ErrBadDateTime,
    ErrOutOfRange,
    ErrOneOf,
    ErrTooLong,
    ErrTooShort,
    ReadOnlyHint,
    NotBuiltYet,
    SectionMaps,
    SectionEndpoints,
    SectionScenarios,
    SectionLeads,
    SectionTraces,
    SectionAnalytics,
    SectionTokens,
    SectionSettings,
    Role,
    RoleAdmin,
    RoleArchitect,
    RoleAnalyst,
    RoleOperator,
    RoleViewer,
    Users,
    Saved,
    ProjectsIntro,
    BotId,
    Overview,
    PageNotFound,
}

pub fn t(locale: Locale, key: K) -> &'static str {
    let (en, ru) = match key {
        K::AppTagline => ("Deep Messaging Integration studio", "Студия глубокой интеграции мессенджеров"),
        K::Projects => ("Projects", "Проекты"),
        K::Maps => ("Maps", "Карты"),
        K::Endpoints => ("Endpoints", "Эндпоинты"),
        K::Scenarios => ("Scenarios", "Сценарии"),
        K::Leads => ("Leads", "Лиды"),
        K::Traces => ("Traces", "Трассировки"),
        K::Analytics => ("Analytics", "Аналитика"),
        K::Tokens => ("Tokens", "Токены"),
        K::Settings => ("Settings", "Настройки"),
        K::LogIn => ("Log in", "Войти"),
        K::LogOut => ("Log out", "Выйти"),
        K::LoggingIn => ("Logging in…", "Входим…"),
        K::Email => ("Email", "Email"),
        K::Password => ("Password", "Пароль"),
        K::LoginTitle => ("Log in to ComOps", "Вход в ComOps"),
        K::LoginHint => (
            "The first admin's password is printed by the server on its first start.",
            "Пароль первого администратора сервер печатает при первом запуске.",
        ),
        K::BadCredentials => ("Wrong email or password.", "Неверный email или пароль."),
        K::Throttled => ("Too many failed attempts. Try again in {} s.", "Слишком много неудачных попыток. Повторите через {} с."),
        K::Language => ("Language", "Язык"),
        K::NewProject => ("New project", "Новый проект"),
        K::NewBot => ("New bot", "Новый бот"),
        K::Name => ("Name", "Название"),
        K::Slug => ("Slug", "Код"),
        K::SlugHint => ("lowercase, e.g. rehau-installers; empty = from the name", "латиницей, например rehau-installers; пусто = из названия"),
        K::Description => ("Description", "Описание"),
        K::Bots => ("Bots", "Боты"),
        K::Updated => ("Updated", "Изменён"),
        K::Create => ("Create", "Создать"),
        K::Save => ("Save", "Сохранить"),
        K::Cancel => ("Cancel", "Отмена"),
        K::Edit => ("Edit", "Изменить"),
        K::Delete => ("Delete", "Удалить"),
        K::ConfirmDelete => ("Delete for good? This cannot be undone.", "Удалить навсегда? Это нельзя отменить."),
        K::NoProjects => ("No projects yet.", "Проектов пока нет."),
        K::NoBots => ("No bots in this project yet.", "В проекте пока нет ботов."),
        K::Username => ("Telegram username", "Имя в Telegram"),
        K::UsernameHint => ("e.g. shop_notify_bot (optional)", "например shop_notify_bot (необязательно)"),
        K::Enabled => ("Enabled", "Включён"),
        K::Status => ("Status", "Статус"),
        K::Disabled => ("Disabled", "Выключен"),
        K::Loading => ("Loading…", "Загрузка…"),
        K::Back => ("Back", "Назад"),
        K::ErrForbidden => ("Your role does not allow this.", "Ваша роль не позволяет это сделать."),
        K::ErrNotFound => ("Not found.", "Не найдено."),
        K::ErrInternal => ("Something went wrong on the server; nothing was changed.", "Ошибка на сервере; ничего не изменено."),
        K::ErrUnauthenticated => ("Your session has ended. Log in again.", "Сессия завершена. Войдите снова."),
        K::ErrNetwork => ("The server could not be reached.", "Сервер недоступен."),
        K::ErrRequired => ("Required.", "Обязательное поле."),
        K::ErrBadSlug => ("Use lowercase letters, digits, '-' and '_'.", "Только строчные латинские буквы, цифры, '-' и '_'."),
        K::ErrBadEmail => ("Not an email address.", "Это не адрес email."),
        K::ErrBadBotUsername => ("5–32 letters, digits or '_', ending in 'bot'.", "5–32 латинских букв, цифр или '_', в конце 'bot'."),
        K::ErrTaken => ("Already taken.", "Уже занято."),
        K::ErrBadRole => ("Unknown role.", "Неизвестная роль."),
        K::ErrBadAlias => (
            "Lowercase segments joined by '/', e.g. order/thank-you.",
            "Строчные сегменты через '/', например order/thank-you.",
        ),
        K::ErrBadFieldName => ("Start with a letter or '_'; letters, digits, '_' only.", "Начните с буквы или '_'; только буквы, цифры и '_'."),
        K::ErrNotAllowedForType => ("Does not apply to this type.", "Не подходит для этого типа."),
        K::ErrBadJson => ("Not valid JSON (an object is expected).", "Неверный JSON (ожидается объект)."),
        K::ErrUnknown => ("Does not exist.", "Не существует."),
        K::ErrBadDateTime => ("Use a date-time like 2026-11-26T10:00:00Z, within a year.", "Укажите дату и время вида 2026-11-26T10:00:00Z, не дальше года."),
        K::ErrOutOfRange => ("Out of the allowed range.", "Вне допустимого диапазона."),
        K::ErrOneOf => ("Give one of the two, not both.", "Укажите что-то одно."),
        K::ErrTooLong => ("Too long: at most {} characters.", "Слишком длинно: не более {} символов."),
        K::ErrTooShort => ("Too short: at least {} characters.", "Слишком коротко: не менее {} символов."),
        K::ReadOnlyHint => ("Your role can view but not change this.", "Ваша роль позволяет только просмотр."),
        K::NotBuiltYet => (
            "This part of the studio is not built yet; it arrives with its own release.",
            "Этот раздел студии ещё не готов; он появится в своём релизе.",
        ),
        K::SectionMaps => (
            "Customer Journey Maps, Service Blueprints and communication maps bound to live endpoints.",
            "Карты пути клиента, Service Blueprint и карты коммуникаций, связанные с живыми эндпоинтами.",
        ),
        K::SectionEndpoints => (
            "Integration points: POST /bots/{botId}/call/{alias}, their schemas, docs and dry runs.",
            "Точки интеграции: POST /bots/{botId}/call/{alias}, их схемы, документация и пробные запуски.",
        ),
        K::SectionScenarios => ("Dialog scenarios and their runs.", "Сценарии диалогов и их запуски."),
        K::SectionLeads => ("Leads, identity links userId ↔ leadId ↔ chatId.", "Лиды и связи userId ↔ leadId ↔ chatId."),
        K::SectionTraces => (
            "One trace per event: CRM event → endpoint → scenario → messenger → user → callback.",
            "Трассировка события: CRM → эндпоинт → сценарий → мессенджер → пользователь → обратный вызов.",
        ),
        K::SectionAnalytics => (
            "Delivery, engagement, response time, conversion, CSAT and error rate.",
            "Доставляемость, вовлечённость, время ответа, конверсия, CSAT и доля ошибок.",
        ),
        K::SectionTokens => ("Scoped API tokens for business systems.", "API-токены с ограничениями для бизнес-систем."),
        K::SectionSettings => ("Users, roles and security settings.", "Пользователи, роли и настройки безопасности."),
        K::Role => ("Role", "Роль"),
        K::RoleAdmin => ("admin", "администратор"),
        K::RoleArchitect => ("architect", "архитектор"),
        K::RoleAnalyst => ("analyst", "аналитик"),
        K::RoleOperator => ("operator", "оператор"),
        K::RoleViewer => ("viewer", "наблюдатель"),
        K::Users => ("Users", "Пользователи"),
        K::Saved => ("Saved.", "Сохранено."),
        K::ProjectsIntro => (
            "A project holds the bots, maps and endpoints of one company's DMI work.",
            "Проект объединяет ботов, карты и эндпоинты одной компании.",
        ),
        K::BotId => ("Bot id", "ID бота"),
        K::Overview => ("Overview", "Обзор"),
        K::PageNotFound => ("Page not found.", "Страница не найдена."),
    };
    match locale {
        Locale::En => en,
        Locale::Ru => ru,
    }
}

/// A text with one `{}` filled in.
pub fn t1(locale: Locale, key: K, value: impl std::fmt::Display) -> String {
    t(locale, key).replacen("{}", &value.to_string(), 1)
}

/// A field problem in the user's language.
pub fn problem_text(locale: Locale, problem: &Problem) -> String {
    match problem {
        Problem::Required => t(locale, K::ErrRequired).into(),
        Problem::TooLong { max } => t1(locale, K::ErrTooLong, max),
        Problem::TooShort { min } => t1(locale, K::ErrTooShort, min),
        Problem::BadSlug => t(locale, K::ErrBadSlug).into(),
        Problem::BadEmail => t(locale, K::ErrBadEmail).into(),
        Problem::BadBotUsername => t(locale, K::ErrBadBotUsername).into(),
        Problem::Taken => t(locale, K::ErrTaken).into(),
        Problem::BadRole => t(locale, K::ErrBadRole).into(),
        Problem::BadAlias => t(locale, K::ErrBadAlias).into(),
        Problem::BadFieldName => t(locale, K::ErrBadFieldName).into(),
        Problem::NotAllowedForType => t(locale, K::ErrNotAllowedForType).into(),
        Problem::BadJson => t(locale, K::ErrBadJson).into(),
        Problem::Unknown => t(locale, K::ErrUnknown).into(),
        Problem::BadDateTime => t(locale, K::ErrBadDateTime).into(),
        Problem::OutOfRange => t(locale, K::ErrOutOfRange).into(),
        Problem::OneOf => t(locale, K::ErrOneOf).into(),
    }
}

pub fn role_text(locale: Locale, role: Role) -> &'static str {
    t(
        locale,
        match role {
            Role::Admin => K::RoleAdmin,
            Role::Architect => K::RoleArchitect,
            Role::Analyst => K::RoleAnalyst,
            Role::Operator => K::RoleOperator,
            Role::Viewer => K::RoleViewer,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_differs_from_english_for_navigation() {
        for key in [K::Projects, K::Maps, K::Endpoints, K::LogIn, K::LogOut] {
            assert_ne!(t(Locale::En, key), t(Locale::Ru, key), "{key:?}");
        }
    }

    #[test]
    fn fills_placeholders() {
        assert_eq!(t1(Locale::Ru, K::Throttled, 30), "Слишком много неудачных попыток. Повторите через 30 с.");
        assert_eq!(problem_text(Locale::En, &Problem::TooLong { max: 120 }), "Too long: at most 120 characters.");
    }
}
