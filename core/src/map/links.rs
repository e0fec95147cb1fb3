//! The ComOps loop view (SPEC §6): CJM stage → communication-map rows →
//! blueprint cells → endpoints, navigable both ways.
//!
//! Links are stored once, on the side that knows them (a row names its
//! stages and cells and its trigger endpoint, a blueprint stage its CJM
//! stages, a cell its endpoints). [`loop_view`] turns a project's maps
//! into one graph of nodes and directed edges; [`LoopView::neighbours`]
//! walks it in both directions. Links to items that no longer exist are
//! listed in [`LoopView::dangling`] rather than dropped silently.

use super::blueprint::{cell_id, Lane};
use super::{EndpointBinding, ItemRef, Map, MapContent};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What a node of the loop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    CjmStage,
    BlueprintStage,
    BlueprintCell,
    CommRow,
    IntegrationRow,
    Endpoint,
}

/// One node: a map item (`map_x#item`) or an endpoint (`bot_x/alias`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopNode {
    /// `map_x#item` or `endpoint:bot_x/alias`.
    pub key: String,
    pub kind: NodeKind,
    pub label: String,
}

/// A stored link, from the item that holds it to the item it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopEdge {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopView {
    pub nodes: Vec<LoopNode>,
    pub edges: Vec<LoopEdge>,
    /// Links whose target is not in any map: (holder, target).
    pub dangling: Vec<LoopEdge>,
}

pub fn item_key(r: &ItemRef) -> String {
    r.to_text()
}

pub fn endpoint_key(b: &EndpointBinding) -> String {
    format!("endpoint:{}/{}", b.bot_id, b.alias)
}

impl LoopView {
    /// Nodes linked to `key` either way, with the direction (`true`: `key` holds the link).
    pub fn neighbours(&self, key: &str) -> Vec<(&LoopNode, bool)> {
        let node = |k: &str| self.nodes.iter().find(|n| n.key == k);
        self.edges
            .iter()
            .filter_map(|e| {
                if e.from == key {
                    node(&e.to).map(|n| (n, true))
                } else if e.to == key {
                    node(&e.from).map(|n| (n, false))
                } else {
                    None
                }
            })
            .collect()
    }
}

/// Builds the loop of a project's maps. Endpoints appear as nodes when a
/// row or cell binds them (the caller marks the ones that are not live).
/// Nodes keep the order of the maps and of their items (a CJM's stages in
/// journey order), endpoints last in the order first bound: the loop
/// view draws each column in this order before untangling it.
pub fn loop_view(maps: &[Map]) -> LoopView {
    let mut nodes: Vec<LoopNode> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut links: Vec<(String, String)> = Vec::new();
    let mut add = |key: String, kind: NodeKind, label: &str| {
        if seen.insert(key.clone()) {
            nodes.push(LoopNode { key, kind, label: label.to_string() });
        }
    };
    let mut endpoints: Vec<EndpointBinding> = Vec::new();
    for map in maps {
        let at = |item: &str| format!("{}#{item}", map.id);
        match &map.content {
            MapContent::Cjm(m) => {
                for s in &m.stages {
                    add(at(&s.id), NodeKind::CjmStage, &s.stage);
                }
            }
            MapContent::Blueprint(m) => {
                for s in &m.stages {
                    add(at(&s.id), NodeKind::BlueprintStage, &s.name);
                    links.extend(s.cjm_stages.iter().map(|r| (at(&s.id), item_key(r))));
                    for lane in Lane::ALL {
                        let cell = s.cell(lane);
                        let key = at(&cell_id(&s.id, lane));
                        add(key.clone(), NodeKind::BlueprintCell, &cell.text);
                        links.push((key.clone(), at(&s.id)));
                        for b in &cell.endpoints {
                            endpoints.push(b.clone());
                            links.push((key.clone(), endpoint_key(b)));
                        }
                    }
                }
            }
            MapContent::Communication(m) => {
                for r in &m.rows {
                    let key = at(&r.id);
                    add(key.clone(), NodeKind::CommRow, &r.event);
                    links.extend(r.stages.iter().chain(&r.cells).map(|t| (key.clone(), item_key(t))));
                    if let Some(b) = r.trigger.binding() {
                        links.push((key.clone(), endpoint_key(&b)));
                        endpoints.push(b);
                    }
                }
            }
            MapContent::Integration(m) => {
                for r in &m.rows {
                    let key = at(&r.id);
                    // Undescribed: named by the endpoint it documents.
                    let label = if r.description.trim().is_empty() { r.alias.as_ref().map_or("", |a| a.as_str()) } else { &r.description };
                    add(key.clone(), NodeKind::IntegrationRow, label);
                    if let Some(b) = r.binding() {
                        links.push((key.clone(), endpoint_key(&b)));
                        endpoints.push(b);
                    }
                }
            }
        }
    }
    for b in &endpoints {
        add(endpoint_key(b), NodeKind::Endpoint, &b.url());
    }
    let known: HashSet<String> = nodes.iter().map(|n| n.key.clone()).collect();
    let mut view = LoopView { nodes, ..Default::default() };
    for (from, to) in links {
        let edge = LoopEdge { from, to };
        if known.contains(&edge.to) {
            view.edges.push(edge);
        } else {
            view.dangling.push(edge);
        }
    }
    view
}
