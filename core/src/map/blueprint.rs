//! Service Blueprint (seed: «Классическая структура Service Blueprint»):
//! four lanes — Customer Actions, Front Stage, Back Stage, Support
//! Processes — across the stages of a service. Three lines separate the
//! lanes: the line of interaction (customer ↔ front stage), the line of
//! visibility (what the customer sees ↔ what happens behind) and the line
//! of internal interaction (staff and bots ↔ supporting systems).
//! [`Crossing`]s are the arrows across a line at a stage — the places the
//! seed says become endpoints («Blueprint → DMI → Интеграции»), which is
//! why a cell can be bound to live endpoints.

use super::{fields, EndpointBinding, ItemRef};
use crate::locale::Locale;
use crate::validation::{FieldError, Problem};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A lane, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    CustomerActions,
    FrontStage,
    BackStage,
    Support,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::CustomerActions, Lane::FrontStage, Lane::BackStage, Lane::Support];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::CustomerActions => "customer_actions",
            Lane::FrontStage => "front_stage",
            Lane::BackStage => "back_stage",
            Lane::Support => "support",
        }
    }

    /// The seed's row header.
    pub fn title(self) -> &'static str {
        match self {
            Lane::CustomerActions => "Customer Actions",
            Lane::FrontStage => "Front Stage Interactions",
            Lane::BackStage => "Back Stage Interactions",
            Lane::Support => "Support Processes / Systems",
        }
    }

    /// The row header as the studio's Russian screens name it.
    pub fn title_ru(self) -> &'static str {
        match self {
            Lane::CustomerActions => "Действия клиента",
            Lane::FrontStage => "Front Stage (видимое)",
            Lane::BackStage => "Back Stage (невидимое)",
            Lane::Support => "Поддерживающие процессы",
        }
    }

    /// The lane's name on the studio's screens in `locale`: the seed's
    /// row header, or the Russian one.
    pub fn name(self, locale: Locale) -> &'static str {
        match locale {
            Locale::Ru => self.title_ru(),
            Locale::En => self.title(),
        }
    }

    /// The lane its JSON name (`front_stage`) names.
    pub fn parse(raw: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|lane| lane.as_str() == raw)
    }

    /// The field of a stage that holds the lane's text (`front_stage.text`).
    pub fn text_field(self) -> &'static str {
        match self {
            Lane::CustomerActions => "customer_actions.text",
            Lane::FrontStage => "front_stage.text",
            Lane::BackStage => "back_stage.text",
            Lane::Support => "support.text",
        }
    }

    /// The line drawn under the lane (none under the last).
    pub fn line_below(self) -> Option<Line> {
        Line::ALL.into_iter().find(|line| line.between().0 == self)
    }
}

/// The lines between lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// Between Customer Actions and Front Stage.
    Interaction,
    /// Between Front Stage and Back Stage: the customer sees nothing below.
    Visibility,
    /// Between Back Stage and Support Processes.
    InternalInteraction,
}

impl Line {
    pub const ALL: [Line; 3] = [Line::Interaction, Line::Visibility, Line::InternalInteraction];

    /// The lanes just above and just below the line.
    pub fn between(self) -> (Lane, Lane) {
        match self {
            Line::Interaction => (Lane::CustomerActions, Lane::FrontStage),
            Line::Visibility => (Lane::FrontStage, Lane::BackStage),
            Line::InternalInteraction => (Lane::BackStage, Lane::Support),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Line::Interaction => "Line of interaction",
            Line::Visibility => "Line of visibility",
            Line::InternalInteraction => "Line of internal interaction",
        }
    }

    /// The line's name on the studio's screens in `locale`.
    pub fn name(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::En, line) => line.title(),
            (Locale::Ru, Line::Interaction) => "Линия взаимодействия",
            (Locale::Ru, Line::Visibility) => "Линия видимости",
            (Locale::Ru, Line::InternalInteraction) => "Линия внутреннего взаимодействия",
        }
    }

    /// Its JSON name, as a crossing's `line` holds it (`internal_interaction`).
    pub fn as_str(self) -> &'static str {
        match self {
            Line::Interaction => "interaction",
            Line::Visibility => "visibility",
            Line::InternalInteraction => "internal_interaction",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Line::ALL.into_iter().find(|line| line.as_str() == raw)
    }
}

/// The id other maps use for the cell of `stage` in `lane`: `stage:lane`.
pub fn cell_id(stage: &str, lane: Lane) -> String {
    format!("{stage}:{}", lane.as_str())
}

