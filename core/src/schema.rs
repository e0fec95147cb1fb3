//! Request schemas of endpoints: the JSON Schema subset the methodology's
//! endpoint tables need, edited in the studio as a list of fields.
//!
//! A [`RequestSchema`] is a flat list of top-level [`SchemaField`]s (name,
//! type, required, enum, string format). It validates incoming payloads
//! ([`RequestSchema::check`]) and renders itself as a real JSON Schema for
//! the OpenAPI document ([`RequestSchema::to_json_schema`]). Fields not in
//! the schema are allowed: business systems send more than we need.

use crate::validation::{FieldError, Problem};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

impl FieldKind {
    pub const ALL: [FieldKind; 6] =
        [FieldKind::String, FieldKind::Integer, FieldKind::Number, FieldKind::Boolean, FieldKind::Object, FieldKind::Array];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Integer => "integer",
            FieldKind::Number => "number",
            FieldKind::Boolean => "boolean",
            FieldKind::Object => "object",
            FieldKind::Array => "array",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    fn accepts(self, value: &Value) -> bool {
        match self {
            FieldKind::String => value.is_string(),
            FieldKind::Integer => value.is_i64() || value.is_u64(),
            FieldKind::Number => value.is_number(),
            FieldKind::Boolean => value.is_boolean(),
            FieldKind::Object => value.is_object(),
            FieldKind::Array => value.is_array(),
        }
    }
}

/// String formats we check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    Email,
    /// `+` optional, then 10–15 digits (`79187777777`).
    Phone,
    /// RFC 3339 date-time: `2025-10-15T11:24:52Z`.
    DateTime,
    /// `2025-10-15`.
    Date,
    /// An absolute http(s) URL.
    Uri,
}

impl StringFormat {
    pub const ALL: [StringFormat; 5] =
        [StringFormat::Email, StringFormat::Phone, StringFormat::DateTime, StringFormat::Date, StringFormat::Uri];

    pub fn as_str(self) -> &'static str {
        match self {
            StringFormat::Email => "email",
            StringFormat::Phone => "phone",
            StringFormat::DateTime => "date-time",
            StringFormat::Date => "date",
            StringFormat::Uri => "uri",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        StringFormat::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// Whether `text` has this format.
    pub fn accepts_text(self, text: &str) -> bool {
        self.accepts(text)
    }

    fn accepts(self, text: &str) -> bool {
        match self {
            StringFormat::Email => crate::Email::parse(text).is_ok(),
            StringFormat::Phone => {
                let digits = text.strip_prefix('+').unwrap_or(text);
                (10..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
            }
            StringFormat::Date => is_date(text),
            StringFormat::DateTime => is_date_time(text),
            StringFormat::Uri => {
                (text.starts_with("https://") || text.starts_with("http://"))
                    && text.len() > 8
                    && !text.chars().any(char::is_whitespace)
            }
        }
    }
}

/// `YYYY-MM-DD`, a day that exists (`2025-02-31` does not; leap years
/// counted).
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    if !(b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())) {
        return false;
    }
    let (year, month, day) = (number(&text[0..4]), number(&text[5..7]), number(&text[8..10]));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// RFC 3339's `date-time`: a date ([`is_date`]), `T`, `hh:mm:ss` (a leap
/// second's `60` allowed), optional fraction of at least one digit, and
/// `Z` or `±hh:mm`.
fn is_date_time(text: &str) -> bool {
    let Some((date, time)) = text.split_once(['T', 't']) else { return false };
    if !is_date(date) || !is_time(time.get(..8).unwrap_or_default(), 60) {
        return false;
    }
    let zone = &time[8..];
    let zone = match zone.strip_prefix('.') {
        Some(fraction) => {
            let rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
            if rest.len() == fraction.len() {
                return false;
            }
            rest
        }
        None => zone,
    };
    zone == "Z" || zone == "z" || (zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) && is_time(&format!("{}:00", &zone[1..]), 59))
}

/// `hh:mm:ss` with hours 0–23, minutes 0–59 and seconds up to `max_second`.
fn is_time(text: &str, max_second: u32) -> bool {
    let b = text.as_bytes();
    b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
        && number(&text[0..2]) <= 23
        && number(&text[3..5]) <= 59
        && number(&text[6..8]) <= max_second
}

