//! MITRE ATT&CK technique ids.

use super::InvalidField;
use std::fmt;

/// An ATT&CK (sub-)technique id: `T` + 4 digits, optionally `.` + 3 digits (`T1059.001`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Technique(String);

impl Technique {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let upper = raw.trim().to_ascii_uppercase();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let valid = match upper.strip_prefix('T') {
            Some(rest) => match rest.split_once('.') {
                Some((main, sub)) => digits(main, 4) && digits(sub, 3),
                None => digits(rest, 4),
            },
            None => false,
        };
        if valid {
            Ok(Self(upper))
        } else {
            Err(InvalidField::new(
                "technique",
                format!("{raw:?} is not an ATT&CK technique id like T1059 or T1059.001"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The technique's page in MITRE's ATT&CK knowledge base (its name, description and
    /// detections): `https://attack.mitre.org/techniques/T1059/001/`. Built from the checked
    /// id alone, so it holds nothing a site chose but digits.
    pub fn reference_url(&self) -> String {
        format!(
            "https://attack.mitre.org/techniques/{}/",
            self.0.replace('.', "/")
        )
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Technique {
    type Error = InvalidField;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Technique> for String {
    fn from(value: Technique) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_techniques_and_subtechniques() {
        assert_eq!(
            Technique::parse("t1059.001").map(|t| t.0),
            Ok("T1059.001".into())
        );
        assert!(Technique::parse("T1059").is_ok());
        for bad in [
            "",
            "T105",
            "T10599",
            "1059",
            "T1059.1",
            "TA0001",
            "T1059.0011",
        ] {
            assert!(Technique::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_technique_links_to_its_attack_page() -> Result<(), InvalidField> {
        assert_eq!(
            Technique::parse("t1059.001")?.reference_url(),
            "https://attack.mitre.org/techniques/T1059/001/"
        );
        assert_eq!(
            Technique::parse("T1566")?.reference_url(),
            "https://attack.mitre.org/techniques/T1566/"
        );
        Ok(())
    }
}
