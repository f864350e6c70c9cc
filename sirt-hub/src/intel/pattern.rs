//! The subset of STIX 2.1 patterning that names single indicators, both ways: equality
//! comparisons on the object paths the hub's indicator vocabulary has, joined by OR (inside
//! one observation or between observations). An OR of N comparisons is N indicators. AND,
//! FOLLOWEDBY, NOT, any operator but `=`, and qualifiers (WITHIN, REPEATS, START/STOP) say
//! something one indicator cannot, and are refused with the reason. Bounded: the caller caps
//! the pattern's length, and nesting deeper than [`MAX_DEPTH`] is refused.

use socfed_proto::vocab::{Indicator, IndicatorKind};

/// Parentheses and brackets nested deeper than this are refused.
pub const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open(char),
    Close(char),
    Word(String),
    Str(String),
    Op(String),
}

fn tokenize(p: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = p.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '[' | '(' => {
                out.push(Tok::Open(c));
                chars.next();
            }
            ']' | ')' => {
                out.push(Tok::Close(c));
                chars.next();
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some(e @ ('\'' | '\\')) => s.push(e),
                            _ => return Err("a string has an escape other than \\' or \\\\".into()),
                        },
                        Some('\'') => break,
                        Some(ch) => s.push(ch),
                        None => return Err("a string is not closed".into()),
                    }
                }
                out.push(Tok::Str(s));
            }
            '=' | '!' | '<' | '>' => {
                let mut op = String::new();
                while let Some(&o) = chars.peek() {
                    if matches!(o, '=' | '!' | '<' | '>') {
                        op.push(o);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Op(op));
            }
            _ => {
                // A word: a keyword, an object path (`file:hashes.'SHA-256'`) or a literal.
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace()
                        || matches!(ch, '[' | ']' | '(' | ')' | '=' | '!' | '<' | '>')
                    {
                        break;
                    }
                    if ch == '\'' {
                        // A quoted path step such as hashes.'SHA-256': kept verbatim.
                        if !w.ends_with('.') {
                            break;
                        }
                        chars.next();
                        w.push('\'');
                        for q in chars.by_ref() {
                            w.push(q);
                            if q == '\'' {
                                break;
                            }
                        }
                        continue;
                    }
                    w.push(ch);
                    chars.next();
                }
                if w.is_empty() {
                    return Err(format!("unexpected character {c:?}"));
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

type Comparisons = Vec<(String, String)>;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn keyword(&self) -> Option<String> {
        match self.peek() {
            Some(Tok::Word(w)) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH}"));
        }
        Ok(())
    }

    /// observation (OR observation)*
    fn observations(&mut self) -> Result<Comparisons, String> {
        let mut out = self.observation()?;
        loop {
            match self.keyword().as_deref() {
                Some("OR") => {
                    self.at += 1;
                    out.extend(self.observation()?);
                }
                Some(k @ ("AND" | "FOLLOWEDBY")) => {
                    return Err(format!(
                        "observations joined by {k} are not one indicator each"
                    ));
                }
                Some(k @ ("WITHIN" | "REPEATS" | "START" | "STOP")) => {
                    return Err(format!("the qualifier {k} is not supported"));
                }
                _ => return Ok(out),
            }
        }
    }

    fn observation(&mut self) -> Result<Comparisons, String> {
        self.enter()?;
        let out = match self.toks.get(self.at).cloned() {
            Some(Tok::Open('[')) => {
                self.at += 1;
                let inner = self.comparisons()?;
                self.close(']')?;
                inner
            }
            Some(Tok::Open('(')) => {
                self.at += 1;
                let inner = self.observations()?;
                self.close(')')?;
                inner
            }
            _ => return Err("expected [ or ( to open an observation".into()),
        };
        self.depth -= 1;
        Ok(out)
    }

    /// comparison (OR comparison)*
    fn comparisons(&mut self) -> Result<Comparisons, String> {
        let mut out = self.comparison()?;
        loop {
            match self.keyword().as_deref() {
                Some("OR") => {
                    self.at += 1;
                    out.extend(self.comparison()?);
                }
                Some("AND") => {
                    return Err("comparisons joined by AND are not one indicator each".into());
                }
                _ => return Ok(out),
            }
        }
    }

    fn comparison(&mut self) -> Result<Comparisons, String> {
        if self.peek() == Some(&Tok::Open('(')) {
            self.enter()?;
            self.at += 1;
            let inner = self.comparisons()?;
            self.close(')')?;
            self.depth -= 1;
            return Ok(inner);
        }
        let Some(Tok::Word(path)) = self.peek().cloned() else {
            return Err("expected an object path such as ipv4-addr:value".into());
        };
        self.at += 1;
        match self.peek().cloned() {
            Some(Tok::Op(op)) if op == "=" => self.at += 1,
            Some(Tok::Op(op)) => {
                return Err(format!("the operator {op} is not supported (only =)"));
            }
            Some(Tok::Word(w)) => {
                return Err(format!(
                    "the operator {} is not supported (only =)",
                    w.to_ascii_uppercase()
                ));
            }
            _ => return Err(format!("{path} is not compared to anything")),
        }
        match self.peek().cloned() {
            Some(Tok::Str(value)) => {
                self.at += 1;
                Ok(vec![(path, value)])
            }
            _ => Err(format!("{path} must be compared to a quoted string")),
        }
    }

    fn close(&mut self, want: char) -> Result<(), String> {
        match self.peek() {
            Some(Tok::Close(c)) if *c == want => {
                self.at += 1;
                Ok(())
            }
            _ => Err(format!("expected {want}")),
        }
    }
}

