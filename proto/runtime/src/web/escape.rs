//! The one HTML escaping of socfed's web surfaces and HTML reports: `&`, `<`, `>`, `"` and `'`
//! become `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;`, which is safe in element text and in
//! quoted attribute values. The services' askama templates use it for every value they write
//! (`[[escaper]]` for `.html` in each crate's `askama.toml`), so a template cannot forget it;
//! named entities keep the served HTML readable (askama's own escaper writes numeric ones).

use std::fmt::{self, Write};

/// The askama escaper for `.html` templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut done = 0;
        for (at, byte) in text.bytes().enumerate() {
            let entity = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            // `at` is an ASCII byte's index: a character boundary.
            dest.write_str(&text[done..at])?;
            dest.write_str(entity)?;
            done = at + 1;
        }
        dest.write_str(&text[done..])
    }
}

/// `text` escaped for HTML (the reports' HTML, built outside a template).
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&Html, &mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_and_ampersands_become_entities_and_the_rest_stays() {
        assert_eq!(
            html(r#"<script>alert("a&b")</script> 'é'"#),
            "&lt;script&gt;alert(&quot;a&amp;b&quot;)&lt;/script&gt; &#39;é&#39;"
        );
        assert_eq!(html("plain ünïcode"), "plain ünïcode");
        assert_eq!(html(""), "");
    }
}
