//! Rules every dashboard template keeps, read from `templates/` itself (a new template is
//! checked without being listed here): nothing the strict CSP would refuse (inline script or
//! style, event attributes, `javascript:` links), no value marked safe (escaping by
//! construction), every visible form control inside a label, one `lang` on the one layout, and
//! headings that never skip a level.

use std::path::Path;

fn templates() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut found: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("the templates folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let text = std::fs::read_to_string(&p).expect("a readable template");
            (name.unwrap_or_default(), text)
        })
        .collect();
    found.sort();
    found
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

#[test]
fn templates_keep_the_csp_escape_everything_and_label_every_control() {
    let all = templates();
    assert!(all.len() >= 9, "{all:?}");
    for (name, text) in &all {
        let html = markup(text).to_ascii_lowercase();
        for banned in [
            "style=",
            "<style",
            "javascript:",
            "|safe",
            "| safe",
            "<script>",
        ] {
            assert!(!html.contains(banned), "{name}: {banned}");
        }
        let attributes = html.split(|c: char| c.is_whitespace() || c == '<');
        for word in attributes {
            assert!(
                !(word.starts_with("on") && word.contains('=')),
                "{name}: an event attribute {word}"
            );
        }
        for line in html.lines() {
            for control in ["<input", "<select", "<textarea"] {
                for (at, _) in line.match_indices(control) {
                    let hidden = line[at..].starts_with("<input type=\"hidden\"");
                    let labelled =
                        line[..at].contains("<label") || line[at..].contains("aria-label=");
                    assert!(
                        hidden || labelled,
                        "{name}: a control without a label: {line}"
                    );
                }
            }
        }
        let mut level = if name == "base.html" || name.ends_with("rows.html") {
            0
        } else {
            1
        };
        for (at, _) in html.match_indices("<h") {
            if let Some(n) = html[at + 2..].chars().next().and_then(|c| c.to_digit(10)) {
                assert!(n <= level + 1 || n == 1, "{name}: h{n} after h{level}");
                level = n;
            }
        }
    }
    let base = all
        .iter()
        .find(|(n, _)| n == "base.html")
        .map(|(_, t)| t.as_str());
    assert!(
        base.is_some_and(|b| b.contains("<html lang=\"en\">")),
        "the layout names its language"
    );
    for (name, text) in &all {
        // Fragments (`*rows.html`, `state_line.html`) are parts of pages, served alone for
        // the live refresh.
        let page = !["base.html", "macros.html", "state_line.html"].contains(&name.as_str())
            && !name.ends_with("rows.html");
        assert!(
            !page || text.contains("{% extends \"base.html\" %}"),
            "{name} extends the one layout"
        );
    }
}
