//! Scenario engine, end to end through `advance`: the methodology's
//! registration loop and the e-commerce review, driven step by step with
//! the inputs a worker would bring (replies, timeouts, http results); the
//! checks run on save; the run guards; the studio's dry-run preview.

use comops_core::scenario::{
    advance, dry_run_preview, Effect, Input, LeadInfo, RunInputs, RunState, Scenario, ScenarioError, SharedContact,
    Status, StopReason, Waiting,
};
use serde_json::{json, Value};

const NOW: i64 = 1_760_527_492_000; // 2025-10-15T11:24:52Z

fn scenario(raw: Value) -> Scenario {
    serde_json::from_value(raw).expect("scenario JSON")
}

fn registration() -> Scenario {
    scenario(json!({
        "name": "registration",
        "description": "CRM calls user/registered → the person shares a phone → we confirm it in the CRM",
        "start": "greet",
        "steps": [
            {"id": "greet", "type": "message",
             "text": "Здравствуйте! Чтобы активировать личный кабинет, поделитесь номером телефона.",
             "next": "ask_phone"},
            {"id": "ask_phone", "type": "ask", "prompt": "Нажмите кнопку ниже 👇", "expect": "contact", "var": "phone",
             "reask": "Пожалуйста, нажмите кнопку «Поделиться номером».", "max_reasks": 2, "timeout_sec": 86400,
             "next": "confirm", "on_no_reply": "no_phone", "on_delivery_failed": "undeliverable"},
            {"id": "confirm", "type": "http", "method": "POST",
             "url": "{{ secrets.crm_url }}/api/user/confirm",
             "headers": [
                 {"name": "Authorization", "value": "Bearer {{ secrets.crm_token }}"},
                 {"name": "Content-Type", "value": "application/json"}
             ],
             "body": "{\"userId\": \"{{ params.userId }}\", \"phone\": \"{{ vars.phone }}\"}",
             "save_as": "crm", "next": "welcome", "on_error": "crm_failed"},
            {"id": "welcome", "type": "message",
             "text": "Добро пожаловать, {{ vars.crm.json.name }}! Ваш личный кабинет активирован.", "next": "done"},
            {"id": "done", "type": "end", "goal": "registered"},
            {"id": "crm_failed", "type": "handover", "note": "CRM answered {{ vars.crm.status }} for user {{ params.userId }}",
             "next": "sorry"},
            {"id": "sorry", "type": "message", "text": "Не получилось активировать кабинет. Оператор скоро напишет вам."},
            {"id": "no_phone", "type": "end"},
            {"id": "undeliverable", "type": "end"}
        ]
    }))
}

fn inputs() -> RunInputs {
    let mut inputs = RunInputs {
        params: json!({"userId": "u-9821", "name": "Анна"}),
        lead: LeadInfo { id: "lead-1".into(), ..LeadInfo::default() },
        ..RunInputs::default()
    };
    inputs.secrets.insert("crm_url".into(), "https://crm.example.ru".into());
    inputs.secrets.insert("crm_token".into(), "s3cr3t".into());
    inputs
}