/// The value of a run of ASCII digits (checked by the caller).
fn number(digits: &str) -> u32 {
    digits.bytes().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// One top-level field of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaField {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Allowed values (strings and integers only); empty = any.
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// The fields an endpoint expects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestSchema {
    #[serde(default)]
    pub fields: Vec<SchemaField>,
}

/// One way a payload misses the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadError {
    pub field: String,
    pub message: String,
}

/// What is wrong with one field of a payload. Its text (`Display`) is the
/// API's `message` for the field; [`PayloadProblem::parse`] reads it back,
/// so the studio can say it in Russian without a second copy of the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadProblem {
    Required,
    Type(FieldKind),
    OneOf(Vec<String>),
    Format(StringFormat),
}

impl std::fmt::Display for PayloadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadProblem::Required => f.write_str("is required"),
            PayloadProblem::Type(kind) => write!(f, "must be of type {}", kind.as_str()),
            PayloadProblem::OneOf(values) => write!(f, "must be one of: {}", values.join(", ")),
            PayloadProblem::Format(format) => write!(f, "must be a valid {}", format.as_str()),
        }
    }
}

impl PayloadProblem {
    /// The problem a field `message` says, if it is one of these.
    pub fn parse(message: &str) -> Option<Self> {
        if message == "is required" {
            return Some(PayloadProblem::Required);
        }
        if let Some(kind) = message.strip_prefix("must be of type ") {
            return FieldKind::parse(kind).map(PayloadProblem::Type);
        }
        if let Some(values) = message.strip_prefix("must be one of: ") {
            return Some(PayloadProblem::OneOf(values.split(", ").map(str::to_string).collect()));
        }
        message.strip_prefix("must be a valid ").and_then(StringFormat::parse).map(PayloadProblem::Format)
    }
}

/// A float with no fraction that fits an `i64` (`1.0`, `-3e2`), as that
/// integer; `None` for anything else, integers included.
fn whole_number(value: &Value) -> Option<i64> {
    let float = value.as_f64().filter(|_| value.is_f64())?;
    // i64::MAX as f64 rounds up to 2^63, which does not fit: strictly less.
    (float.fract() == 0.0 && float >= i64::MIN as f64 && float < i64::MAX as f64).then_some(float as i64)
}

impl RequestSchema {
    pub const MAX_FIELDS: usize = 100;

