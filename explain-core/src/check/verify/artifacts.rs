//! The files beside a report, compared by what they show when their bytes may differ
//! (another numeric platform): JSON by its numbers, `predictions.csv` by its scores and
//! decisions, SVG and HTML by their text with numbers within what a reader can see, PNG by
//! its pixels with a one-pixel shift allowed.

use super::compare::{Agreement, Checker, ROUNDING, SectionCheck};
use serde_json::Value;
use std::path::Path;

/// A decision that differs between the recorded `predictions.csv` and the re-run's.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    /// The item, as `predictions.csv` names it.
    pub input: String,
    pub recorded: usize,
    pub recomputed: usize,
    /// Why rounding explains it, when it does.
    pub cause: Option<String>,
}

/// How artifacts must agree, and what the decisions in `predictions.csv` were made with.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// [`Agreement::Rounding`] or [`Agreement::Tolerance`] (identical files need no rule).
    pub agreement: Agreement,
    /// Binary decisions: positive when score ≥ threshold. `None`: the top class.
    pub threshold: Option<f64>,
    /// The model's output scale (rounding is absolute at it).
    pub scale: f64,
}

impl Rule {
    /// How far a recorded score `a` and a recomputed `b` may be apart: the agreement's bound,
    /// plus half a unit of the 9th decimal `predictions.csv` prints.
    fn score_tolerance(&self, a: f64, b: f64) -> f64 {
        5e-10
            + match self.agreement {
                Agreement::Exact => 0.0,
                Agreement::Rounding => ROUNDING * (a.abs().max(b.abs()) + self.scale),
                Agreement::Tolerance(t) => t,
            }
    }
}

/// Compares one artifact; differences go into `check` (named by `rel`), explained rank
/// steps into `knife_edges`, and differing decisions of `predictions.csv` into `flips`.
/// `skip` names JSON paths not compared (e.g. `model.backend` when another backend re-ran).
#[allow(clippy::too_many_arguments)]
pub fn compare(
    rel: &str,
    recorded: &Path,
    recomputed: &Path,
    rule: Rule,
    skip: &[&str],
    check: &mut SectionCheck,
    knife_edges: &mut Vec<String>,
    flips: &mut Vec<Flip>,
) {
    let read = crate::util::limits::read_file;
    let (a, b) = match (read(recorded), read(recomputed)) {
        (Ok(a), Ok(b)) => (a, b),
        (_, Err(_)) => {
            check.differ_text(format!("{rel}: the re-run did not write it"));
            return;
        }
        (Err(e), _) => {
            check.differ_text(format!("{rel}: cannot read the recorded file: {e}"));
            return;
        }
    };
    if a == b {
        return;
    }
    let ext = rel.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => json(rel, &a, &b, rule.agreement, skip, check, knife_edges),
        "csv" => predictions(rel, &a, &b, rule, check, flips),
        "svg" | "html" => markup(rel, &a, &b, rule.scale, check),
        "png" => png(rel, &a, &b, check),
        _ => check.differ_text(format!("{rel}: differs")),
    }
}

fn json(
    rel: &str,
    a: &[u8],
    b: &[u8],
    agreement: Agreement,
    skip: &[&str],
    check: &mut SectionCheck,
    knife_edges: &mut Vec<String>,
) {
    let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
    let (Some(a), Some(b)) = (parse(a), parse(b)) else {
        check.differ_text(format!("{rel}: not JSON"));
        return;
    };
    // Where the run was recorded and the hash of the (number-dependent) predictions file
    // differ by design; the predictions are compared by their numbers.
    let mut skip = skip.to_vec();
    skip.extend(["model.numerics", "predictions.sha256"]);
    let mut checker = Checker::new(agreement, &a, &skip);
    for s in checker.sections(&a, &b, &[]) {
        check.numbers += s.numbers;
        check.largest_deviation = check.largest_deviation.max(s.largest_deviation);
        check.largest_relative = check.largest_relative.max(s.largest_relative);
        for _ in s.first.len()..s.differences {
            check.differ_text(format!("{rel}: (more differences)"));
        }
        for d in s.first {
            check.differ_text(format!("{rel}: {d}"));
        }
    }
    knife_edges.extend(
        checker
            .knife_edges
            .into_iter()
            .map(|k| format!("{rel}: {k}")),
    );
}

