//! A runbook's Markdown read into plain blocks of plain spans, which every surface shows
//! with its own escaping: the web surfaces through their askama templates (HTML-escaped, no
//! value marked safe), the CLIs through `socfed_runtime::terminal`. Nothing here writes HTML.
//!
//! What the source may not do, whatever it holds: raw HTML is kept as the text it is (shown
//! escaped, never interpreted); a link keeps its target only when it is `http://` or
//! `https://` (anything else, `javascript:` included, is shown as its text alone); an image is
//! its alt text. Checklist items (`- [ ] step`) are the runbook's steps, numbered from 1 in
//! order; a tick in the source means nothing (progress is kept per incident).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// How a span of text is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanStyle {
    Plain,
    Strong,
    Emphasis,
    Code,
}

/// A run of text in one style, a link when `href` is set (always `http(s)://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub style: SpanStyle,
    pub href: Option<String>,
}

/// One block of a runbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading {
        level: u8,
        spans: Vec<Span>,
    },
    Paragraph {
        spans: Vec<Span>,
    },
    /// A list item that is not a step.
    Item {
        spans: Vec<Span>,
    },
    /// A checklist step, numbered from 1.
    Step {
        number: u32,
        spans: Vec<Span>,
    },
    Code {
        text: String,
    },
    Rule,
}

/// What the block being read will be.
enum Open {
    None,
    Heading(u8),
    Paragraph,
    Item,
    Step,
    Code,
}

struct Reader {
    blocks: Vec<Block>,
    open: Open,
    spans: Vec<Span>,
    code: String,
    strong: u32,
    emphasis: u32,
    /// Inside a link: its target when allowed, `None` when refused.
    link: Option<Option<String>>,
    steps: u32,
}

impl Reader {
    fn style(&self) -> SpanStyle {
        if self.strong > 0 {
            SpanStyle::Strong
        } else if self.emphasis > 0 {
            SpanStyle::Emphasis
        } else {
            SpanStyle::Plain
        }
    }

    fn text(&mut self, text: &str, style: SpanStyle) {
        if matches!(self.open, Open::Code) {
            self.code.push_str(text);
            return;
        }
        if matches!(self.open, Open::None) {
            self.open = Open::Paragraph;
        }
        let href = self.link.clone().flatten();
        match self.spans.last_mut() {
            Some(last) if last.style == style && last.href == href => last.text.push_str(text),
            _ => self.spans.push(Span {
                text: text.to_string(),
                style,
                href,
            }),
        }
    }

    fn begin(&mut self, open: Open) {
        self.flush();
        self.open = open;
    }

    fn flush(&mut self) {
        let spans = std::mem::take(&mut self.spans);
        let open = std::mem::replace(&mut self.open, Open::None);
        let block = match open {
            Open::None => None,
            Open::Code => Some(Block::Code {
                text: std::mem::take(&mut self.code),
            }),
            _ if spans.iter().all(|s| s.text.trim().is_empty()) => None,
            Open::Heading(level) => Some(Block::Heading { level, spans }),
            Open::Paragraph => Some(Block::Paragraph { spans }),
            Open::Item => Some(Block::Item { spans }),
            Open::Step => {
                self.steps += 1;
                Some(Block::Step {
                    number: self.steps,
                    spans,
                })
            }
        };
        self.blocks.extend(block);
    }
}

