//! The process group of a running command action, and ending it.
//!
//! Every command action starts in a new process group whose id is its leader's pid. The whole
//! group is ended (SIGTERM, then SIGKILL) when the action times out, when its leader exits
//! (anything it left running in the background goes with it) and when the task running it is
//! dropped (agent shutdown). Without `unsafe` the agent cannot ask the kernel to kill the group
//! when the agent itself is SIGKILLed (`PR_SET_PDEATHSIG` needs code between fork and exec), so
//! the group is recorded durably ([`ActionGroup`], in the store) right after the spawn and, at
//! the next start, a group still alive is ended before the directive is reported
//! `interrupted`. Under systemd the unit's cgroup (`KillMode=control-group`) ends it even
//! sooner, when the agent's main process dies.
//!
//! A process group id is a pid, and pids are reused, so a recorded group is only signalled at
//! start if it is of this boot (the boot instant is recorded with it) and its leader, if still
//! there, is the same process (same start time since boot). While any member of a group is
//! alive the kernel does not hand its id to a new process, so a group whose leader exited is
//! still ours. Linux only (`/proc`); elsewhere a leftover is reported, not ended.

/// The record itself is domain data, kept by the store.
pub use crate::soc::directive::ActionGroup;
use rustix::process::{Pid, Signal, kill_process_group};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a group has after SIGTERM before SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// Two readings of the boot instant further apart than this are different boots (the wall
/// clock may be stepped in between; a false "other boot" only means nothing is signalled).
const SAME_BOOT_MS: i64 = 5_000;

/// What happened to a recorded group at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// Processes of the action were still running; they were ended.
    Ended,
    /// Nothing of the action was still running.
    Gone,
    /// Not signalled: the reason says why (another boot, a reused id, no `/proc`).
    Unknown(String),
}

impl ActionGroup {
    /// The group just spawned with leader `pid`, if its identity can be read.
    pub fn of(pid: u32) -> Option<Self> {
        Some(Self {
            pgid: i32::try_from(pid).ok()?,
            leader_start: start_ticks(pid)?,
            boot_ms: boot_ms()?,
        })
    }

    /// At start: ends what is left of this group, if it is still this action's.
    pub fn end_leftover(&self) -> Leftover {
        let Some(boot) = boot_ms() else {
            return Leftover::Unknown("the boot time cannot be read here".into());
        };
        if (boot - self.boot_ms).abs() > SAME_BOOT_MS {
            // Every process of an earlier boot is gone.
            return Leftover::Gone;
        }
        let Ok(pid) = u32::try_from(self.pgid) else {
            return Leftover::Unknown(format!("invalid process group {}", self.pgid));
        };
        match start_ticks(pid) {
            Some(start) if start != self.leader_start => {
                return Leftover::Unknown(format!(
                    "process {pid} is now another program; its group was not signalled"
                ));
            }
            _ => {}
        }
        if signal(self.pgid, Signal::KILL) {
            Leftover::Ended
        } else {
            Leftover::Gone
        }
    }
}

/// Sends `sig` to the group; false when no process is in it.
pub fn signal(pgid: i32, sig: Signal) -> bool {
    match Pid::from_raw(pgid) {
        Some(pid) => kill_process_group(pid, sig).is_ok(),
        None => false,
    }
}

/// Ends the group when dropped (a cancelled action, agent shutdown), unless disarmed.
pub struct GroupGuard {
    pub pgid: i32,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        signal(self.pgid, Signal::KILL);
    }
}

/// Waits until `pid` (a child of this process) has exited, without reaping it: while it is a
/// zombie its pid, and so its group id, cannot be reused, so signalling the group afterwards
/// cannot reach an unrelated process. Blocking; run it off the async threads.
pub fn wait_exited_unreaped(pid: i32) {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let Some(pid) = Pid::from_raw(pid) else {
        return;
    };
    loop {
        match waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            _ => return,
        }
    }
}

/// `/proc/PID/stat` field 22: when the process started, in ticks since boot.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The boot instant in Unix milliseconds: now minus the time since boot.
fn boot_ms() -> Option<i64> {
    let since_boot = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    let since_boot_ms = since_boot
        .tv_sec
        .checked_mul(1000)?
        .checked_add(since_boot.tv_nsec / 1_000_000)?;
    let now_ms = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis(),
    )
    .ok()?;
    now_ms.checked_sub(since_boot_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_start_time_and_the_boot_instant_is_stable() {
        assert!(start_ticks(std::process::id()).is_some());
        let (a, b) = (boot_ms(), boot_ms());
        assert!(matches!((a, b), (Some(a), Some(b)) if (a - b).abs() < SAME_BOOT_MS));
    }

    #[test]
    fn a_recorded_group_is_ended_only_if_its_leader_is_the_same_process() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .expect("sleep runs");
        let group = ActionGroup::of(child.id()).expect("readable");
        let reused = ActionGroup {
            leader_start: group.leader_start + 1,
            ..group.clone()
        };
        assert!(matches!(reused.end_leftover(), Leftover::Unknown(_)));
        assert_eq!(child.try_wait().expect("waitable"), None, "left alone");
        assert_eq!(group.end_leftover(), Leftover::Ended);
        assert!(!child.wait().expect("reaped").success());
    }
}
