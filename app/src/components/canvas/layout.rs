//! The canvas's auto-layout: a layered drawing that reads left to right.
//!
//! 1. Ranks: a depth-first walk from `start` (then from any step it does
//!    not reach, in step order) marks the links that go back to a step on
//!    the walk's path — loops such as "ask again" — as back edges. The
//!    other links form a DAG, and each step's rank is the longest path to
//!    it, so every forward link points right.
//! 2. Order within a rank: the walk's order first, then a few sweeps that
//!    sort each rank by the mean position of its neighbours in the ranks
//!    before (sweeping right) or after (sweeping left), keeping the order
//!    with the fewest crossings seen.
//! 3. Coordinates: ranks are columns, each column centred vertically.
//!
//! The same scenario always gets the same drawing: every choice breaks
//! ties by step order.

use super::graph::edges;
use comops_core::scenario::Scenario;
use std::collections::BTreeMap;

/// A node's box on the canvas.
pub const NODE_W: i32 = 184;
pub const NODE_H: i32 = 52;
const GAP_X: i32 = 80;
const GAP_Y: i32 = 28;
const MARGIN: i32 = 40;
const SWEEPS: usize = 6;

/// Positions (top-left corners) of every step.
pub fn auto_layout(scenario: &Scenario) -> BTreeMap<String, [i32; 2]> {
    let ids: Vec<&str> = scenario.steps.iter().map(|s| s.id.as_str()).collect();
    let index: BTreeMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut links: Vec<(usize, usize)> = Vec::new();
    for e in edges(scenario) {
        let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) else { continue };
        if a != b && !links.contains(&(a, b)) {
            links.push((a, b));
        }
    }
    let start = index.get(scenario.start.as_str()).copied();
    let (rank, order) = ranks(ids.len(), start, &links);
    let layers = order_layers(&rank, &order, &links);
    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0) as i32;
    let mut out = BTreeMap::new();
    for (r, layer) in layers.iter().enumerate() {
        let offset = (tallest - layer.len() as i32) * (NODE_H + GAP_Y) / 2;
        for (k, &node) in layer.iter().enumerate() {
            let x = MARGIN + r as i32 * (NODE_W + GAP_X);
            let y = MARGIN + offset + k as i32 * (NODE_H + GAP_Y);
            out.insert(ids[node].to_string(), [x, y]);
        }
    }
    out
}

/// The rank of each of `n` nodes (longest path over the forward links)
/// and the depth-first visiting order. Links to a node still on the
/// walk's path are back edges and do not count.
pub fn ranks(n: usize, start: Option<usize>, links: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in links {
        out[a].push(b);
    }
    // 0 unseen, 1 on the path, 2 done.
    let mut state = vec![0u8; n];
    let mut visit_order = Vec::with_capacity(n);
    let mut post_order = Vec::with_capacity(n);
    let mut forward = vec![Vec::new(); n];
    let roots = start.into_iter().chain(0..n);
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        // An explicit stack: (node, next child to look at).
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        visit_order.push(root);
        while let Some(top) = stack.last_mut() {
            let (node, child) = *top;
            if let Some(&next) = out[node].get(child) {
                top.1 += 1;
                match state[next] {
                    0 => {
                        forward[node].push(next);
                        state[next] = 1;
                        visit_order.push(next);
                        stack.push((next, 0));
                    }
                    2 => forward[node].push(next),
                    _ => {} // a back edge
                }
            } else {
                state[node] = 2;
                post_order.push(node);
                stack.pop();
            }
        }
    }
    let mut rank = vec![0usize; n];
    for &node in post_order.iter().rev() {
        for &next in &forward[node] {
            rank[next] = rank[next].max(rank[node] + 1);
        }
    }
    (rank, visit_order)
}

