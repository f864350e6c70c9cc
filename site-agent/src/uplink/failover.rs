//! Which hub address the uplink connects to next (`hub.addresses`: hub replicas), and the
//! record of the last failover that `site-agent status` shows. Pure: no I/O, no clock.
//!
//! The addresses are tried in turn: a failed connect or a stream that ends with an error
//! moves to the next one at once, and the backoff applies once per full round of failures,
//! so one dead replica costs one connect timeout, not a backoff. A session that held
//! (delivered, or stayed up for a while) starts a new round from its address, so a replica
//! that dies after serving for hours is left for the next without waiting; a hub that
//! welcomes and then fails every stream still meets the backoff after each round.

/// The position in the address list and the failures of the current round.
#[derive(Debug, Clone)]
pub struct Rotation {
    count: usize,
    current: usize,
    failed_in_round: usize,
}

/// What the run loop does after a failed session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Connect to the next address now.
    Now,
    /// Every address failed in this round: wait the backoff, then start the next round.
    AfterBackoff,
}

impl Rotation {
    /// Over `count` addresses (at least one), starting with the first.
    pub fn new(count: usize) -> Self {
        Self {
            count: count.max(1),
            current: 0,
            failed_in_round: 0,
        }
    }

    /// The index of the address to connect to.
    pub fn current(&self) -> usize {
        self.current
    }

    /// A session at the current address ended with an error; `held` if it had delivered or
    /// stayed up long enough to count as working. Moves to the next address.
    pub fn failed(&mut self, held: bool) -> Next {
        if held {
            self.failed_in_round = 0;
        }
        self.failed_in_round += 1;
        self.current = (self.current + 1) % self.count;
        if self.failed_in_round >= self.count {
            self.failed_in_round = 0;
            Next::AfterBackoff
        } else {
            Next::Now
        }
    }
}

/// The last time the uplink connected to another address than the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    pub at_ms: i64,
    pub from: String,
    pub to: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_backs_off_after_every_failure() {
        let mut r = Rotation::new(1);
        for held in [false, true, false] {
            assert_eq!(r.failed(held), Next::AfterBackoff);
            assert_eq!(r.current(), 0);
        }
    }

    #[test]
    fn a_dead_replica_costs_no_backoff_and_a_full_round_costs_one() {
        let mut r = Rotation::new(3);
        assert_eq!((r.failed(false), r.current()), (Next::Now, 1));
        assert_eq!((r.failed(false), r.current()), (Next::Now, 2));
        assert_eq!((r.failed(false), r.current()), (Next::AfterBackoff, 0));
        assert_eq!((r.failed(false), r.current()), (Next::Now, 1));
    }

    #[test]
    fn a_session_that_held_starts_a_new_round() {
        let mut r = Rotation::new(2);
        // Address 0 is dead, 1 serves and then dies: straight back to 0, no backoff.
        assert_eq!((r.failed(false), r.current()), (Next::Now, 1));
        assert_eq!((r.failed(true), r.current()), (Next::Now, 0));
        // 0 still dead: the round (1, 0) is complete.
        assert_eq!((r.failed(false), r.current()), (Next::AfterBackoff, 1));
    }

    #[test]
    fn sessions_that_never_hold_meet_the_backoff_every_round() {
        let mut r = Rotation::new(2);
        let nexts: Vec<_> = (0..4).map(|_| r.failed(false)).collect();
        assert_eq!(
            nexts,
            [Next::Now, Next::AfterBackoff, Next::Now, Next::AfterBackoff]
        );
    }
}
