//! HTML tables built row by row, key-value tables and value-count tables.

use crate::report::html::format::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// An HTML table built row by row; cells are HTML.
pub(crate) struct Table {
    head: Vec<String>,
    numeric: BTreeSet<usize>,
    rows: Vec<(Option<&'static str>, Vec<String>)>,
    caption: Option<String>,
}

impl Table {
    pub(crate) fn new(head: &[&str]) -> Table {
        Table {
            head: head.iter().map(|h| h.to_string()).collect(),
            numeric: BTreeSet::new(),
            rows: Vec::new(),
            caption: None,
        }
    }

    /// Right-aligns these columns.
    pub(crate) fn numeric(&mut self, cols: &[usize]) {
        self.numeric.extend(cols);
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push((None, cells));
    }

    pub(crate) fn row_class(&mut self, class: Option<&'static str>, cells: Vec<String>) {
        self.rows.push((class, cells));
    }

    /// A note below the table (HTML-escaped).
    pub(crate) fn caption(&mut self, text: &str) {
        self.caption = Some(esc(text));
    }

    /// The table, or `empty` as a note when it has no rows.
    pub(crate) fn finish_or(self, empty: &str) -> String {
        if self.rows.is_empty() {
            return if empty.is_empty() {
                String::new()
            } else {
                format!("<p class=\"note\">{}</p>\n", esc(empty))
            };
        }
        let class = |c: usize| {
            if self.numeric.contains(&c) {
                " class=\"num\""
            } else {
                ""
            }
        };
        let mut s = String::from("<div class=\"wide\">\n<table>\n<thead><tr>");
        for (c, h) in self.head.iter().enumerate() {
            put!(s, "<th scope=\"col\"{}>{}</th>", class(c), h);
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for (row_class, cells) in &self.rows {
            match row_class {
                Some(k) => put!(s, "<tr class=\"{k}\">"),
                None => s.push_str("<tr>"),
            }
            for (c, cell) in cells.iter().enumerate() {
                put!(s, "<td{}>{}</td>", class(c), cell);
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
        if let Some(c) = &self.caption {
            put!(s, "<p class=\"note\">{c}</p>\n");
        }
        s.push_str("</div>\n");
        s
    }
}

/// A two-column key/value table; keys are plain text (escaped by the caller when they come
/// from the report), values HTML.
pub(crate) fn kv_table(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<table class=\"kv\">\n<tbody>\n");
    for (k, v) in rows {
        put!(s, "<tr><th scope=\"row\">{k}</th><td>{v}</td></tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// One attribute's value counts as a compact table, capped at [`MAX_VALUES`] rows.
pub(crate) fn value_counts(a: &Value, title: &str) -> String {
    let name = if title.is_empty() {
        text(&a["name"])
    } else {
        esc(title)
    };
    let values = arr(&a["values"]);
    let mut s = format!(
        "<div class=\"card\">\n<table class=\"counts\">\n<caption><b>{name}</b> · {} distinct{}</caption>\n\
         <thead><tr><th scope=\"col\">Value</th><th scope=\"col\" class=\"num\">Items</th>\
         <th scope=\"col\" class=\"num\">Share</th></tr></thead>\n<tbody>\n",
        text(&a["distinct"]),
        match a["missing"].as_u64() {
            Some(0) | None => String::new(),
            Some(m) => format!(", {m} missing ({})", percent(&a["missing_share"])),
        }
    );
    for v in values.iter().take(MAX_VALUES) {
        put!(
            s,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            text(&v["value"]),
            text(&v["count"]),
            percent(&v["share"])
        );
    }
    // Values beyond the cap, and those the inventory itself left out.
    let hidden = &values[values.len().min(MAX_VALUES)..];
    let mut more_values = hidden.len() as u64;
    let mut more_items: u64 = hidden.iter().filter_map(|v| v["count"].as_u64()).sum();
    let mut more_share: f64 = hidden.iter().filter_map(|v| v["share"].as_f64()).sum();
    let t = &a["truncated"];
    if t.is_object() {
        more_values += t["other_values"].as_u64().unwrap_or(0);
        more_items += t["other_items"].as_u64().unwrap_or(0);
        more_share += t["other_share"].as_f64().unwrap_or(0.0);
    }
    if more_values > 0 {
        put!(
            s,
            "<tr class=\"more\"><td>… {more_values} more value{}</td><td class=\"num\">{more_items}</td>\
             <td class=\"num\">{}</td></tr>\n",
            plural(more_values as usize),
            percent(&serde_json::json!(more_share))
        );
    }
    s.push_str("</tbody>\n</table>\n");
    if let Some(note) = t["note"].as_str() {
        put!(s, "<p class=\"note\">{}</p>\n", esc(note));
    }
    s.push_str("</div>\n");
    s
}
