//! Diagnostics: problems found in a spec, each tied to a byte range of the
//! source, rendered rustc-style (`file:line:col`, the source line, a caret and
//! a help line) by `annotate-snippets`, the renderer rustc and cargo use.
//!
//! Diagnostics are collected, never returned at the first problem: `validate`
//! reports every problem in one run.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

/// One problem in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// Byte range in the source; `None` for problems with no position (I/O).
    pub span: Option<Range<usize>>,
    /// Short text printed under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
    /// Whether the source line is shown under the position (see
    /// [`Diagnostic::without_snippet`]).
    pub snippet: bool,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        Self {
            message: message.into(),
            span: Some(span),
            label: None,
            help: None,
            snippet: true,
        }
    }

    pub fn unspanned(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span: None,
            label: None,
            help: None,
            snippet: true,
        }
    }

    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Shows the position (`file:line:col`) but not the source line: for
    /// a file that turned out not to be a spec, whose text must not be
    /// echoed (it could be anything the spec path pointed at). The label
    /// goes with the position then.
    #[must_use]
    pub fn without_snippet(mut self) -> Self {
        self.snippet = false;
        self
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self, source: &str) -> Option<(usize, usize)> {
        let start = self.span.as_ref()?.start.min(source.len());
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = source[line_start..start].chars().count() + 1;
        Some((line, col))
    }

    /// Renders the diagnostic against `source`, shown as `path`.
    pub fn render(&self, path: &str, source: &str, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let title = Level::ERROR.primary_title(&self.message);
        let mut group = if let Some(span) = self.span.as_ref().filter(|_| self.snippet) {
            let span = clamp(span, source);
            let mut ann = AnnotationKind::Primary.span(span);
            if let Some(label) = &self.label {
                ann = ann.label(label);
            }
            title.element(Snippet::source(source).path(path).annotation(ann))
        } else if let Some((line, col)) = self.line_col(source) {
            let g = title.element(Origin::path(path).line(line).char_column(col));
            match &self.label {
                Some(label) => g.element(Level::NOTE.message(label)),
                None => g,
            }
        } else {
            title.element(Level::NOTE.message(format!("in {path}")))
        };
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help));
        }
        let report: Vec<Group> = vec![group];
        renderer.render(&report)
    }
}

/// Keeps a span inside the source and on character boundaries, so a stray
/// position can never panic the renderer.
fn clamp(span: &Range<usize>, source: &str) -> Range<usize> {
    let mut start = span.start.min(source.len());
    let mut end = span.end.clamp(start, source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    while !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// A position in Terraform's JSON diagnostic shape.
fn json_pos(source: &str, byte: usize) -> serde_json::Value {
    let d = Diagnostic::new("", byte..byte);
    let (line, column) = d.line_col(source).unwrap_or((1, 1));
    serde_json::json!({"line": line, "column": column, "byte": byte})
}

impl Diagnostic {
    /// The diagnostic as JSON (Terraform's shape: severity, summary,
    /// detail, range), for `--json`.
    pub fn to_json(&self, path: &str, source: &str) -> serde_json::Value {
        let detail = match (&self.label, &self.help) {
            (Some(l), Some(h)) => format!("{l}; help: {h}"),
            (Some(l), None) => l.clone(),
            (None, Some(h)) => format!("help: {h}"),
            (None, None) => String::new(),
        };
        let mut d = serde_json::json!({
            "severity": "error",
            "summary": self.message,
            "detail": detail,
        });
        if let Some(span) = &self.span {
            let span = clamp(span, source);
            d["range"] = serde_json::json!({
                "filename": path,
                "start": json_pos(source, span.start),
                "end": json_pos(source, span.end),
            });
        }
        if let Some(h) = &self.help {
            d["help"] = serde_json::json!(h);
        }
        d
    }
}

/// Problems as one JSON document (`validate --json`, and any command's
/// errors under `--json`), documented by schema/diagnostics.schema.json.
pub fn json_document(diags: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({
        "format_version": "1.0",
        "valid": diags.is_empty(),
        "error_count": diags.len(),
        "warning_count": 0,
        "diagnostics": diags,
    })
}

/// An error with no spec position as a JSON diagnostic: its first line is
/// the summary, the rest (causes, hints) the detail.
pub fn error_json(message: &str) -> serde_json::Value {
    let (summary, detail) = message.split_once('\n').unwrap_or((message, ""));
    serde_json::json!({"severity": "error", "summary": summary, "detail": detail.trim()})
}

/// Renders many diagnostics, in source order, separated by blank lines, with a
/// closing count line.
pub fn render_all(diags: &[Diagnostic], path: &str, source: &str, color: bool) -> String {
    let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
    sorted.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    let mut out = String::new();
    for d in sorted {
        out.push_str(&d.render(path, source, color));
        out.push_str("\n\n");
    }
    let n = diags.len();
    out.push_str(&format!(
        "error: {path} has {n} problem{}\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// Closest candidate for "did you mean" hints: one that differs only in case,
/// else the best Jaro-Winkler match above 0.8.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().filter(|c| *c != given).collect();
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(given)) {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A user's text cut to fit in a one-line message.
pub fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_path_line_col_caret_and_help() {
        let src = "version: 1\nprojcet: demo\n";
        let d = Diagnostic::new("unknown field `projcet`", 11..18)
            .label("unknown field")
            .help("did you mean `project`?");
        assert_eq!(d.line_col(src), Some((2, 1)));
        let text = d.render("agentform.yaml", src, false);
        assert_eq!(
            text,
            "error: unknown field `projcet`\n --> agentform.yaml:2:1\n  |\n2 | projcet: demo\n  | ^^^^^^^ unknown field\n  |\n  = help: did you mean `project`?"
        );
    }

    #[test]
    fn without_snippet_shows_the_position_only() {
        let src = "root:x:0:0:root:/root:/bin/bash\n";
        let d = Diagnostic::new("not a spec", 0..4)
            .label("expected a mapping")
            .help("h")
            .without_snippet();
        let text = d.render("f.yaml", src, false);
        assert_eq!(
            text,
            "error: not a spec\n--> f.yaml:1:1\n = note: expected a mapping\n = help: h"
        );
        assert!(!text.contains("root"));
    }

    #[test]
    fn out_of_range_span_does_not_panic() {
        let d = Diagnostic::new("x", 100..200);
        let _ = d.render("f", "ab\u{e9}", false);
        let d = Diagnostic::new("x", 3..3);
        let _ = d.render("f", "ab\u{e9}", false);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("fucntions", ["functions", "gateways"]),
            Some("functions")
        );
        assert_eq!(did_you_mean("zzz", ["functions", "gateways"]), None);
        assert_eq!(did_you_mean("mcp", ["HTTP", "MCP", "A2A"]), Some("MCP"));
        assert_eq!(did_you_mean("main", ["main", "mian"]), Some("mian"));
    }

    #[test]
    fn shortens_long_text() {
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"x".repeat(200)).chars().count(), 60);
        assert!(shorten(&"é".repeat(200)).ends_with('…'));
    }
}
