//! First start: the first admin, and the demo project on request.

use comops_core::auth::{generate_password, hash_password};
use comops_core::store::{NewUser, Store};
use comops_core::user::PASSWORD_MIN;
use comops_core::{Email, Locale, Role};

/// With an empty user table, creates the first admin. The password comes
/// from `COMOPS_ADMIN_PASSWORD` or is generated and printed once to stdout
/// (never to the log).
pub async fn first_admin(store: &Store) -> Result<(), String> {
    if store.count_users().await.map_err(|e| e.to_string())? > 0 {
        return Ok(());
    }
    let email_raw = std::env::var("COMOPS_ADMIN_EMAIL").unwrap_or_else(|_| "admin@comops.local".into());
    let email = Email::parse(&email_raw).map_err(|_| format!("COMOPS_ADMIN_EMAIL is not an email: {email_raw}"))?;
    let (password, generated) = match std::env::var("COMOPS_ADMIN_PASSWORD") {
        Ok(p) if p.chars().count() >= PASSWORD_MIN => (p, false),
        Ok(_) => return Err(format!("COMOPS_ADMIN_PASSWORD must be at least {PASSWORD_MIN} characters")),
        Err(_) => (generate_password(), true),
    };
    let user = store
        .create_user(NewUser {
            email,
            password_hash: hash_password(&password),
            role: Role::Admin,
            locale: Locale::En,
            display_name: "Admin".into(),
        })
        .await
        .map_err(|e| e.to_string())?;
    store.audit("system", "user.create", user.id.as_str(), &comops_core::audit_detail::Detail::FirstAdmin.to_string()).await.map_err(|e| e.to_string())?;
    if generated {
        println!("first start: created admin {} with password {password}  (shown once)", user.email);
    } else {
        println!("first start: created admin {} with the password from COMOPS_ADMIN_PASSWORD", user.email);
    }
    Ok(())
}