fn texts(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn reply(text: &str) -> Input {
    Input::Reply { text: text.into(), contact: None }
}

fn contact(phone: &str) -> Input {
    Input::Reply {
        text: String::new(),
        contact: Some(SharedContact { phone: phone.into(), first_name: Some("Анна".into()), last_name: None, user_id: None }),
    }
}

/// Start a registration run and bring it to the http call with a shared
/// contact, after one invalid reply.
fn to_http_call(s: &Scenario, state: &mut RunState, inputs: &RunInputs) -> Effect {
    let out = advance(s, state, inputs, Input::Start, NOW);
    assert_eq!(
        texts(&out.effects),
        vec!["Здравствуйте! Чтобы активировать личный кабинет, поделитесь номером телефона.", "Нажмите кнопку ниже 👇"]
    );
    assert!(out.effects.contains(&Effect::ScheduleWake { at: NOW + 86_400_000 }));
    assert_eq!(
        out.status,
        Status::Waiting(Waiting::Reply { step: "ask_phone".into(), timeout_at: Some(NOW + 86_400_000), reasks: 0 })
    );

    // Typing instead of sharing the contact: re-asked, still waiting.
    let out = advance(s, state, inputs, reply("мой номер 12345"), NOW + 1_000);
    assert_eq!(texts(&out.effects), vec!["Пожалуйста, нажмите кнопку «Поделиться номером»."]);
    assert!(matches!(out.status, Status::Waiting(Waiting::Reply { reasks: 1, .. })));

    let out = advance(s, state, inputs, contact("+7 999 123-45-67"), NOW + 2_000);
    assert_eq!(state.vars["phone"], json!("+79991234567"));
    assert_eq!(out.status, Status::Waiting(Waiting::Http { step: "confirm".into() }));
    assert_eq!(out.effects.len(), 1);
    out.effects.into_iter().next().unwrap()
}

#[test]
fn registration_scenario_validates() {
    assert_eq!(registration().validate(), Ok(()));
}

#[test]
fn crm_registers_a_user_and_the_lead_gets_welcome_after_the_crm_confirms() {
    let s = registration();
    let inputs = inputs();
    let mut state = RunState::new(7, NOW);

    let call = to_http_call(&s, &mut state, &inputs);
    assert_eq!(
        call,
        Effect::CallHttp {
            step: "confirm".into(),
            method: "POST".into(),
            url: "https://crm.example.ru/api/user/confirm".into(),
            headers: vec![
                ("Authorization".into(), "Bearer s3cr3t".into()),
                ("Content-Type".into(), "application/json".into())
            ],
            body: Some(r#"{"userId": "u-9821", "phone": "+79991234567"}"#.into()),
            timeout_ms: 10_000,
            retries: 0,
        }
    );
    // The body the CRM receives is JSON.
    if let Effect::CallHttp { body: Some(body), .. } = &call {
        let parsed: Value = serde_json::from_str(body).unwrap();
        assert_eq!(parsed["phone"], "+79991234567");
    }

    // The state survives a restart between the call and its result.
    let mut state: RunState = serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
    let out = advance(&s, &mut state, &inputs, Input::HttpResult { status: 200, json: json!({"name": "Анна"}) }, NOW + 3_000);
    assert_eq!(texts(&out.effects), vec!["Добро пожаловать, Анна! Ваш личный кабинет активирован."]);
    assert_eq!(out.status, Status::Finished { goal: Some("registered".into()) });
    assert_eq!(state.vars["crm"], json!({"status": 200, "json": {"name": "Анна"}}));
    assert_eq!(state.scenario_version, 7);
    assert!(state.ended);

    // A stale timeout after the end changes nothing.
    let late = advance(&s, &mut state, &inputs, Input::Timeout, NOW + 86_400_000);
    assert!(matches!(late.status, Status::Ignored { .. }));
    assert!(late.effects.is_empty());
}

#[test]
fn crm_error_hands_the_lead_to_an_operator() {
    let s = registration();
    let inputs = inputs();
    let mut state = RunState::new(1, NOW);
    to_http_call(&s, &mut state, &inputs);

    let out = advance(&s, &mut state, &inputs, Input::HttpResult { status: 500, json: Value::Null }, NOW + 3_000);
    assert_eq!(
        out.effects,
        vec![
            Effect::Handover { step: "crm_failed".into(), note: "CRM answered 500 for user u-9821".into() },
            Effect::Send {
                step: "sorry".into(),
                text: "Не получилось активировать кабинет. Оператор скоро напишет вам.".into(),
                buttons: vec![],
                media_url: None
            },
        ]
    );
    assert_eq!(out.status, Status::Finished { goal: None });
}

#[test]
fn transport_error_without_on_error_fails_the_run() {
    let mut raw = serde_json::to_value(registration()).unwrap();
    raw["steps"][2].as_object_mut().unwrap().remove("on_error");
    raw["steps"].as_array_mut().unwrap().retain(|s| s["id"] != "crm_failed" && s["id"] != "sorry");
    let s = scenario(raw);
    let inputs = inputs();
    let mut state = RunState::new(1, NOW);
    to_http_call(&s, &mut state, &inputs);
    let out = advance(&s, &mut state, &inputs, Input::HttpError { message: "timed out".into() }, NOW + 13_000);
    assert!(matches!(&out.status, Status::Failed { step: Some(step), message } if step == "confirm" && message.contains("timed out")));
    assert_eq!(state.vars["crm"]["status"], 0);
}

#[test]
fn silence_and_undeliverable_questions_take_their_branches() {
    let s = registration();
    let inputs = inputs();

    // Re-asks run out → on_no_reply.
    let mut state = RunState::new(1, NOW);
    advance(&s, &mut state, &inputs, Input::Start, NOW);
    for i in 1..=2 {
        let out = advance(&s, &mut state, &inputs, reply("нет"), NOW + i);
        assert!(matches!(out.status, Status::Waiting(Waiting::Reply { reasks, .. }) if reasks == i as u32));
    }
    let out = advance(&s, &mut state, &inputs, reply("нет"), NOW + 3);
    assert_eq!(out.status, Status::Finished { goal: None });
    assert_eq!(state.current.as_deref(), Some("no_phone"));

    // An early timer is ignored; the real timeout → on_no_reply.
    let mut state = RunState::new(1, NOW);
    advance(&s, &mut state, &inputs, Input::Start, NOW);
    assert!(matches!(advance(&s, &mut state, &inputs, Input::Timeout, NOW + 1_000).status, Status::Ignored { .. }));
    let out = advance(&s, &mut state, &inputs, Input::Timeout, NOW + 86_400_000);
    assert_eq!(out.status, Status::Finished { goal: None });
    assert_eq!(state.current.as_deref(), Some("no_phone"));

    // The prompt could not be delivered → on_delivery_failed.
    let mut state = RunState::new(1, NOW);
    advance(&s, &mut state, &inputs, Input::Start, NOW);
    advance(&s, &mut state, &inputs, Input::DeliveryFailed, NOW + 500);
    assert_eq!(state.current.as_deref(), Some("undeliverable"));
}

fn thank_you_review() -> Scenario {
    scenario(json!({
        "name": "order/thank-you",
        "start": "thanks",
        "steps": [
            {"id": "thanks", "type": "message", "text": "Спасибо за покупку, {{ params.name }}! Заказ №{{ params.orderId }} оформлен.",
             "next": "rate"},
            {"id": "rate", "type": "ask", "prompt": "Оцените покупку от 1 до 5", "expect": "rating", "var": "csat",
             "reask": "Выберите оценку от 1 до 5", "next": "save"},
            {"id": "save", "type": "set", "attributes": {"last_csat": "{{ vars.csat }}"}, "add_tags": ["rated"], "next": "check"},
            {"id": "check", "type": "if", "condition": "vars.csat >= 4", "then": "review", "otherwise": "sorry"},
            {"id": "review", "type": "message", "text": "Спасибо! Поделитесь отзывом:",
             "buttons": [{"label": "Оставить отзыв", "kind": "url", "url": "https://shop.example.ru/review/{{ params.orderId }}"}],
             "next": "done"},
            {"id": "sorry", "type": "handover", "note": "Оценка {{ vars.csat }} за заказ {{ params.orderId }}"},
            {"id": "done", "type": "end", "goal": "reviewed"}
        ]
    }))
}

#[test]
fn crm_calls_order_thank_you_and_the_lead_rates_the_purchase() {
    let s = thank_you_review();
    assert_eq!(s.validate(), Ok(()));
    let inputs = RunInputs { params: json!({"name": "Анна", "orderId": "9821"}), ..RunInputs::default() };
    let mut state = RunState::new(1, NOW);

    let out = advance(&s, &mut state, &inputs, Input::Start, NOW);
    assert_eq!(texts(&out.effects), vec!["Спасибо за покупку, Анна! Заказ №9821 оформлен.", "Оцените покупку от 1 до 5"]);
    let Effect::Send { buttons, .. } = &out.effects[1] else { panic!() };
    assert_eq!(buttons.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["1", "2", "3", "4", "5"]);

    let out = advance(&s, &mut state, &inputs, reply("7"), NOW + 1);
    assert_eq!(texts(&out.effects), vec!["Выберите оценку от 1 до 5"]);

    let out = advance(&s, &mut state, &inputs, reply("5"), NOW + 2);
    assert_eq!(state.vars["csat"], json!(5));
    assert!(matches!(&out.effects[0], Effect::SetAttributes { attributes, add_tags, .. }
        if attributes["last_csat"] == "5" && add_tags == &vec!["rated".to_string()]));
    let Effect::Send { text, buttons, .. } = &out.effects[1] else { panic!("{:?}", out.effects) };
    assert_eq!(text, "Спасибо! Поделитесь отзывом:");
    assert_eq!(buttons[0].url.as_deref(), Some("https://shop.example.ru/review/9821"));
    assert_eq!(out.status, Status::Finished { goal: Some("reviewed".into()) });

    // A low rating goes to an operator.
    let mut state = RunState::new(1, NOW);
    advance(&s, &mut state, &inputs, Input::Start, NOW);
    let out = advance(&s, &mut state, &inputs, reply("2"), NOW + 1);
    assert!(out.effects.contains(&Effect::Handover { step: "sorry".into(), note: "Оценка 2 за заказ 9821".into() }));
}

fn errors_of(raw: Value) -> Vec<ScenarioError> {
    scenario(raw).validate().expect_err("should be refused")
}

fn points_at(errors: &[ScenarioError], step: &str, field: &str, words: &str) -> bool {
    errors.iter().any(|e| e.step.as_deref() == Some(step) && e.field == field && e.message.contains(words))
}

#[test]
fn validation_points_at_the_step() {
    // Unknown target.
    let e = errors_of(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "if", "condition": "true", "then": "b", "otherwise": "nowhere"},
        {"id": "b", "type": "end"}
    ]}));
    assert!(points_at(&e, "a", "otherwise", "no step with id \"nowhere\""), "{e:?}");
    // No target yet (a step just added on the canvas): said so, not 'no step with id ""'.
    let e = errors_of(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "message", "text": "Привет", "next": ""}
    ]}));
    assert!(points_at(&e, "a", "next", "leads nowhere yet: choose the next step"), "{e:?}");

    // Unreachable.
    let e = errors_of(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "end"},
        {"id": "orphan", "type": "message", "text": "никто не увидит"}
    ]}));
    assert!(points_at(&e, "orphan", "id", "unreachable"), "{e:?}");

    // Bad template and bad expression.
    let e = errors_of(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "message", "text": "Привет, {{ params.name ", "next": "b"},
        {"id": "b", "type": "switch", "value": "params.tier ==", "cases": [], "default": "c"},
        {"id": "c", "type": "end"}
    ]}));
    assert!(points_at(&e, "a", "text", "does not parse"), "{e:?}");
    assert!(points_at(&e, "b", "value", "does not parse"), "{e:?}");

    // A var used before any step sets it; a bare name that is no root.
    let e = errors_of(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "message", "text": "Ваш телефон {{ vars.phone }}", "next": "q"},
        {"id": "q", "type": "ask", "prompt": "Телефон?", "expect": "phone", "var": "phone", "next": "b"},
        {"id": "b", "type": "message", "text": "Спасибо, {{ name }}: {{ vars.phone }}"}
    ]}));
    assert!(points_at(&e, "a", "text", "vars.phone is used before"), "{e:?}");
    assert!(points_at(&e, "b", "text", "unknown variable \"name\""), "{e:?}");
    assert!(!points_at(&e, "b", "text", "vars.phone"), "{e:?}");

    // A var set on one branch only is accepted (the check is conservative),
    // but an ask's var is not set on its no-reply branch.
    let ok = scenario(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "if", "condition": "params.vip", "then": "s", "otherwise": "m"},
        {"id": "s", "type": "set", "vars": {"tier": "gold"}, "next": "m"},
        {"id": "m", "type": "message", "text": "{{ vars.tier }}"}
    ]}));
    assert_eq!(ok.validate(), Ok(()));
    let e = errors_of(json!({"name": "t", "start": "q", "steps": [
        {"id": "q", "type": "ask", "prompt": "?", "expect": "text", "var": "answer", "next": "m", "on_no_reply": "m2"},
        {"id": "m", "type": "message", "text": "{{ vars.answer }}"},
        {"id": "m2", "type": "message", "text": "{{ vars.answer }}"}
    ]}));
    assert!(points_at(&e, "m2", "text", "vars.answer"), "{e:?}");
    assert!(!e.iter().any(|e| e.step.as_deref() == Some("m")), "{e:?}");

    // Duplicate id.
    let e = errors_of(json!({"name": "t", "start": "a", "steps": [
        {"id": "a", "type": "message", "text": "1", "next": "a2"},
        {"id": "a2", "type": "end"},
        {"id": "a2", "type": "end"}
    ]}));
    assert!(points_at(&e, "a2", "id", "duplicate"), "{e:?}");

    // A literal bearer token in a header.
    let e = errors_of(json!({"name": "t", "start": "h", "steps": [
        {"id": "h", "type": "http", "method": "GET", "url": "https://crm.example.ru/orders/{{ params.orderId }}",
         "headers": [{"name": "Authorization", "value": "Bearer sk_live_51Hx"}], "save_as": "order", "next": "e"},
        {"id": "e", "type": "end"}
    ]}));
    assert!(points_at(&e, "h", "headers[0].value", "secrets.NAME"), "{e:?}");

    // Choice asks need choices; unknown start.
    let e = errors_of(json!({"name": "t", "start": "zzz", "steps": [
        {"id": "q", "type": "ask", "prompt": "Да или нет?", "expect": "choice", "var": "yes", "next": "q"}
    ]}));
    assert!(points_at(&e, "q", "choices", "needs choices"), "{e:?}");
    assert!(e.iter().any(|e| e.step.is_none() && e.field == "start"), "{e:?}");
}

