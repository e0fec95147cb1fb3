//! The ComOps loop as a drawing, no views: the project's [`LoopView`]
//! (`comops_core::map::links`) plus its live endpoints and their
//! scenarios, as nodes in columns and links between them.
//!
//! Columns, left to right, follow the loop: CJM stages → communication
//! rows → blueprint stages → blueprint cells → integration points →
//! endpoints → scenarios. Every link joins two different columns, so each
//! is drawn (and walked) from the left one to the right one, whichever
//! side stores it. A node's chain is what it reaches walking only right
//! (downstream) plus only left (upstream): for a CJM stage, the rows and
//! cells that serve it and their endpoints and scenarios.
//!
//! Every endpoint of the project's bots is drawn, also those no map binds
//! yet: they are where an architect drops a row that should call one.
//!
//! Gaps are the breaks an analyst looks for: a CJM stage no communication
//! row names, a map row bound to no endpoint, a bound endpoint that does
//! not exist, an endpoint that starts no scenario, an endpoint no map uses.
//!
//! The trace overlay puts a period's figures on the nodes they belong to
//! ([`LoopGraph::traffic`]): calls and errors on each live endpoint, runs
//! done, waiting and failed on each scenario.
//!
//! Column order within each column: the maps' own order, then the scenario
//! canvas's barycentre sweeps (`components::canvas::layout::order_layers`)
//! to reduce crossings. The same data always gets the same drawing.

use crate::api::maps::{BindableEndpoint, LoopPage, LoopTraffic};
use crate::components::canvas::layout::order_layers;
use comops_core::map::blueprint::Lane;
use comops_core::map::links::{LoopEdge, LoopNode, LoopView, NodeKind};
use comops_core::Locale;
use serde_json::Value;
use std::collections::HashMap;

pub const NODE_W: f64 = 176.0;
pub const NODE_H: f64 = 40.0;
const GAP_X: f64 = 90.0;
const GAP_Y: f64 = 12.0;
const MARGIN: f64 = 40.0;
/// Where the first node of the tallest column starts (the column titles sit above).
pub const TOP: f64 = 56.0;

/// What a node is; the order is the column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Stage,
    Row,
    BlueprintStage,
    Cell,
    IntegrationRow,
    Endpoint,
    Scenario,
}

impl Kind {
    pub const ALL: [Kind; 7] = [Kind::Stage, Kind::Row, Kind::BlueprintStage, Kind::Cell, Kind::IntegrationRow, Kind::Endpoint, Kind::Scenario];

    fn of(kind: NodeKind) -> Kind {
        match kind {
            NodeKind::CjmStage => Kind::Stage,
            NodeKind::CommRow => Kind::Row,
            NodeKind::BlueprintStage => Kind::BlueprintStage,
            NodeKind::BlueprintCell => Kind::Cell,
            NodeKind::IntegrationRow => Kind::IntegrationRow,
            NodeKind::Endpoint => Kind::Endpoint,
        }
    }

    /// The name in `data-kind` attributes and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stage => "cjm_stage",
            Kind::Row => "comm_row",
            Kind::BlueprintStage => "blueprint_stage",
            Kind::Cell => "blueprint_cell",
            Kind::IntegrationRow => "integration_row",
            Kind::Endpoint => "endpoint",
            Kind::Scenario => "scenario",
        }
    }

    /// A map item (opens in the map editor), not an endpoint or scenario.
    pub fn in_map(self) -> bool {
        !matches!(self, Kind::Endpoint | Kind::Scenario)
    }

    /// An item of its map's list the loop may delete: a CJM or blueprint
    /// stage (with the crossings drawn at it) or a row; a cell is part of
    /// its stage.
    pub fn deletable(self) -> bool {
        matches!(self, Kind::Stage | Kind::Row | Kind::BlueprintStage | Kind::IntegrationRow)
    }
}

/// A break in the loop, marked on its node and counted at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// A CJM stage that no communication row names.
    NoRow,
    /// A communication or integration row bound to no endpoint.
    NoEndpoint,
    /// A row or cell binds an endpoint that does not exist.
    NotLive,
    /// An endpoint with no scenario behind it.
    NoScenario,
    /// An endpoint no map row or cell binds (whether or not it starts a
    /// scenario: the maps do not tell where it is called).
    Unused,
}

impl Gap {
    pub const ALL: [Gap; 5] = [Gap::NoRow, Gap::NoEndpoint, Gap::NotLive, Gap::NoScenario, Gap::Unused];

    pub fn as_str(self) -> &'static str {
        match self {
            Gap::NoRow => "no_row",
            Gap::NoEndpoint => "no_endpoint",
            Gap::NotLive => "not_live",
            Gap::NoScenario => "no_scenario",
            Gap::Unused => "unused",
        }
    }
}

/// A live endpoint's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub enabled: bool,
    pub calls: i64,
    pub errors: i64,
    pub last_call_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `map_x#item`, `endpoint:bot_x/alias` or `scenario:bot_x/name`.
    pub key: String,
    pub kind: Kind,
    pub label: String,
    /// The map holding a map item (`map_x`), else empty.
    pub map: String,
    /// The endpoint's or scenario's bot, else empty.
    pub bot: String,
    /// The endpoint's alias or the scenario's name, else empty.
    pub name: String,
    /// An endpoint's figures, when it exists.
    pub live: Option<Live>,
    pub gap: Option<Gap>,
    /// Top-left corner on the canvas.
    pub at: (f64, f64),
}

impl Node {
    /// Where the node opens: the map editor at its row (a blueprint
    /// cell's stage), the endpoint list of its bot, or the scenario editor.
    pub fn href(&self) -> String {
        match self.kind {
            Kind::Endpoint => format!("/endpoints?bot={}", self.bot),
            Kind::Scenario => format!("/scenarios?bot={}&name={}", self.bot, self.name),
            _ => {
                let row = self.item().split(':').next().unwrap_or_default();
                format!("/maps/{}?row={row}", self.map)
            }
        }
    }

    /// A node a communication row may be dropped on: a live endpoint (to
    /// bind it), a CJM stage or a blueprint cell (to link it).
    pub fn takes_rows(&self) -> bool {
        matches!(self.kind, Kind::Stage | Kind::Cell) || (self.kind == Kind::Endpoint && self.live.is_some())
    }

    /// A map item's id within its map (`r1`, `registration:support`), else empty.
    pub fn item(&self) -> &str {
        if self.kind.in_map() {
            self.key.split_once('#').map_or("", |(_, item)| item)
        } else {
            ""
        }
    }
}

/// How far around a node's box a drop still counts (model units): a
/// drop on its border is meant for it. Under half the gap between two
/// nodes of a column, so one point never hits two.
const SLACK: f64 = 4.0;

