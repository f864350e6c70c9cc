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

/// Parses `word` and its argument; the error lists what is accepted.
pub fn parse_command(word: &str, argument: &str) -> Result<Command, String> {
    let argument = argument.trim();
    let need = |what: &str| -> Result<String, String> {
        if argument.is_empty() {
            Err(format!("{word} needs {what}"))
        } else {
            Ok(argument.to_string())
        }
    };
    let command = match word {
        "start-triage" => Command::StartTriage,
        "contain" => Command::Contain,
        "eradicate" => Command::Eradicate,
        "recover" => Command::Recover,
        "start-review" => Command::StartReview,
        "close" => Command::Close,
        "close-false-positive" => Command::CloseAsFalsePositive,
        "close-duplicate" => Command::CloseAsDuplicate {
            of: need("the id of the incident it duplicates")?,
        },
        "reopen" => Command::Reopen {
            reason: need("a reason")?,
        },
        "set-severity" => Command::SetSeverity(
            need("a severity")?
                .parse()
                .map_err(|e: socfed_proto::vocab::InvalidField| e.to_string())?,
        ),
        "set-priority" => Command::SetPriority(
            Priority::ALL
                .into_iter()
                .find(|p| format!("{p:?}").eq_ignore_ascii_case(argument))
                .ok_or_else(|| format!("{argument:?} is not a priority; use P1, P2, P3 or P4"))?,
        ),
        "set-tlp" => Command::SetTlp(
            need("a TLP")?
                .parse()
                .map_err(|e: socfed_proto::vocab::InvalidField| e.to_string())?,
        ),
        "add-technique" => Command::AddTechnique(need("an ATT&CK technique id")?),
        "assign-ir-lead" => Command::AssignIrLead {
            operator: need("an operator name")?,
        },
        other => {
            let words: Vec<&str> = CommandKind::ALL.iter().map(|k| k.word()).collect();
            return Err(format!(
                "unknown command {other:?}; use one of {}",
                words.join(", ")
            ));
        }
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
}