/// Nodes per rank, ordered to reduce crossings. `links` go from a lower
/// rank to a higher one; `visit_order` is the first order in each rank.
pub fn order_layers(rank: &[usize], visit_order: &[usize], links: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let depth = rank.iter().max().map_or(0, |r| r + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for &node in visit_order {
        layers[rank[node]].push(node);
    }
    let mut best = layers.clone();
    let mut best_crossings = crossings(&layers, rank, links);
    for sweep in 0..SWEEPS {
        let rightwards = sweep % 2 == 0;
        let mut place = positions(&layers, rank.len());
        let range: Vec<usize> = if rightwards { (1..depth).collect() } else { (0..depth.saturating_sub(1)).rev().collect() };
        for r in range {
            let mut keyed: Vec<(f64, usize)> = layers[r]
                .iter()
                .enumerate()
                .map(|(k, &node)| {
                    let neighbours: Vec<f64> = links
                        .iter()
                        .filter_map(|&(a, b)| match rightwards {
                            true if b == node && rank[a] < r => Some(place[a]),
                            false if a == node && rank[b] > r => Some(place[b]),
                            _ => None,
                        })
                        .collect();
                    let key = if neighbours.is_empty() { k as f64 } else { neighbours.iter().sum::<f64>() / neighbours.len() as f64 };
                    (key, node)
                })
                .collect();
            // Stable: equal keys keep their order.
            keyed.sort_by(|x, y| x.0.total_cmp(&y.0));
            layers[r] = keyed.into_iter().map(|(_, node)| node).collect();
            for (k, &node) in layers[r].iter().enumerate() {
                place[node] = k as f64;
            }
        }
        let c = crossings(&layers, rank, links);
        if c < best_crossings {
            best_crossings = c;
            best = layers.clone();
        }
    }
    best
}

fn positions(layers: &[Vec<usize>], n: usize) -> Vec<f64> {
    let mut place = vec![0.0; n];
    for layer in layers {
        for (k, &node) in layer.iter().enumerate() {
            place[node] = k as f64;
        }
    }
    place
}

/// Crossings between links joining neighbouring ranks (longer links and
/// back edges are drawn as curves and not counted).
pub fn crossings(layers: &[Vec<usize>], rank: &[usize], links: &[(usize, usize)]) -> usize {
    let place = positions(layers, rank.len());
    let spans: Vec<(usize, f64, f64)> = links
        .iter()
        .filter(|&&(a, b)| rank[b] == rank[a] + 1)
        .map(|&(a, b)| (rank[a], place[a], place[b]))
        .collect();
    let mut count = 0;
    for (i, x) in spans.iter().enumerate() {
        for y in &spans[i + 1..] {
            if x.0 == y.0 && (x.1 - y.1) * (x.2 - y.2) < 0.0 {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(steps: serde_json::Value) -> Scenario {
        serde_json::from_value(json!({"name": "s", "start": "a", "steps": steps})).unwrap()
    }

    fn column(layout: &BTreeMap<String, [i32; 2]>, id: &str) -> i32 {
        (layout[id][0] - MARGIN) / (NODE_W + GAP_X)
    }

    #[test]
    fn ranks_are_longest_paths_from_start() {
        // a → b → c → d, and a shortcut a → d: d still goes after c.
        let s = scenario(json!([
            {"id": "a", "type": "if", "condition": "x", "then": "b", "otherwise": "d"},
            {"id": "b", "type": "message", "text": "", "next": "c"},
            {"id": "c", "type": "message", "text": "", "next": "d"},
            {"id": "d", "type": "end"}
        ]));
        let layout = auto_layout(&s);
        let cols: Vec<i32> = ["a", "b", "c", "d"].iter().map(|id| column(&layout, id)).collect();
        assert_eq!(cols, [0, 1, 2, 3]);
    }

    #[test]
    fn a_loop_back_is_a_back_edge_not_a_new_rank() {
        // ask → check → (then) thanks, (otherwise) back to ask.
        let s = scenario(json!([
            {"id": "a", "type": "ask", "prompt": "?", "expect": "rating", "var": "r", "next": "check"},
            {"id": "check", "type": "if", "condition": "vars.r >= 4", "then": "thanks", "otherwise": "a"},
            {"id": "thanks", "type": "end"}
        ]));
        let layout = auto_layout(&s);
        assert_eq!([column(&layout, "a"), column(&layout, "check"), column(&layout, "thanks")], [0, 1, 2]);
    }

    #[test]
    fn unreachable_steps_are_placed_too_and_nothing_overlaps() {
        let s = scenario(json!([
            {"id": "a", "type": "message", "text": "", "next": "b"},
            {"id": "b", "type": "end"},
            {"id": "orphan", "type": "message", "text": "", "next": "b"},
            {"id": "lonely", "type": "end"}
        ]));
        let layout = auto_layout(&s);
        assert_eq!(layout.len(), 4);
        let mut spots: Vec<[i32; 2]> = layout.values().copied().collect();
        spots.sort();
        spots.dedup();
        assert_eq!(spots.len(), 4, "two steps in one place: {layout:?}");
    }

    #[test]
    fn ordering_removes_a_crossing_the_step_order_makes() {
        // a → (x, y); x → q, y → p — listed so that the first order crosses.
        let s = scenario(json!([
            {"id": "a", "type": "if", "condition": "c", "then": "x", "otherwise": "y"},
            {"id": "x", "type": "message", "text": "", "next": "q"},
            {"id": "y", "type": "message", "text": "", "next": "p"},
            {"id": "p", "type": "end"},
            {"id": "q", "type": "end"},
            {"id": "z", "type": "goto", "target": "p"}
        ]));
        let layout = auto_layout(&s);
        let above = |one: &str, other: &str| layout[one][1] < layout[other][1];
        assert_eq!(above("x", "y"), above("q", "p"), "x→q and y→p must not cross: {layout:?}");
    }

    #[test]
    fn the_same_scenario_always_gets_the_same_drawing() {
        let steps: Vec<serde_json::Value> = (0..60)
            .map(|i| json!({"id": format!("s{i}"), "type": "if", "condition": "c", "then": format!("s{}", (i * 7 + 1) % 60), "otherwise": format!("s{}", (i * 3 + 2) % 60)}))
            .collect();
        let mut s = scenario(json!(steps));
        s.start = "s0".into();
        assert_eq!(auto_layout(&s), auto_layout(&s));
        assert_eq!(auto_layout(&s).len(), 60);
    }

    #[test]
    fn crossings_are_counted_between_neighbouring_ranks() {
        let rank = [0, 0, 1, 1];
        let links = [(0, 3), (1, 2)];
        assert_eq!(crossings(&[vec![0, 1], vec![2, 3]], &rank, &links), 1);
        assert_eq!(crossings(&[vec![0, 1], vec![3, 2]], &rank, &links), 0);
    }
}
