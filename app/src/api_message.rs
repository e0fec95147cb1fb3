//! The integration API's own words, as the studio shows them: the answer
//! to a test event and a refused call in the trace log. The API keeps its
//! English (programs read it); the studio says ComOps's fixed answers
//! and dry-run notes (`core::call::answer`), token refusals (`core::token::Denial`) and a
//! body's field problems (`core::schema::PayloadProblem`) in the reader's
//! language, and anything else as written.

use comops_core::call::answer;
use comops_core::schema::PayloadProblem;
use comops_core::token::Denial;
use comops_core::{Locale, TokenAction};

/// An answer's `message` in `locale`.
pub fn api_message_text(locale: Locale, message: &str) -> String {
    if locale == Locale::En {
        return message.to_string();
    }
    if let Some(words) = answer_ru(message) {
        return words.to_string();
    }
    if let Some(words) = denial_ru(message) {
        return words;
    }
    if let Some(name) = answer::missing_scenario(message) {
        return format!("Сценария {name} ещё нет");
    }
    if let Some(words) = refusal_ru(message) {
        return words;
    }
    match message.strip_prefix("Malformed JSON: ") {
        Some(detail) => format!("Некорректный JSON: {}", crate::json_error::json_error_text(locale, detail)),
        None => message.to_string(),
    }
}

/// A field problem of a refused body (`field`: its name) in `locale`.
pub fn field_problem_text(locale: Locale, field: &str, message: &str) -> String {
    if locale == Locale::En {
        return message.to_string();
    }
    if let Some(problem) = PayloadProblem::parse(message) {
        return match problem {
            PayloadProblem::Required => "обязательное поле".into(),
            PayloadProblem::Type(kind) => format!("должно иметь тип {}", kind.as_str()),
            PayloadProblem::OneOf(values) => format!("допустимые значения: {}", values.join(", ")),
            PayloadProblem::Format(format) => format!("не в формате {}", format.as_str()),
        };
    }
    if let Some(words) = answer_ru(message) {
        return words.to_string();
    }
    // The recipients' problems name their field first (`core::call`).
    match message.strip_prefix(field).map(str::trim_start) {
        Some("must be a non-empty string or an integer") => "должно быть непустой строкой или целым числом".into(),
        Some("must be an array of user ids") => "должно быть массивом id пользователей".into(),
        Some(rest) => match rest.strip_prefix("may name at most ").and_then(|r| r.strip_suffix(" users")) {
            Some(max) => format!("не больше {max} пользователей"),
            None => message.to_string(),
        },
        None => message.to_string(),
    }
}

/// The HTTP layer's own refusals (`server/src/http/error.rs`, the
/// `Idempotency-Key` checks of `server/src/http/call.rs`; its tests hold
/// these texts to the server's).
fn refusal_ru(message: &str) -> Option<String> {
    let after = |prefix: &str, suffix: &str| message.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)).map(str::to_string);
    if let Some(secs) = after("API rate limit exceeded; retry after ", " s") {
        return Some(format!("Превышен предел запросов к API; повторите через {secs} с"));
    }
    if let Some(secs) = after("Service temporarily unavailable; retry after ", " s") {
        return Some(format!("Сервис временно недоступен; повторите через {secs} с"));
    }
    if let Some(limit) = after("Request body too large (limit ", " bytes)") {
        return Some(format!("Тело запроса слишком велико (предел — {limit} байт)"));
    }
    Some(
        match message {
            "Content-Type must be application/json" => "Content-Type должен быть application/json",
            "Method not allowed on this route" => "Этот адрес не принимает такой метод",
            "internal error" => "Внутренняя ошибка",
            "Idempotency-Key was already used with a different request" => "Этот Idempotency-Key уже был использован с другим запросом",
            "Idempotency-Key must be given once, 1-255 visible ASCII characters" => {
                "Idempotency-Key задаётся один раз: от 1 до 255 видимых символов ASCII"
            }
            _ => return None,
        }
        .to_string(),
    )
}

