//! How the studio words a trace event's detail (core's [`Detail`]) in the
//! reader's language: the trace log and a trace's timeline. The API and
//! the logs keep the English the server wrote; an API error's message is
//! worded by `api_message`; words that are not ComOps's own (a
//! messenger's reason, an http step's error) stay as written.

use comops_core::scenario::reply::ReplyError;
use comops_core::trace::detail::{lead_change_text, Detail, Failure, HttpOutcome, Ignored, Recipients, ReplyOutcome};
use comops_core::Locale;

/// Why a message was not delivered (an outbox row's `last_error`, a dead
/// letter's reason) in `locale`: ComOps's own reasons translated, a
/// messenger's answer inside them kept as written.
pub fn delivery_reason_text(locale: Locale, reason: &str) -> String {
    if locale == Locale::En {
        return reason.to_string();
    }
    // "<reason> (after 8 attempts)": the reason is the messenger's.
    if let Some((inner, attempts)) = reason.strip_suffix(" attempts)").and_then(|r| r.rsplit_once(" (after ")) {
        if attempts.parse::<u32>().is_ok() {
            return format!("{} (после {attempts} попыток)", delivery_reason_text(locale, inner));
        }
    }
    match reason {
        "blocked by the user" => "пользователь заблокировал бота".into(),
        "interrupted while sending; not resent to avoid a duplicate" => "отправка прервалась; не повторялась, чтобы не отправить дважды".into(),
        "throttled by the messenger" => "мессенджер попросил подождать".into(),
        "channel settings unavailable" => "настройки канала недоступны".into(),
        // A channel's settings missing (`server/src/engine/channels.rs`,
        // each adapter's `from_settings`).
        "the bot has no Telegram token" => "у бота нет токена Telegram".into(),
        "the bot's web chat is disabled" => "веб-чат бота выключен".into(),
        "the bot has no VK community token" => "у бота нет токена сообщества VK".into(),
        "the bot has no WhatsApp access token" => "у бота нет токена доступа WhatsApp".into(),
        "the bot has no WhatsApp phone number id" => "у бота нет идентификатора номера WhatsApp".into(),
        "the bot's webhook has no secret" => "у вебхука бота нет секрета".into(),
        "the recipient is not a valid email address" => "адрес получателя — не адрес электронной почты".into(),
        other => match other.strip_prefix("channel ").and_then(|rest| rest.strip_suffix(" is not available")) {
            Some(channel) => format!("канал {channel} недоступен"),
            None => other.to_string(),
        },
    }
}