    /// Checks the schema itself (as edited in the studio). Errors name the
    /// field by position: `schema.fields[2].name`.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.fields.len() > Self::MAX_FIELDS {
            errors.push(FieldError::new("schema.fields", Problem::TooLong { max: Self::MAX_FIELDS }));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, field) in self.fields.iter().enumerate() {
            let at = |what: &str| format!("schema.fields[{i}].{what}");
            let name_ok = field.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && field.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && field.name.len() <= 64;
            if field.name.is_empty() {
                errors.push(FieldError::new(at("name"), Problem::Required));
            } else if !name_ok {
                errors.push(FieldError::new(at("name"), Problem::BadFieldName));
            } else if !seen.insert(field.name.as_str()) {
                errors.push(FieldError::new(at("name"), Problem::Taken));
            }
            if !field.enum_values.is_empty() && !matches!(field.kind, FieldKind::String | FieldKind::Integer) {
                errors.push(FieldError::new(at("enum"), Problem::NotAllowedForType));
            }
            if field.kind == FieldKind::Integer && field.enum_values.iter().any(|v| v.parse::<i64>().is_err()) {
                errors.push(FieldError::new(at("enum"), Problem::NotAllowedForType));
            }
            if field.format.is_some() && field.kind != FieldKind::String {
                errors.push(FieldError::new(at("format"), Problem::NotAllowedForType));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Every way `params` misses this schema (empty = valid). An integer
    /// field sent as a whole number with a fraction part (`1.0`, which JSON
    /// Schema counts as an integer) is rewritten as the integer, so what
    /// the scenario and its templates see is `1`.
    pub fn check(&self, params: &mut Map<String, Value>) -> Vec<PayloadError> {
        let mut errors = Vec::new();
        for field in &self.fields {
            let error = |problem: PayloadProblem| PayloadError { field: field.name.clone(), message: problem.to_string() };
            if field.kind == FieldKind::Integer {
                if let Some(value) = params.get_mut(&field.name) {
                    if let Some(whole) = whole_number(value) {
                        *value = Value::from(whole);
                    }
                }
            }
            match params.get(&field.name) {
                None | Some(Value::Null) => {
                    if field.required {
                        errors.push(error(PayloadProblem::Required));
                    }
                }
                Some(value) if !field.kind.accepts(value) => {
                    errors.push(error(PayloadProblem::Type(field.kind)));
                }
                Some(value) => {
                    if !field.enum_values.is_empty() {
                        let text = match value {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        if !field.enum_values.contains(&text) {
                            errors.push(error(PayloadProblem::OneOf(field.enum_values.clone())));
                        }
                    }
                    if let (Some(format), Value::String(text)) = (field.format, value) {
                        if !format.accepts(text) {
                            errors.push(error(PayloadProblem::Format(format)));
                        }
                    }
                }
            }
        }
        errors
    }

    /// This schema as JSON Schema (draft 2020-12, as OpenAPI 3.1 uses).
    pub fn to_json_schema(&self) -> Value {
        let mut properties = Map::new();
        for field in &self.fields {
            let mut property = Map::new();
            // `check` takes null for an optional field as absent.
            let kind = if field.required { json!(field.kind.as_str()) } else { json!([field.kind.as_str(), "null"]) };
            property.insert("type".into(), kind);
            if !field.description.is_empty() {
                property.insert("description".into(), json!(field.description));
            }
            if !field.enum_values.is_empty() {
                let mut values: Vec<Value> = match field.kind {
                    FieldKind::Integer => field.enum_values.iter().filter_map(|v| v.parse::<i64>().ok()).map(Value::from).collect(),
                    _ => field.enum_values.iter().map(|v| json!(v)).collect(),
                };
                if !field.required {
                    values.push(Value::Null);
                }
                property.insert("enum".into(), Value::Array(values));
            }
            match field.format {
                Some(StringFormat::Phone) => {
                    property.insert("pattern".into(), json!("^\\+?[0-9]{10,15}$"));
                }
                Some(format) => {
                    property.insert("format".into(), json!(format.as_str()));
                }
                None => {}
            }
            properties.insert(field.name.clone(), Value::Object(property));
        }
        let required: Vec<&str> = self.fields.iter().filter(|f| f.required).map(|f| f.name.as_str()).collect();
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), json!(required));
        }
        Value::Object(schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_problems_read_back_from_their_text() {
        let problems = [
            PayloadProblem::Required,
            PayloadProblem::Type(FieldKind::Integer),
            PayloadProblem::OneOf(vec!["paid".into(), "pending".into()]),
            PayloadProblem::Format(StringFormat::DateTime),
        ];
        for problem in problems {
            assert_eq!(PayloadProblem::parse(&problem.to_string()), Some(problem));
        }
        assert_eq!(PayloadProblem::parse("must be of type money"), None);
        assert_eq!(PayloadProblem::parse("userIds must be an array of user ids"), None);
    }

    fn thank_you() -> RequestSchema {
        serde_json::from_value(json!({"fields": [
            {"name": "order_id", "type": "integer", "required": true},
            {"name": "user_id", "type": "string", "required": true},
            {"name": "amount", "type": "number"},
            {"name": "status", "type": "string", "enum": ["paid", "pending"]},
            {"name": "email", "type": "string", "format": "email"},
        ]}))
        .unwrap()
    }

    #[test]
    fn the_seed_example_is_valid() {
        let mut body = json!({"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"});
        assert_eq!(thank_you().check(body.as_object_mut().unwrap()), vec![]);
    }

    /// JSON Schema counts `1.0` as an integer; the scenario sees `1`.
    /// `1.5` and numbers past `i64` stay refused.
    #[test]
    fn a_whole_float_is_an_integer() {
        let schema: RequestSchema = serde_json::from_value(json!({"fields": [
            {"name": "order_id", "type": "integer", "required": true},
            {"name": "stars", "type": "integer", "enum": ["1", "5"]},
        ]}))
        .unwrap();
        let mut body = json!({"order_id": 9821.0, "stars": 5.0});
        assert_eq!(schema.check(body.as_object_mut().unwrap()), vec![]);
        assert_eq!(body, json!({"order_id": 9821, "stars": 5}));
        assert_eq!(body["order_id"].to_string(), "9821");
        for bad in [json!(9821.5), json!(1e19), json!(-1e19), json!("9821")] {
            let mut body = json!({"order_id": bad});
            let errors = schema.check(body.as_object_mut().unwrap());
            assert_eq!(errors.len(), 1, "{body}");
            assert_eq!(errors[0].message, "must be of type integer");
        }
    }

    #[test]
    fn reports_each_problem_by_field() {
        let mut body = json!({"order_id": "9821", "amount": "много", "status": "lost", "email": "nope"});
        let errors: Vec<_> = thank_you().check(body.as_object_mut().unwrap()).into_iter().map(|e| (e.field, e.message)).collect();
        assert_eq!(
            errors,
            vec![
                ("order_id".into(), "must be of type integer".into()),
                ("user_id".into(), "is required".into()),
                ("amount".into(), "must be of type number".into()),
                ("status".into(), "must be one of: paid, pending".into()),
                ("email".into(), "must be a valid email".into()),
            ]
        );
    }

    #[test]
    fn checks_formats() {
        assert!(StringFormat::Phone.accepts("79187777777"));
        assert!(StringFormat::Phone.accepts("+79187777777"));
        assert!(!StringFormat::Phone.accepts("8-918-777"));
        assert!(StringFormat::DateTime.accepts("2025-10-15T11:24:52Z"));
        assert!(StringFormat::DateTime.accepts("2025-10-15T11:24:52.123+03:00"));
        assert!(!StringFormat::DateTime.accepts("2025-10-15 11:24"));
        for junk in ["tomorrow", "t", "2025-10-15T", "2025-10-15Tж1:24:52Z", "ТТТТ-10-15T11:24:52Z"] {
            assert!(!StringFormat::DateTime.accepts(junk), "{junk}");
        }
        // Found by an API probe: these passed as date-times and dates.
        for junk in ["2025-10-15T99:99:99Z", "2025-10-15T11:24:52+ab:cd", "2025-10-15T11:24:52.Z", "2025-10-15T24:00:00Z", "2025-10-15T11:24:52+24:00", "2027-02-31T10:00:00Z"] {
            assert!(!StringFormat::DateTime.accepts(junk), "{junk}");
        }
        assert!(StringFormat::DateTime.accepts("2016-12-31T23:59:60Z"), "a leap second");
        assert!(StringFormat::DateTime.accepts("2025-10-15t11:24:52.5-05:30"));
        assert!(StringFormat::Date.accepts("2025-02-28"));
        assert!(StringFormat::Date.accepts("2024-02-29"));
        for junk in ["2025-13-01", "2025-02-29", "2025-02-31", "2025-04-31", "1900-02-29", "2025-00-10", "2025-01-00"] {
            assert!(!StringFormat::Date.accepts(junk), "{junk}");
        }
        assert!(StringFormat::Uri.accepts("https://crm.example.com/api/user/confirm"));
        assert!(!StringFormat::Uri.accepts("javascript:alert(1)"));
    }

    #[test]
    fn renders_json_schema() {
        let schema = thank_you().to_json_schema();
        assert_eq!(schema["required"], json!(["order_id", "user_id"]));
        assert_eq!(schema["properties"]["status"]["enum"], json!(["paid", "pending", null]));
        assert_eq!(schema["properties"]["email"]["format"], "email");
        // What `check` accepts, the export says: an optional field may be
        // sent as null; a required one may not.
        assert_eq!(schema["properties"]["order_id"]["type"], "integer");
        assert_eq!(schema["properties"]["amount"]["type"], json!(["number", "null"]));
    }

    #[test]
    fn validates_the_schema_itself() {
        let schema: RequestSchema = serde_json::from_value(json!({"fields": [
            {"name": "order id", "type": "string"},
            {"name": "flag", "type": "boolean", "enum": ["yes"]},
            {"name": "n", "type": "integer", "format": "email"},
            {"name": "n", "type": "integer"},
        ]}))
        .unwrap();
        let fields: Vec<_> = schema.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["schema.fields[0].name", "schema.fields[1].enum", "schema.fields[2].format", "schema.fields[3].name"]);
    }
}