fn predictions(
    rel: &str,
    a: &[u8],
    b: &[u8],
    rule: Rule,
    check: &mut SectionCheck,
    flips: &mut Vec<Flip>,
) {
    let rows = |bytes: &[u8]| -> Option<Vec<Vec<String>>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.ok().map(|r| r.iter().map(str::to_string).collect()))
            .collect()
    };
    let (Some(a), Some(b)) = (rows(a), rows(b)) else {
        check.differ_text(format!("{rel}: not CSV"));
        return;
    };
    if a.len() != b.len() || a.first() != b.first() {
        check.differ_text(format!(
            "{rel}: {} rows recorded, {} recomputed (or another header)",
            a.len(),
            b.len()
        ));
        return;
    }
    // The score and decision columns: `score`, `predicted` (classification) or `similarity`,
    // `match` (verification); a detection file has neither and is compared cell by cell.
    let header = &a[0];
    let col = |names: [&str; 2]| header.iter().position(|h| names.contains(&h.as_str()));
    let (Some(si), Some(pi)) = (col(["score", "similarity"]), col(["predicted", "match"])) else {
        numbers_by_token(rel, &a, &b, rule, check);
        return;
    };
    for (line, (ra, rb)) in a.iter().zip(&b).enumerate().skip(1) {
        let at = |what: &str| format!("{rel} line {}: {what}", line + 1);
        let same_keys = (0..header.len())
            .filter(|&c| c != si && c != pi)
            .all(|c| ra.get(c) == rb.get(c));
        if ra.len() != header.len() || rb.len() != header.len() || !same_keys {
            check.differ_text(at(&format!("{ra:?} → {rb:?}")));
            continue;
        }
        let (ra, rb) = (
            [&ra[0], &ra[0], &ra[si], &ra[pi]],
            [&rb[0], &rb[0], &rb[si], &rb[pi]],
        );
        let (Ok(sa), Ok(sb)) = (ra[2].parse::<f64>(), rb[2].parse::<f64>()) else {
            check.differ_text(at("a score is not a number"));
            continue;
        };
        check.numbers += 1;
        let d = (sa - sb).abs();
        check.largest_deviation = check.largest_deviation.max(d);
        let tol = rule.score_tolerance(sa, sb);
        if d > tol {
            check.differ_text(at(&format!("score {} → {}", ra[2], rb[2])));
            continue;
        }
        check.largest_relative = check
            .largest_relative
            .max(d / (sa.abs().max(sb.abs()) + rule.scale));
        if ra[3] == rb[3] {
            continue;
        }
        let (Ok(pa), Ok(pb)) = (ra[3].parse::<usize>(), rb[3].parse::<usize>()) else {
            check.differ_text(at("a decision is not a class"));
            continue;
        };
        let cause = match rule.threshold {
            _ if rule.agreement != Agreement::Rounding => None,
            Some(t) if (sa - t).abs() <= tol && (sb - t).abs() <= tol => Some(format!(
                "score {} recorded, {} recomputed: within float32 rounding of the threshold {t}",
                ra[2], rb[2]
            )),
            Some(_) => None,
            // The top class changed while its score did not: two classes tied.
            None => Some(format!(
                "classes {pa} and {pb} tie for the top score ({} recorded, {} recomputed) within float32 rounding",
                ra[2], rb[2]
            )),
        };
        flips.push(Flip {
            input: ra[0].clone(),
            recorded: pa,
            recomputed: pb,
            cause,
        });
    }
}

