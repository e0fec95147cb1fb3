//! How the studio words a trace event's detail (core's [`Detail`]) in the
//! reader's language: the trace log and a trace's timeline. The API and
//! the logs keep the English the server wrote; words that are not
//! ComOps's own (an API error's message, a messenger's reason, an http
//! step's error) stay as written.

use comops_core::trace::detail::{Detail, HttpOutcome, Recipients, ReplyOutcome};
use comops_core::Locale;

/// The stored `detail` in `locale`.
pub fn detail_text(locale: Locale, detail: &str) -> String {
    if locale == Locale::En {
        return detail.to_string();
    }
    match Detail::parse(detail) {
        Detail::Accepted { scenario, recipients } => format!("принят; сценарий {scenario}; {}", recipients_ru(recipients)),
        Detail::AcceptedUnbound => "принят; к эндпоинту не привязан сценарий".into(),
        Detail::DryRun { recipients, previewed } => format!("пробный запуск; {}; сообщений в предпросмотре: {previewed}", recipients_ru(recipients)),
        Detail::Queued { addresses } => format!("в очереди, адресов: {addresses}"),
        Detail::NoAddress { blocked_on: None } => "нет активного адреса ни в одном канале".into(),
        Detail::NoAddress { blocked_on: Some(channel) } => format!("нет активного адреса: бот заблокирован в {channel}"),
        Detail::Delivered { message_id } => format!("доставлено, сообщение {message_id}"),
        Detail::DeadLetter { reason } => format!("не доставлено: {reason}"),
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
        Detail::ScriptFinished => "выполнен".into(),
        Detail::RunStarted { scenario } => format!("запущен сценарий {scenario}"),
        Detail::Goal { goal } => format!("цель достигнута: {goal}"),
        Detail::LeadChanged { attributes, add_tags, remove_tags, status } => {
            let mut parts = Vec::new();
            if !attributes.is_empty() {
                parts.push(format!("атрибуты {}", attributes.join(", ")));
            }
            if !add_tags.is_empty() {
                parts.push(format!("+теги {}", add_tags.join(", ")));
            }
            if !remove_tags.is_empty() {
                parts.push(format!("−теги {}", remove_tags.join(", ")));
            }
            if let Some(status) = status {
                parts.push(format!("статус {status}"));
            }
            parts.join("; ")
        }
        Detail::BlockReported { channel, scenario } => format!("бот заблокирован в {channel}: сообщает сценарий {scenario}"),
        Detail::JobStarted { job, runs, scenario } => format!("задание {job}: запусков сценария {scenario}: {runs}"),
        Detail::JobScheduled { job, scenario, at } => format!("задание {job} для сценария {scenario} на {}", crate::components::format_millis(at)),
        Detail::OperatorSent { operator, addresses } => format!("оператор {operator}, адресов: {addresses}"),
        Detail::Reply { chat, outcome } => {
            let outcome = reply_ru(&outcome);
            match chat {
                Some(chat) => format!("чат {chat}: {outcome}"),
                None => outcome,
            }
        }
        Detail::Text(text) => text,
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
    fn russian_readers_read_comops_words_in_russian_and_others_as_written() {
        let ru = |text: &str| detail_text(Locale::Ru, text);
        assert_eq!(ru("accepted; scenario order_notice; 2 lead(s), 1 unresolved (1 inactive)"), "принят; сценарий order_notice; лидов: 2, не найдено: 1 (из них неактивны: 1)");
        assert_eq!(ru("no active channel address: blocked on telegram"), "нет активного адреса: бот заблокирован в telegram");
        assert_eq!(ru("POST crm.example.com → 503 (attempt 1 of 3)"), "POST crm.example.com → 503 (попытка 1 из 3)");
        assert_eq!(ru("chat 125: resumed run_01"), "чат 125: продолжен запуск run_01");
        assert_eq!(ru("unknown endpoint order/lost"), "unknown endpoint order/lost", "the API's own message");
        assert_eq!(detail_text(Locale::En, "queued for 1 address(es)"), "queued for 1 address(es)");
    }
}
