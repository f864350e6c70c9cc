//! A runbook as both web surfaces show it: its Markdown as plain blocks and spans
//! (`socfed_proto::vocab::runbook::render`) in fields an askama template escapes, never HTML
//! made here. Each service's `runbooks.html` partial renders it; a link's target is only ever
//! `http(s)://` (the reader keeps no other), a heading becomes bold text (the page's own
//! headings keep their order), and each checklist step carries whether it is done.

use socfed_proto::vocab::runbook::{Block, Progress, Runbook, Span, SpanStyle, render};

/// One span: text in a style (`plain`, `strong`, `em`, `code`), a link when `href` is set.
#[derive(Debug, Clone)]
pub struct SpanView {
    pub text: String,
    pub style: &'static str,
    pub href: String,
}

/// One block: `kind` is `heading`, `para`, `item`, `step`, `code` or `rule`.
#[derive(Debug, Clone)]
pub struct BlockView {
    pub kind: &'static str,
    pub spans: Vec<SpanView>,
    /// A step's number (from 1), else 0.
    pub number: u32,
    pub done: bool,
    /// A code block's text.
    pub code: String,
}

/// One runbook with a subject's progress.
#[derive(Debug, Clone)]
pub struct RunbookView {
    pub id: String,
    pub title: String,
    pub version: u32,
    /// `from the hub` or `this site's`.
    pub origin: &'static str,
    pub retired: bool,
    /// "3/7".
    pub progress: String,
    pub blocks: Vec<BlockView>,
}

fn spans(spans: &[Span]) -> Vec<SpanView> {
    spans
        .iter()
        .map(|s| SpanView {
            text: s.text.clone(),
            style: match s.style {
                SpanStyle::Plain => "plain",
                SpanStyle::Strong => "strong",
                SpanStyle::Emphasis => "em",
                SpanStyle::Code => "code",
            },
            href: s.href.clone().unwrap_or_default(),
        })
        .collect()
}

impl RunbookView {
    pub fn of(runbook: &Runbook, progress: &Progress) -> Self {
        let blocks: Vec<BlockView> = render(&runbook.body)
            .into_iter()
            .filter_map(|b| {
                let view = |kind, s: &[Span], number| BlockView {
                    kind,
                    spans: spans(s),
                    number,
                    done: number > 0 && progress.is_done(number),
                    code: String::new(),
                };
                Some(match b {
                    // The title is shown above the body already.
                    Block::Heading { level: 1, .. } => return None,
                    Block::Heading { spans: s, .. } => view("heading", &s, 0),
                    Block::Paragraph { spans: s } => view("para", &s, 0),
                    Block::Item { spans: s } => view("item", &s, 0),
                    Block::Step { number, spans: s } => view("step", &s, number),
                    Block::Code { text } => BlockView {
                        code: text,
                        ..view("code", &[], 0)
                    },
                    Block::Rule => view("rule", &[], 0),
                })
            })
            .collect();
        Self {
            id: runbook.id.to_string(),
            title: runbook.title.clone(),
            version: runbook.version,
            origin: match runbook.origin {
                socfed_proto::vocab::runbook::Origin::Hub => "from the hub",
                socfed_proto::vocab::runbook::Origin::Site => "this site's",
            },
            retired: runbook.retired,
            progress: progress.summary(runbook.steps().len()),
            blocks,
        }
    }
}
