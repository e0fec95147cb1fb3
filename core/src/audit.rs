//! The audit log as admins read it (SPEC §7: "audit log of admin actions"):
//! one entry per change to users, tokens, credentials, projects, bots,
//! maps, endpoints, scenarios, links and leads, the filter a page of them
//! is read with, and the cursor that pages on, newest first.
//!
//! An action is `area.verb` (`token.issue`, `settings.telegram`); the
//! studio filters by its area and words it in the reader's language.

use crate::id::{BotId, EndpointId, MapId, ProjectId, TokenId, UserId};
use crate::Millis;
use serde::{Deserialize, Serialize};

/// Entries a page of the studio's audit log holds.
pub const PAGE_SIZE: usize = 50;

/// The most entries one CSV export holds (the newest that match).
pub const EXPORT_MOST: usize = 10_000;

/// The areas actions belong to, in the order the filter lists them.
pub const AREAS: [&str; 12] = ["user", "token", "settings", "keys", "project", "bot", "map", "endpoint", "scenario", "identity", "lead", "outbox"];

/// The kinds of subject the log names, by the prefix of their ids, with
/// the table and the column that name one: projects, bots, users,
/// endpoints, tokens and maps.
pub const NAMED_KINDS: [(&str, &str, &str); 6] = [
    (ProjectId::PREFIX, "projects", "name"),
    (BotId::PREFIX, "bots", "name"),
    (UserId::PREFIX, "users", "email"),
    (EndpointId::PREFIX, "endpoints", "alias"),
    (TokenId::PREFIX, "api_tokens", "name"),
    (MapId::PREFIX, "maps", "title"),
];

/// Whether `subject` is an id of a kind the log names, so that finding no
/// name for it means it was deleted.
pub fn is_named_kind(subject: &str) -> bool {
    NAMED_KINDS.iter().any(|(prefix, _, _)| subject.starts_with(prefix))
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    /// Who: a studio user's email, `token:<name>` for the admin API, `cli`
    /// or `system`.
    pub actor: String,
    /// `area.verb`, e.g. `token.issue`.
    pub action: String,
    /// The id of what was changed (a user, token, project, bot, map or
    /// endpoint; for leads, links, scenarios and settings, their bot).
    pub subject: String,
    /// The subject's name as it is now (email, title, alias, name); none
    /// when the id names nothing that still exists.
    pub subject_name: Option<String>,
    /// What changed, in a few words; never a secret.
    pub detail: String,
    pub at: Millis,
}

impl AuditEntry {
    /// The part of the action before its dot (`token` of `token.issue`).
    pub fn area(&self) -> &str {
        self.action.split_once('.').map_or(self.action.as_str(), |(area, _)| area)
    }
}

/// Where a page ends: the next page starts after this entry (newest
/// first, by time, then id). Written `<at>-<id>` in a URL or a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCursor {
    pub at: Millis,
    pub id: String,
}

impl AuditCursor {
    /// Reads `<at>-<id>`; anything else is no cursor (the newest page).
    pub fn parse(raw: &str) -> Option<Self> {
        let (at, id) = raw.trim().split_once('-')?;
        let at = at.parse().ok()?;
        (!id.is_empty()).then(|| AuditCursor { at, id: id.to_string() })
    }
}

impl std::fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.at, self.id)
    }
}

/// Which entries to read. Empty text matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Part of the actor, any case (`ann@` finds `ann@example.com`), or
    /// in double quotes the actor exactly ([`ActorMatch`]).
    pub actor: String,
    /// One of [`AREAS`]: actions `<area>.…`.
    pub area: String,
    /// The subject's id, exactly.
    pub subject: String,
    /// At or after this time.
    pub since: Option<Millis>,
    /// Entries older than this one.
    pub before: Option<AuditCursor>,
}

/// How the filter's "who" text picks actors: in double quotes, the actor
/// exactly, any case (`"ann@example.com"`, as a user's row links, not
/// `joann@example.com`); otherwise every actor holding the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorMatch<'a> {
    Exactly(&'a str),
    Holding(&'a str),
}

impl<'a> ActorMatch<'a> {
    /// The match `text` asks for; none for blank text or empty quotes.
    pub fn of(text: &'a str) -> Option<Self> {
        let text = text.trim();
        let quoted = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).map(str::trim);
        match quoted {
            Some("") => None,
            Some(actor) => Some(Self::Exactly(actor)),
            None if text.is_empty() => None,
            None => Some(Self::Holding(text)),
        }
    }
}

