//! Counting one table's reach: breadth-first searches over the expanded state graph,
//! with stamp arrays so a search costs what it visits.

use super::*;

/// Breadth-first searches over the state graph with stamp arrays, so each table's search
/// costs what it visits and nothing is reallocated between tables.
pub(super) struct Search {
    stamp: u32,
    state_seen: Vec<u32>,
    trigger_seen: Vec<u32>,
    channel_seen: Vec<u32>,
    opaque_seen: Vec<u32>,
    hazard_seen: Vec<u32>,
    scc_seen: Vec<u32>,
    table_seen: HashMap<String, u32>,
}

impl Search {
    pub(super) fn new(b: &Builder<'_, '_>, components: usize) -> Self {
        Search {
            stamp: 0,
            state_seen: vec![0; b.states.len()],
            trigger_seen: vec![0; b.trigger_ids.ids.len()],
            channel_seen: vec![0; b.channel_ids.ids.len()],
            opaque_seen: vec![0; b.opaque_ids.ids.len()],
            hazard_seen: vec![0; b.hazards.len()],
            scc_seen: vec![0; components],
            table_seen: HashMap::new(),
        }
    }

    pub(super) fn run(
        &mut self,
        b: &Builder<'_, '_>,
        roots: &[usize],
        scc_of: &[usize],
        depth: Option<usize>,
    ) -> TableRank {
        self.stamp += 1;
        let stamp = self.stamp;
        let mut rank = TableRank {
            rank: 0,
            table: String::new(),
            events: Vec::new(),
            direct_triggers: 0,
            triggers: 0,
            tables: 0,
            channels: 0,
            cycles: 0,
            hazards: 0,
            opaque: 0,
        };
        let count = |seen: &mut Vec<u32>, ids: &[usize], n: &mut usize| {
            for &i in ids {
                if seen[i] != stamp {
                    seen[i] = stamp;
                    *n += 1;
                }
            }
        };
        let root_table = &b.states[roots[0]].table;
        let mut queue: VecDeque<(usize, usize)> = VecDeque::new();
        for &r in roots {
            self.state_seen[r] = stamp;
            queue.push_back((r, 0));
        }
        while let Some((s, level)) = queue.pop_front() {
            let st = &b.states[s];
            if st.table != *root_table {
                let seen = self.table_seen.entry(st.table.clone()).or_insert(0);
                if *seen != stamp {
                    *seen = stamp;
                    rank.tables += 1;
                }
            }
            if scc_of[s] != usize::MAX && self.scc_seen[scc_of[s]] != stamp {
                self.scc_seen[scc_of[s]] = stamp;
                rank.cycles += 1;
            }
            if depth.is_some_and(|d| level >= d) {
                continue;
            }
            count(&mut self.trigger_seen, &st.triggers, &mut rank.triggers);
            count(&mut self.channel_seen, &st.channels, &mut rank.channels);
            count(&mut self.opaque_seen, &st.opaque, &mut rank.opaque);
            count(&mut self.hazard_seen, &st.hazards, &mut rank.hazards);
            for (t, _) in &st.succ {
                if self.state_seen[*t] != stamp {
                    self.state_seen[*t] = stamp;
                    queue.push_back((*t, level + 1));
                }
            }
        }
        rank
    }
}