fn answer_ru(message: &str) -> Option<&'static str> {
    Some(match message {
        answer::SENT => "Коммуникация отправлена",
        answer::NOBODY_BLOCKED => "Никому не отправлено: каждый получатель заблокировал бота или отключён",
        answer::NOBODY_NO_ADDRESS => "Никому не отправлено: ни у одного получателя нет активного адреса в этом боте",
        answer::ALREADY_RUNNING => "Уже идёт: у каждого получателя ещё не завершён запуск от этого эндпоинта",
        answer::DRY_RUN => "Пробный запуск: проверено, ничего не отправлено",
        answer::SCHEMA_MISMATCH => "Запрос не соответствует схеме эндпоинта",
        answer::BOT_NOT_FOUND => "Бот не найден",
        answer::ENDPOINT_NOT_FOUND => "Эндпоинт не найден",
        answer::INVALID_TOKEN => "Недействительный токен",
        answer::BODY_NOT_OBJECT => "Тело запроса должно быть JSON-объектом",
        answer::PARAMS_NOT_OBJECT => "script_request_params должно быть JSON-объектом",
        answer::NO_SCENARIO => "К эндпоинту не привязан сценарий",
        _ => return None,
    })
}

fn denial_ru(message: &str) -> Option<String> {
    let denials = [Denial::Expired, Denial::Revoked, Denial::OtherBot, Denial::AliasOutOfScope, Denial::Isolated]
        .into_iter()
        .chain(TokenAction::ALL.map(Denial::Action));
    let denial = denials.into_iter().find(|d| d.message() == message)?;
    Some(match denial {
        Denial::Expired => "Срок действия токена истёк".into(),
        Denial::Revoked => "Токен отозван".into(),
        Denial::OtherBot => "Токен не действует для этого бота".into(),
        Denial::AliasOutOfScope => "Токен не покрывает этот эндпоинт".into(),
        Denial::Isolated => "Изолированный эндпоинт: токен должен называть его явно".into(),
        Denial::Action(action) => format!("У токена нет права «{}»", action.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_answer_has_russian_words() {
        for message in answer::ALL {
            let ru = api_message_text(Locale::Ru, message);
            assert_ne!(ru, message, "{message}");
            assert_eq!(api_message_text(Locale::En, message), message);
        }
        assert_eq!(api_message_text(Locale::Ru, &Denial::Action(TokenAction::Call).message()), "У токена нет права «call»");
        assert_eq!(api_message_text(Locale::Ru, "Token revoked"), "Токен отозван");
        assert_eq!(api_message_text(Locale::Ru, &answer::scenario_missing("thank_you")), "Сценария thank_you ещё нет");
        assert_eq!(api_message_text(Locale::Ru, "Malformed JSON: EOF while parsing an object at line 1 column 9"), "Некорректный JSON: текст кончился внутри объекта { … } (строка 1, столбец 9)");
        assert_eq!(api_message_text(Locale::Ru, "Script error at line 23"), "Script error at line 23", "not ComOps's fixed words");
    }

    #[test]
    fn field_problems_in_russian() {
        assert_eq!(field_problem_text(Locale::Ru, "orderId", "is required"), "обязательное поле");
        assert_eq!(field_problem_text(Locale::Ru, "orderId", "must be of type integer"), "должно иметь тип integer");
        assert_eq!(field_problem_text(Locale::Ru, "status", "must be one of: paid, pending"), "допустимые значения: paid, pending");
        assert_eq!(field_problem_text(Locale::Ru, "email", "must be a valid email"), "не в формате email");
        assert_eq!(field_problem_text(Locale::Ru, "userIds", "userIds must be an array of user ids"), "должно быть массивом id пользователей");
        assert_eq!(field_problem_text(Locale::Ru, "userIds", "userIds may name at most 10000 users"), "не больше 10000 пользователей");
        assert_eq!(field_problem_text(Locale::Ru, "body", answer::BODY_NOT_OBJECT), "Тело запроса должно быть JSON-объектом");
        assert_eq!(field_problem_text(Locale::En, "orderId", "is required"), "is required");
    }
}
