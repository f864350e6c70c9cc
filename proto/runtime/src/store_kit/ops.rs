//! Operations per tree: how many gets, inserts, removes and scans a store's write path makes,
//! exported as one counter with `tree` and `op` labels (the agent's
//! `socfed_agent_store_ops_total`), so the cost model of a unit of work (so many lookups and
//! rewrites per escalation) can be checked against what the store really did.
//!
//! Counting must cost next to nothing on the hot path: a unit counts into a plain array of its
//! own ([`UnitOps`]) and adds it to the exported counters once, when it ends
//! ([`OpMeter::add_unit`]); each `(tree, op)` counter handle is looked up in the recorder the
//! first time it is used and kept.

use super::TreeSet;
use std::cell::Cell;
use std::sync::OnceLock;

/// A kind of tree operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A point read that reached the tree (a unit's reads of its own pending writes do not).
    Get,
    /// A key written (a unit writing one key twice commits it once: one insert).
    Insert,
    Remove,
    /// A range or prefix scan, counted once however many entries it yields.
    Scan,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::Get, Op::Insert, Op::Remove, Op::Scan];

    /// The `op` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Insert => "insert",
            Op::Remove => "remove",
            Op::Scan => "scan",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The exported counters of one store: `metric{tree, op}`.
pub struct OpMeter<T: TreeSet> {
    metric: &'static str,
    /// Indexed by [`TreeSet::index`], then [`Op`].
    counters: Vec<[OnceLock<metrics::Counter>; 4]>,
    _set: std::marker::PhantomData<T>,
}

impl<T: TreeSet> OpMeter<T> {
    /// Counters named `metric` (listed in `metric_catalog`), one series per tree and
    /// operation, each appearing in `/metrics` once it is first incremented.
    pub fn new(metric: &'static str) -> Self {
        Self {
            metric,
            counters: (0..T::ALL.len()).map(|_| Default::default()).collect(),
            _set: std::marker::PhantomData,
        }
    }

    /// Adds `n` operations of `op` on `tree` (for reads and writes made outside a unit).
    pub fn add(&self, tree: T, op: Op, n: u64) {
        if n == 0 {
            return;
        }
        let Some(slot) = self.counters.get(tree.index()).map(|ops| &ops[op.index()]) else {
            return;
        };
        slot.get_or_init(
            || metrics::counter!(self.metric, "tree" => tree.name(), "op" => op.as_str()),
        )
        .increment(n);
    }

    /// Adds what one unit counted.
    pub fn add_unit(&self, ops: &UnitOps) {
        for (tree, counts) in T::ALL.iter().zip(&ops.counts) {
            for op in Op::ALL {
                self.add(*tree, op, u64::from(counts[op.index()].get()));
            }
        }
    }
}

/// The operations of one unit of work, counted in place.
pub struct UnitOps {
    /// Indexed by tree, then [`Op`]. A `Cell` because a unit reads through `&self`.
    counts: Vec<[Cell<u32>; 4]>,
}

impl UnitOps {
    pub fn new(trees: usize) -> Self {
        Self {
            counts: vec![Default::default(); trees],
        }
    }

    pub fn count(&self, tree: usize, op: Op, n: usize) {
        if let Some(counts) = self.counts.get(tree) {
            let cell = &counts[op.index()];
            cell.set(
                cell.get()
                    .saturating_add(u32::try_from(n).unwrap_or(u32::MAX)),
            );
        }
    }

    /// How many of `op` on tree number `tree` so far.
    pub fn get(&self, tree: usize, op: Op) -> u32 {
        self.counts.get(tree).map_or(0, |c| c[op.index()].get())
    }
}