/// The [`LoopPage`] `project_loop` sends as JSON text, read through
/// `serde_json::Value` (already in the bundle for map content) rather
/// than a derive of its own. Unreadable text is an empty loop.
pub fn parse_loop_page(text: &str) -> LoopPage {
    let v: Value = serde_json::from_str(text).unwrap_or_default();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let edges = |k: &str| list(&v["view"][k]).iter().map(|e| LoopEdge { from: s(e, "from"), to: s(e, "to") }).collect();
    let kind = |t: &str| match t {
        "cjm_stage" => Some(NodeKind::CjmStage),
        "blueprint_stage" => Some(NodeKind::BlueprintStage),
        "blueprint_cell" => Some(NodeKind::BlueprintCell),
        "comm_row" => Some(NodeKind::CommRow),
        "integration_row" => Some(NodeKind::IntegrationRow),
        "endpoint" => Some(NodeKind::Endpoint),
        _ => None,
    };
    let nodes = list(&v["view"]["nodes"]).iter().filter_map(|n| Some(LoopNode { key: s(n, "key"), kind: kind(n.get("kind")?.as_str()?)?, label: s(n, "label") })).collect();
    let strings = |k: &str| list(&v[k]).iter().filter_map(|k| k.as_str().map(str::to_string)).collect();
    LoopPage { view: LoopView { nodes, edges: edges("edges"), dangling: edges("dangling") }, live_endpoints: strings("live_endpoints"), project_bots: strings("project_bots") }
}

/// Hand-moved node positions as the browser keeps them (`localStorage`,
/// per project): `{"map_x#r1": [x, y], …}`.
pub fn encode_positions(moved: &[(String, (f64, f64))]) -> String {
    let map: serde_json::Map<String, Value> = moved.iter().map(|(key, (x, y))| (key.clone(), serde_json::json!([x.round(), y.round()]))).collect();
    Value::Object(map).to_string()
}

/// Reads [`encode_positions`] back; what is not a finite pair is left out,
/// unreadable text is nothing kept.
pub fn decode_positions(text: &str) -> Vec<(String, (f64, f64))> {
    let v: Value = serde_json::from_str(text).unwrap_or_default();
    let Some(map) = v.as_object() else { return Vec::new() };
    map.iter()
        .filter_map(|(key, p)| {
            let (x, y) = (p.get(0)?.as_f64()?, p.get(1)?.as_f64()?);
            (x.is_finite() && y.is_finite()).then(|| (key.clone(), (x, y)))
        })
        .collect()
}

/// What the trace overlay shows on one node, over its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// An endpoint's calls and how many were refused or failed.
    Calls { calls: i64, errors: i64 },
    /// A scenario's runs: done, pending or waiting, failed or stopped.
    Runs { done: i64, waiting: i64, failed: i64 },
}

impl Traffic {
    /// The parts of the node's bar, as shares of the whole (all zero when
    /// nothing happened): calls that went through and errors; or runs
    /// done, waiting and failed.
    pub fn shares(self) -> Vec<f64> {
        let parts = match self {
            Traffic::Calls { calls, errors } => vec![(calls - errors).max(0), errors],
            Traffic::Runs { done, waiting, failed } => vec![done, waiting, failed],
        };
        let total: i64 = parts.iter().sum();
        parts.into_iter().map(|p| if total > 0 { p as f64 / total as f64 } else { 0.0 }).collect()
    }
}

/// A direction of the arrow keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

/// How much of a cell's text names it, in characters.
const CELL_TEXT_CHARS: usize = 60;

/// How a stage or cell a row links to is named ([`LoopGraph::link_name`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkName {
    /// A stage's name; a cell's blueprint stage.
    pub stage: String,
    /// A cell's lane and text.
    pub cell: Option<(Lane, String)>,
    /// Its map's title, when the project has several of its kind.
    pub map: Option<String>,
}

impl LinkName {
    /// "Registration", "First use · Front Stage Interactions: the app
    /// greets" (a cell without text: its lane), "… · Onboarding" with the
    /// map.
    pub fn text(&self, locale: Locale) -> String {
        let mut text = self.stage.clone();
        if let Some((lane, cell)) = &self.cell {
            text = format!("{text} · {}", lane.name(locale));
            // A cell's text can run to lines: one line, cut short.
            let words: Vec<&str> = cell.split_whitespace().collect();
            if !words.is_empty() {
                let line = words.join(" ");
                match line.char_indices().nth(CELL_TEXT_CHARS) {
                    Some((cut, _)) => text = format!("{text}: {}…", &line[..cut]),
                    None => text = format!("{text}: {line}"),
                }
            }
        }
        match &self.map {
            Some(map) => format!("{text} · {map}"),
            None => text,
        }
    }
}

/// The loop, laid out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopGraph {
    pub nodes: Vec<Node>,
    /// (left node, right node), indexes into `nodes`.
    pub edges: Vec<(usize, usize)>,
    /// Each drawn column: its kind and x.
    pub columns: Vec<(Kind, f64)>,
    /// The drawing's size.
    pub size: (f64, f64),
    /// Links to items that no longer exist (not drawn), by the node that
    /// holds them (a communication row or a blueprint stage, whose map's
    /// editor can take them out) and the key of the item they name.
    pub dangling_links: Vec<(usize, String)>,
    /// The project's bots (an endpoint on another bot is not made here).
    pub project_bots: Vec<String>,
}

/// The nodes on a chain and the links between them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chain {
    pub nodes: Vec<bool>,
    pub edges: Vec<bool>,
}