/// The stored `detail` of an event of `step` in `locale`.
pub fn detail_text(locale: Locale, step: &str, detail: &str) -> String {
    if locale == Locale::En {
        return detail.to_string();
    }
    match Detail::parse(step, detail) {
        Detail::Accepted { scenario, recipients } => format!("принят; сценарий {scenario}; {}", recipients_ru(recipients)),
        Detail::AcceptedUnbound => "принят; к эндпоинту не привязан сценарий".into(),
        Detail::DryRun { recipients, previewed } => format!("пробный запуск; {}; сообщений в предпросмотре: {previewed}", recipients_ru(recipients)),
        Detail::Skipped { leads } => format!("пропущено лидов: {leads} — для каждого ещё идёт запуск от этого эндпоинта"),
        Detail::Queued { addresses } => format!("в очереди, адресов: {addresses}"),
        Detail::NoAddress { blocked_on: None } => "нет активного адреса ни в одном канале".into(),
        Detail::NoAddress { blocked_on: Some(channel) } => format!("нет активного адреса: бот заблокирован в {channel}"),
        Detail::Delivered { message_id } => format!("доставлено, сообщение {message_id}"),
        Detail::DeadLetter { reason } => format!("не доставлено: {}", delivery_reason_text(locale, &reason)),
        Detail::Http { target, outcome, attempt } => {
            let mut text = match outcome {
                HttpOutcome::Status(code) => format!("{target} → {code}"),
                HttpOutcome::Error(error) => format!("{target}: {error}"),
            };
            if let Some((n, of)) = attempt {
                text.push_str(&format!(" (попытка {n} из {of})"));
            }
            text
        }
        Detail::Ignored(why) => match why {
            Ignored::Ended => "запуск уже завершён".into(),
            Ignored::TimeoutNotYet => "тайм-аут ещё не наступил".into(),
            Ignored::WaitNotElapsed => "пауза ещё не истекла".into(),
            Ignored::NotWaitingFor { input } => format!("запуск не ждёт: {}", input_ru(&input)),
        },
        Detail::Failed(why) => match why {
            Failure::Expired => "запуск истёк (30 дней)".into(),
            Failure::NoReply => "нет ответа до тайм-аута".into(),
            Failure::Undelivered => "вопрос не удалось доставить".into(),
            Failure::ScenarioChanged => "сценарий изменился во время запуска".into(),
            Failure::NoScenario { name } => format!("сценария {name} нет"),
            Failure::StepLimit { max } => format!("предел шагов: запуск делает не больше {max} шагов"),
            Failure::Repeated { times } => format!("шаг выполнен подряд раз: {times} — похоже на петлю"),
            Failure::NoValidReply { reasks, why } => format!("нет подходящего ответа, переспрошено раз: {reasks} ({})", reply_error_ru(why)),
        },
        Detail::ScriptFinished => "выполнен".into(),
        Detail::RunStarted { scenario } => format!("запущен сценарий {scenario}"),
        Detail::Goal { goal } => format!("цель достигнута: {goal}"),
        Detail::LeadChanged { attributes, add_tags, remove_tags, status } => {
            lead_change_text(["атрибуты", "+теги", "−теги", "статус"], &attributes, &add_tags, &remove_tags, status.as_deref())
        }
        Detail::BlockReported { channel, scenario } => format!("бот заблокирован в {channel}: сообщает сценарий {scenario}"),
        Detail::JobStarted { job, runs, scenario } => format!("задание {job}: запусков сценария {scenario}: {runs}"),
        Detail::JobScheduled { job, scenario, at } => format!("задание {job} для сценария {scenario} на {}", crate::components::format_millis(at)),
        Detail::JobCancelled { job, scenario } => format!("задание {job} для сценария {scenario} отменено"),
        Detail::OperatorSent { operator, addresses } => format!("оператор {operator}, адресов: {addresses}"),
        Detail::Reply { chat, outcome } => {
            let outcome = reply_ru(&outcome);
            match chat {
                Some(chat) => format!("чат {chat}: {outcome}"),
                None => outcome,
            }
        }
        // A refused call's detail is the API's message.
        Detail::Text(text) if step == "api.call" => crate::api_message::api_message_text(locale, &text),
        Detail::Text(text) => text,
    }
}

/// What was wrong with a reply (`scenario::reply::ReplyError`), in Russian.
fn reply_error_ru(why: ReplyError) -> &'static str {
    match why {
        ReplyError::Empty => "пустой ответ",
        ReplyError::NotANumber => "не число",
        ReplyError::NotAPhone => "не номер телефона (10–15 цифр, можно с +)",
        ReplyError::NotAnEmail => "не адрес электронной почты",
        ReplyError::NotAChoice => "не один из вариантов",
        ReplyError::NotAContact => "ожидался контакт",
        ReplyError::NotARating => "не оценка от 1 до 5",
    }
}

/// The interpreter's names of inputs (`input_name`).
fn input_ru(input: &str) -> &str {
    match input {
        "start" => "старт",
        "a reply" => "ответ",
        "a timeout" => "тайм-аут",
        "a delivery failure" => "сбой доставки",
        "an http result" => "результат http-запроса",
        "a wake-up" => "пробуждение",
        "a script result" => "результат скрипта",
        other => other,
    }
}

fn recipients_ru(r: Recipients) -> String {
    let mut text = format!("лидов: {}, не найдено: {}", r.leads, r.unresolved);
    if r.inactive > 0 {
        text.push_str(&format!(" (из них неактивны: {})", r.inactive));
    }
    text
}

