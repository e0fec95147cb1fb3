//! A whole project as one JSON document (SPEC §3, §6: "JSON
//! export/import"): its bots with their endpoints and current scenarios,
//! and its maps with their current content — what CI keeps in git and
//! what moves a project from one ComOps to another.
//!
//! Round trip: export → [`ProjectExport::parse`] → import into a fresh
//! project (`Store::import_project`) → export gives the same JSON except
//! the ids of bots and maps, which are new (ids are global); every
//! reference inside the document (a row's bound bot, a link to another
//! map's stage) is rewritten to the new ids, and the import reports the
//! old → new pairs. Not exported: channel credentials and settings (they
//! are secrets), tokens, leads, runs, traces, and the version history
//! (the import starts each map and scenario at version 1).
//!
//! Order is by content, not by id, so it survives the new ids: bots by
//! name (then username, description), endpoints by alias, scenarios by
//! name, maps in creation order (the import keeps it).

use super::{MapContent, MapId, MapKind};
use crate::endpoint::{EndpointDraft, ValidEndpoint};
use crate::scenario::Scenario;
use crate::validation::FieldError;
use crate::BotId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectExport {
    /// [`ProjectExport::FORMAT`].
    pub format: String,
    pub project: ProjectInfo,
    pub bots: Vec<BotExport>,
    pub maps: Vec<MapExport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotExport {
    /// The bot's id where it was exported (references use it).
    pub id: BotId,
    pub name: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub endpoints: Vec<EndpointDraft>,
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapExport {
    /// The map's id where it was exported (links use it).
    pub id: MapId,
    pub title: String,
    /// The content, tagged with its `kind`.
    pub content: MapContent,
}

/// One problem of an import document, at its place (`bots[1].endpoints[0].alias`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    pub path: String,
    /// In English, for logs and API clients; the studio says [`Self::issue`]
    /// in the reader's language.
    pub message: String,
    pub issue: ImportIssue,
}

/// What is wrong, as the studio translates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportIssue {
    /// Over the size an import may have.
    TooLarge,
    /// Not JSON of an export's shape; `detail` is the parser's (English).
    NotAnExport { detail: String },
    /// Another `format` than [`ProjectExport::FORMAT`].
    WrongFormat,
    /// An id that is there twice.
    Repeated,
    /// A field that breaks the studio's rule for it.
    Field { problem: crate::validation::Problem },
    /// A scenario check, at `step` when it names one.
    Scenario { step: Option<String>, issue: crate::scenario::ScenarioIssue },
}

impl ImportProblem {
    fn new(path: impl Into<String>, issue: ImportIssue, message: impl Into<String>) -> Self {
        ImportProblem { path: path.into(), message: message.into(), issue }
    }

    /// A field's problem under `prefix` (`bots[0]` + `name`).
    fn field(prefix: &str, error: FieldError) -> Self {
        let message = error.to_string();
        ImportProblem::new(format!("{prefix}.{}", error.field), ImportIssue::Field { problem: error.problem }, message)
    }
}

/// A document that passed every check, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidProjectExport {
    pub project: ProjectInfo,
    pub bots: Vec<(BotExport, Vec<ValidEndpoint>)>,
    pub maps: Vec<MapExport>,
}

impl ProjectExport {
    pub const FORMAT: &'static str = "comops.project/v1";

