//! Method parameters, however the client sent them.
//!
//! Telegram takes parameters from the query string, an
//! `application/x-www-form-urlencoded` body or an `application/json` body.
//! Form and query values are strings (nested objects such as `reply_markup`
//! arrive JSON-serialized), JSON values are typed; the getters accept both.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use super::error::TgError;

/// The merged parameters of one call (body wins over the query string).
#[derive(Debug, Default)]
pub(crate) struct Params(Map<String, Value>);

impl Params {
    /// Parses the query string and the body by its `Content-Type`.
    pub(crate) fn parse(
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Self, TgError> {
        let mut map = Map::new();
        if let Some(query) = query {
            map.extend(form_pairs(query.as_bytes())?);
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(map));
        }
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(obj)) => map.extend(obj),
                Ok(_) => return Err(TgError::bad_request("parameters must be a JSON object")),
                Err(_) => return Err(TgError::bad_request("can't parse JSON object")),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            map.extend(form_pairs(body)?);
        } else {
            return Err(TgError::bad_request("unsupported Content-Type"));
        }
        Ok(Self(map))
    }

    /// A parameter as text (numbers and booleans are printed).
    pub(crate) fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// An integer parameter; `Bad Request` if present but not an integer.
    pub(crate) fn i64(&self, name: &str) -> Result<Option<i64>, TgError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                TgError::bad_request(&format!("parameter \"{name}\" is not a number"))
            }),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
                TgError::bad_request(&format!("parameter \"{name}\" is not a number"))
            }),
            Some(_) => Err(TgError::bad_request(&format!(
                "parameter \"{name}\" is not a number"
            ))),
        }
    }

    /// A boolean parameter (`true`, `"true"`, `"1"`).
    pub(crate) fn bool(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A JSON-object parameter, given as an object or as JSON text.
    /// `None` when absent; `Err(())` when it is not a JSON object.
    pub(crate) fn object(&self, name: &str) -> Result<Option<Value>, ()> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => Ok(Some(v)),
                _ => Err(()),
            },
            Some(_) => Err(()),
        }
    }

    /// The raw value (for `chat_id`, which may be a number or `@username`).
    pub(crate) fn raw(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }
}

fn form_pairs(bytes: &[u8]) -> Result<Vec<(String, Value)>, TgError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        })
        .map_err(|_| TgError::bad_request("can't parse form parameters"))
}