/// One page, newest first, and where the next begins (none on the last).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub older: Option<AuditCursor>,
}

/// Entries as CSV (RFC 4180, a byte-order mark for spreadsheets): time in
/// UTC and in milliseconds, who, action, subject, its name, detail. Text
/// that starts like a spreadsheet formula (`=`, `+`, `-`, `@`) is written
/// after a `'` ([`inert`]), so opening the file runs nothing a name or
/// detail held.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let header = ["at_utc", "at_ms", "actor", "action", "subject", "subject_name", "detail"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for e in entries {
        let text = |value: &str| inert(value);
        rows.push(vec![
            utc_second(e.at),
            e.at.to_string(),
            text(&e.actor),
            text(&e.action),
            text(&e.subject),
            text(e.subject_name.as_deref().unwrap_or_default()),
            text(&e.detail),
        ]);
    }
    crate::map::csv::write(&rows)
}

/// `value`, after a `'` when a spreadsheet would read it as a formula
/// (also after leading blanks, and in full-width forms).
fn inert(value: &str) -> String {
    const STARTS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
    if value.starts_with(['\t', '\r', '\n']) || value.trim_start().starts_with(STARTS) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of epoch milliseconds.
fn utc_second(at: Millis) -> String {
    use crate::analytics::{date_of, DAY_MS};
    let second = at.rem_euclid(DAY_MS) / 1000;
    format!("{} {:02}:{:02}:{:02}", date_of(at.div_euclid(DAY_MS)), second / 3600, second % 3600 / 60, second % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_ask_for_the_actor_exactly() {
        assert_eq!(ActorMatch::of(" ann@ "), Some(ActorMatch::Holding("ann@")));
        assert_eq!(ActorMatch::of("\"ann@example.com\""), Some(ActorMatch::Exactly("ann@example.com")));
        assert_eq!(ActorMatch::of(" \" ann@example.com \" "), Some(ActorMatch::Exactly("ann@example.com")));
        assert_eq!(ActorMatch::of("\""), Some(ActorMatch::Holding("\"")), "one quote is a character");
        assert_eq!(ActorMatch::of("\"\""), None);
        assert_eq!(ActorMatch::of("  "), None);
    }

    #[test]
    fn a_cursor_reads_back_as_written() {
        let cursor = AuditCursor { at: 1_764_000_000_000, id: "aud_x-y".into() };
        assert_eq!(cursor.to_string(), "1764000000000-aud_x-y");
        assert_eq!(AuditCursor::parse(&cursor.to_string()), Some(cursor));
        assert_eq!(AuditCursor::parse("soon-aud_x"), None);
        assert_eq!(AuditCursor::parse("17-"), None);
        assert_eq!(AuditCursor::parse(""), None);
    }

    #[test]
    fn entries_export_as_csv_with_formulas_made_inert() {
        let entry = |detail: &str| AuditEntry {
            id: "aud_1".into(),
            actor: "ann@example.com".into(),
            action: "project.delete".into(),
            subject: "prj_1".into(),
            subject_name: None,
            detail: detail.into(),
            at: 1_764_000_000_123,
        };
        let csv = to_csv(&[entry("=HYPERLINK(\"http://x\")"), entry("Fmlst, «семья»")]);
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(lines[0], "at_utc,at_ms,actor,action,subject,subject_name,detail");
        assert_eq!(lines[1], "2025-11-24 16:00:00,1764000000123,ann@example.com,project.delete,prj_1,,\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(lines[2], "2025-11-24 16:00:00,1764000000123,ann@example.com,project.delete,prj_1,,\"Fmlst, «семья»\"");
        assert_eq!(lines.len(), 4, "a CRLF after the last record");
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", " =1", "＝1"] {
            assert_eq!(inert(risky), format!("'{risky}"));
        }
        for plain in ["lead_7 → stopped", "a-b", "ann@example.com", ""] {
            assert_eq!(inert(plain), plain);
        }
    }

    #[test]
    fn an_action_has_an_area() {
        let entry = AuditEntry { id: "a".into(), actor: "cli".into(), action: "token.issue".into(), subject: "tok_1".into(), subject_name: None, detail: String::new(), at: 0 };
        assert_eq!(entry.area(), "token");
        assert!(AREAS.contains(&entry.area()));
        assert!(is_named_kind("tok_abc") && !is_named_kind("aud_abc") && !is_named_kind(""));
    }
}
