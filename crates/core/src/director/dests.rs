//! The destinations a worker knows, found by stable id without hashing.
//!
//! Every packet of a connection reaches its destination's counters and flags through the
//! id stored in the connection entry, so this lookup is on the per-packet path. Ids are
//! small integers handed out in order by [`Config`](crate::config::Config) (a destination
//! re-added after a delete gets its old id back), so a vector indexed by id gives the
//! position of the destination in a dense vector: two loads, no hash.

use super::state::DestState;

/// "No destination with this id".
const NONE: u32 = u32::MAX;

/// Destinations by stable id.
#[derive(Debug, Default)]
pub(crate) struct DestTable {
    /// Position in `items` of each id (`NONE` when absent).
    pos: Vec<u32>,
    items: Vec<DestState>,
}

impl DestTable {
    /// The destination with this id.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&DestState> {
        let i = *self.pos.get(id as usize)?;
        self.items.get(i as usize)
    }

    /// The destination with this id, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> Option<&mut DestState> {
        let i = *self.pos.get(id as usize)?;
        self.items.get_mut(i as usize)
    }

    /// The destination with this id, created with `make` if absent.
    pub fn get_or_insert_with(
        &mut self,
        id: u32,
        make: impl FnOnce() -> DestState,
    ) -> &mut DestState {
        let at = id as usize;
        if at >= self.pos.len() {
            self.pos.resize(at + 1, NONE);
        }
        if self.pos[at] == NONE {
            self.pos[at] = self.items.len() as u32;
            self.items.push(make());
        }
        &mut self.items[self.pos[at] as usize]
    }

    /// Every destination, in no particular order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut DestState> {
        self.items.iter_mut()
    }

    /// Keep only the destinations for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&DestState) -> bool) {
        let mut i = 0;
        while i < self.items.len() {
            if keep(&self.items[i]) {
                i += 1;
                continue;
            }
            let gone = self.items.swap_remove(i);
            self.pos[gone.id as usize] = NONE;
            if let Some(moved) = self.items.get(i) {
                self.pos[moved.id as usize] = i as u32;
            }
        }
        // Ids are handed out in order; trim the tail so the index stays as short as the
        // highest live id.
        while self.pos.last() == Some(&NONE) {
            self.pos.pop();
        }
    }

    /// Number of destinations.
    pub fn len(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::director::DestConns;
    use crate::model::{DestConfig, ForwardMethod, TunnelType};
    use crate::stats::Stats;

    fn dest(id: u32) -> DestState {
        DestState {
            id,
            service: 1,
            config: DestConfig {
                addr: "198.51.100.1".parse().unwrap(),
                port: 80,
                method: ForwardMethod::Route,
                weight: 1,
                u_threshold: 0,
                l_threshold: 0,
                tun_type: TunnelType::Ipip,
                tun_port: 0,
                tun_flags: 0,
            },
            available: true,
            overloaded: false,
            conns: DestConns::default(),
            stats: Stats::default(),
            slot: None,
        }
    }

    #[test]
    fn ids_map_to_their_destinations_through_removals() {
        let mut t = DestTable::default();
        for id in [5, 1, 9, 3] {
            t.get_or_insert_with(id, || dest(id));
        }
        // A second insert of the same id keeps the first.
        assert_eq!(t.get_or_insert_with(9, || dest(100)).id, 9);
        assert_eq!(t.len(), 4);
        t.retain(|d| d.id != 1 && d.id != 9);
        assert_eq!(t.len(), 2);
        for id in [5, 3] {
            assert_eq!(t.get(id).map(|d| d.id), Some(id));
        }
        for id in [0, 1, 2, 9, 10, 1000] {
            assert!(t.get(id).is_none(), "id {id}");
            assert!(t.get_mut(id).is_none(), "id {id}");
        }
        t.get_or_insert_with(9, || dest(9));
        assert_eq!(t.get(9).map(|d| d.id), Some(9));
        assert_eq!(t.get(5).map(|d| d.id), Some(5));
        t.retain(|_| false);
        assert_eq!(t.len(), 0);
        assert!(t.pos.is_empty());
    }
}
