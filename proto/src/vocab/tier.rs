//! The analyst tier, one ladder for both services: Tier 1 (the front line) to Tier 4 (the most
//! senior analyst); above Tier 4 a site escalates to the SIRT hub.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Analyst tier. Stored by both services (postcard: the variant's position; JSON: `"T1"`…),
/// so the variants keep their order and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    T1,
    T2,
    T3,
    T4,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::T1, Tier::T2, Tier::T3, Tier::T4];

    pub fn number(self) -> u8 {
        match self {
            Tier::T1 => 1,
            Tier::T2 => 2,
            Tier::T3 => 3,
            Tier::T4 => 4,
        }
    }

    pub fn from_number(n: u8) -> Option<Tier> {
        Tier::ALL.into_iter().find(|tier| tier.number() == n)
    }

    /// The next rung of the ladder; `None` above Tier 4 means the SIRT hub.
    pub fn next(self) -> Option<Tier> {
        Tier::from_number(self.number().saturating_add(1))
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tier {}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_runs_from_one_to_four_then_to_the_hub() {
        assert_eq!(Tier::from_number(0), None);
        assert_eq!(Tier::from_number(5), None);
        for tier in Tier::ALL {
            assert_eq!(Tier::from_number(tier.number()), Some(tier));
        }
        assert_eq!(Tier::T3.next(), Some(Tier::T4));
        assert_eq!(Tier::T4.next(), None);
        assert_eq!(Tier::T2.to_string(), "tier 2");
    }
}