    /// Puts bots, endpoints and scenarios in the export order.
    pub fn normalize(&mut self) {
        self.bots.sort_by(|a, b| (&a.name, &a.username, &a.description).cmp(&(&b.name, &b.username, &b.description)));
        for bot in &mut self.bots {
            bot.endpoints.sort_by(|a, b| a.alias.cmp(&b.alias));
            bot.scenarios.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }

    /// Reads and checks an uploaded document: the format, every bot,
    /// endpoint, scenario and map by the same rules as the studio.
    pub fn parse(json: &str) -> Result<ValidProjectExport, Vec<ImportProblem>> {
        if json.len() > 64 * super::limits::MAX_BYTES {
            return Err(vec![ImportProblem::new("", ImportIssue::TooLarge, "the document is too large")]);
        }
        let doc: ProjectExport = serde_json::from_str(json).map_err(|e| {
            vec![ImportProblem::new("", ImportIssue::NotAnExport { detail: e.to_string() }, format!("not a project export: {e}"))]
        })?;
        let mut problems = Vec::new();
        if doc.format != Self::FORMAT {
            problems.push(ImportProblem::new("format", ImportIssue::WrongFormat, format!("expected \"{}\"", Self::FORMAT)));
        }
        // The slug is chosen at import; the rest of the project is checked here.
        let draft = crate::project::ProjectDraft {
            name: doc.project.name.clone(),
            slug: "import".into(),
            description: doc.project.description.clone(),
        };
        if let Err(errors) = draft.validate() {
            problems.extend(errors.into_iter().map(|e| ImportProblem::field("project", e)));
        }
        let repeated = |at: &str| ImportProblem::new(format!("{at}.id"), ImportIssue::Repeated, "appears twice");
        let mut bots = Vec::new();
        let mut bot_ids = std::collections::HashSet::new();
        for (i, bot) in doc.bots.into_iter().enumerate() {
            let at = format!("bots[{i}]");
            if !bot_ids.insert(bot.id.clone()) {
                problems.push(repeated(&at));
            }
            let draft = crate::bot::BotDraft {
                name: bot.name.clone(),
                username: bot.username.clone(),
                description: bot.description.clone(),
                enabled: bot.enabled,
            };
            if let Err(errors) = draft.validate() {
                problems.extend(errors.into_iter().map(|e| ImportProblem::field(&at, e)));
            }
            let mut valid = Vec::new();
            for (j, endpoint) in bot.endpoints.iter().enumerate() {
                match endpoint.validate() {
                    Ok(v) => valid.push(v),
                    Err(errors) => problems.extend(errors.into_iter().map(|e| ImportProblem::field(&format!("{at}.endpoints[{j}]"), e))),
                }
            }
            for (j, scenario) in bot.scenarios.iter().enumerate() {
                if let Err(errors) = scenario.validate() {
                    problems.extend(errors.into_iter().map(|e| {
                        let message = match &e.step {
                            Some(step) => format!("step {step}: {}", e.message),
                            None => e.message.clone(),
                        };
                        ImportProblem::new(format!("{at}.scenarios[{j}].{}", e.field), ImportIssue::Scenario { step: e.step, issue: e.issue }, message)
                    }));
                }
            }
            bots.push((bot, valid));
        }
        check_maps(&doc.maps, &mut problems);
        if problems.is_empty() {
            Ok(ValidProjectExport { project: doc.project, bots, maps: doc.maps })
        } else {
            Err(problems)
        }
    }
}

impl MapExport {
    pub fn kind(&self) -> MapKind {
        self.content.kind()
    }
}

/// Every map of `maps` by the studio's rules, each id once; problems at
/// `maps[i]…`.
fn check_maps(maps: &[MapExport], problems: &mut Vec<ImportProblem>) {
    let mut ids = std::collections::HashSet::new();
    for (i, map) in maps.iter().enumerate() {
        let at = format!("maps[{i}]");
        if !ids.insert(map.id.clone()) {
            problems.push(ImportProblem::new(format!("{at}.id"), ImportIssue::Repeated, "appears twice"));
        }
        if let Err(e) = super::parse_title(&map.title) {
            problems.push(ImportProblem::field(&at, e));
        }
        if let Err(errors) = map.content.validate() {
            problems.extend(errors.into_iter().map(|e| ImportProblem::field(&format!("{at}.content"), e)));
        }
    }
}

/// The maps of one project as a JSON document for CI (SPEC §3: "export/
/// import of maps … as JSON for CI"): `GET /bots/{botId}/maps` gives the
/// maps of the bot's project, and `POST /bots/{botId}/maps/import` puts
/// them back by id — a changed map as its next version, a new id as a new
/// map, an unchanged one left as it is. Ids are kept, so links between
/// maps survive the round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapsExport {
    /// [`MapsExport::FORMAT`].
    pub format: String,
    pub project_id: crate::ProjectId,
    pub maps: Vec<MapExport>,
}

impl MapsExport {
    pub const FORMAT: &'static str = "comops.maps/v1";

    /// Reads and checks a document: the format and every map by the
    /// studio's rules. The document's `project_id` is not required to
    /// match the project it goes into.
    pub fn parse(json: &[u8]) -> Result<Vec<MapExport>, Vec<ImportProblem>> {
        if json.len() > 64 * super::limits::MAX_BYTES {
            return Err(vec![ImportProblem::new("", ImportIssue::TooLarge, "the document is too large")]);
        }
        let doc: MapsExport = serde_json::from_slice(json).map_err(|e| {
            vec![ImportProblem::new("", ImportIssue::NotAnExport { detail: e.to_string() }, format!("not a maps export: {e}"))]
        })?;
        let mut problems = Vec::new();
        if doc.format != Self::FORMAT {
            problems.push(ImportProblem::new("format", ImportIssue::WrongFormat, format!("expected \"{}\"", Self::FORMAT)));
        }
        check_maps(&doc.maps, &mut problems);
        if problems.is_empty() { Ok(doc.maps) } else { Err(problems) }
    }
}
