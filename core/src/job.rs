//! Scheduled jobs: "run scenario X for this lead at T (and every N s)",
//! the body of `POST /bots/{botId}/jobs/schedule`, parsed at the edge.

use crate::validation::{FieldError, Problem};
use crate::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// When a job first runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(Millis),
    After { seconds: i64 },
}

/// A validated schedule request.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRequest {
    pub scenario: String,
    pub user_id: String,
    pub lead_id: String,
    pub when: When,
    /// 0 = once.
    pub every_ms: Millis,
    pub params: Map<String, Value>,
}

/// The stored job, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledJob {
    pub id: String,
    pub bot_id: String,
    pub scenario: String,
    pub user_id: String,
    pub lead_id: String,
    pub run_at: Millis,
    pub every_ms: Millis,
    pub status: String,
    pub runs_made: i64,
    pub trace_id: String,
}

/// Shortest repeat interval (a minute) and longest delay (a year).
pub const MIN_EVERY_SEC: i64 = 60;
pub const MAX_DELAY_SEC: i64 = 366 * 86_400;

impl JobRequest {
    /// Parses `{"scenario", "userId"|"leadId", "run_at"|"run_after_sec",
    /// "every_sec"?, "params"?}`; all problems at once.
    pub fn parse(body: &Value, now: Millis) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError::new("body", Problem::BadJson)]);
        };
        let text = |names: &[&str]| crate::call::business_id_of(object, names);
        let scenario = text(&["scenario"]).unwrap_or_default();
        if scenario.is_empty() {
            errors.push(FieldError::new("scenario", Problem::Required));
        }
        let user_id = text(&["userId", "user_id"]).unwrap_or_default();
        let lead_id = text(&["leadId", "lead_id"]).unwrap_or_default();
        if user_id.is_empty() && lead_id.is_empty() {
            errors.push(FieldError::new("userId", Problem::Required));
        }
        let when = match (object.get("run_at"), object.get("run_after_sec")) {
            (Some(Value::String(at)), None) => match parse_rfc3339(at) {
                Some(at) if at >= now - 60_000 && at <= now + MAX_DELAY_SEC * 1000 => Some(When::At(at)),
                _ => {
                    errors.push(FieldError::new("run_at", Problem::BadDateTime));
                    None
                }
            },
            (None, Some(seconds)) => match seconds.as_i64() {
                Some(s) if (0..=MAX_DELAY_SEC).contains(&s) => Some(When::After { seconds: s }),
                _ => {
                    errors.push(FieldError::new("run_after_sec", Problem::OutOfRange));
                    None
                }
            },
            (None, None) => {
                errors.push(FieldError::new("run_at", Problem::Required));
                None
            }
            _ => {
                errors.push(FieldError::new("run_at", Problem::OneOf));
                None
            }
        };
        let every_ms = match object.get("every_sec") {
            None | Some(Value::Null) => 0,
            Some(value) => match value.as_i64() {
                Some(s) if (MIN_EVERY_SEC..=MAX_DELAY_SEC).contains(&s) => s * 1000,
                _ => {
                    errors.push(FieldError::new("every_sec", Problem::OutOfRange));
                    0
                }
            },
        };
        let params = match object.get("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(params)) => params.clone(),
            Some(_) => {
                errors.push(FieldError::new("params", Problem::BadJson));
                Map::new()
            }
        };
        match when {
            Some(when) if errors.is_empty() => Ok(JobRequest { scenario, user_id, lead_id, when, every_ms, params }),
            _ => Err(errors),
        }
    }

    pub fn first_run(&self, now: Millis) -> Millis {
        match self.when {
            When::At(at) => at,
            When::After { seconds } => now + seconds * 1000,
        }
    }
}

/// `2026-11-26T10:00:00Z` / `…+03:00` / with fractions → Unix millis.
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    let text = text.trim();
    if !crate::schema::StringFormat::DateTime.accepts_text(text) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let rest = &text[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(after) => {
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            let millis = format!("{:0<3}", &after[..digits.min(3)]).parse::<i64>().ok()?;
            (millis, &after[digits..])
        }
        None => (0, rest),
    };
    let offset_min = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (zone.get(1..3)?.parse::<i64>().ok()? * 60 + zone.get(4..6)?.parse::<i64>().ok()?)
        }
    };
    // Days from civil (Howard Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) - offset_min * 60) * 1000 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Millis = 1_760_527_492_000; // 2025-10-15T11:24:52Z

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_rfc3339("2025-10-15T11:24:52Z"), Some(NOW));
        assert_eq!(parse_rfc3339("2025-10-15T14:24:52+03:00"), Some(NOW));
        assert_eq!(parse_rfc3339("2025-10-15T11:24:52.250Z"), Some(NOW + 250));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2025-10-15 11:24"), None);
    }

    #[test]
    fn a_daily_tip_for_a_user() {
        let job = JobRequest::parse(&json!({"scenario": "retention_tips", "userId": 125, "run_after_sec": 3600, "every_sec": 86400}), NOW).unwrap();
        assert_eq!(job.user_id, "125");
        assert_eq!(job.first_run(NOW), NOW + 3_600_000);
        assert_eq!(job.every_ms, 86_400_000);
    }

    #[test]
    fn reports_every_problem() {
        let errors = JobRequest::parse(&json!({"run_at": "tomorrow", "every_sec": 5, "params": [1]}), NOW).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["scenario", "userId", "run_at", "every_sec", "params"]);
        let both = JobRequest::parse(&json!({"scenario": "x", "leadId": "TG-1", "run_at": "2025-10-15T11:30:00Z", "run_after_sec": 1}), NOW);
        assert_eq!(both.unwrap_err()[0].problem, Problem::OneOf);
    }
}
