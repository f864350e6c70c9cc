//! Rules every web surface's askama templates keep, checked by each service's tests on its
//! `templates/` folder (a new template is checked without being listed): nothing the strict
//! CSP would refuse (inline script or style, event attributes, `javascript:` links), no value
//! marked safe (escaping by construction), every visible form control inside a label, one
//! `lang` on the one layout, every page on that layout, and headings that never skip a level.

use std::path::Path;

/// The `.html` templates in `dir`, by name, sorted.
pub fn templates(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "html") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push((name, std::fs::read_to_string(&path)?));
        }
    }
    found.sort();
    Ok(found)
}

/// The template without its `{# … #}` comments (which describe the rules in words).
fn markup(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{#") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("#}")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// What the templates `all` break of the rules; `partials` are the templates that are not
/// pages (included fragments, macros), which neither extend the layout nor start at `<h1>`.
pub fn problems(all: &[(String, String)], partials: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in all {
        let html = markup(text).to_ascii_lowercase();
        for banned in [
            "style=",
            "<style",
            "javascript:",
            "|safe",
            "| safe",
            "<script>",
        ] {
            if html.contains(banned) {
                found.push(format!("{name}: {banned}"));
            }
        }
        for word in html.split(|c: char| c.is_whitespace() || c == '<') {
            if word.starts_with("on") && word.contains('=') {
                found.push(format!("{name}: an event attribute {word}"));
            }
        }
        for line in html.lines() {
            for control in ["<input", "<select", "<textarea"] {
                for (at, _) in line.match_indices(control) {
                    let hidden = line[at..].starts_with("<input type=\"hidden\"");
                    let labelled =
                        line[..at].contains("<label") || line[at..].contains("aria-label=");
                    if !(hidden || labelled) {
                        found.push(format!("{name}: a control without a label: {line}"));
                    }
                }
            }
        }
        let partial = name == "base.html" || partials.contains(&name.as_str());
        // A page starts after its `<h1>`; so does an included section (a partial shown
        // inside a page's body), which may open with an `<h2>`.
        let mut level = if name == "base.html" { 0 } else { 1 };
        for (at, _) in html.match_indices("<h") {
            if let Some(n) = html[at + 2..].chars().next().and_then(|c| c.to_digit(10)) {
                if n > level + 1 && n != 1 {
                    found.push(format!("{name}: h{n} after h{level}"));
                }
                level = n;
            }
        }
        if !partial && !text.contains("{% extends \"base.html\" %}") {
            found.push(format!("{name} does not extend the one layout"));
        }
    }
    let base = all.iter().find(|(n, _)| n == "base.html");
    if !base.is_some_and(|(_, b)| b.contains("<html lang=\"en\">")) {
        found.push("the layout base.html names no language".into());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_is_told_by_name() {
        let all = vec![
            (
                "base.html".to_string(),
                "<html lang=\"en\"><h1>x</h1>".to_string(),
            ),
            (
                "page.html".to_string(),
                "{# <script> in a comment is fine #}<h1>a</h1><h3>b</h3><p onclick=\"x\">{{ v|safe }}</p><input name=\"q\">"
                    .to_string(),
            ),
        ];
        let found = problems(&all, &[]).join("\n");
        for rule in [
            "h3 after h1",
            "event attribute",
            "|safe",
            "without a label",
            "extend",
        ] {
            assert!(found.contains(rule), "{rule}: {found}");
        }
        assert!(!found.contains("<script>"), "{found}");
    }
}