/// One cell: text, and the live endpoints behind it (architect's binding).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cell {
    pub text: String,
    pub endpoints: Vec<EndpointBinding>,
}

/// A column of the blueprint: a stage and its four cells.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlueprintStage {
    pub id: String,
    /// The stage's name (`Awareness`, `Registration`, …).
    pub name: String,
    pub customer_actions: Cell,
    pub front_stage: Cell,
    pub back_stage: Cell,
    pub support: Cell,
    /// CJM stages this blueprint stage serves (the loop's link).
    pub cjm_stages: Vec<ItemRef>,
}

impl BlueprintStage {
    pub fn cell(&self, lane: Lane) -> &Cell {
        match lane {
            Lane::CustomerActions => &self.customer_actions,
            Lane::FrontStage => &self.front_stage,
            Lane::BackStage => &self.back_stage,
            Lane::Support => &self.support,
        }
    }

    pub fn cell_mut(&mut self, lane: Lane) -> &mut Cell {
        match lane {
            Lane::CustomerActions => &mut self.customer_actions,
            Lane::FrontStage => &mut self.front_stage,
            Lane::BackStage => &mut self.back_stage,
            Lane::Support => &mut self.support,
        }
    }
}

/// An arrow across a line at a stage: "bot sends the scenario" across the
/// line of interaction, "CRM webhook" across the line of visibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    pub id: String,
    /// The stage's id.
    pub stage: String,
    pub line: Line,
    /// True when the arrow points up (from the lower lane to the upper).
    #[serde(default)]
    pub upward: bool,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    /// For whom and what process (seed: «Определите цель и персону»).
    #[serde(default)]
    pub persona: String,
    #[serde(default)]
    pub stages: Vec<BlueprintStage>,
    #[serde(default)]
    pub crossings: Vec<Crossing>,
}

impl Blueprint {
    pub(crate) fn read(value: &serde_json::Value, errors: &mut Vec<FieldError>) -> Self {
        let o = fields::object(value, "", errors);
        let persona = fields::text(o, "persona", "", errors);
        let mut seen = HashSet::new();
        let stages: Vec<BlueprintStage> = fields::rows(o, "stages", errors)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("stages[{i}]");
                let s = fields::object(v, &path, errors);
                let mut stage = BlueprintStage {
                    id: fields::id(s, &path, &mut seen, errors),
                    name: fields::text(s, "name", &path, errors),
                    cjm_stages: fields::refs(s, "cjm_stages", &path, errors),
                    ..Default::default()
                };
                for lane in Lane::ALL {
                    let at = format!("{path}.{}", lane.as_str());
                    let cell = match s.get(lane.as_str()) {
                        None | Some(serde_json::Value::Null) => Cell::default(),
                        Some(v) => {
                            let c = fields::object(v, &at, errors);
                            Cell { text: fields::text(c, "text", &at, errors), endpoints: fields::bindings(c, "endpoints", &at, errors) }
                        }
                    };
                    *stage.cell_mut(lane) = cell;
                }
                stage
            })
            .collect();
        let mut crossing_ids = HashSet::new();
        let crossings = fields::list(o, "crossings", "", super::limits::MAX_ROWS, errors)
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let path = format!("crossings[{i}]");
                let c = fields::object(v, &path, errors);
                let id = fields::id(c, &path, &mut crossing_ids, errors);
                let stage = fields::text_max(c, "stage", &path, super::limits::MAX_ID, errors);
                if !stages.iter().any(|s| s.id == stage) {
                    errors.push(FieldError::new(format!("{path}.stage"), if stage.is_empty() { Problem::Required } else { Problem::Unknown }));
                }
                let line_raw = fields::text_max(c, "line", &path, 40, errors);
                let line = Line::parse(&line_raw);
                if line.is_none() {
                    errors.push(FieldError::new(format!("{path}.line"), if line_raw.is_empty() { Problem::Required } else { Problem::Unknown }));
                }
                let upward = match c.get("upward") {
                    None | Some(serde_json::Value::Null) => false,
                    Some(serde_json::Value::Bool(b)) => *b,
                    Some(_) => {
                        errors.push(FieldError::new(format!("{path}.upward"), Problem::BadJson));
                        false
                    }
                };
                let note = fields::text(c, "note", &path, errors);
                Some(Crossing { id, stage, line: line?, upward, note })
            })
            .collect();
        Blueprint { persona, stages, crossings }
    }
}