fn reply_ru(outcome: &ReplyOutcome) -> String {
    match outcome {
        ReplyOutcome::Linked { user } => format!("связан с пользователем {user}"),
        ReplyOutcome::BadLinkCode => "код привязки неизвестен, использован или истёк".into(),
        ReplyOutcome::Resumed { run } => format!("продолжен запуск {run}"),
        ReplyOutcome::EntryStarted { scenario } => format!("запущен входной сценарий {scenario}"),
        ReplyOutcome::NoEntry => "ни один запуск не ждёт ответа этого лида, а входного сценария у бота нет".into(),
        ReplyOutcome::OperatorHas => "разговор ведёт оператор".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comops_own_delivery_reasons_are_in_russian_a_messengers_stay_as_written() {
        let ru = |reason: &str| delivery_reason_text(Locale::Ru, reason);
        assert_eq!(ru("blocked by the user"), "пользователь заблокировал бота");
        assert_eq!(ru("Telegram answered 502: Bad Gateway (after 8 attempts)"), "Telegram answered 502: Bad Gateway (после 8 попыток)");
        assert_eq!(ru("interrupted while sending; not resent to avoid a duplicate"), "отправка прервалась; не повторялась, чтобы не отправить дважды");
        assert_eq!(ru("Bad Request: chat not found (after many attempts)"), "Bad Request: chat not found (after many attempts)");
        assert_eq!(delivery_reason_text(Locale::En, "blocked by the user"), "blocked by the user");
        assert_eq!(ru("the bot has no Telegram token"), "у бота нет токена Telegram");
        assert_eq!(ru("channel sms is not available"), "канал sms недоступен");
        assert_eq!(detail_text(Locale::Ru, "messenger.send", &Detail::DeadLetter { reason: "blocked by the user".into() }.to_string()), "не доставлено: пользователь заблокировал бота");
    }

    #[test]
    fn russian_readers_read_comops_words_in_russian_and_others_as_written() {
        let ru = |step: &str, text: &str| detail_text(Locale::Ru, step, text);
        assert_eq!(ru("api.call", "accepted; scenario order_notice; 2 lead(s), 1 unresolved (1 inactive)"), "принят; сценарий order_notice; лидов: 2, не найдено: 1 (из них неактивны: 1)");
        assert_eq!(ru("scenario.message", "no active channel address: blocked on telegram"), "нет активного адреса: бот заблокирован в telegram");
        assert_eq!(ru("callback.http", "POST crm.example.com → 503 (attempt 1 of 3)"), "POST crm.example.com → 503 (попытка 1 из 3)");
        assert_eq!(ru("user.reply", "chat 125: resumed run_01"), "чат 125: продолжен запуск run_01");
        assert_eq!(ru("scenario.ignored", "the run does not wait for a reply"), "запуск не ждёт: ответ");
        assert_eq!(ru("scenario.error", "no reply before the timeout"), "нет ответа до тайм-аута");
        assert_eq!(ru("scenario.error", "Script error at line 2: boom"), "Script error at line 2: boom", "the script's own words");
        assert_eq!(ru("scenario.error", "step limit: a run takes at most 1000 steps"), "предел шагов: запуск делает не больше 1000 шагов");
        assert_eq!(ru("scenario.error", "the step ran 10 times in a row"), "шаг выполнен подряд раз: 10 — похоже на петлю");
        assert_eq!(ru("scenario.error", "no valid reply after 2 re-asks (not a number)"), "нет подходящего ответа, переспрошено раз: 2 (не число)");
        assert_eq!(ru("scenario.error", "no valid reply after 2 re-asks (not a phone number (10-15 digits, optional +))"), "нет подходящего ответа, переспрошено раз: 2 (не номер телефона (10–15 цифр, можно с +))");
        assert_eq!(ru("scenario.set", "attributes city, size; -tags new; status active"), "атрибуты city, size; −теги new; статус active");
        assert_eq!(ru("api.call", "Endpoint not found"), "Эндпоинт не найден", "the API's fixed words, in Russian");
        assert_eq!(ru("api.call", "Token lacks the 'call' scope"), "У токена нет права «call»");
        assert_eq!(ru("scenario.handover", "goal: call back"), "goal: call back", "the scenario author's note");
        assert_eq!(detail_text(Locale::En, "scenario.message", "queued for 1 address(es)"), "queued for 1 address(es)");
    }

    #[test]
    fn a_step_is_named_in_words_and_an_unknown_one_by_its_name() {
        use crate::i18n::trace_step_text;
        assert_eq!(trace_step_text(Locale::Ru, "api.call"), Some("вызов API"));
        assert_eq!(trace_step_text(Locale::En, "messenger.send"), Some("sent to the messenger"));
        assert_eq!(trace_step_text(Locale::Ru, "scenario.teleport"), None);
    }
}
