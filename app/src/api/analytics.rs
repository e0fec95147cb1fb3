//! The analytics screen's one server function (`View`): SPEC §8's metrics,
//! the weekly engagement trend, the funnel and the step heatmap of one bot
//! over a period, for all its runs or those of one endpoint, scenario or
//! communication map (the map's rows bound to this bot's endpoints).

use crate::error::AppError;
use comops_core::analytics::Report;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the filter bar asks for. Dates are `YYYY-MM-DD` (UTC), `to`
/// inclusive; empty means the last 30 days up to today.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyticsQuery {
    pub bot_id: String,
    pub from: String,
    pub to: String,
    /// `endpoint`, `scenario`, `map` or empty (every run of the bot).
    pub scope: String,
    /// The alias, scenario name or map id `scope` names.
    pub value: String,
}

/// A choice of the scope picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeChoice {
    pub scope: String,
    pub value: String,
    pub label: String,
}

/// The page's data: the bots, the resolved query (dates filled in), the
/// scopes this bot offers and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsPage {
    pub bots: Vec<crate::api::endpoints::BotChoice>,
    pub query: AnalyticsQuery,
    pub scopes: Vec<ScopeChoice>,
    pub report: Report,
}

/// The default period: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;

#[server(prefix = "/api", endpoint = "analytics/report")]
pub async fn analytics_report(query: AnalyticsQuery) -> Result<AnalyticsPage, AppError> {
    use crate::session::{backend, require};
    use comops_core::analytics::{day_of, report, Scope, DAY_MS, MAX_PERIOD_DAYS};
    use comops_core::map::{MapContent, MapId};
    use comops_core::{BotId, FieldError, Problem};
    require(comops_core::Permission::View)?;
    let store = backend()?.store;
    let bots = crate::api::endpoints::list_bot_choices().await?;
    let bot_id = if query.bot_id.trim().is_empty() { bots.first().map(|b| b.id.clone()).unwrap_or_default() } else { query.bot_id.trim().to_string() };
    let bot = BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let bot_row = store.bot(&bot).await?;

    let today = comops_core::store::now_millis().div_euclid(DAY_MS);
    let date = |field: &str, raw: &str, default: i64| -> Result<i64, AppError> {
        if raw.trim().is_empty() {
            return Ok(default);
        }
        day_of(raw).ok_or_else(|| AppError::Invalid(vec![FieldError::new(field, Problem::BadDateTime)]))
    };
    let to_day = date("to", &query.to, today)? + 1;
    let from_day = date("from", &query.from, to_day - DEFAULT_DAYS)?;
    if from_day >= to_day || to_day - from_day > MAX_PERIOD_DAYS {
        return Err(AppError::Invalid(vec![FieldError::new("from", Problem::OutOfRange)]));
    }

    let endpoints = store.list_endpoints(&bot).await?;
    let scenarios = store.list_scenarios(&bot).await?;
    // The communication maps with a row bound to this bot: the figures are
    // the bot's, and a map of other bots' rows would only show zeros.
    let maps: Vec<_> = store
        .project_maps_of(&bot_row.project_id, &[comops_core::map::MapKind::Communication])
        .await?
        .into_iter()
        .filter(|m| match &m.content {
            MapContent::Communication(content) => content.rows.iter().filter_map(|row| row.trigger.binding()).any(|binding| binding.bot_id == bot),
            _ => false,
        })
        .collect();
    let mut scopes = Vec::new();
    scopes.extend(endpoints.iter().map(|e| ScopeChoice { scope: "endpoint".into(), value: e.alias.to_string(), label: format!("/{}", e.alias) }));
    scopes.extend(scenarios.iter().map(|s| ScopeChoice { scope: "scenario".into(), value: s.name.clone(), label: s.name.clone() }));
    scopes.extend(maps.iter().map(|m| ScopeChoice { scope: "map".into(), value: m.id.to_string(), label: m.title.clone() }));

    let value = query.value.trim().to_string();
    let scope = match query.scope.as_str() {
        "" => Scope::default(),
        "endpoint" => Scope { aliases: Some([value.clone()].into()), scenario: None },
        "scenario" => Scope { aliases: None, scenario: Some(value.clone()) },
        "map" => {
            let id = MapId::parse(&value).ok_or(AppError::NotFound)?;
            let map = store.map(&id).await?;
            if map.project_id != bot_row.project_id {
                return Err(AppError::NotFound);
            }
            let MapContent::Communication(content) = &map.content else {
                return Err(AppError::Invalid(vec![FieldError::new("value", Problem::NotAllowedForType)]));
            };
            let aliases = content
                .rows
                .iter()
                .filter_map(|row| row.trigger.binding())
                .filter(|binding| binding.bot_id == bot)
                .map(|binding| binding.alias.to_string())
                .collect();
            Scope { aliases: Some(aliases), scenario: None }
        }
        _ => return Err(AppError::Invalid(vec![FieldError::new("scope", Problem::Unknown)])),
    };

    let facts = store.analytics_facts(&bot, from_day * DAY_MS, to_day * DAY_MS).await?;
    let report = report(&facts, &scope, from_day, to_day);
    let query = AnalyticsQuery {
        bot_id,
        from: comops_core::analytics::date_of(from_day),
        to: comops_core::analytics::date_of(to_day - 1),
        scope: query.scope,
        value,
    };
    Ok(AnalyticsPage { bots, query, scopes, report })
}
