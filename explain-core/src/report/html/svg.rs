//! Plots inlined into the page: reading an SVG from the report directory, checking that it
//! holds nothing active or external, and prefixing its ids.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path};

/// Reads a plot named by a relative path under `dir`; the error says why in a few words.
pub(crate) fn read_svg(dir: &Path, rel: &str) -> std::result::Result<String, String> {
    let path = Path::new(rel);
    if rel.is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err("is not a path inside the report directory".into());
    }
    match std::fs::read_to_string(dir.join(path)) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("is missing from the report directory".into())
        }
        Err(e) => Err(format!("could not be read ({e})")),
    }
}

/// The `<svg>…</svg>` element of an SVG file, ready to inline: prolog, doctype and comments
/// before it dropped, a `viewBox` added when missing, ids prefixed with `prefix`.
pub(crate) fn prepare_svg(text: &str, prefix: &str) -> std::result::Result<String, &'static str> {
    let start = find_svg_open(text).ok_or("not an SVG file")?;
    let end = text
        .rfind("</svg>")
        .filter(|&e| e > start)
        .ok_or("not an SVG file")?
        + "</svg>".len();
    let svg = &text[start..end];
    if let Some(why) = svg_problem(svg) {
        return Err(why);
    }
    let open_end = svg.find('>').ok_or("not an SVG file")?;
    let open = &svg[..open_end];
    let mut out = String::with_capacity(svg.len() + 64);
    if attr(open, "viewBox").is_none() {
        let num = |name| {
            attr(open, name)
                .map(|v| v.trim().trim_end_matches("px").trim())
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        if let (Some(w), Some(h)) = (num("width"), num("height")) {
            out.push_str("<svg viewBox=\"0 0 ");
            let _ = write!(out, "{w} {h}\"");
            out.push_str(&svg["<svg".len()..]);
        } else {
            out.push_str(svg);
        }
    } else {
        out.push_str(svg);
    }
    Ok(prefix_ids(&out, prefix))
}

/// The byte offset of the first `<svg` tag.
pub(crate) fn find_svg_open(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find("<svg") {
        let at = from + i;
        match text[at + 4..].chars().next() {
            Some(c) if c.is_whitespace() || c == '>' || c == '/' => return Some(at),
            _ => from = at + 4,
        }
    }
    None
}

/// The value of attribute `name` in a tag's text (`<svg width="10" …`), if present.
pub(crate) fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let key = format!("{name}=");
    let mut from = 0;
    while let Some(i) = tag[from..].find(&key) {
        let at = from + i;
        let before_ok = tag[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let rest = &tag[at + key.len()..];
        if before_ok {
            let quote = rest.chars().next()?;
            if quote == '"' || quote == '\'' {
                let body = &rest[1..];
                return body.find(quote).map(|e| &body[..e]);
            }
        }
        from = at + key.len();
    }
    None
}

/// Why an SVG must not be inlined: active content, or a reference to anything but an anchor
/// in the page or an embedded raster.
pub(crate) fn svg_problem(svg: &str) -> Option<&'static str> {
    let l = svg.to_ascii_lowercase();
    for bad in [
        "<script",
        "<foreignobject",
        "<iframe",
        "<object",
        "<embed",
        "<!entity",
        "javascript:",
        "@import",
    ] {
        if l.contains(bad) {
            return Some("it contains active or embedded content");
        }
    }
    let safe_ref = |rest: &str| {
        let rest = rest.trim_start_matches(['"', '\'', ' ']);
        rest.starts_with('#') || rest.starts_with("data:image/")
    };
    for key in ["href=", "src=", "url("] {
        let mut from = 0;
        while let Some(i) = l[from..].find(key) {
            let at = from + i + key.len();
            if !safe_ref(&l[at..]) {
                return Some("it refers to a file or an address outside the page");
            }
            from = at;
        }
    }
    // Event handlers: an attribute `on…=` inside a tag.
    let b = l.as_bytes();
    let mut in_tag = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            c if in_tag && c.is_ascii_whitespace() && b[i + 1..].starts_with(b"on") => {
                let mut j = i + 3;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j > i + 3 && b.get(j) == Some(&b'=') {
                    return Some("it contains an event handler");
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Prefixes every `id` of an SVG, and the `#id` references to it, so that several plots in one
/// page cannot clash.
pub(crate) fn prefix_ids(svg: &str, prefix: &str) -> String {
    let mut ids = BTreeSet::new();
    let mut from = 0;
    while let Some(i) = svg[from..].find("id=\"") {
        let at = from + i;
        let start = at + 4;
        from = start;
        if !svg[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace)
        {
            continue;
        }
        if let Some(e) = svg[start..].find('"') {
            let id = &svg[start..start + e];
            if !id.is_empty() {
                ids.insert(id.to_string());
            }
        }
    }
    let mut out = svg.to_string();
    // Longest first, so that an id that is a prefix of another is not replaced inside it.
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    for id in ids {
        for (from, to) in [
            (format!(" id=\"{id}\""), format!(" id=\"{prefix}{id}\"")),
            (format!("url(#{id})"), format!("url(#{prefix}{id})")),
            (format!("href=\"#{id}\""), format!("href=\"#{prefix}{id}\"")),
        ] {
            out = out.replace(&from, &to);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_viewbox_and_ids() {
        let s = prepare_svg(
            "<?xml version=\"1.0\"?>\n<svg width=\"40px\" height=\"20\"><defs><clipPath id=\"c\"/></defs><g clip-path=\"url(#c)\"/></svg>\n",
            "f1-",
        )
        .unwrap();
        assert!(
            s.starts_with("<svg viewBox=\"0 0 40 20\" width=\"40px\""),
            "{s}"
        );
        assert!(s.contains("id=\"f1-c\"") && s.contains("url(#f1-c)"), "{s}");
        assert!(s.ends_with("</svg>"));
    }

    #[test]
    fn unsafe_svgs_are_refused() {
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><image href=\"x.png\"/></svg>",
            "<svg><image xlink:href='https://example.invalid/x.png'/></svg>",
            "<svg><rect onclick=\"x()\"/></svg>",
            "<svg><rect style=\"fill:url(http://x/y)\"/></svg>",
        ] {
            assert!(prepare_svg(bad, "p").is_err(), "{bad}");
        }
        assert!(
            prepare_svg(
                "<svg><image xlink:href=\"data:image/png;base64,AAAA\"/><text>on = off</text></svg>",
                "p"
            )
            .is_ok()
        );
    }
}
