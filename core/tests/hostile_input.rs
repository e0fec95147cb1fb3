//! Hostile input, generated: the parsers and renderers that see what
//! business systems, messengers and studio users send never panic, stay
//! within their limits, and keep their promises on any input (proptest;
//! failures are shrunk to a minimal case and the seed is kept in
//! `proptest-regressions/`).
//!
//! Covered: the template renderer and expression evaluator, the scenario
//! parser + validator + dry run, the request-schema validator and the call
//! body parser, reply parsing, and the maps' CSV reader.

use comops_core::call::CallRequest;
use comops_core::map::csv;
use comops_core::scenario::reply::{normalize_phone, parse_reply};
use comops_core::scenario::template::{self, Context};
use comops_core::scenario::{dry_run_preview, Expect, LeadInfo, Scenario};
use comops_core::schema::RequestSchema;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Arbitrary JSON, a few levels deep, with keys that scenarios and schemas
/// actually use so that the generated documents get past the first check.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("name".to_string()),
        Just("start".to_string()),
        Just("steps".to_string()),
        Just("id".to_string()),
        Just("type".to_string()),
        Just("next".to_string()),
        Just("text".to_string()),
        Just("fields".to_string()),
        Just("required".to_string()),
        Just("userIds".to_string()),
        Just("userId".to_string()),
        Just("leadId".to_string()),
        Just("script_request_params".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        prop_oneof![Just("message"), Just("ask"), Just("if"), Just("end"), Just("http"), Just("wait"), Just("set")]
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Template-ish text: fragments of Jinja syntax glued with arbitrary text.
fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{%".to_string()),
        Just("%}".to_string()),
        Just("{#".to_string()),
        Just("#}".to_string()),
        Just(" for x in range(100000) ".to_string()),
        Just(" endfor ".to_string()),
        Just(" if ".to_string()),
        Just(" endif ".to_string()),
        Just(" params.name ".to_string()),
        Just(" vars.a.b.c ".to_string()),
        Just(" secrets.key ".to_string()),
        Just("|upper".to_string()),
        Just("|join(',')".to_string()),
        Just(" ~ ".to_string()),
        Just(" * 99999999 ".to_string()),
        Just("'x' * 100000".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        ".{0,6}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

fn context() -> Context {
    let mut ctx = Context { params: json!({"name": "Анна", "items": [1, 2, 3], "nested": {"a": {"b": 1}}}), ..Default::default() };
    ctx.vars.insert("rating".into(), json!(4));
    ctx.secrets.insert("key".into(), "s3cr3t".into());
    ctx
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any template text renders or fails with an error; the fuel limit
    /// stops runaway loops, and the output stays bounded.
    #[test]
    fn templates_render_or_fail_cleanly(text in template_text()) {
        let ctx = context();
        if let Ok(out) = template::render(&text, &ctx) {
            prop_assert!(out.len() < 8 * 1024 * 1024, "output of {} bytes", out.len());
        }
        let _ = template::check_template(&text);
        let _ = template::eval(&text, &ctx);
        let _ = template::eval_bool(&text, &ctx);
        let _ = template::check_expression(&text);
    }

    /// A business system's value is data, never code: whatever it holds
    /// (template syntax included) comes out exactly as sent.
    #[test]
    fn params_are_not_evaluated_again(value in template_text()) {
        let ctx = Context { params: json!({ "name": value.clone() }), ..Default::default() };
        prop_assert_eq!(template::render("{{ params.name }}", &ctx).unwrap(), value);
    }

    /// Plain text (no template syntax) renders to itself (minijinja drops
    /// one trailing newline, so the text has none).
    #[test]
    fn plain_text_renders_to_itself(text in "[^{}%#\r\n]{0,64}") {
        prop_assert_eq!(template::render(&text, &Context::default()).unwrap(), text);
    }

    /// Any JSON is refused or accepted as a scenario without a panic; what
    /// validates also dry-runs.
    #[test]
    fn any_json_parses_or_is_refused_as_a_scenario(doc in any_json()) {
        if let Ok(scenario) = serde_json::from_value::<Scenario>(doc) {
            if scenario.validate().is_ok() {
                let _ = dry_run_preview(&scenario, &json!({}), &LeadInfo::default());
            }
        }
    }

    /// The demo scenarios with one subtree replaced by arbitrary JSON:
    /// validation errors, never a panic; and a valid mutant dry-runs.
    #[test]
    fn mutated_demo_scenarios_validate_or_are_refused(
        pick in 0..comops_core::demo::DEMO_SCENARIOS.len(),
        path in prop::collection::vec(0usize..8, 1..4),
        replacement in any_json(),
        params in any_json(),
    ) {
        let mut doc: Value = serde_json::from_str(comops_core::demo::DEMO_SCENARIOS[pick].1).unwrap();
        replace_at(&mut doc, &path, replacement);
        if let Ok(scenario) = serde_json::from_value::<Scenario>(doc) {
            if scenario.validate().is_ok() {
                let preview = dry_run_preview(&scenario, &params, &LeadInfo::default());
                prop_assert!(preview.messages.len() <= 10_000);
            }
        }
    }

    /// A request schema of any shape checks any payload: errors only ever
    /// name the schema's own fields, a missing required field is always
    /// reported, and the JSON Schema export is an object schema.
    #[test]
    fn request_schemas_check_any_payload(schema in any_json(), payload in any_json()) {
        let Ok(schema) = serde_json::from_value::<RequestSchema>(schema) else { return Ok(()) };
        let _ = schema.validate();
        let mut params = match payload { Value::Object(map) => map, other => { let mut m = Map::new(); m.insert("value".into(), other); m } };
        let errors = schema.check(&mut params);
        for error in &errors {
            prop_assert!(schema.fields.iter().any(|f| f.name == error.field), "error names unknown field {}", error.field);
        }
        for field in schema.fields.iter().filter(|f| f.required) {
            if !params.contains_key(&field.name) {
                prop_assert!(errors.iter().any(|e| e.field == field.name), "missing required {} not reported", field.name);
            }
        }
        let exported = schema.to_json_schema();
        prop_assert_eq!(exported.get("type"), Some(&json!("object")));
    }

    /// Any call body is a call request or a readable refusal.
    #[test]
    fn call_bodies_parse_or_are_refused(body in any_json()) {
        match CallRequest::parse(body) {
            Ok(_) => {}
            Err(bad) => prop_assert!(!bad.message.is_empty() && !bad.field.is_empty()),
        }
    }

    /// Replies from messengers: any text, any expectation.
    #[test]
    fn replies_parse_or_are_refused(text in ".{0,40}", kind in 0usize..7, choices in prop::collection::vec(".{0,8}", 0..4)) {
        let expect = [Expect::Text, Expect::Number, Expect::Phone, Expect::Email, Expect::Choice, Expect::Contact, Expect::Rating][kind];
        let _ = parse_reply(expect, &choices, &text, None);
        if let Some(phone) = normalize_phone(&text) {
            prop_assert!(phone.starts_with('+'));
            prop_assert!(phone[1..].chars().all(|c| c.is_ascii_digit()));
            prop_assert_eq!(normalize_phone(&phone), Some(phone.clone()));
        }
    }

    /// The maps' CSV reader takes any text; what the writer writes it reads
    /// back field for field.
    #[test]
    fn csv_reads_any_text_and_round_trips(text in ".{0,200}", records in prop::collection::vec(prop::collection::vec("[^\r]{0,12}", 1..5), 1..6)) {
        let _ = csv::read(&text);
        let written = csv::write(&records);
        let read = csv::read(&written).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let expected: Vec<&Vec<String>> = records.iter().filter(|r| !(r.len() == 1 && r[0].is_empty())).collect();
        let got: Vec<&Vec<String>> = read.iter().map(|r| &r.fields).collect();
        prop_assert_eq!(got, expected);
    }
}

/// Replace the value at `path` (indices into arrays / object entries in
/// order, clamped) with `replacement`.
fn replace_at(doc: &mut Value, path: &[usize], replacement: Value) {
    let Some((&first, rest)) = path.split_first() else {
        *doc = replacement;
        return;
    };
    let child = match doc {
        Value::Array(items) if !items.is_empty() => {
            let len = items.len();
            &mut items[first % len]
        }
        Value::Object(map) if !map.is_empty() => {
            let len = map.len();
            let Some((_, value)) = map.iter_mut().nth(first % len) else { return };
            value
        }
        other => {
            *other = replacement;
            return;
        }
    };
    replace_at(child, rest, replacement);
}

/// Runaway templates are stopped by fuel, not by the machine running out.
#[test]
fn a_runaway_loop_is_stopped() {
    let err = template::render("{% for i in range(100000000) %}{{ i }}{% endfor %}", &context());
    assert!(err.is_err(), "a 10^8 loop rendered");
    let err = template::render("{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}", &context());
    assert!(err.is_err(), "a nested 10^8 loop rendered");
}
