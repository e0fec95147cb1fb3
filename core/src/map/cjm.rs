//! Customer Journey Map (seed: «Шаблон таблицы Customer Journey»): one
//! row per stage of the customer's path, with the template's ten columns
//! and a numeric emotion score (−2 … +2) that the editor draws as the
//! emotion curve. The last two columns (opportunities, owner) are the
//! blueprint's backstage; communication and integrations are the "ComOps
//! zone" that communication maps and integration points zoom into.

use super::fields;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Lowest and highest emotion score (the curve's range).
pub const EMOTION_MIN: i8 = -2;
pub const EMOTION_MAX: i8 = 2;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cjm {
    /// Who travels this path and why (seed: «Определите персону и цель»).
    #[serde(default)]
    pub persona: String,
    #[serde(default)]
    pub stages: Vec<CjmStage>,
}

/// One stage (a row of the template).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CjmStage {
    /// Stable id, referenced by communication-map rows and blueprint stages.
    pub id: String,
    /// «Этап пути клиента».
    pub stage: String,
    /// «Цель клиента / зачем он это делает».
    pub goal: String,
    /// «Действия клиента».
    pub actions: String,
    /// «Эмоции» as written (emoji welcome).
    pub emotions: String,
    /// The emotion as a number for the curve, −2 (very bad) … +2 (very
    /// good); none until the analyst scores the stage (not drawn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emotion_score: Option<i8>,
    /// «Потребности и боли».
    pub needs: String,
    /// «Точки контакта».
    pub touchpoints: String,
    /// «Коммуникация (сценарий / сообщение)».
    pub communication: String,
    /// «Интеграции / Системы».
    pub integrations: String,
    /// «Возможности для улучшения».
    pub opportunities: String,
    /// «Ответственный».
    pub owner: String,
}

/// The template's text columns in order: (field, seed's header, English header).
pub const COLUMNS: [(&str, &str, &str); 10] = [
    ("stage", "Этап пути клиента", "Stage"),
    ("goal", "Цель клиента / зачем он это делает", "Customer goal"),
    ("actions", "Действия клиента", "Customer actions"),
    ("emotions", "Эмоции", "Emotions"),
    ("needs", "Потребности и боли", "Needs and pains"),
    ("touchpoints", "Точки контакта", "Touchpoints"),
    ("communication", "Коммуникация (сценарий / сообщение)", "Communication (scenario / message)"),
    ("integrations", "Интеграции / Системы", "Integrations / systems"),
    ("opportunities", "Возможности для улучшения", "Opportunities"),
    ("owner", "Ответственный", "Owner"),
];

impl CjmStage {
    /// The text of column `field` (one of [`COLUMNS`]).
    pub fn column(&self, field: &str) -> &str {
        match field {
            "stage" => &self.stage,
            "goal" => &self.goal,
            "actions" => &self.actions,
            "emotions" => &self.emotions,
            "needs" => &self.needs,
            "touchpoints" => &self.touchpoints,
            "communication" => &self.communication,
            "integrations" => &self.integrations,
            "opportunities" => &self.opportunities,
            "owner" => &self.owner,
            _ => "",
        }
    }

    pub fn column_mut(&mut self, field: &str) -> Option<&mut String> {
        Some(match field {
            "stage" => &mut self.stage,
            "goal" => &mut self.goal,
            "actions" => &mut self.actions,
            "emotions" => &mut self.emotions,
            "needs" => &mut self.needs,
            "touchpoints" => &mut self.touchpoints,
            "communication" => &mut self.communication,
            "integrations" => &mut self.integrations,
            "opportunities" => &mut self.opportunities,
            "owner" => &mut self.owner,
            _ => return None,
        })
    }
}

impl Cjm {
    pub(crate) fn read(value: &serde_json::Value, errors: &mut Vec<FieldError>) -> Self {
        let o = fields::object(value, "", errors);
        let persona = fields::text(o, "persona", "", errors);
        let mut seen = HashSet::new();
        let stages = fields::rows(o, "stages", errors)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("stages[{i}]");
                let s = fields::object(v, &path, errors);
                let id = fields::id(s, &path, &mut seen, errors);
                let mut stage = CjmStage { id, ..Default::default() };
                for (field, _, _) in COLUMNS {
                    let value = fields::text(s, field, &path, errors);
                    if let Some(slot) = stage.column_mut(field) {
                        *slot = value;
                    }
                }
                stage.emotion_score =
                    fields::optional_int(s, "emotion_score", &path, EMOTION_MIN as i64..=EMOTION_MAX as i64, errors).map(|n| n as i8);
                stage
            })
            .collect();
        Cjm { persona, stages }
    }
}
