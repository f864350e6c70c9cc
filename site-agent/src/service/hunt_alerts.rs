//! The intake side of hunt detections: a library hunt's hits (`response::detect`) taken in as
//! native alert lines by the agent itself, through the same intake as any source, so they
//! aggregate, queue for Tier 1 with an SLA clock and escalate like any detection.

use super::{Actor, SocService};
use crate::response::detect::AlertIntake;
use crate::soc::Role;
use crate::soc::alert::Format;

impl Actor {
    /// Library hunts raising alerts at this site, as the audit names them.
    pub fn hunt_library() -> Self {
        Self {
            name: "hunt-library".into(),
            role: Role::SocManager,
            cert: String::new(),
        }
    }
}

impl AlertIntake for SocService {
    fn raise(&self, lines: &[String]) -> Result<(), String> {
        let numbered: Vec<(u64, String)> = (1u64..).zip(lines.iter().cloned()).collect();
        let result = self
            .submit(&Actor::hunt_library(), Format::Native, &numbered)
            .map_err(|e| e.to_string())?;
        match result.rejections.first() {
            // Built by the agent from checked parameters: a refusal is a bug, said loudly.
            Some((line, why)) => Err(format!("hunt alert line {line} refused: {why}")),
            None => Ok(()),
        }
    }
}
