//! HTML pages: one self-contained file per report (inline CSS and SVG, no script, no
//! fetch), with a Content-Security-Policy that forbids anything else.
//!
//! Escaping lives here and only here: every page is built with [`Html`], whose element and
//! attribute names are `&'static str` written by this crate and whose text and attribute
//! values always go through [`escape`]. So a catalog name (`<script>`, `"`, `</svg>`,
//! `]]>`) can only ever be text: there is no call that writes a name as markup.
//!
//! The rooms: the page shell and CSS ([`page`]), the fan-out picture ([`svg`], laid out by
//! an injected [`layout::Layouter`]), and one module per page (graph, diff, gate, check,
//! report). Pages are deterministic: the same input gives the same bytes.

pub mod check;
pub mod diff;
pub mod gate;
pub mod graph;
pub mod layout;
pub mod page;
pub mod report;
pub mod svg;

pub use layout::{Builtin, Layout, LayoutGraph, Layouter};

use std::fmt::Write as _;

/// `s` as HTML/SVG/XML text or a double- or single-quoted attribute value: `&`, `<`, `>`,
/// `"` and `'` as entities, control characters other than tab and line feed as U+FFFD
/// (XML has no way to write them and HTML parsers differ on them), everything else as is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// An HTML (or inline SVG) document being written. Names of elements and attributes are
/// static strings of this crate; everything else is escaped on the way in.
#[derive(Default)]
pub struct Html {
    buf: String,
}

impl Html {
    pub fn new() -> Html {
        Html::default()
    }

    /// What was written.
    pub fn finish(self) -> String {
        self.buf
    }

    /// `<tag attrs…>`; attribute values are escaped.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.buf, " {name}=\"{}\"", escape(value));
        }
        self.buf.push('>');
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        let _ = write!(self.buf, "</{tag}>");
        self
    }

    /// `<tag attrs…/>` (SVG shapes, `<meta>`).
    pub fn empty(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.open(tag, attrs);
        self.buf.pop();
        self.buf.push_str("/>");
        self
    }

    /// Escaped text.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.buf.push_str(&escape(s));
        self
    }

    /// `<tag attrs…>text</tag>`.
    pub fn el(&mut self, tag: &'static str, attrs: &[(&'static str, &str)], s: &str) -> &mut Self {
        self.open(tag, attrs).text(s).close(tag)
    }

    /// Markup written by this crate (CSS, fixed fragments): never anything from input.
    pub fn markup(&mut self, s: &'static str) -> &mut Self {
        self.buf.push_str(s);
        self
    }

    /// A fragment built by another [`Html`] (so escaped the same way).
    pub fn append(&mut self, other: Html) -> &mut Self {
        self.buf.push_str(&other.buf);
        self
    }

    /// A `<pre>` of plain text lines, each line classed by its unified-diff sign (`add`,
    /// `del`, `hunk`, `file`), as a terminal paints it.
    pub fn unified(&mut self, block: &str) -> &mut Self {
        self.open("pre", &[("class", "udiff")]);
        for line in block.lines() {
            let class = if line.starts_with("--- ") || line.starts_with("+++ ") {
                "file"
            } else if line.starts_with("@@") {
                "hunk"
            } else if line.starts_with('-') {
                "del"
            } else if line.starts_with('+') {
                "add"
            } else {
                "ctx"
            };
            self.open("span", &[("class", class)])
                .text(line)
                .close("span");
            self.buf.push('\n');
        }
        self.close("pre")
    }

    /// A table: a header row and rows of cells (text), the row classed by `row_class`.
    pub fn table(
        &mut self,
        class: &'static str,
        header: &[&str],
        rows: &[(Option<&'static str>, Vec<String>)],
    ) -> &mut Self {
        self.open("table", &[("class", class)])
            .open("thead", &[])
            .open("tr", &[]);
        for h in header {
            self.el("th", &[], h);
        }
        self.close("tr").close("thead").open("tbody", &[]);
        for (row_class, cells) in rows {
            match row_class {
                Some(c) => self.open("tr", &[("class", c)]),
                None => self.open("tr", &[]),
            };
            for c in cells {
                self.el("td", &[], c);
            }
            self.close("tr");
        }
        self.close("tbody").close("table")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_text_in_text_and_attributes() {
        let hostile = "<script>alert(\"x\")</script>'&amp;]]></svg>\u{202e}\u{1b}";
        let mut h = Html::new();
        h.open("g", &[("data-table", hostile)])
            .text(hostile)
            .close("g");
        let s = h.finish();
        assert!(!s.contains("<script"), "{s}");
        assert!(!s.contains("</svg"), "{s}");
        assert!(s.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;amp;"));
        assert!(
            s.contains('\u{202e}'),
            "right-to-left override kept as text"
        );
        assert!(!s.contains('\u{1b}'), "escape replaced");
        assert_eq!(s.matches('<').count(), 2, "{s}");
    }
}