/// The (object path, value) comparisons an OR-only pattern is made of, or why it is not one.
pub fn comparisons(pattern: &str) -> Result<Vec<(String, String)>, String> {
    let toks = tokenize(pattern)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
    };
    let out = p.observations()?;
    if p.at != p.toks.len() {
        return Err("unexpected text after the pattern".into());
    }
    Ok(out)
}

/// The hub indicator kind an object path names, or why none does.
pub fn kind_of_path(path: &str) -> Result<IndicatorKind, String> {
    let (object, property) = path
        .split_once(':')
        .ok_or_else(|| format!("{path} is not an object path"))?;
    let hash = |p: &str| {
        let name: String = p
            .strip_prefix("hashes.")?
            .chars()
            .filter(|c| !matches!(c, '\'' | '-' | '_'))
            .collect::<String>()
            .to_ascii_uppercase();
        match name.as_str() {
            "MD5" => Some(IndicatorKind::Md5),
            "SHA1" => Some(IndicatorKind::Sha1),
            "SHA256" => Some(IndicatorKind::Sha256),
            _ => None,
        }
    };
    let kind = match (object, property) {
        ("ipv4-addr", "value") => Some(IndicatorKind::Ipv4),
        ("ipv6-addr", "value") => Some(IndicatorKind::Ipv6),
        ("domain-name", "value") => Some(IndicatorKind::Domain),
        ("url", "value") => Some(IndicatorKind::Url),
        ("email-addr", "value") => Some(IndicatorKind::Email),
        ("file" | "artifact", p) => hash(p),
        _ => None,
    };
    kind.ok_or_else(|| {
        format!(
            "{path} is not in the hub's indicator vocabulary (ipv4-addr, ipv6-addr, domain-name, url, email-addr values; file MD5, SHA-1, SHA-256 hashes)"
        )
    })
}

/// One comparison as a hub indicator (a /32 or /128 CIDR is its address), or why not.
pub fn indicator(path: &str, value: &str) -> Result<Indicator, String> {
    let kind = kind_of_path(path)?;
    let value = match kind {
        IndicatorKind::Ipv4 => value.strip_suffix("/32").unwrap_or(value),
        IndicatorKind::Ipv6 => value.strip_suffix("/128").unwrap_or(value),
        _ => value,
    };
    Indicator::new(kind, value).map_err(|e| format!("{path}: {}", e.problem))
}

/// A single-comparison STIX pattern for `i`; `None` for a CVE, which STIX writes as a
/// `vulnerability` object, not a pattern.
pub fn for_indicator(i: &Indicator) -> Option<String> {
    let path = match i.kind() {
        IndicatorKind::Ipv4 => "ipv4-addr:value",
        IndicatorKind::Ipv6 => "ipv6-addr:value",
        IndicatorKind::Domain => "domain-name:value",
        IndicatorKind::Url => "url:value",
        IndicatorKind::Email => "email-addr:value",
        IndicatorKind::Md5 => "file:hashes.MD5",
        IndicatorKind::Sha1 => "file:hashes.'SHA-1'",
        IndicatorKind::Sha256 => "file:hashes.'SHA-256'",
        IndicatorKind::Cve => return None,
    };
    let quoted = i.value().replace('\\', "\\\\").replace('\'', "\\'");
    Some(format!("[{path} = '{quoted}']"))
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
