//! Maximum flow (Dinic's algorithm) on small graphs. The ledger credits a member the most watch
//! time their reports can justify, which is a flow from wall time through reports to lesson time.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub struct FlowGraph {
    adjacent: Vec<Vec<usize>>,
    to: Vec<usize>,
    capacity: Vec<i64>,
}

impl FlowGraph {
    pub fn new(nodes: usize) -> FlowGraph {
        FlowGraph {
            adjacent: vec![Vec::new(); nodes],
            ..FlowGraph::default()
        }
    }

    pub fn add_node(&mut self) -> usize {
        self.adjacent.push(Vec::new());
        self.adjacent.len() - 1
    }

    /// Adds an edge and returns its index, for `flow`.
    pub fn add_edge(&mut self, from: usize, to: usize, capacity: i64) -> usize {
        let edge = self.to.len();
        self.to.push(to);
        self.capacity.push(capacity);
        self.adjacent[from].push(edge);
        self.to.push(from);
        self.capacity.push(0);
        self.adjacent[to].push(edge + 1);
        edge
    }

    /// What flows through an edge after `max_flow`.
    pub fn flow(&self, edge: usize) -> i64 {
        self.capacity[edge ^ 1]
    }

    pub fn max_flow(&mut self, source: usize, sink: usize) -> i64 {
        let mut total = 0;
        loop {
            let Some(level) = self.levels(source, sink) else {
                return total;
            };
            let mut next = vec![0usize; self.adjacent.len()];
            loop {
                let pushed = self.push(source, sink, i64::MAX, &level, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    fn levels(&self, source: usize, sink: usize) -> Option<Vec<u32>> {
        let mut level = vec![u32::MAX; self.adjacent.len()];
        level[source] = 0;
        let mut queue = VecDeque::from([source]);
        while let Some(node) = queue.pop_front() {
            for &edge in &self.adjacent[node] {
                let to = self.to[edge];
                if self.capacity[edge] > 0 && level[to] == u32::MAX {
                    level[to] = level[node] + 1;
                    queue.push_back(to);
                }
            }
        }
        (level[sink] != u32::MAX).then_some(level)
    }

    fn push(
        &mut self,
        node: usize,
        sink: usize,
        limit: i64,
        level: &[u32],
        next: &mut [usize],
    ) -> i64 {
        if node == sink {
            return limit;
        }
        while next[node] < self.adjacent[node].len() {
            let edge = self.adjacent[node][next[node]];
            let to = self.to[edge];
            if self.capacity[edge] > 0 && level[to] == level[node] + 1 {
                let pushed = self.push(to, sink, limit.min(self.capacity[edge]), level, next);
                if pushed > 0 {
                    self.capacity[edge] -= pushed;
                    self.capacity[edge ^ 1] += pushed;
                    return pushed;
                }
            }
            next[node] += 1;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_maximum_where_a_greedy_path_would_block() {
        // s → a → x → t and s → b → x: a greedy a→x first leaves b with nothing, unless the
        // flow is rerouted a → y.
        let mut g = FlowGraph::new(6);
        let (s, a, b, x, y, t) = (0, 1, 2, 3, 4, 5);
        g.add_edge(s, a, 1);
        g.add_edge(s, b, 1);
        let ax = g.add_edge(a, x, 1);
        g.add_edge(a, y, 1);
        g.add_edge(b, x, 1);
        g.add_edge(x, t, 1);
        g.add_edge(y, t, 1);
        assert_eq!(g.max_flow(s, t), 2);
        assert_eq!(g.flow(ax), 0);
    }

    #[test]
    fn capacities_bound_the_flow() {
        let mut g = FlowGraph::new(3);
        g.add_edge(0, 1, 7);
        g.add_edge(1, 2, 5);
        assert_eq!(g.max_flow(0, 2), 5);
        assert_eq!(FlowGraph::new(2).max_flow(0, 1), 0);
    }
}
