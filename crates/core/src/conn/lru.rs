//! The eviction order: a FIFO of entries that are not ESTABLISHED, oldest first.
//!
//! An entry joins at the back when it is created or leaves ESTABLISHED, and leaves when it
//! becomes ESTABLISHED or is removed. "Oldest" therefore means "longest in a
//! non-ESTABLISHED state": half-open SYN floods and long-finished FIN_WAIT entries go
//! first. Links live in a vector parallel to the entries (8 bytes per slot).

use super::timer::{Links, NIL};

/// Intrusive doubly-linked FIFO over entry indices.
#[derive(Debug, Clone)]
pub(crate) struct EvictList {
    links: Vec<Links>,
    head: u32,
    tail: u32,
    len: usize,
}

impl EvictList {
    /// An empty list.
    pub(crate) fn new() -> EvictList {
        EvictList {
            links: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// Bytes allocated.
    pub(crate) fn allocation_size(&self) -> usize {
        self.links.capacity() * size_of::<Links>()
    }

    /// Number of linked entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Make room for index `idx`, never reserving beyond `cap` slots.
    pub(crate) fn grow_to(&mut self, idx: u32, cap: usize) {
        let need = idx as usize + 1;
        if self.links.len() < need {
            if self.links.capacity() < need {
                let target = (self.links.capacity() * 2).clamp(need, cap.max(need));
                self.links.reserve_exact(target - self.links.len());
            }
            self.links.resize(need, Links::UNLINKED);
        }
    }

    /// Append `idx` (must not be linked).
    pub(crate) fn push_back(&mut self, idx: u32) {
        self.links[idx as usize] = Links {
            prev: self.tail,
            next: NIL,
        };
        if self.tail != NIL {
            self.links[self.tail as usize].next = idx;
        } else {
            self.head = idx;
        }
        self.tail = idx;
        self.len += 1;
    }

    /// Remove `idx` (must be linked).
    pub(crate) fn unlink(&mut self, idx: u32) {
        let Links { prev, next } = self.links[idx as usize];
        if prev != NIL {
            self.links[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.links[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
        self.links[idx as usize] = Links::UNLINKED;
        self.len -= 1;
    }

    /// The oldest entry.
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(l: &EvictList) -> Vec<u32> {
        let mut v = Vec::new();
        let mut i = l.head;
        while i != NIL {
            v.push(i);
            i = l.links[i as usize].next;
        }
        v
    }

    #[test]
    fn fifo_order_and_unlink() {
        let mut l = EvictList::new();
        for i in 0..5 {
            l.grow_to(i, 5);
            l.push_back(i);
        }
        l.unlink(0);
        l.unlink(4);
        l.unlink(2);
        assert_eq!(collect(&l), [1, 3]);
        assert_eq!(l.front(), Some(1));
        l.push_back(0);
        assert_eq!(collect(&l), [1, 3, 0]);
        assert_eq!(l.len(), 3);
        l.unlink(1);
        l.unlink(3);
        l.unlink(0);
        assert_eq!(l.front(), None);
        assert_eq!(l.tail, NIL);
    }
}