/// Compares two CSV files (rows of equal length) cell by cell, every cell split into tokens
/// at spaces and `;`: numbers within the score tolerance, other tokens exactly.
fn numbers_by_token(
    rel: &str,
    a: &[Vec<String>],
    b: &[Vec<String>],
    rule: Rule,
    check: &mut SectionCheck,
) {
    let tokens = |c: &str| -> Vec<String> {
        c.split([' ', ';'])
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (line, (ra, rb)) in a.iter().zip(b).enumerate().skip(1) {
        let at = |what: &str| format!("{rel} line {}: {what}", line + 1);
        if ra.len() != rb.len() {
            check.differ_text(at(&format!("{ra:?} → {rb:?}")));
            continue;
        }
        for (ca, cb) in ra.iter().zip(rb) {
            let (ta, tb) = (tokens(ca), tokens(cb));
            let agree = ta.len() == tb.len()
                && ta
                    .iter()
                    .zip(&tb)
                    .all(|(x, y)| match (x.parse::<f64>(), y.parse::<f64>()) {
                        (Ok(u), Ok(v)) if x.contains('.') || y.contains('.') => {
                            check.numbers += 1;
                            let d = (u - v).abs();
                            check.largest_deviation = check.largest_deviation.max(d);
                            d <= rule.score_tolerance(u, v)
                        }
                        _ => x == y,
                    });
            if !agree {
                check.differ_text(at(&format!("'{ca}' → '{cb}'")));
            }
        }
    }
}

/// Splits markup into text and numbers, noting which numbers sit inside a tag (attributes:
/// coordinates, opacities) and which in the text a reader reads.
fn tokens(s: &str) -> Vec<(bool, bool, &str)> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let (mut i, mut start, mut in_tag) = (0, 0, false);
    let is_num_start = |i: usize| {
        bytes[i].is_ascii_digit()
            || (bytes[i] == b'-' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit())
    };
    while i < bytes.len() {
        // A number starts at a digit (or a minus before one) not glued to a word.
        let glued = i > 0 && (bytes[i - 1].is_ascii_alphabetic() || bytes[i - 1] == b'_');
        if is_num_start(i) && !glued {
            if start < i {
                out.push((false, in_tag, &s[start..i]));
            }
            let mut j = i + 1;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit()
                    || bytes[j] == b'.'
                    || ((bytes[j] == b'e' || bytes[j] == b'E')
                        && j + 1 < bytes.len()
                        && (bytes[j + 1].is_ascii_digit() || bytes[j + 1] == b'-')))
            {
                j += if bytes[j] == b'e' || bytes[j] == b'E' {
                    2
                } else {
                    1
                };
            }
            out.push((true, in_tag, &s[i..j]));
            i = j;
            start = j;
            continue;
        }
        match bytes[i] {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push((false, in_tag, &s[start..]));
    }
    out
}

/// One unit in the last printed digit of a number (`0.160` → 0.001, `88` → 1).
fn last_digit(token: &str) -> f64 {
    let mantissa = token.split(['e', 'E']).next().unwrap_or(token);
    let exponent: i32 = token
        .split_once(['e', 'E'])
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    10f64.powi(exponent - decimals)
}

/// Where an image is inlined in markup.
const INLINE_PNG: &str = "data:image/png;base64,";

