//! A JSON parser's message (serde_json's, inside a scenario's or a project
//! export's "not JSON" problem) in the reader's language: its usual
//! sentences and the place (`at line 3 column 5`) said in Russian, names
//! and values inside kept as written, anything else left as it is.

use comops_core::Locale;

/// `detail` (serde_json's `Display`) in `locale`.
pub fn json_error_text(locale: Locale, detail: &str) -> String {
    if locale == Locale::En {
        return detail.to_string();
    }
    let (what, place) = match detail.rsplit_once(" at line ").and_then(|(what, at)| Some((what, at.split_once(" column ")?))) {
        Some((what, (line, column))) if line.parse::<u64>().is_ok() && column.parse::<u64>().is_ok() => {
            (what, Some(format!("строка {line}, столбец {column}")))
        }
        _ => (detail, None),
    };
    let words = sentence_ru(what).unwrap_or_else(|| what.to_string());
    match place {
        Some(place) => format!("{words} ({place})"),
        None => words,
    }
}

/// One of serde_json's sentences in Russian.
fn sentence_ru(what: &str) -> Option<String> {
    let fixed = match what {
        "expected value" => "ожидалось значение",
        "expected `,` or `}`" => "ожидалась «,» или «}»",
        "expected `,` or `]`" => "ожидалась «,» или «]»",
        "expected `:`" => "ожидалось «:»",
        "expected ident" => "ожидалось true, false или null",
        "trailing characters" => "лишние символы после JSON",
        "trailing comma" => "лишняя запятая",
        "key must be a string" => "ключ должен быть строкой в кавычках",
        "invalid escape" => "неверная escape-последовательность",
        "invalid number" => "неверное число",
        "number out of range" => "число вне допустимого диапазона",
        "EOF while parsing a value" => "текст кончился, не дойдя до значения",
        "EOF while parsing an object" => "текст кончился внутри объекта { … }",
        "EOF while parsing a list" => "текст кончился внутри списка [ … ]",
        "EOF while parsing a string" => "текст кончился внутри строки",
        "control character (\\u0000-\\u001F) found while parsing a string" => "управляющий символ внутри строки",
        "recursion limit exceeded" => "слишком глубокая вложенность",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(fixed.into());
    }
    let quoted = |rest: &str| rest.strip_prefix('`').and_then(|r| r.split_once('`')).map(|(name, tail)| (name.to_string(), tail.to_string()));
    if let Some((name, _)) = what.strip_prefix("missing field ").and_then(quoted) {
        return Some(format!("нет поля «{name}»"));
    }
    if let Some((name, _)) = what.strip_prefix("duplicate field ").and_then(quoted) {
        return Some(format!("поле «{name}» повторяется"));
    }
    if let Some((name, tail)) = what.strip_prefix("unknown field ").and_then(quoted) {
        return Some(format!("неизвестное поле «{name}»{}", expected_ru(&tail)));
    }
    if let Some((name, tail)) = what.strip_prefix("unknown variant ").and_then(quoted) {
        return Some(format!("неизвестное значение «{name}»{}", expected_ru(&tail)));
    }
    if let Some((found, expected)) = what.strip_prefix("invalid type: ").and_then(|r| r.split_once(", expected ")) {
        return Some(format!("неверный тип: {found}, а нужно {expected}"));
    }
    if let Some((found, expected)) = what.strip_prefix("invalid value: ").and_then(|r| r.split_once(", expected ")) {
        return Some(format!("неверное значение: {found}, а нужно {expected}"));
    }
    None
}

/// `, expected one of `a`, `b`` → `; допустимы: `a`, `b``.
fn expected_ru(tail: &str) -> String {
    match tail.strip_prefix(", expected one of ").or_else(|| tail.strip_prefix(", expected ")) {
        Some(list) => format!("; допустимы: {}", list.replace("` or `", "` или `")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's own messages, produced here rather than copied.
    fn parse_error(text: &str) -> String {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Step {
            id: String,
            kind: Kind,
        }
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Message,
            Ask,
        }
        serde_json::from_str::<Step>(text).unwrap_err().to_string()
    }

    #[test]
    fn the_parsers_sentences_and_place_in_russian() {
        let ru = |text: &str| json_error_text(Locale::Ru, &parse_error(text));
        assert_eq!(ru("{\"id\": \"a\",\n \"kind\": \"message\""), "текст кончился внутри объекта { … } (строка 2, столбец 18)");
        assert_eq!(ru("{\"id\": \"a\" \"kind\": 1}"), "ожидалась «,» или «}» (строка 1, столбец 12)");
        assert_eq!(ru("{\"id\": \"a\"}"), "нет поля «kind» (строка 1, столбец 11)");
        assert_eq!(ru("{\"id\": \"a\", \"kind\": \"mesage\"}"), "неизвестное значение «mesage»; допустимы: `message` или `ask` (строка 1, столбец 28)");
        assert_eq!(ru("{\"id\": \"a\", \"knd\": 1}"), "неизвестное поле «knd»; допустимы: `id` или `kind` (строка 1, столбец 17)");
        assert_eq!(ru("{\"id\": 5, \"kind\": \"ask\"}"), "неверный тип: integer `5`, а нужно a string (строка 1, столбец 8)");
        assert_eq!(ru("{\"id\": \"a\", \"kind\": \"ask\"} x"), "лишние символы после JSON (строка 1, столбец 28)");
        assert_eq!(json_error_text(Locale::Ru, "something else"), "something else");
        assert_eq!(json_error_text(Locale::En, &parse_error("{")), parse_error("{"));
    }
}
