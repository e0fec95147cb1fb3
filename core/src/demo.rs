//! The demo project: the seed methodology's cases as data, so a newcomer's
//! first `comops serve --demo` shows something real.
//!
//! One project, four bots — e-commerce order notifications, REHAU
//! installers, the Fmlst family site and a helpdesk. Ids are fixed
//! (`prj_demo`, `bot_shop`, …) so the README's examples work as written.
//! Later layers (endpoints, maps, scenarios) add their part of each case in
//! their own seed functions.

use crate::bot::BotDraft;
use crate::project::ProjectDraft;
use crate::store::{Store, StoreError, StoreResult};
use crate::{BotId, ProjectId};

pub const DEMO_PROJECT: &str = "prj_demo";

/// The four demo bots: id, name, Telegram username, what it does.
pub const DEMO_BOTS: [(&str, &str, &str, &str); 4] = [
    (
        "bot_shop",
        "Shop notifications",
        "comops_shop_bot",
        "E-commerce: order thank-you, status, delivery, review (/order/thank-you, /order/status, /order/delivered, /order/review).",
    ),
    (
        "bot_rehau",
        "REHAU installers",
        "rehau_installers_bot",
        "REHAU portal ↔ installers in Telegram: registration, webinar invites, feedback (/users/connect-bot, /events/webinar-invite).",
    ),
    (
        "bot_fmlst",
        "Fmlst family",
        "fmlst_family_bot",
        "Family site: new posts, comments and members reach every family member (/post/new, /comment/new, /users/new).",
    ),
    (
        "bot_helpdesk",
        "Helpdesk",
        "helpdesk_support_bot",
        "Helpdesk ⇌ Telegram / web chat: ticket created, operator replied, rate the service (/ticket/new, /ticket/reply, /ticket/feedback).",
    ),
];

/// Creates the demo project and its bots unless the project exists.
/// Returns whether anything was created.
pub async fn seed(store: &Store) -> StoreResult<bool> {
    let Some(project_id) = ProjectId::parse(DEMO_PROJECT) else { return Ok(false) };
    match store.project(&project_id).await {
        Ok(_) => return Ok(false),
        Err(StoreError::NotFound) => {}
        Err(other) => return Err(other),
    }
    let draft = ProjectDraft {
        name: "ComOps demo".into(),
        slug: "demo".into(),
        description: "The DMI methodology's cases: e-commerce, REHAU installers, Fmlst family site, helpdesk.".into(),
    };
    let valid = draft.validate().map_err(|_| StoreError::NotFound)?;
    store.create_project(&valid, None, Some(project_id.clone())).await?;
    for (id, name, username, description) in DEMO_BOTS {
        let draft = BotDraft { name: name.into(), username: username.into(), description: description.into(), enabled: true };
        let valid = draft.validate().map_err(|_| StoreError::NotFound)?;
        store.create_bot(&project_id, &valid, BotId::parse(id)).await?;
    }
    Ok(true)
}
