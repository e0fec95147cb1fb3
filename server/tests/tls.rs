//! HTTPS without a proxy: `comops serve --tls-cert … --tls-key …` with a
//! self-signed certificate made here; a client that trusts it gets the API
//! and the studio's login, whose session cookie is `Secure`; plain HTTP on
//! the same port gets nothing.

mod support;

use support::TestServer;

#[tokio::test]
async fn serves_https_with_the_given_certificate_and_secure_cookies() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = support::scratch_dir();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();

    let server = TestServer::start(
        format!("sqlite://{}/comops.db", dir.display()),
        dir.clone(),
        &["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let base = format!("https://localhost:{port}");

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .tls_built_in_root_certs(false)
        .cookie_store(true)
        .build()
        .unwrap();
    // The integration API answers over TLS (an unknown token is a JSON 401).
    let call = client.post(format!("{base}/bots/bot_shop/call/order/paid")).bearer_auth("nope").json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(call.status(), 401);

    // The studio's login sets a Secure session cookie.
    let login = client
        .post(format!("{base}/api/login"))
        .header("Origin", &base)
        .form(&[("email", support::ADMIN_EMAIL), ("password", support::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "{}", login.status());
    let cookies: Vec<String> =
        login.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(!cookies.is_empty(), "a session cookie was set");
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");

    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::builder().tls_built_in_root_certs(true).build().unwrap();
    assert!(untrusting.get(format!("{base}/")).send().await.is_err());
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/")).timeout(std::time::Duration::from_secs(5)).send().await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