/// The blocks of a runbook's Markdown.
pub fn render(markdown: &str) -> Vec<Block> {
    let mut r = Reader {
        blocks: Vec::new(),
        open: Open::None,
        spans: Vec::new(),
        code: String::new(),
        strong: 0,
        emphasis: 0,
        link: None,
        steps: 0,
    };
    let options = Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => r.begin(Open::Heading(level as u8)),
                // A loose list's item holds paragraphs: they stay in the item.
                Tag::Paragraph if !matches!(r.open, Open::Item | Open::Step) => {
                    r.begin(Open::Paragraph)
                }
                Tag::Item => r.begin(Open::Item),
                Tag::List(_) => r.flush(),
                Tag::CodeBlock(_) => r.begin(Open::Code),
                Tag::HtmlBlock => r.begin(Open::Paragraph),
                Tag::Strong => r.strong += 1,
                Tag::Emphasis => r.emphasis += 1,
                Tag::Link { dest_url, .. } => r.link = Some(allowed_link(&dest_url)),
                // An image is its alt text, never a fetch.
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::BlockQuote(_) => r.flush(),
                TagEnd::Paragraph => {
                    if !matches!(r.open, Open::Item | Open::Step) {
                        r.flush()
                    } else {
                        r.text(" ", SpanStyle::Plain)
                    }
                }
                TagEnd::Strong => r.strong = r.strong.saturating_sub(1),
                TagEnd::Emphasis => r.emphasis = r.emphasis.saturating_sub(1),
                TagEnd::Link => r.link = None,
                _ => {}
            },
            Event::TaskListMarker(_) => {
                if matches!(r.open, Open::Item) {
                    r.open = Open::Step;
                }
            }
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                let style = r.style();
                r.text(&text, style)
            }
            Event::Code(text) => r.text(&text, SpanStyle::Code),
            Event::InlineMath(text) | Event::DisplayMath(text) => r.text(&text, SpanStyle::Code),
            Event::SoftBreak | Event::HardBreak => r.text(" ", SpanStyle::Plain),
            Event::Rule => {
                r.flush();
                r.blocks.push(Block::Rule);
            }
            Event::FootnoteReference(label) => r.text(&format!("[{label}]"), SpanStyle::Plain),
        }
    }
    r.flush();
    for block in &mut r.blocks {
        if let Block::Heading { spans, .. }
        | Block::Paragraph { spans }
        | Block::Item { spans }
        | Block::Step { spans, .. } = block
        {
            trim(spans);
        }
    }
    r.blocks
}

/// A link target kept only when it is a web address (`http://`, `https://`, any case).
fn allowed_link(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    (web && !url
        .chars()
        .any(|c| c.is_whitespace() || crate::text::is_unsafe(c)))
    .then(|| url.trim().to_string())
}

fn trim(spans: &mut Vec<Span>) {
    if let Some(first) = spans.first_mut() {
        first.text = first.text.trim_start().to_string();
    }
    if let Some(last) = spans.last_mut() {
        last.text = last.text.trim_end().to_string();
    }
    spans.retain(|s| !s.text.is_empty());
}

/// The plain text of some spans (a link as its text and target).
pub fn plain(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match &s.href {
            Some(href) if href != &s.text => format!("{} <{href}>", s.text),
            _ => s.text.clone(),
        })
        .collect()
}

/// The checklist steps of a runbook's Markdown, as plain text, in order.
pub fn steps(markdown: &str) -> Vec<String> {
    render(markdown)
        .iter()
        .filter_map(|b| match b {
            Block::Step { spans, .. } => Some(plain(spans)),
            _ => None,
        })
        .collect()
}

/// A runbook as lines of plain text for a terminal (each still to be escaped by the
/// terminal renderer): steps as `[x] 3. text` with `done` telling which are ticked.
pub fn text_lines(blocks: &[Block], done: impl Fn(u32) -> bool) -> Vec<String> {
    blocks
        .iter()
        .map(|b| match b {
            Block::Heading { level, spans } => {
                format!("{} {}", "#".repeat(usize::from(*level)), plain(spans))
            }
            Block::Paragraph { spans } => plain(spans),
            Block::Item { spans } => format!("  - {}", plain(spans)),
            Block::Step { number, spans } => format!(
                "  [{}] {number}. {}",
                if done(*number) { 'x' } else { ' ' },
                plain(spans)
            ),
            Block::Code { text } => text
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Rule => "----".to_string(),
        })
        .collect()
}
