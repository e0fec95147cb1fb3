//! What counts as a valid answer to an `ask` step.
//!
//! [`parse_reply`] turns what the person sent (text, or a contact shared
//! from the messenger) into the value saved in `vars`, or says why it is not
//! acceptable so the interpreter re-asks. Wasm-safe: the studio can use the
//! same rules to explain an ask kind.

use super::Expect;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A phone contact the person shared through the messenger's button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContact {
    pub phone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The messenger's id of the contact's owner (to tell "my number" from a
    /// forwarded card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Why a reply is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ReplyError {
    #[error("the reply is empty")]
    Empty,
    #[error("not a number")]
    NotANumber,
    #[error("not a phone number (10-15 digits, optional +)")]
    NotAPhone,
    #[error("not an email address")]
    NotAnEmail,
    #[error("not one of the choices")]
    NotAChoice,
    #[error("a shared contact is expected")]
    NotAContact,
    #[error("not a rating from 1 to 5")]
    NotARating,
}

/// Check a reply against what the ask expects and return the value to save:
/// text (trimmed), a JSON number, a normalised phone (`+79991234567`), an
/// email, the matching choice as written in `choices`, the contact's phone,
/// or a rating 1–5.
pub fn parse_reply(
    expect: Expect,
    choices: &[String],
    text: &str,
    contact: Option<&SharedContact>,
) -> Result<Value, ReplyError> {
    let text = text.trim();
    match expect {
        Expect::Contact => match contact {
            Some(c) => normalize_phone(&c.phone).map(Value::String).ok_or(ReplyError::NotAPhone),
            None => Err(ReplyError::NotAContact),
        },
        _ if text.is_empty() => Err(ReplyError::Empty),
        Expect::Text => Ok(Value::String(text.to_string())),
        Expect::Number => parse_number(text).ok_or(ReplyError::NotANumber),
        Expect::Phone => normalize_phone(text).map(Value::String).ok_or(ReplyError::NotAPhone),
        Expect::Email => {
            let ok = match text.split_once('@') {
                Some((user, domain)) => {
                    !user.is_empty()
                        && !text.contains(char::is_whitespace)
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                }
                None => false,
            };
            if ok {
                Ok(Value::String(text.to_string()))
            } else {
                Err(ReplyError::NotAnEmail)
            }
        }
        Expect::Choice => choices
            .iter()
            .find(|c| c.trim().to_lowercase() == text.to_lowercase())
            .map(|c| Value::String(c.clone()))
            .ok_or(ReplyError::NotAChoice),
        Expect::Rating => parse_rating(text).map(|r| json!(r)).ok_or(ReplyError::NotARating),
    }
}

/// `+7 (999) 123-45-67` → `+79991234567`; 10–15 digits, an optional
/// leading `+`, spaces, dashes, dots and parentheses ignored.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (plus, rest) = match raw.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    if !(10..=15).contains(&digits.len()) {
        return None;
    }
    Some(if plus { format!("+{digits}") } else { digits })
}

/// An integer stays an integer; `3,5` is accepted as `3.5`.
fn parse_number(text: &str) -> Option<Value> {
    let text = text.replace(' ', "");
    if let Ok(i) = text.parse::<i64>() {
        return Some(json!(i));
    }
    let f: f64 = text.replace(',', ".").parse().ok()?;
    if f.is_finite() {
        serde_json::Number::from_f64(f).map(Value::Number)
    } else {
        None
    }
}

/// `4`, or `⭐⭐⭐⭐` (a row of stars, as some keyboards send).
fn parse_rating(text: &str) -> Option<u8> {
    let n = match text.parse::<u8>() {
        Ok(n) => n,
        Err(_) => {
            let stars = text.chars().filter(|c| !c.is_whitespace() && *c != '\u{fe0f}').collect::<Vec<_>>();
            if stars.is_empty() || !stars.iter().all(|c| matches!(c, '⭐' | '★')) {
                return None;
            }
            stars.len() as u8
        }
    };
    (1..=5).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(expect: Expect, text: &str) -> Value {
        parse_reply(expect, &[], text, None).unwrap()
    }

    #[test]
    fn phones() {
        assert_eq!(ok(Expect::Phone, "+7 (999) 123-45-67"), json!("+79991234567"));
        assert_eq!(ok(Expect::Phone, "89991234567"), json!("89991234567"));
        assert_eq!(parse_reply(Expect::Phone, &[], "12345", None), Err(ReplyError::NotAPhone));
        assert_eq!(parse_reply(Expect::Phone, &[], "call me", None), Err(ReplyError::NotAPhone));
        assert_eq!(parse_reply(Expect::Phone, &[], "+1234567890123456", None), Err(ReplyError::NotAPhone));
    }

    #[test]
    fn numbers_emails_ratings() {
        assert_eq!(ok(Expect::Number, "42"), json!(42));
        assert_eq!(ok(Expect::Number, "3,5"), json!(3.5));
        assert_eq!(parse_reply(Expect::Number, &[], "many", None), Err(ReplyError::NotANumber));
        assert_eq!(ok(Expect::Email, " anna@example.ru "), json!("anna@example.ru"));
        assert_eq!(parse_reply(Expect::Email, &[], "anna@example", None), Err(ReplyError::NotAnEmail));
        assert_eq!(parse_reply(Expect::Email, &[], "anna.example.ru", None), Err(ReplyError::NotAnEmail));
        assert_eq!(ok(Expect::Rating, "5"), json!(5));
        assert_eq!(ok(Expect::Rating, "⭐⭐⭐"), json!(3));
        assert_eq!(parse_reply(Expect::Rating, &[], "6", None), Err(ReplyError::NotARating));
        assert_eq!(parse_reply(Expect::Rating, &[], "0", None), Err(ReplyError::NotARating));
        assert_eq!(parse_reply(Expect::Text, &[], "   ", None), Err(ReplyError::Empty));
    }

    #[test]
    fn choices_ignore_case_and_save_the_written_form() {
        let choices = vec!["Да".to_string(), "Нет".to_string()];
        assert_eq!(parse_reply(Expect::Choice, &choices, "да", None), Ok(json!("Да")));
        assert_eq!(parse_reply(Expect::Choice, &choices, "может быть", None), Err(ReplyError::NotAChoice));
    }

    #[test]
    fn contacts_must_be_shared() {
        let contact = SharedContact { phone: "79991234567".into(), first_name: Some("Анна".into()), last_name: None, user_id: None };
        assert_eq!(parse_reply(Expect::Contact, &[], "", Some(&contact)), Ok(json!("79991234567")));
        assert_eq!(parse_reply(Expect::Contact, &[], "+79991234567", None), Err(ReplyError::NotAContact));
    }
}