/// Markup with its inlined PNG images taken out (each replaced by an empty payload) and
/// decoded.
fn without_images(s: &str) -> (String, Vec<Option<Vec<u8>>>) {
    use base64::Engine;
    let (mut text, mut images, mut rest) = (String::new(), Vec::new(), s);
    while let Some(i) = rest.find(INLINE_PNG) {
        let start = i + INLINE_PNG.len();
        text.push_str(&rest[..start]);
        let len = rest[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
            .unwrap_or(rest.len() - start);
        images.push(
            base64::engine::general_purpose::STANDARD
                .decode(&rest[start..start + len])
                .ok(),
        );
        rest = &rest[start + len..];
    }
    text.push_str(rest);
    (text, images)
}

/// Compares two SVG or HTML files by their text, numbers within what a reader can see and
/// inlined images by their pixels. Numbers in the text may also differ by float32 rounding at
/// `scale`, the model's output scale (a rounding-dominated value printed to four digits).
pub fn markup(rel: &str, a: &[u8], b: &[u8], scale: f64, check: &mut SectionCheck) {
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        check.differ_text(format!("{rel}: not text"));
        return;
    };
    let ((a, images_a), (b, images_b)) = (without_images(a), without_images(b));
    if images_a.len() != images_b.len() {
        check.differ_text(format!("{rel}: another number of inlined images"));
        return;
    }
    for (k, (ia, ib)) in images_a.iter().zip(&images_b).enumerate() {
        match (ia, ib) {
            (Some(ia), Some(ib)) if ia == ib => {}
            (Some(ia), Some(ib)) => png(&format!("{rel} (image {})", k + 1), ia, ib, check),
            _ => check.differ_text(format!("{rel}: an inlined image is not base64")),
        }
    }
    let (ta, tb) = (tokens(&a), tokens(&b));
    if ta.len() != tb.len() {
        check.differ_text(format!("{rel}: another drawing or text"));
        return;
    }
    for ((na, tag, xa), (nb, _, xb)) in ta.iter().zip(&tb) {
        if na != nb || (!na && xa != xb) {
            check.differ_text(format!("{rel}: text {:?} → {:?}", shorten(xa), shorten(xb)));
            return;
        }
        if !na || xa == xb {
            continue;
        }
        let (Ok(va), Ok(vb)) = (xa.parse::<f64>(), xb.parse::<f64>()) else {
            check.differ_text(format!("{rel}: number {xa} → {xb}"));
            return;
        };
        check.numbers += 1;
        let d = (va - vb).abs();
        check.largest_deviation = check.largest_deviation.max(d);
        // What a reader can see: a pixel of position and 1/255 of opacity in drawings, one
        // unit of the last printed digit in text.
        let seen = if *tag {
            if xa.contains('.') || xb.contains('.') {
                1.0 / 255.0
            } else {
                1.0
            }
        } else {
            last_digit(xa)
                .max(last_digit(xb))
                .max(ROUNDING * (va.abs().max(vb.abs()) + scale))
        };
        if d > seen * (1.0 + 1e-9) {
            check.differ_text(format!("{rel}: number {xa} → {xb}"));
            return;
        }
    }
}

fn shorten(s: &str) -> String {
    if s.len() > 60 {
        format!("{}…", &s[..s.floor_char_boundary(60)])
    } else {
        s.to_string()
    }
}

