//! How the studio words a scenario's problems (core's [`ScenarioIssue`]) in
//! the reader's language: the scenario editor's problem list, step forms
//! and history, and a project import's scenario checks. The API and the
//! logs keep core's English (`ScenarioError::message`).

use comops_core::scenario::ScenarioIssue;
use comops_core::Locale;

/// `issue` in `locale`. A parser's detail is worded by
/// [`crate::json_error`] (its usual sentences; anything else as written).
pub fn scenario_issue_text(locale: Locale, issue: &ScenarioIssue) -> String {
    if locale == Locale::En {
        return issue.english();
    }
    match issue {
        ScenarioIssue::Required => "обязательно".into(),
        ScenarioIssue::NoSteps => "в сценарии должен быть хотя бы один шаг".into(),
        ScenarioIssue::DuplicateId { id } => format!("идентификатор шага «{id}» повторяется"),
        ScenarioIssue::NoSuchStep { id } => format!("нет шага с идентификатором «{id}»"),
        ScenarioIssue::NoNextStep => "пока никуда не ведёт: выберите следующий шаг".into(),
        ScenarioIssue::Unreachable => "недостижим от начального шага".into(),
        ScenarioIssue::TemplateSyntax { detail } => format!("шаблон не разбирается: {detail}"),
        ScenarioIssue::ExpressionSyntax { detail } => format!("выражение не разбирается: {detail}"),
        ScenarioIssue::UnknownVariable { root } => {
            format!("неизвестная переменная «{root}»: используйте params.{root}, vars.{root}, lead.*, attributes.* или secrets.*")
        }
        ScenarioIssue::UsedBeforeSet { name } => format!("vars.{name} читается раньше, чем её задаёт какой-либо шаг"),
        ScenarioIssue::UrlButtonWithoutUrl => "кнопке-ссылке нужен адрес".into(),
        ScenarioIssue::NotAName => "только латинские буквы, цифры и '_'".into(),
        ScenarioIssue::ChoiceWithoutChoices => "вопросу с выбором нужны варианты".into(),
        ScenarioIssue::AtMost { max } => format!("не больше {max}"),
        ScenarioIssue::Between { max, seconds: true } => format!("от 1 до {max} секунд"),
        ScenarioIssue::Between { max, seconds: false } => format!("от 1 до {max}"),
        ScenarioIssue::NotAHeaderName => "это не имя заголовка".into(),
        ScenarioIssue::InlineCredential => "учётные данные указываются как {{ secrets.NAME }}, а не вписываются в шаг".into(),
        ScenarioIssue::ScriptTooLarge { kib } => format!("не больше {kib} КиБ"),
        ScenarioIssue::ScriptSyntax { detail } => format!("скрипт не разбирается: {detail}"),
        ScenarioIssue::AttributeNameMissing => "у атрибутов должны быть имена".into(),
        ScenarioIssue::EmptyTag => "теги не могут быть пустыми".into(),
        ScenarioIssue::SecondsOrUntil => "укажите что-то одно: seconds или until".into(),
        ScenarioIssue::NotJson { detail } => format!("это не JSON сценария: {}", crate::json_error::json_error_text(Locale::Ru, detail)),
        ScenarioIssue::BadName => "только строчные латинские буквы, цифры, '-' и '_', не больше 64".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_differs_from_english_and_keeps_the_names() {
        let issues = [
            ScenarioIssue::Required,
            ScenarioIssue::NoSuchStep { id: "ask_phone".into() },
            ScenarioIssue::UsedBeforeSet { name: "phone".into() },
            ScenarioIssue::Between { max: 60_000, seconds: false },
            ScenarioIssue::BadName,
            ScenarioIssue::NoNextStep,
        ];
        for issue in &issues {
            let (en, ru) = (scenario_issue_text(Locale::En, issue), scenario_issue_text(Locale::Ru, issue));
            assert_eq!(en, issue.english());
            assert_ne!(en, ru);
        }
        assert!(scenario_issue_text(Locale::Ru, &issues[1]).contains("«ask_phone»"));
        assert!(scenario_issue_text(Locale::Ru, &issues[2]).contains("vars.phone"));
        assert!(scenario_issue_text(Locale::Ru, &issues[3]).contains("60000"));
    }
}
