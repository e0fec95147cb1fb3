//! The fake CRM: records requests and answers with canned responses.

use std::time::Duration;

use comops_fakes::FakeCrm;
use serde_json::{json, Value};

#[tokio::test]
async fn records_requests_and_answers_canned_json() {
    let crm = FakeCrm::start().await;
    crm.respond(
        "post",
        "/api/user/confirm",
        200,
        json!({"userId": 125, "name": "Анна", "active": true}),
    );

    let client = reqwest::Client::new();
    let response = client
        .post(crm.url("/api/user/confirm"))
        .header("Authorization", "Bearer t0k")
        .json(&json!({"phone": "+79001234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"userId": 125, "name": "Анна", "active": true}));

    // Unknown route: the default answer.
    let response = client.get(crm.url("/api/ping?x=1")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"success": true})
    );

    let requests = crm.wait_for_requests(2, Duration::from_secs(1)).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/api/user/confirm");
    assert_eq!(requests[0].header("authorization"), Some("Bearer t0k"));
    assert_eq!(requests[0].body, json!({"phone": "+79001234567"}));
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].query.as_deref(), Some("x=1"));
    assert_eq!(requests[1].body, Value::Null);
}

#[tokio::test]
async fn fail_next_fails_a_route_then_recovers() {
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/order", 201, json!({"id": 9}));
    crm.fail_next("/api/order", 2, 503);
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = client
            .post(crm.url("/api/order"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [503, 503, 201]);
    assert_eq!(crm.requests().len(), 3, "failed requests are recorded too");

    // wait_for_requests gives up after the timeout with what it has.
    let got = crm.wait_for_requests(10, Duration::from_millis(100)).await;
    assert_eq!(got.len(), 3);
}
