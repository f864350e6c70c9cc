//! The JSON posted to a chat incoming webhook for a communication.
//!
//! Slack, Mattermost and Rocket.Chat all read a top-level `"text"` and ignore fields they do
//! not know, so one payload fits them: the subject and the body go in `"text"`, and the
//! identifiers a bot or an archive may want go under `"socfed"`. Nothing is taken from the
//! incident beyond what the record already holds (its body is redacted) and the title, which
//! redaction never withholds.

use super::CommRecord;
use super::template::tlp_label;
use serde_json::{Value, json};

/// The webhook body for `record`. It does not check the state: the delivery layer posts only
/// records that [need delivery](CommRecord::needs_delivery).
///
/// `"text"` is rendered by the chat, and the title in it comes from a site: it goes through
/// [`chat_text`]. The `"socfed"` fields are data for programs and stay as they are (JSON
/// escapes them).
pub fn payload(record: &CommRecord, incident_title: &str) -> Value {
    json!({
        "text": chat_text(&format!("{}\n\n{}", record.subject, record.body)),
        "socfed": {
            "communication_id": record.id.to_string(),
            "incident_id": record.incident.to_string(),
            "incident_title": incident_title,
            "audience": record.audience.as_str(),
            "tlp": tlp_label(record.tlp),
        },
    })
}

/// Plain text made inert for Slack mrkdwn and Mattermost Markdown, so that text a site wrote
/// (a title) cannot page a whole channel, hide a link behind other words, or format itself:
///
/// - `&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;`: Slack's documented escaping, which also
///   disarms its control sequences (`<!channel>`, `<!here>`, `<@U123>`, `<http://evil|click>`);
///   Mattermost (CommonMark) shows the entities as the characters.
/// - `@` at the start of a word gets a WORD JOINER (U+2060) after it: `@channel`, `@here`,
///   `@all` still read the same but no longer notify (Mattermost notifies on the plain words).
///   An `@` inside a word (an e-mail address) is left alone.
/// - `](` gets a WORD JOINER between its two characters: a Markdown link `[click](http://…)`
///   shows as text, with its real address visible.
/// - Control characters (none are accepted from sites; defence in depth) become `\u{..}`.
pub fn chat_text(text: &str) -> String {
    const WORD_JOINER: char = '\u{2060}';
    let mut out = String::with_capacity(text.len() + 16);
    let mut previous: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' if !previous.is_some_and(char::is_alphanumeric) => {
                out.push('@');
                out.push(WORD_JOINER);
            }
            ']' if chars.peek() == Some(&'(') => {
                out.push(']');
                out.push(WORD_JOINER);
            }
            '\n' | '\t' => out.push(c),
            c if socfed_runtime::terminal::is_unsafe(c) => {
                out.push_str(&socfed_runtime::terminal::clean(&c.to_string()));
            }
            c => out.push(c),
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::chat_text;

    #[test]
    fn chat_control_sequences_mentions_and_links_are_inert() {
        let shown = chat_text(
            "<!channel> urgent: <http://evil.example|click> @here [see](http://evil.example) ATT&CK ciso@corp.example",
        );
        for live in ["<!channel>", "<http", "@here", "](", "&CK"] {
            assert!(!shown.contains(live), "{live} in {shown}");
        }
        assert!(shown.contains("&lt;!channel&gt;") && shown.contains("ATT&amp;CK"));
        assert!(shown.contains("ciso@corp.example"), "{shown}");
        assert_eq!(chat_text("plain text\nline two"), "plain text\nline two");
    }
}