#[test]
fn a_goto_loop_hits_the_step_limit() {
    let s = scenario(json!({"name": "loop", "start": "a", "steps": [
        {"id": "a", "type": "goto", "target": "b"},
        {"id": "b", "type": "goto", "target": "a"}
    ]}));
    assert_eq!(s.validate(), Ok(()));
    let mut state = RunState::new(1, NOW);
    let out = advance(&s, &mut state, &RunInputs::default(), Input::Start, NOW);
    assert!(matches!(&out.status, Status::Failed { message, .. } if message.contains("step limit")), "{:?}", out.status);
    assert_eq!(state.steps_taken, 1_000);
}

#[test]
fn a_step_repeated_ten_times_in_a_row_stops_the_run() {
    let s = scenario(json!({"name": "spin", "start": "a", "steps": [
        {"id": "a", "type": "goto", "target": "a"}
    ]}));
    let mut state = RunState::new(1, NOW);
    let out = advance(&s, &mut state, &RunInputs::default(), Input::Start, NOW);
    assert!(
        matches!(&out.status, Status::Failed { step: Some(a), message } if a == "a" && message.contains("10 times in a row")),
        "{:?}",
        out.status
    );
    assert_eq!(state.steps_taken, 10);
}

#[test]
fn preview_renders_messages_up_to_the_first_question() {
    let s = scenario(json!({"name": "onboarding", "start": "hi", "steps": [
        {"id": "hi", "type": "message", "text": "Добро пожаловать, {{ params.name }}! Ваш личный кабинет активирован.", "next": "tips"},
        {"id": "tips", "type": "message", "text": "Статус: {{ lead.status }}",
         "buttons": [{"label": "Открыть кабинет", "kind": "url", "url": "https://lk.example.ru/{{ lead.id }}"}], "next": "ask"},
        {"id": "ask", "type": "ask", "prompt": "Удобно ли было, {{ params.name }}?", "expect": "choice", "var": "ok",
         "choices": ["Да", "Нет"], "next": "crm"},
        {"id": "crm", "type": "http", "method": "POST", "url": "https://crm.example.ru/x", "save_as": "r", "next": "end"},
        {"id": "end", "type": "end"}
    ]}));
    let lead = LeadInfo { id: "lead-7".into(), status: Some("new".into()), ..LeadInfo::default() };
    let preview = dry_run_preview(&s, &json!({"name": "Анна"}), &lead);
    let texts: Vec<_> = preview.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Добро пожаловать, Анна! Ваш личный кабинет активирован.", "Статус: new", "Удобно ли было, Анна?"]
    );
    assert_eq!(preview.messages[1].buttons[0].url.as_deref(), Some("https://lk.example.ru/lead-7"));
    assert_eq!(preview.messages[2].buttons.len(), 2);
    assert_eq!(preview.stopped_at.as_deref(), Some("ask"));
    assert_eq!(preview.reason, StopReason::Ask);
    assert_eq!(preview.reason.to_string(), "ask");

    // An http step stops the preview without calling anything.
    let s = scenario(json!({"name": "pull", "start": "m", "steps": [
        {"id": "m", "type": "message", "text": "Проверяю заказ…", "next": "h"},
        {"id": "h", "type": "http", "method": "GET", "url": "https://crm.example.ru/orders/1", "save_as": "o", "next": "e"},
        {"id": "e", "type": "end"}
    ]}));
    let preview = dry_run_preview(&s, &json!({}), &LeadInfo::default());
    assert_eq!(preview.messages.len(), 1);
    assert_eq!((preview.stopped_at.as_deref(), preview.reason), (Some("h"), StopReason::Http));

    // A template error is reported with its step.
    let s = scenario(json!({"name": "broken", "start": "m", "steps": [
        {"id": "m", "type": "message", "text": "{{ vars.order.number }}"}
    ]}));
    let preview = dry_run_preview(&s, &json!({}), &LeadInfo::default());
    assert_eq!(preview.stopped_at.as_deref(), Some("m"));
    assert!(preview.reason.to_string().starts_with("error: "), "{}", preview.reason);
}
