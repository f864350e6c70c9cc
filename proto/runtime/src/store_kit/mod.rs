//! The storage kit both services build their sled store on, so the two stores solve the same
//! problems the same way:
//!
//! - [`codec`]: the versioned record codec (`[version byte] ++ postcard`), one version per
//!   tree, errors that name the tree.
//! - [`TreeSet`] and [`Trees`]: the registry of a store's trees (a name and a record codec
//!   each) and the trees opened from it, so a tree name is written once, in the store's
//!   `schema.rs`.
//! - [`kv`]: the storage interface of the hub's store (ordered key-value trees, one variant
//!   per backend: sled, and PostgreSQL for several hub replicas); the agent's store keeps
//!   raw sled trees.
//! - [`unit`]: a unit of work: reads that see its own pending writes, all writes applied in
//!   one transaction.
//! - [`ops`]: operations per tree and kind (get, insert, remove, scan), counted by each unit
//!   and exported once per unit, to check a store's cost model against what it does.
//! - [`runs`]: a run of consecutive sequences stored as one value under its last sequence
//!   (the hub's idempotency index, the agent's outbox), and the grouping of records into runs.
//! - [`journal`]: an append-only journal of length+CRC frames in segments beside sled, its
//!   torn tail cut at open (the hub's escalations, the agent's alert samples).
//! - [`layout`] and [`snapshot`]: the whole stored layout rendered as deterministic text
//!   (volatile ids, times and hashes normalised), and the comparison of that text with a
//!   committed snapshot, so a change of layout is always a visible diff.
//!
//! - [`pg`]: the PostgreSQL backend of the trees (several replicas over one database): pool,
//!   TLS, migrations, unit transactions under one advisory lock, LISTEN/NOTIFY.
//!
//! Every key layout stays in the store's own `schema.rs`; the kit knows no store's keys.

pub mod codec;
pub mod journal;
pub mod kv;
pub mod layout;
pub mod ops;
pub mod pg;
pub mod postings;
pub mod runs;
pub mod snapshot;
pub mod unit;

pub use codec::{Codec, CodecError};

/// A store's trees: every one, its name, and the codec of its records.
pub trait TreeSet: Copy + Ord + std::fmt::Debug + Send + Sync + 'static {
    /// Every tree, in the order the store opens them; `index` is the position in it.
    const ALL: &'static [Self];

    fn name(self) -> &'static str;

    /// The position in [`Self::ALL`] (for a field-less enum, `self as usize`).
    fn index(self) -> usize;

    /// The codec of this tree's records (version 1 unless the tree says otherwise).
    fn codec(self) -> Codec {
        Codec::new(self.name(), 1)
    }

    /// The tree of that name, if it is one of the store's.
    fn by_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }
}

/// Every tree of a [`TreeSet`], opened: raw sled trees (`K = sled::Tree`, the agent's store) or
/// [`kv::Tree`]s (the hub's, whichever backend holds them).
pub struct Trees<T: TreeSet, K = sled::Tree> {
    trees: Vec<K>,
    _set: std::marker::PhantomData<T>,
}

impl<T: TreeSet, K> Trees<T, K> {
    /// Every tree of the set, each opened by `open`, in [`TreeSet::ALL`] order.
    pub fn open_with<E>(open: impl FnMut(T) -> Result<K, E>) -> Result<Self, E> {
        let trees = T::ALL
            .iter()
            .copied()
            .map(open)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            trees,
            _set: std::marker::PhantomData,
        })
    }

    pub fn tree(&self, id: T) -> &K {
        &self.trees[id.index()]
    }

    /// Every tree, in [`TreeSet::ALL`] order.
    pub fn all(&self) -> &[K] {
        &self.trees
    }
}

impl<T: TreeSet> Trees<T> {
    /// Opens (or creates) every tree of the set in `db`.
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Self::open_with(|id| db.open_tree(id.name()))
    }
}

impl<T: TreeSet> Trees<T, kv::Tree> {
    /// Opens (or creates) every tree of the set in the sled database `db`.
    pub fn open_sled(db: &sled::Db) -> Result<Self, kv::KvError> {
        Self::open_with(|id| Ok(kv::Tree::from(db.open_tree(id.name())?)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small tree set for the kit's own tests.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub(crate) enum Demo {
        Meta,
        Items,
        Index,
    }

    impl TreeSet for Demo {
        const ALL: &'static [Self] = &[Demo::Meta, Demo::Items, Demo::Index];

        fn name(self) -> &'static str {
            match self {
                Demo::Meta => "meta",
                Demo::Items => "items",
                Demo::Index => "index",
            }
        }

        fn index(self) -> usize {
            self as usize
        }

        fn codec(self) -> Codec {
            match self {
                // A tree whose records moved on to version 2.
                Demo::Items => Codec::new(self.name(), 2),
                other => Codec::new(other.name(), 1),
            }
        }
    }

    #[test]
    fn trees_are_found_by_name_and_opened_in_order() -> Result<(), sled::Error> {
        assert_eq!(Demo::by_name("items"), Some(Demo::Items));
        assert_eq!(Demo::by_name("other"), None);
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo>::open(&db)?;
        assert_eq!(trees.all().len(), 3);
        assert_eq!(trees.tree(Demo::Index).name().as_ref(), b"index");
        Ok(())
    }

    #[test]
    fn kv_trees_are_opened_in_order_too() -> Result<(), kv::KvError> {
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo, kv::Tree>::open_sled(&db)?;
        let names: Vec<String> = trees.all().iter().map(kv::Tree::name).collect();
        assert_eq!(names, ["meta", "items", "index"]);
        assert_eq!(trees.tree(Demo::Items).name(), "items");
        Ok(())
    }
}