impl LoopGraph {
    /// The loop of `page`, with `endpoints` (every endpoint of the
    /// project's bots) for the live figures and the scenarios, and drawn
    /// as well when no map binds them.
    pub fn build(page: &LoopPage, endpoints: &[BindableEndpoint]) -> LoopGraph {
        let live: HashMap<String, &BindableEndpoint> = endpoints.iter().map(|e| (format!("endpoint:{}/{}", e.bot_id, e.alias), e)).collect();
        let mut nodes: Vec<Node> = Vec::with_capacity(page.view.nodes.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut scenario_links: Vec<(usize, String)> = Vec::new();
        for n in &page.view.nodes {
            let kind = Kind::of(n.kind);
            let mut node = Node { key: n.key.clone(), kind, label: n.label.clone(), map: String::new(), bot: String::new(), name: String::new(), live: None, gap: None, at: (0.0, 0.0) };
            if kind == Kind::Endpoint {
                let rest = n.key.strip_prefix("endpoint:").unwrap_or(&n.key);
                let (bot, alias) = rest.split_once('/').unwrap_or((rest, ""));
                node.bot = bot.to_string();
                node.name = alias.to_string();
                node.label = alias.to_string();
                let known = page.live_endpoints.iter().any(|k| k == &n.key);
                match live.get(&n.key).filter(|_| known) {
                    Some(e) => {
                        node.live = Some(Live { enabled: e.enabled, calls: e.calls, errors: e.errors, last_call_at: e.last_call_at });
                        if e.scenario.is_empty() {
                            node.gap = Some(Gap::NoScenario);
                        } else {
                            scenario_links.push((nodes.len(), format!("scenario:{}/{}", e.bot_id, e.scenario)));
                        }
                    }
                    None => node.gap = Some(Gap::NotLive),
                }
            } else {
                let (map, item) = n.key.split_once('#').unwrap_or((&n.key, ""));
                node.map = map.to_string();
                if node.label.trim().is_empty() {
                    node.label = item.to_string();
                }
            }
            index.insert(n.key.clone(), nodes.len());
            nodes.push(node);
        }
        // Endpoints no map binds: drawn too, as places to drop a row on.
        for e in endpoints {
            let key = format!("endpoint:{}/{}", e.bot_id, e.alias);
            if index.contains_key(&key) {
                continue;
            }
            if !e.scenario.is_empty() {
                scenario_links.push((nodes.len(), format!("scenario:{}/{}", e.bot_id, e.scenario)));
            }
            let live = Live { enabled: e.enabled, calls: e.calls, errors: e.errors, last_call_at: e.last_call_at };
            index.insert(key.clone(), nodes.len());
            nodes.push(Node {
                key,
                kind: Kind::Endpoint,
                label: e.alias.clone(),
                map: String::new(),
                bot: e.bot_id.clone(),
                name: e.alias.clone(),
                live: Some(live),
                gap: Some(Gap::Unused),
                at: (0.0, 0.0),
            });
        }
        let mut edges: Vec<(usize, usize)> = Vec::new();
        let mut link = |a: usize, b: usize, nodes: &[Node]| {
            let (a, b) = if nodes[a].kind <= nodes[b].kind { (a, b) } else { (b, a) };
            if nodes[a].kind != nodes[b].kind && !edges.contains(&(a, b)) {
                edges.push((a, b));
            }
        };
        for e in &page.view.edges {
            if let (Some(&a), Some(&b)) = (index.get(&e.from), index.get(&e.to)) {
                link(a, b, &nodes);
            }
        }
        for (endpoint, key) in scenario_links {
            let s = match index.get(&key) {
                Some(&s) => s,
                None => {
                    let rest = &key["scenario:".len()..];
                    let (bot, name) = rest.split_once('/').map(|(b, n)| (b.to_string(), n.to_string())).unwrap_or_default();
                    index.insert(key.clone(), nodes.len());
                    nodes.push(Node { key, kind: Kind::Scenario, label: name.clone(), map: String::new(), bot, name, live: None, gap: None, at: (0.0, 0.0) });
                    nodes.len() - 1
                }
            };
            link(endpoint, s, &nodes);
        }
        // Gaps of map items: by their links.
        for i in 0..nodes.len() {
            let touches = |kind: Kind| edges.iter().any(|&(a, b)| (a == i && nodes[b].kind == kind) || (b == i && nodes[a].kind == kind));
            nodes[i].gap = match nodes[i].kind {
                Kind::Stage if !touches(Kind::Row) => Some(Gap::NoRow),
                Kind::Row | Kind::IntegrationRow if !touches(Kind::Endpoint) => Some(Gap::NoEndpoint),
                _ => nodes[i].gap,
            };
        }
        // Every holder is a drawn map item.
        let dangling_links = page.view.dangling.iter().filter_map(|e| Some((*index.get(&e.from)?, e.to.clone()))).collect();
        let mut graph = LoopGraph { nodes, edges, dangling_links, project_bots: page.project_bots.clone(), ..Default::default() };
        graph.lay_out();
        graph
    }

    /// Columns by kind (empty kinds take no room), each ordered to reduce
    /// crossings and centred on the tallest.
    fn lay_out(&mut self) {
        let present: Vec<Kind> = Kind::ALL.into_iter().filter(|k| self.nodes.iter().any(|n| n.kind == *k)).collect();
        let rank: Vec<usize> = self.nodes.iter().map(|n| present.iter().position(|k| *k == n.kind).unwrap_or(0)).collect();
        let order: Vec<usize> = (0..self.nodes.len()).collect();
        let mut layers = if self.nodes.is_empty() { Vec::new() } else { order_layers(&rank, &order, &self.edges) };
        if present.first() == Some(&Kind::Stage) {
            self.keep_journey_order(&mut layers, &rank);
        }
        let tallest = layers.iter().map(Vec::len).max().unwrap_or(0) as f64;
        for (r, layer) in layers.iter().enumerate() {
            let x = MARGIN + r as f64 * (NODE_W + GAP_X);
            let offset = (tallest - layer.len() as f64) * (NODE_H + GAP_Y) / 2.0;
            for (k, &node) in layer.iter().enumerate() {
                self.nodes[node].at = (x, TOP + offset + k as f64 * (NODE_H + GAP_Y));
            }
        }
        self.columns = present.iter().enumerate().map(|(r, k)| (*k, MARGIN + r as f64 * (NODE_W + GAP_X))).collect();
        self.size = (MARGIN * 2.0 + present.len() as f64 * (NODE_W + GAP_X) - GAP_X, TOP + MARGIN + tallest * (NODE_H + GAP_Y) - GAP_Y);
    }

    /// The journey reads top to bottom: the CJM stages go back to their
    /// map's order (the sweeps may have moved them), and one more sweep
    /// rightwards sorts every other column by the mean place of its
    /// neighbours on the left.
    fn keep_journey_order(&self, layers: &mut [Vec<usize>], rank: &[usize]) {
        layers[0].sort_unstable();
        let mut place = vec![0.0; self.nodes.len()];
        for layer in layers.iter() {
            for (k, &node) in layer.iter().enumerate() {
                place[node] = k as f64;
            }
        }
        for r in 1..layers.len() {
            let mut keyed: Vec<(f64, usize)> = layers[r]
                .iter()
                .enumerate()
                .map(|(k, &node)| {
                    let left: Vec<f64> = self.edges.iter().filter(|&&(a, b)| b == node && rank[a] < r).map(|&(a, _)| place[a]).collect();
                    (if left.is_empty() { k as f64 } else { left.iter().sum::<f64>() / left.len() as f64 }, node)
                })
                .collect();
            keyed.sort_by(|x, y| x.0.total_cmp(&y.0));
            layers[r] = keyed.into_iter().map(|(_, node)| node).collect();
            for (k, &node) in layers[r].iter().enumerate() {
                place[node] = k as f64;
            }
        }
    }

    /// Puts the nodes named in `kept` at those positions (moved by hand
    /// earlier); returns the indexes moved. Keys no longer drawn are ignored.
    pub fn place(&mut self, kept: &[(String, (f64, f64))]) -> Vec<usize> {
        let mut moved = Vec::new();
        for (key, at) in kept {
            if let Some(i) = self.nodes.iter().position(|n| &n.key == key) {
                self.nodes[i].at = *at;
                moved.push(i);
            }
        }
        moved
    }

    /// The box holding every node and the column titles: (x0, y0, x1, y1).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        self.nodes.iter().fold((0.0, 0.0, self.size.0, self.size.1), |(x0, y0, x1, y1), n| {
            (x0.min(n.at.0 - MARGIN), y0.min(n.at.1 - MARGIN), x1.max(n.at.0 + NODE_W + MARGIN), y1.max(n.at.1 + NODE_H + MARGIN))
        })
    }

    /// The node whose box (with a little slack) holds the model point `at`.
    pub fn node_at(&self, at: (f64, f64)) -> Option<usize> {
        self.nodes.iter().position(|n| {
            (n.at.0 - SLACK..=n.at.0 + NODE_W + SLACK).contains(&at.0) && (n.at.1 - SLACK..=n.at.1 + NODE_H + SLACK).contains(&at.1)
        })
    }

    /// The nodes a rubber band from `a` to `b` (model space, any two
    /// corners) touches, in the graph's order.
    pub fn touching(&self, a: (f64, f64), b: (f64, f64)) -> Vec<usize> {
        let nodes = self.nodes.iter().enumerate().map(|(i, n)| (i, [n.at.0, n.at.1]));
        crate::components::canvas::graph::in_band(nodes, [a.0, a.1], [b.0, b.1], NODE_W, NODE_H)
    }

    /// Where communication row `row`, dragged to the model point `at`,
    /// would go: the live endpoint under it (its trigger is bound there) —
    /// not one that does not exist, nor the one it is bound to already —
    /// or the CJM stage or blueprint cell under it (the row is linked to
    /// it), not one it is linked to already. Other kinds are not dragged.
    pub fn drop_target(&self, row: usize, at: (f64, f64)) -> Option<usize> {
        if self.nodes.get(row)?.kind != Kind::Row {
            return None;
        }
        let e = self.node_at(at)?;
        let linked = self.edges.contains(&(row, e)) || self.edges.contains(&(e, row));
        (self.nodes[e].takes_rows() && !linked).then_some(e)
    }

    /// The endpoint communication row `row` is bound to.
    pub fn bound_endpoint(&self, row: usize) -> Option<usize> {
        if self.nodes.get(row)?.kind != Kind::Row {
            return None;
        }
        self.edges.iter().find(|&&(a, b)| a == row && self.nodes[b].kind == Kind::Endpoint).map(|&(_, b)| b)
    }

    /// Link `k` when it is a communication row's binding (the loop may
    /// remove it): (row, endpoint).
    pub fn binding_link(&self, k: usize) -> Option<(usize, usize)> {
        let &(a, b) = self.edges.get(k)?;
        (self.nodes[a].kind == Kind::Row && self.nodes[b].kind == Kind::Endpoint).then_some((a, b))
    }

    /// Link `k` when it is a communication row's CJM stage or blueprint
    /// cell (the row holds it; the loop may remove it): (row, stage or cell).
    pub fn row_link(&self, k: usize) -> Option<(usize, usize)> {
        let &(a, b) = self.edges.get(k)?;
        match (self.nodes[a].kind, self.nodes[b].kind) {
            (Kind::Stage, Kind::Row) => Some((b, a)),
            (Kind::Row, Kind::Cell) => Some((a, b)),
            _ => None,
        }
    }

    /// How node `k` is named where a row links to it (its panel, a version
    /// note): a CJM stage by its label; a blueprint cell by its blueprint
    /// stage (the node it is drawn under), its lane (from its id,
    /// `stage:lane`) and its text, which may be empty. `map`: its map's
    /// title, when the project has several maps of its kind.
    pub fn link_name(&self, k: usize, map: Option<String>) -> LinkName {
        let node = &self.nodes[k];
        let lane = (node.kind == Kind::Cell).then(|| node.item().rsplit_once(':').and_then(|(_, lane)| Lane::parse(lane))).flatten();
        let Some(lane) = lane else {
            return LinkName { stage: node.label.clone(), cell: None, map };
        };
        let stage = self.neighbours(k).into_iter().find(|&(s, _)| self.nodes[s].kind == Kind::BlueprintStage).map(|(s, _)| self.nodes[s].label.clone());
        // A cell without text is drawn with its id, which says no more than its lane.
        let text = if node.label == node.item() { String::new() } else { node.label.clone() };
        LinkName { stage: stage.unwrap_or_default(), cell: Some((lane, text)), map }
    }

    /// Link `k` is one the loop may remove: a row's binding, stage or cell.
    pub fn removable(&self, k: usize) -> bool {
        self.binding_link(k).is_some() || self.row_link(k).is_some()
    }

    /// The trace overlay of each node, by index: every live endpoint's
    /// calls and every scenario's runs in `traffic` (zero when it has
    /// none there); nothing on other nodes, nor on an endpoint that does
    /// not exist.
    pub fn traffic(&self, traffic: &LoopTraffic) -> Vec<Option<Traffic>> {
        let calls: HashMap<(&str, &str), (i64, i64)> = traffic.endpoints.iter().map(|e| ((e.bot_id.as_str(), e.alias.as_str()), (e.calls, e.errors))).collect();
        let runs: HashMap<(&str, &str), (i64, i64, i64)> = traffic.scenarios.iter().map(|s| ((s.bot_id.as_str(), s.scenario.as_str()), (s.done, s.waiting, s.failed))).collect();
        self.nodes
            .iter()
            .map(|n| match n.kind {
                Kind::Endpoint if n.live.is_some() => {
                    let (calls, errors) = calls.get(&(n.bot.as_str(), n.name.as_str())).copied().unwrap_or_default();
                    Some(Traffic::Calls { calls, errors })
                }
                Kind::Scenario => {
                    let (done, waiting, failed) = runs.get(&(n.bot.as_str(), n.name.as_str())).copied().unwrap_or_default();
                    Some(Traffic::Runs { done, waiting, failed })
                }
                _ => None,
            })
            .collect()
    }

    /// How many nodes have each gap, in [`Gap::ALL`] order.
    pub fn gap_counts(&self) -> [usize; 5] {
        Gap::ALL.map(|g| self.nodes.iter().filter(|n| n.gap == Some(g)).count())
    }

    /// Nodes linked to `i`: (node, true when it is downstream).
    pub fn neighbours(&self, i: usize) -> Vec<(usize, bool)> {
        let mut out: Vec<(usize, bool)> = self
            .edges
            .iter()
            .filter_map(|&(a, b)| if a == i { Some((b, true)) } else if b == i { Some((a, false)) } else { None })
            .collect();
        out.sort_by(|x, y| (x.1, self.nodes[x.0].at.0, self.nodes[x.0].at.1).partial_cmp(&(y.1, self.nodes[y.0].at.0, self.nodes[y.0].at.1)).unwrap_or(std::cmp::Ordering::Equal));
        out
    }

    /// Everything `i` reaches walking right, and walking left, with the
    /// links walked.
    pub fn chain(&self, i: usize) -> Chain {
        let n = self.nodes.len();
        let walk = |downstream: bool| {
            let mut seen = vec![false; n];
            seen[i] = true;
            let mut stack = vec![i];
            while let Some(at) = stack.pop() {
                for &(a, b) in &self.edges {
                    let (from, to) = if downstream { (a, b) } else { (b, a) };
                    if from == at && !seen[to] {
                        seen[to] = true;
                        stack.push(to);
                    }
                }
            }
            seen
        };
        let (down, up) = (walk(true), walk(false));
        Chain {
            nodes: (0..n).map(|k| down[k] || up[k]).collect(),
            edges: self.edges.iter().map(|&(a, b)| (down[a] && down[b]) || (up[a] && up[b])).collect(),
        }
    }

    /// The node the arrow key `dir` moves the selection to, by where the
    /// nodes are now (hand-moved ones too): up and down to the nearest
    /// node above or below whose box overlaps this one's across; left and
    /// right to the nearest linked node on that side, else the nearest
    /// node on that side — the nearest "column" first (within half a
    /// node's width of the nearest one), then the nearest in height.
    pub fn step(&self, from: Option<usize>, dir: Dir) -> Option<usize> {
        let Some(i) = from else {
            return (0..self.nodes.len()).min_by(|&a, &b| self.nodes[a].at.partial_cmp(&self.nodes[b].at).unwrap_or(std::cmp::Ordering::Equal));
        };
        let (x, y) = self.nodes.get(i)?.at;
        let (dx, dy) = (|k: usize| self.nodes[k].at.0 - x, |k: usize| self.nodes[k].at.1 - y);
        // Nearest in height, then across, then the first drawn.
        let nearest = |candidates: Vec<usize>| candidates.into_iter().min_by(|&a, &b| dy(a).abs().total_cmp(&dy(b).abs()).then(dx(a).abs().total_cmp(&dx(b).abs())).then(a.cmp(&b)));
        match dir {
            Dir::Up | Dir::Down => {
                let down = dir == Dir::Down;
                nearest((0..self.nodes.len()).filter(|&k| k != i && dx(k).abs() < NODE_W && if down { dy(k) > 0.0 } else { dy(k) < 0.0 }).collect())
            }
            Dir::Left | Dir::Right => {
                let right = dir == Dir::Right;
                let ahead = |k: &usize| if right { dx(*k) > NODE_W / 2.0 } else { dx(*k) < -NODE_W / 2.0 };
                let linked: Vec<usize> = self.neighbours(i).into_iter().map(|(k, _)| k).filter(ahead).collect();
                let pool = if linked.is_empty() { (0..self.nodes.len()).filter(ahead).collect() } else { linked };
                let column = pool.iter().map(|&k| dx(k).abs()).fold(f64::MAX, f64::min);
                nearest(pool.into_iter().filter(|&k| dx(k).abs() <= column + NODE_W / 2.0).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, kind: NodeKind, label: &str) -> LoopNode {
        LoopNode { key: key.into(), kind, label: label.into() }
    }

    fn edge(from: &str, to: &str) -> LoopEdge {
        LoopEdge { from: from.into(), to: to.into() }
    }

    fn endpoint(bot: &str, alias: &str, scenario: &str) -> BindableEndpoint {
        BindableEndpoint { bot_id: bot.into(), alias: alias.into(), scenario: scenario.into(), enabled: true, calls: 3, errors: 1, last_call_at: Some(1) }
    }

    fn demo() -> LoopGraph {
        let (page, endpoints) = demo_page();
        LoopGraph::build(&page, &endpoints)
    }

    /// Two CJM stages (one no row names), three rows of a communication
    /// map (one unbound), a blueprint stage with one cell, and endpoints:
    /// one live with a scenario, one live without, plus one that is gone.
    fn demo_page() -> (LoopPage, Vec<BindableEndpoint>) {
        let view = LoopView {
            nodes: vec![
                node("map_cjm#reg", NodeKind::CjmStage, "Регистрация"),
                node("map_cjm#use", NodeKind::CjmStage, "Первое использование"),
                node("map_bp#reg", NodeKind::BlueprintStage, "Registration"),
                node("map_bp#reg:support", NodeKind::BlueprintCell, ""),
                node("map_comm#r1", NodeKind::CommRow, "Зарегистрировался"),
                node("map_comm#r2", NodeKind::CommRow, "Email не подтверждён"),
                node("map_comm#r3", NodeKind::CommRow, "Отзыв"),
                node("endpoint:bot_a/users/connect-bot", NodeKind::Endpoint, "/bots/bot_a/call/users/connect-bot"),
                node("endpoint:bot_a/feedback/received", NodeKind::Endpoint, "/bots/bot_a/call/feedback/received"),
                node("endpoint:bot_a/gone", NodeKind::Endpoint, "/bots/bot_a/call/gone"),
            ],
            edges: vec![
                edge("map_bp#reg", "map_cjm#reg"),
                edge("map_bp#reg:support", "map_bp#reg"),
                edge("map_bp#reg:support", "endpoint:bot_a/users/connect-bot"),
                edge("map_comm#r1", "map_cjm#reg"),
                edge("map_comm#r1", "map_bp#reg:support"),
                edge("map_comm#r1", "endpoint:bot_a/users/connect-bot"),
                edge("map_comm#r2", "map_cjm#reg"),
                edge("map_comm#r3", "endpoint:bot_a/feedback/received"),
                edge("map_comm#r3", "endpoint:bot_a/gone"),
            ],
            dangling: vec![edge("map_comm#r3", "map_cjm#deleted")],
        };
        let page = LoopPage { view, live_endpoints: vec!["endpoint:bot_a/users/connect-bot".into(), "endpoint:bot_a/feedback/received".into()], project_bots: vec!["bot_a".into()] };
        (page, vec![endpoint("bot_a", "users/connect-bot", "registration_flow"), endpoint("bot_a", "feedback/received", ""), endpoint("bot_a", "unbound", "x")])
    }

    #[test]
    fn the_page_reads_back_from_the_servers_json_text() {
        let (page, _) = demo_page();
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(parse_loop_page(&text), page);
        assert_eq!(parse_loop_page("not json"), LoopPage { view: LoopView::default(), live_endpoints: vec![], project_bots: vec![] });
    }

    fn at(g: &LoopGraph, key: &str) -> usize {
        g.nodes.iter().position(|n| n.key == key).unwrap_or_else(|| panic!("no node {key}"))
    }

    #[test]
    fn endpoints_bring_their_scenarios_and_live_figures() {
        let g = demo();
        assert_eq!(g.project_bots, ["bot_a"], "the page's bots, for the panel of an endpoint that does not exist");
        let s = at(&g, "scenario:bot_a/registration_flow");
        let e = at(&g, "endpoint:bot_a/users/connect-bot");
        assert_eq!(g.nodes[s].kind, Kind::Scenario);
        assert_eq!((g.nodes[s].bot.as_str(), g.nodes[s].name.as_str()), ("bot_a", "registration_flow"));
        assert!(g.edges.contains(&(e, s)));
        assert_eq!(g.nodes[e].label, "users/connect-bot");
        assert_eq!(g.nodes[e].live.as_ref().map(|l| (l.calls, l.errors)), Some((3, 1)));
        assert_eq!(g.nodes[e].href(), "/endpoints?bot=bot_a");
        assert_eq!(g.nodes[s].href(), "/scenarios?bot=bot_a&name=registration_flow");
        assert_eq!(g.nodes[at(&g, "map_comm#r1")].href(), "/maps/map_comm?row=r1");
        // A blueprint cell opens at its stage, the editor's row.
        assert_eq!(g.nodes[at(&g, "map_bp#reg:support")].href(), "/maps/map_bp?row=reg");
        assert_eq!((g.nodes[at(&g, "map_bp#reg:support")].item(), g.nodes[e].item()), ("reg:support", ""));
        // An endpoint no map binds is drawn, with its figures and its
        // scenario, marked as used by no map; an empty cell shows its id.
        let unbound = at(&g, "endpoint:bot_a/unbound");
        assert_eq!((g.nodes[unbound].kind, g.nodes[unbound].label.as_str(), g.nodes[unbound].gap), (Kind::Endpoint, "unbound", Some(Gap::Unused)));
        assert_eq!(g.nodes[unbound].live.as_ref().map(|l| l.calls), Some(3));
        assert!(g.edges.contains(&(unbound, at(&g, "scenario:bot_a/x"))));
        assert_eq!(g.neighbours(unbound).iter().filter(|(_, down)| !down).count(), 0, "nothing binds it");
        assert_eq!(g.nodes[at(&g, "map_bp#reg:support")].label, "reg:support");
        assert_eq!(g.dangling_links.len(), 1);
        assert_eq!(g.dangling_links, [(at(&g, "map_comm#r3"), "map_cjm#deleted".to_string())], "held by the row, naming what is gone");
    }

    #[test]
    fn every_link_points_right_and_columns_follow_the_loop() {
        let g = demo();
        for &(a, b) in &g.edges {
            assert!(g.nodes[a].at.0 < g.nodes[b].at.0, "{} → {}", g.nodes[a].key, g.nodes[b].key);
        }
        let kinds: Vec<Kind> = g.columns.iter().map(|c| c.0).collect();
        assert_eq!(kinds, [Kind::Stage, Kind::Row, Kind::BlueprintStage, Kind::Cell, Kind::Endpoint, Kind::Scenario]);
        let mut spots: Vec<(i64, i64)> = g.nodes.iter().map(|n| (n.at.0 as i64, n.at.1 as i64)).collect();
        spots.sort();
        spots.dedup();
        assert_eq!(spots.len(), g.nodes.len(), "two nodes in one place");
        assert!(g.nodes.iter().all(|n| n.at.0 + NODE_W <= g.size.0 && n.at.1 + NODE_H <= g.size.1));
    }

    #[test]
    fn gaps_are_marked_and_counted() {
        let g = demo();
        let gap = |key: &str| g.nodes[at(&g, key)].gap;
        assert_eq!(gap("map_cjm#use"), Some(Gap::NoRow));
        assert_eq!(gap("map_cjm#reg"), None);
        assert_eq!(gap("map_comm#r2"), Some(Gap::NoEndpoint));
        assert_eq!(gap("map_comm#r1"), None);
        assert_eq!(gap("endpoint:bot_a/gone"), Some(Gap::NotLive));
        assert_eq!(gap("endpoint:bot_a/feedback/received"), Some(Gap::NoScenario));
        assert_eq!(gap("endpoint:bot_a/unbound"), Some(Gap::Unused));
        assert_eq!(gap("endpoint:bot_a/users/connect-bot"), None);
        assert_eq!(g.gap_counts(), [1, 1, 1, 1, 1]);
    }

    #[test]
    fn a_stage_chain_reaches_its_endpoint_and_scenario_but_not_other_stages() {
        let g = demo();
        let chain = g.chain(at(&g, "map_cjm#reg"));
        let on = |key: &str| chain.nodes[at(&g, key)];
        for key in ["map_cjm#reg", "map_comm#r1", "map_comm#r2", "map_bp#reg", "map_bp#reg:support", "endpoint:bot_a/users/connect-bot", "scenario:bot_a/registration_flow"] {
            assert!(on(key), "{key} is on the chain");
        }
        for key in ["map_cjm#use", "map_comm#r3", "endpoint:bot_a/feedback/received"] {
            assert!(!on(key), "{key} is not on the chain");
        }
        // Upstream from the scenario: back to the stage, not sideways.
        let chain = g.chain(at(&g, "scenario:bot_a/registration_flow"));
        assert!(chain.nodes[at(&g, "map_cjm#reg")]);
        assert!(!chain.nodes[at(&g, "map_comm#r2")], "r2 only shares the stage");
        let walked = g.edges.iter().zip(&chain.edges).filter(|(_, on)| **on).count();
        assert_eq!(walked, 7);
    }

    #[test]
    fn arrow_keys_walk_columns_and_links() {
        let g = demo();
        let first = g.step(None, Dir::Down).unwrap();
        assert_eq!(g.nodes[first].kind, Kind::Stage);
        let reg = at(&g, "map_cjm#reg");
        let use_ = at(&g, "map_cjm#use");
        assert_eq!(g.step(Some(reg), Dir::Down).or(g.step(Some(reg), Dir::Up)), Some(use_));
        // Right from a stage goes to a row naming it; right from the
        // endpoint, to its scenario; left from the unlinked stage, nowhere.
        let right = g.step(Some(reg), Dir::Right).unwrap();
        assert_eq!(g.nodes[right].kind, Kind::Row);
        let e = at(&g, "endpoint:bot_a/users/connect-bot");
        assert_eq!(g.step(Some(e), Dir::Right), Some(at(&g, "scenario:bot_a/registration_flow")));
        assert_eq!(g.step(Some(use_), Dir::Left), None);
        // With no link that way, the next column's nearest node.
        let next = g.step(Some(use_), Dir::Right).unwrap();
        assert_eq!(g.nodes[next].kind, Kind::Row);
    }

    #[test]
    fn a_rubber_band_touches_the_nodes_it_crosses_whichever_way_it_is_drawn() {
        let g = demo();
        let (x, y) = g.nodes[0].at;
        // A band over the first node's lower right corner only.
        let band = ((x + NODE_W - 5.0, y + NODE_H - 5.0), (x + NODE_W + 1.0, y + NODE_H + 1.0));
        assert_eq!(g.touching(band.0, band.1), [0]);
        assert_eq!(g.touching(band.1, band.0), [0], "drawn up and left");
        // Over everything: every node, in order; over nothing: none.
        let (w, h) = g.size;
        assert_eq!(g.touching((-10.0, -10.0), (w + 10.0, h + 10.0)), (0..g.nodes.len()).collect::<Vec<_>>());
        assert!(g.touching((-50.0, -50.0), (-40.0, -40.0)).is_empty());
    }

    #[test]
    fn arrow_keys_walk_where_nodes_were_moved_by_hand() {
        let mut g = demo();
        let (reg, use_) = (at(&g, "map_cjm#reg"), at(&g, "map_cjm#use"));
        let (x, y) = g.nodes[reg].at;
        // The second stage moved above the first and a little right,
        // still in the stages' column: up from the first goes to it.
        g.place(&[("map_cjm#use".into(), (x + 30.0, y - 100.0))]);
        assert_eq!(g.step(Some(reg), Dir::Up), Some(use_));
        assert_eq!(g.step(Some(reg), Dir::Down), None);
        assert_eq!(g.step(Some(use_), Dir::Down), Some(reg));
        assert_eq!(g.step(Some(use_), Dir::Up), None);
        // Right from it: the rows' column, the nearest in height.
        let right = g.step(Some(use_), Dir::Right).unwrap();
        assert_eq!(g.nodes[right].kind, Kind::Row);
        let rows: Vec<usize> = (0..g.nodes.len()).filter(|&k| g.nodes[k].kind == Kind::Row).collect();
        let top_row = rows.iter().copied().min_by(|&a, &b| g.nodes[a].at.1.total_cmp(&g.nodes[b].at.1)).unwrap();
        assert_eq!(right, top_row);
        // A row dragged right of the scenarios: right from a scenario
        // reaches it; left from it, its endpoint (linked) comes before the
        // nearer scenarios.
        let r1 = at(&g, "map_comm#r1");
        let scenario = g.nodes[at(&g, "scenario:bot_a/registration_flow")].at;
        g.place(&[("map_comm#r1".into(), (scenario.0 + 400.0, scenario.1))]);
        assert_eq!(g.step(Some(at(&g, "scenario:bot_a/registration_flow")), Dir::Right), Some(r1));
        assert_eq!(g.step(Some(r1), Dir::Left), Some(at(&g, "endpoint:bot_a/users/connect-bot")));
    }

    #[test]
    fn the_overlay_puts_calls_on_endpoints_and_runs_on_scenarios() {
        use crate::api::maps::{EndpointTraffic, ScenarioTraffic};
        let g = demo();
        let traffic = LoopTraffic {
            endpoints: vec![
                EndpointTraffic { bot_id: "bot_a".into(), alias: "users/connect-bot".into(), calls: 12, errors: 3 },
                // Another bot's endpoint of the same alias is not this one.
                EndpointTraffic { bot_id: "bot_b".into(), alias: "feedback/received".into(), calls: 99, errors: 0 },
                EndpointTraffic { bot_id: "bot_a".into(), alias: "gone".into(), calls: 5, errors: 5 },
            ],
            scenarios: vec![ScenarioTraffic { bot_id: "bot_a".into(), scenario: "registration_flow".into(), done: 7, waiting: 2, failed: 1 }],
        };
        let figures = g.traffic(&traffic);
        assert_eq!(figures.len(), g.nodes.len());
        let of = |key: &str| figures[at(&g, key)];
        assert_eq!(of("endpoint:bot_a/users/connect-bot"), Some(Traffic::Calls { calls: 12, errors: 3 }));
        assert_eq!(of("endpoint:bot_a/feedback/received"), Some(Traffic::Calls { calls: 0, errors: 0 }));
        assert_eq!(of("endpoint:bot_a/unbound"), Some(Traffic::Calls { calls: 0, errors: 0 }), "an endpoint no map uses has figures too");
        assert_eq!(of("endpoint:bot_a/gone"), None, "an endpoint that does not exist has none");
        assert_eq!(of("scenario:bot_a/registration_flow"), Some(Traffic::Runs { done: 7, waiting: 2, failed: 1 }));
        assert_eq!(of("scenario:bot_a/x"), Some(Traffic::Runs { done: 0, waiting: 0, failed: 0 }));
        assert_eq!(of("map_comm#r1"), None);
        assert_eq!(of("map_cjm#reg"), None);
        // The bar's shares.
        assert_eq!(Traffic::Calls { calls: 12, errors: 3 }.shares(), vec![0.75, 0.25]);
        assert_eq!(Traffic::Runs { done: 7, waiting: 2, failed: 1 }.shares(), vec![0.7, 0.2, 0.1]);
        assert_eq!(Traffic::Runs { done: 0, waiting: 0, failed: 0 }.shares(), vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn stages_go_back_to_journey_order_and_rows_follow_them() {
        let g = demo();
        let (reg, use_) = (at(&g, "map_cjm#reg"), at(&g, "map_cjm#use"));
        assert!(g.nodes[reg].at.1 < g.nodes[use_].at.1);
        // As if the sweeps had swapped the stages (and the rows with them).
        let rank: Vec<usize> = g.nodes.iter().map(|n| g.columns.iter().position(|c| c.0 == n.kind).unwrap()).collect();
        let rows: Vec<usize> = ["map_comm#r1", "map_comm#r3", "map_comm#r2"].iter().map(|k| at(&g, k)).collect();
        let mut layers = vec![vec![use_, reg], rows];
        g.keep_journey_order(&mut layers, &rank);
        assert_eq!(layers[0], [reg, use_]);
        // r1 and r2 name the first stage and go up; r3 names none and keeps its place.
        let want: Vec<usize> = ["map_comm#r1", "map_comm#r2", "map_comm#r3"].iter().map(|k| at(&g, k)).collect();
        assert_eq!(layers[1], want);
    }

    /// A model point `d` right of and below node `key`'s top-left corner.
    fn inside(g: &LoopGraph, key: &str, d: (f64, f64)) -> (f64, f64) {
        let (x, y) = g.nodes[at(g, key)].at;
        (x + d.0, y + d.1)
    }

    #[test]
    fn a_point_hits_the_node_under_it_and_nothing_between_nodes() {
        let g = demo();
        for (i, n) in g.nodes.iter().enumerate() {
            assert_eq!(g.node_at((n.at.0 + NODE_W / 2.0, n.at.1 + NODE_H / 2.0)), Some(i), "{}", n.key);
            // The border and a little outside still count.
            assert_eq!(g.node_at((n.at.0 - 3.0, n.at.1 + NODE_H + 3.0)), Some(i), "{}", n.key);
        }
        // Between two columns, and far outside the drawing: nothing.
        let stage = g.nodes[at(&g, "map_cjm#reg")].at;
        assert_eq!(g.node_at((stage.0 + NODE_W + 30.0, stage.1 + 10.0)), None);
        assert_eq!(g.node_at((-100.0, -100.0)), None);
        assert_eq!(g.node_at((g.size.0 + 10.0, g.size.1 + 10.0)), None);
    }

    #[test]
    fn a_row_drops_only_on_a_live_endpoint_it_is_not_bound_to() {
        let g = demo();
        let (r1, r2, r3) = (at(&g, "map_comm#r1"), at(&g, "map_comm#r2"), at(&g, "map_comm#r3"));
        let connect = at(&g, "endpoint:bot_a/users/connect-bot");
        let feedback = at(&g, "endpoint:bot_a/feedback/received");
        // The unbound row onto a live endpoint, anywhere on its box.
        assert_eq!(g.drop_target(r2, inside(&g, "endpoint:bot_a/users/connect-bot", (5.0, 5.0))), Some(connect));
        assert_eq!(g.drop_target(r2, inside(&g, "endpoint:bot_a/feedback/received", (NODE_W - 2.0, NODE_H - 2.0))), Some(feedback));
        // Re-binding a bound row to another endpoint; its own is no target.
        assert_eq!(g.drop_target(r1, inside(&g, "endpoint:bot_a/feedback/received", (20.0, 20.0))), Some(feedback));
        assert_eq!(g.drop_target(r1, inside(&g, "endpoint:bot_a/users/connect-bot", (20.0, 20.0))), None);
        // An endpoint that does not exist, a scenario, a stage, empty space: none.
        assert_eq!(g.drop_target(r2, inside(&g, "endpoint:bot_a/gone", (20.0, 20.0))), None);
        assert_eq!(g.drop_target(r2, inside(&g, "scenario:bot_a/registration_flow", (20.0, 20.0))), None);
        assert_eq!(g.drop_target(r2, (-50.0, -50.0)), None);
        // A CJM stage the row is not linked to yet; not one it is.
        assert_eq!(g.drop_target(r2, inside(&g, "map_cjm#reg", (20.0, 20.0))), None);
        assert_eq!(g.drop_target(r2, inside(&g, "map_cjm#use", (20.0, 20.0))), Some(at(&g, "map_cjm#use")));
        assert_eq!(g.drop_target(r3, inside(&g, "map_cjm#reg", (20.0, 20.0))), Some(at(&g, "map_cjm#reg")));
        // A blueprint cell the row does not name yet (r1 names it); a blueprint stage is no target.
        assert_eq!(g.drop_target(r2, inside(&g, "map_bp#reg:support", (20.0, 20.0))), Some(at(&g, "map_bp#reg:support")));
        assert_eq!(g.drop_target(r1, inside(&g, "map_bp#reg:support", (20.0, 20.0))), None);
        assert_eq!(g.drop_target(r2, inside(&g, "map_bp#reg", (20.0, 20.0))), None);
        // Only communication rows are dragged: a stage or a cell binds nothing here.
        assert_eq!(g.drop_target(at(&g, "map_cjm#use"), inside(&g, "endpoint:bot_a/users/connect-bot", (20.0, 20.0))), None);
        assert_eq!(g.drop_target(at(&g, "map_bp#reg:support"), inside(&g, "endpoint:bot_a/feedback/received", (20.0, 20.0))), None);
        assert_eq!(g.drop_target(usize::MAX, (0.0, 0.0)), None);
        // An endpoint no map uses yet is a place to drop on.
        assert_eq!(g.drop_target(r2, inside(&g, "endpoint:bot_a/unbound", (20.0, 20.0))), Some(at(&g, "endpoint:bot_a/unbound")));
        // r3 is bound to the endpoint that is gone; dropping it on a live one re-binds.
        assert_eq!(g.drop_target(r3, inside(&g, "endpoint:bot_a/users/connect-bot", (20.0, 20.0))), Some(connect));
    }

    #[test]
    fn only_a_rows_trigger_stages_and_cells_are_links_the_loop_may_remove() {
        let g = demo();
        let (r1, r2) = (at(&g, "map_comm#r1"), at(&g, "map_comm#r2"));
        let connect = at(&g, "endpoint:bot_a/users/connect-bot");
        assert_eq!(g.bound_endpoint(r1), Some(connect));
        assert_eq!(g.bound_endpoint(r2), None);
        assert_eq!(g.bound_endpoint(at(&g, "map_bp#reg:support")), None, "a cell's binding is the blueprint's");
        let removable: Vec<(String, String)> =
            (0..g.edges.len()).filter_map(|k| g.binding_link(k)).map(|(a, b)| (g.nodes[a].key.clone(), g.nodes[b].key.clone())).collect();
        let want = [("map_comm#r1", "endpoint:bot_a/users/connect-bot"), ("map_comm#r3", "endpoint:bot_a/feedback/received"), ("map_comm#r3", "endpoint:bot_a/gone")];
        let mut removable = removable;
        removable.sort();
        assert_eq!(removable, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!(g.binding_link(g.edges.len()), None);
        // A row's stages and cells too, (row, stage or cell); a blueprint
        // stage's CJM stages and a cell's stage are the blueprint's.
        let mut held: Vec<(String, String)> =
            (0..g.edges.len()).filter_map(|k| g.row_link(k)).map(|(a, b)| (g.nodes[a].key.clone(), g.nodes[b].key.clone())).collect();
        held.sort();
        let want = [("map_comm#r1", "map_bp#reg:support"), ("map_comm#r1", "map_cjm#reg"), ("map_comm#r2", "map_cjm#reg")];
        assert_eq!(held, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!((0..g.edges.len()).filter(|&k| g.removable(k)).count(), 6);
        assert_eq!(g.row_link(g.edges.len()), None);
    }

    #[test]
    fn a_cell_is_named_by_its_blueprint_stage_lane_and_text() {
        let mut g = demo();
        let (cell, stage) = (at(&g, "map_bp#reg:support"), at(&g, "map_cjm#reg"));
        let name = g.link_name(cell, None);
        assert_eq!(name.text(Locale::En), "Registration · Support Processes / Systems", "no text: its lane");
        assert_eq!(name.text(Locale::Ru), "Registration · Поддерживающие процессы");
        g.nodes[cell].label = " CRM keeps\n the lead ".into();
        assert_eq!(g.link_name(cell, Some("Onboarding".into())).text(Locale::En), "Registration · Support Processes / Systems: CRM keeps the lead · Onboarding");
        g.nodes[cell].label = "ж".repeat(70);
        assert_eq!(g.link_name(cell, None).text(Locale::En), format!("Registration · Support Processes / Systems: {}…", "ж".repeat(60)));
        assert_eq!(g.link_name(stage, None).text(Locale::Ru), "Регистрация");
        assert_eq!(g.link_name(stage, Some("CJM 2".into())).text(Locale::En), "Регистрация · CJM 2");
    }

    #[test]
    fn hand_moved_positions_are_kept_and_hit_where_they_are_now() {
        let mut g = demo();
        let laid_out = g.clone();
        let text = encode_positions(&[("map_comm#r2".into(), (1200.4, -80.0)), ("map_gone#x".into(), (1.0, 2.0))]);
        assert_eq!(text, r#"{"map_comm#r2":[1200.0,-80.0],"map_gone#x":[1.0,2.0]}"#);
        let kept = decode_positions(&text);
        assert_eq!(g.place(&kept), vec![at(&g, "map_comm#r2")], "a key no longer drawn is ignored");
        let r2 = at(&g, "map_comm#r2");
        assert_eq!(g.nodes[r2].at, (1200.0, -80.0));
        assert_eq!(g.node_at((1210.0, -70.0)), Some(r2));
        assert_eq!(g.node_at((laid_out.nodes[r2].at.0 + 10.0, laid_out.nodes[r2].at.1 + 10.0)), None);
        // The fit box grows to hold it; the untouched drawing's box is its size.
        let (x0, y0, x1, y1) = laid_out.bounds();
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(near(x0, 0.0) && near(y0, 0.0) && near(x1, laid_out.size.0) && near(y1, laid_out.size.1), "{:?}", laid_out.bounds());
        let (x0, y0, x1, _) = g.bounds();
        assert!(x0 == 0.0 && y0 < -80.0 && x1 >= 1200.0 + NODE_W, "{:?}", g.bounds());
        // Unreadable or half-written storage keeps nothing.
        assert_eq!(decode_positions("not json"), vec![]);
        assert_eq!(decode_positions(r#"{"a": [1], "b": "x", "c": [1, 2]}"#), vec![("c".to_string(), (1.0, 2.0))]);
    }

    #[test]
    fn a_few_hundred_nodes_lay_out_without_overlaps() {
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for s in 0..20 {
            nodes.push(node(&format!("map_cjm#s{s}"), NodeKind::CjmStage, "stage"));
        }
        for r in 0..200 {
            nodes.push(node(&format!("map_comm#r{r}"), NodeKind::CommRow, "row"));
            edges.push(edge(&format!("map_comm#r{r}"), &format!("map_cjm#s{}", r * 7 % 20)));
            edges.push(edge(&format!("map_comm#r{r}"), &format!("endpoint:bot_a/e{}", r % 80)));
        }
        for e in 0..80 {
            nodes.push(node(&format!("endpoint:bot_a/e{e}"), NodeKind::Endpoint, ""));
        }
        let live: Vec<BindableEndpoint> = (0..80).map(|e| endpoint("bot_a", &format!("e{e}"), &format!("s{}", e % 40))).collect();
        let page = LoopPage { view: LoopView { nodes, edges, dangling: vec![] }, live_endpoints: live.iter().map(|e| format!("endpoint:{}/{}", e.bot_id, e.alias)).collect(), project_bots: vec!["bot_a".into()] };
        let g = LoopGraph::build(&page, &live);
        assert_eq!(g.nodes.len(), 340);
        assert_eq!(g.edges.len(), 480);
        let mut spots: Vec<(i64, i64)> = g.nodes.iter().map(|n| (n.at.0 as i64, n.at.1 as i64)).collect();
        spots.sort();
        spots.dedup();
        assert_eq!(spots.len(), 340);
        // The CJM stages stay in journey order, top to bottom.
        let stage_y: Vec<f64> = (0..20).map(|s| g.nodes[at(&g, &format!("map_cjm#s{s}"))].at.1).collect();
        assert!(stage_y.windows(2).all(|w| w[0] < w[1]), "{stage_y:?}");
        assert_eq!(g, LoopGraph::build(&page, &live), "the same data, the same drawing");
    }
}
