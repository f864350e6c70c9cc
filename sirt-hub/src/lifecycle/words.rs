//! The words operators type for lifecycle commands (`sirt-hub incidents transition ID WORD
//! [ARG]`, the `TransitionIncident` API) and their parsing into [`Command`]s.

use super::model::{Command, CommandKind, Priority};

impl CommandKind {
    pub fn word(self) -> &'static str {
        match self {
            CommandKind::StartTriage => "start-triage",
            CommandKind::Contain => "contain",
            CommandKind::Eradicate => "eradicate",
            CommandKind::Recover => "recover",
            CommandKind::StartReview => "start-review",
            CommandKind::Close => "close",
            CommandKind::CloseAsFalsePositive => "close-false-positive",
            CommandKind::CloseAsDuplicate => "close-duplicate",
            CommandKind::Reopen => "reopen",
            CommandKind::SetSeverity => "set-severity",
            CommandKind::SetPriority => "set-priority",
            CommandKind::SetTlp => "set-tlp",
            CommandKind::AddTechnique => "add-technique",
            CommandKind::AssignIrLead => "assign-ir-lead",
        }
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

impl std::str::FromStr for CommandKind {
    type Err = String;

    /// Reads an operator's word; the error lists what is accepted.
    fn from_str(word: &str) -> Result<Self, String> {
        CommandKind::ALL
            .into_iter()
            .find(|k| k.word() == word)
            .ok_or_else(|| {
                let words: Vec<&str> = CommandKind::ALL.iter().map(|k| k.word()).collect();
                format!("unknown command {word:?}; use one of {}", words.join(", "))
            })
    }
}

/// Parses `word` and its argument; the error lists what is accepted.
pub fn parse_command(word: &str, argument: &str) -> Result<Command, String> {
    command(word.parse()?, argument)
}

/// Longest argument a command takes (a reason, an incident id, a name): it is kept in the
/// incident's timeline, its phase and the audit chain, whatever transport sent it.
pub const MAX_ARGUMENT_CHARS: usize = 1_000;

/// The command of `kind` with its argument; the error says what the argument must be.
pub fn command(kind: CommandKind, argument: &str) -> Result<Command, String> {
    let word = kind.word();
    let argument = argument.trim();
    if argument.chars().count() > MAX_ARGUMENT_CHARS {
        return Err(format!(
            "{word}: the argument is longer than {MAX_ARGUMENT_CHARS} characters; shorten it (attach long text to the incident's report instead)"
        ));
    }
    let need = |what: &str| -> Result<String, String> {
        if argument.is_empty() {
            Err(format!("{word} needs {what}"))
        } else {
            Ok(argument.to_string())
        }
    };
    let command = match kind {
        CommandKind::StartTriage => Command::StartTriage,
        CommandKind::Contain => Command::Contain,
        CommandKind::Eradicate => Command::Eradicate,
        CommandKind::Recover => Command::Recover,
        CommandKind::StartReview => Command::StartReview,
        CommandKind::Close => Command::Close,
        CommandKind::CloseAsFalsePositive => Command::CloseAsFalsePositive,
        CommandKind::CloseAsDuplicate => Command::CloseAsDuplicate {
            of: need("the id of the incident it duplicates")?,
        },
        CommandKind::Reopen => Command::Reopen {
            reason: need("a reason")?,
        },
        CommandKind::SetSeverity => Command::SetSeverity(
            need("a severity")?
                .parse()
                .map_err(|e: socfed_proto::vocab::InvalidField| e.to_string())?,
        ),
        CommandKind::SetPriority => Command::SetPriority(
            Priority::ALL
                .into_iter()
                .find(|p| format!("{p:?}").eq_ignore_ascii_case(argument))
                .ok_or_else(|| format!("{argument:?} is not a priority; use P1, P2, P3 or P4"))?,
        ),
        CommandKind::SetTlp => Command::SetTlp(
            need("a TLP")?
                .parse()
                .map_err(|e: socfed_proto::vocab::InvalidField| e.to_string())?,
        ),
        CommandKind::AddTechnique => Command::AddTechnique(need("an ATT&CK technique id")?),
        CommandKind::AssignIrLead => Command::AssignIrLead {
            operator: need("an operator name")?,
        },
    };
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_word_parses_back_to_its_kind() {
        for kind in CommandKind::ALL {
            let argument = match kind {
                CommandKind::SetSeverity => "high",
                CommandKind::SetPriority => "p2",
                CommandKind::SetTlp => "red",
                CommandKind::AddTechnique => "T1486",
                _ => "x",
            };
            let command = parse_command(kind.word(), argument).expect("parses");
            assert_eq!(command.kind(), kind);
        }
        assert!(parse_command("reopen", " ").is_err());
        assert!(
            parse_command("teleport", "")
                .expect_err("unknown")
                .contains("start-triage")
        );
    }

    /// Free text from an operator goes into the incident's timeline, its phase and the audit
    /// chain: bounded the same for every transport (gRPC is capped by its message size, a
    /// form only by its body limit).
    #[test]
    fn an_argument_longer_than_the_bound_is_refused_with_the_bound() {
        let long = "x".repeat(MAX_ARGUMENT_CHARS + 1);
        for word in ["reopen", "close-duplicate", "assign-ir-lead"] {
            let refused = parse_command(word, &long).expect_err("too long");
            assert!(
                refused.contains(&MAX_ARGUMENT_CHARS.to_string()),
                "{refused}"
            );
        }
        let fits = "y".repeat(MAX_ARGUMENT_CHARS);
        assert!(parse_command("reopen", &fits).is_ok());
    }
}