fn png(rel: &str, a: &[u8], b: &[u8], check: &mut SectionCheck) {
    let decode = |bytes: &[u8]| image::load_from_memory(bytes).ok().map(|i| i.to_rgba8());
    let (Some(a), Some(b)) = (decode(a), decode(b)) else {
        check.differ_text(format!("{rel}: not a PNG image"));
        return;
    };
    if a.dimensions() != b.dimensions() {
        check.differ_text(format!(
            "{rel}: {:?} pixels recorded, {:?} recomputed",
            a.dimensions(),
            b.dimensions()
        ));
        return;
    }
    // Rounding moves an edge by a pixel or so (a dashed line's dashes by two) or an opacity
    // by 1/255: every pixel of each image then lies, channel by channel, within the range its
    // 5×5 neighbourhood spans in the other (anti-aliasing interpolates between neighbours),
    // give or take 2/255. Nothing new is drawn.
    let (w, h) = a.dimensions();
    let within = |img: &image::RgbaImage, x: u32, y: u32, p: &image::Rgba<u8>| {
        (0..4).all(|c| {
            let (mut lo, mut hi) = (u8::MAX, u8::MIN);
            for yy in y.saturating_sub(2)..=(y + 2).min(h - 1) {
                for xx in x.saturating_sub(2)..=(x + 2).min(w - 1) {
                    let v = img.get_pixel(xx, yy).0[c];
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            (lo.saturating_sub(2)..=hi.saturating_add(2)).contains(&p.0[c])
        })
    };
    let mut unmatched = 0usize;
    for y in 0..h {
        for x in 0..w {
            let (pa, pb) = (a.get_pixel(x, y), b.get_pixel(x, y));
            if pa.0.iter().zip(pb.0).all(|(p, q)| p.abs_diff(q) <= 2) {
                continue;
            }
            if !within(&b, x, y, pa) || !within(&a, x, y, pb) {
                unmatched += 1;
            }
        }
    }
    check.numbers += 1;
    if unmatched > 0 {
        check.differ_text(format!(
            "{rel}: {unmatched} pixels differ by more than a shift of two pixels"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_numbers_agree_within_what_a_reader_sees() {
        let mut c = SectionCheck::new("artifacts");
        let a = br#"<rect x="88" opacity="0.02555033007544659"/><text>0.160</text>"#;
        let b = br#"<rect x="89" opacity="0.02553391330126586"/><text>0.161</text>"#;
        markup("p.svg", a, b, 1e-3, &mut c);
        assert_eq!(c.differences, 0, "{:?}", c.first);
        for other in [
            &br#"<rect x="91" opacity="0.02555033007544659"/><text>0.160</text>"#[..],
            br#"<rect x="88" opacity="0.03"/><text>0.160</text>"#,
            br#"<rect x="88" opacity="0.02555033007544659"/><text>0.170</text>"#,
            br#"<rect x="88" opacity="0.02555033007544659"/><text>0.160 FLAG</text>"#,
        ] {
            let mut c = SectionCheck::new("artifacts");
            markup("p.svg", a, other, 1e-3, &mut c);
            assert_eq!(c.differences, 1, "{}", String::from_utf8_lossy(other));
        }
        assert_eq!(last_digit("0.160"), 0.001);
        assert_eq!(last_digit("88"), 1.0);
        assert_eq!(last_digit("1.5e-3"), 1e-4);
    }

    #[test]
    fn decisions_that_flip_at_the_threshold_are_named_with_their_cause() {
        let a = b"input,label,score,predicted\na.wav,1,0.500000010,1\nb.wav,0,0.2,0\n";
        let b = b"input,label,score,predicted\na.wav,1,0.499999990,0\nb.wav,0,0.2,0\n";
        let rule = Rule {
            agreement: Agreement::Rounding,
            threshold: Some(0.5),
            scale: 1.0,
        };
        let (mut c, mut flips) = (SectionCheck::new("artifacts"), Vec::new());
        predictions("predictions.csv", a, b, rule, &mut c, &mut flips);
        assert_eq!(c.differences, 0);
        assert_eq!(flips.len(), 1);
        assert_eq!((flips[0].recorded, flips[0].recomputed), (1, 0));
        assert!(flips[0].cause.as_ref().unwrap().contains("threshold 0.5"));
        // A flip far from the threshold has no cause: the caller counts it as a difference.
        let b = b"input,label,score,predicted\na.wav,1,0.500000010,1\nb.wav,0,0.2,1\n";
        let (mut c, mut flips) = (SectionCheck::new("artifacts"), Vec::new());
        predictions("predictions.csv", a, b, rule, &mut c, &mut flips);
        assert_eq!((c.differences, flips.len()), (0, 1));
        assert!(flips[0].cause.is_none());
        // A score that moved by 1e-3 is a difference.
        let b = b"input,label,score,predicted\na.wav,1,0.501,1\nb.wav,0,0.2,0\n";
        let (mut c, mut flips) = (SectionCheck::new("artifacts"), Vec::new());
        predictions("predictions.csv", a, b, rule, &mut c, &mut flips);
        assert_eq!(c.differences, 1);
    }

    #[test]
    fn png_edges_may_shift_by_a_pixel_but_nothing_new_appears() {
        let encode = |img: &image::RgbaImage| {
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            out.into_inner()
        };
        let bar = |x0: u32, colour: [u8; 4]| {
            image::RgbaImage::from_fn(20, 10, |x, _| {
                image::Rgba(if x >= x0 { colour } else { [255; 4] })
            })
        };
        let a = encode(&bar(10, [200, 0, 0, 255]));
        let mut c = SectionCheck::new("artifacts");
        png("p.png", &a, &encode(&bar(11, [201, 1, 0, 255])), &mut c);
        assert_eq!(c.differences, 0, "{:?}", c.first);
        let mut c = SectionCheck::new("artifacts");
        png("p.png", &a, &encode(&bar(14, [200, 0, 0, 255])), &mut c);
        assert_eq!(c.differences, 1);
        let mut c = SectionCheck::new("artifacts");
        png("p.png", &a, &encode(&bar(10, [0, 0, 200, 255])), &mut c);
        assert_eq!(c.differences, 1);
    }
}
