//! The search filters every search command takes (`site-agent alerts search`, `sirt-hub
//! incidents search`, `sirt-hub search alerts`), as flags and as the wire's `SearchFilters`;
//! the service checks them (`socfed_proto::search`).

use socfed_proto::pb;

#[derive(Debug, Clone, clap::Args)]
pub struct SearchFilterArgs {
    /// An indicator as `kind:value` (repeatable, at most 4).
    #[arg(long = "indicator")]
    pub indicators: Vec<String>,
    /// A host (repeatable, at most 4; alert searches only).
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// A user (repeatable, at most 4; alert searches only).
    #[arg(long = "user")]
    pub users: Vec<String>,
    /// An ATT&CK technique id, e.g. T1059.001 (repeatable, at most 4).
    #[arg(long = "technique")]
    pub techniques: Vec<String>,
    /// Words (at most 8) that must all appear in the title or the comments or notes.
    #[arg(long, num_args = 1.., value_name = "WORDS")]
    pub text: Vec<String>,
}

impl SearchFilterArgs {
    pub fn into_wire(self) -> pb::SearchFilters {
        let SearchFilterArgs {
            indicators,
            hosts,
            users,
            techniques,
            text,
        } = self;
        pb::SearchFilters {
            indicators,
            hosts,
            users,
            techniques,
            text: text.join(" "),
        }
    }
}
