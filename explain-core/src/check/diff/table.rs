//! The text table of a [`Diff`] for the terminal, and the number formats its cells and the
//! regression sentences share.

use super::outcome::{Diff, Direction, MetricChange};
use std::fmt::Write as _;

/// How many of the largest slice metric changes [`Diff::table`] shows besides the
/// regressions.
const TABLE_METRICS: usize = 10;

impl Diff {
    /// A readable table for the terminal: the thresholds, every item, the per-method overall,
    /// for reports the largest metric changes and the verdict changes, then the regressions.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let model = match (&self.old.model_sha256, &self.new.model_sha256) {
            (Some(a), Some(b)) if a == b => format!("model {} (unchanged)", short(a)),
            (a, b) => format!(
                "model {} -> {}",
                a.as_deref().map_or("?", short),
                b.as_deref().map_or("?", short)
            ),
        };
        let _ = writeln!(out, "explain diff ({}): {model}", self.schema);
        for side in [&self.old, &self.new] {
            if let Some((which, path)) = side.name.split_once(' ') {
                let _ = writeln!(out, "  {}: {path}", which.to_lowercase());
            }
        }
        let _ = writeln!(out, "thresholds: {}", self.thresholds.describe());
        out.push('\n');

        let k = self.thresholds.k;
        let jaccard = format!("top-{k} Jaccard");
        let mut rows = Vec::new();
        for item in &self.items {
            let s = &item.similarity;
            rows.push(vec![
                item.key.input.clone(),
                item.key.method.clone(),
                item.key.target.to_string(),
                fixed(s.spearman),
                fixed(s.kendall_tau_b),
                fixed(Some(s.topk_jaccard)),
                fixed(s.cosine),
                sig3(s.max_abs_change),
                item.max_change_in_se
                    .map_or("-".into(), |z| format!("{z:.1}")),
                if item.failures.is_empty() {
                    "OK".into()
                } else {
                    "REGRESSION".into()
                },
            ]);
        }
        for (keys, status) in [(&self.missing, "MISSING in new"), (&self.added, "new only")] {
            for key in keys {
                let mut row = vec![
                    key.input.clone(),
                    key.method.clone(),
                    key.target.to_string(),
                ];
                row.extend(std::iter::repeat_n("-".to_string(), 6));
                row.push(status.into());
                rows.push(row);
            }
        }
        let headers = [
            "input",
            "method",
            "target",
            "Spearman",
            "tau-b",
            &jaccard,
            "cosine",
            "max change",
            "change/SE",
            "status",
        ];
        out.push_str(&render(&headers, &rows, &[0, 0, 1, 1, 1, 1, 1, 1, 1, 0]));
        if self.items.iter().any(|i| i.max_change_in_se.is_some()) {
            out.push_str(
                "change/SE: the largest |change| in combined standard errors (up to ~2 is sampling noise)\n",
            );
        }

        if !self.methods.is_empty() {
            out.push_str(
                "\noverall, per method (means over matched items; global = mean |attribution|)\n",
            );
            let mut rows = Vec::new();
            for m in &self.methods {
                let g = m.global.as_ref();
                rows.push(vec![
                    m.method.clone(),
                    m.items.to_string(),
                    fixed(m.mean_spearman),
                    fixed(m.mean_topk_jaccard),
                    fixed(m.mean_cosine),
                    fixed(g.and_then(|g| g.spearman)),
                    fixed(g.map(|g| g.topk_jaccard)),
                    fixed(g.and_then(|g| g.cosine)),
                    m.worst
                        .as_ref()
                        .map(|w| format!("{} ({})", w.input, fixed(w.spearman)))
                        .unwrap_or_else(|| "-".into()),
                    if m.global_failures.is_empty() {
                        "OK".into()
                    } else {
                        "REGRESSION".into()
                    },
                ]);
            }
            let headers = [
                "method",
                "items",
                "mean Spearman",
                &format!("mean top-{k} J"),
                "mean cosine",
                "global Spearman",
                &format!("global top-{k} J"),
                "global cosine",
                "worst item (Spearman)",
                "global status",
            ];
            out.push_str(&render(&headers, &rows, &[0, 1, 1, 1, 1, 1, 1, 1, 0, 0]));
        }

        if let Some(r) = &self.report {
            out.push('\n');
            let compared = r.metrics.iter().filter(|m| m.change.is_some()).count();
            // Nonzero changes, largest first (stable: document order among equals); the
            // regressions and the first few others are shown.
            let mut moved: Vec<&MetricChange> = r
                .metrics
                .iter()
                .filter(|m| m.change.is_some_and(|c| c != 0.0))
                .collect();
            moved.sort_by(|a, b| {
                let magnitude = |m: &MetricChange| m.change.unwrap_or(0.0).abs();
                magnitude(b).total_cmp(&magnitude(a))
            });
            let nonzero = moved.len();
            let shown: Vec<&MetricChange> = moved
                .into_iter()
                .enumerate()
                .filter(|(i, m)| m.regression || *i < TABLE_METRICS)
                .map(|(_, m)| m)
                .collect();
            if shown.is_empty() {
                let _ = writeln!(out, "metrics: {compared} compared, none changed");
            } else {
                let _ = writeln!(
                    out,
                    "largest metric changes ({} of {nonzero} changed, {compared} compared)",
                    shown.len()
                );
                let rows: Vec<Vec<String>> = shown
                    .iter()
                    .map(|m| {
                        vec![
                            m.slice.clone(),
                            m.metric.clone(),
                            fixed(m.old),
                            fixed(m.new),
                            m.change.map_or("-".into(), |c| format!("{c:+.3}")),
                            if m.regression {
                                "REGRESSION".into()
                            } else if !m.checked {
                                "few items".into()
                            } else {
                                "OK".into()
                            },
                        ]
                    })
                    .collect();
                out.push_str(&render(
                    &["slice", "metric", "old", "new", "change", "status"],
                    &rows,
                    &[0, 0, 1, 1, 1, 0],
                ));
            }
            for (list, what) in [
                (&r.slices_only_old, "only in old"),
                (&r.slices_only_new, "only in new"),
            ] {
                if !list.is_empty() {
                    let _ = writeln!(out, "slices {what}: {}", list.join("; "));
                }
            }
            out.push('\n');
            if r.verdicts.is_empty() {
                out.push_str("verdicts: none changed\n");
            } else {
                out.push_str("verdict changes\n");
                let rows: Vec<Vec<String>> = r
                    .verdicts
                    .iter()
                    .map(|v| {
                        vec![
                            v.subject.clone(),
                            format!("{} -> {}", v.old, v.new),
                            v.detail.clone().unwrap_or_default(),
                            match v.direction {
                                Direction::Regression if self.thresholds.verdict_changes_fail => {
                                    "REGRESSION".into()
                                }
                                Direction::Regression => "worse".into(),
                                Direction::Improvement => "improvement".into(),
                                Direction::Change => "change".into(),
                            },
                        ]
                    })
                    .collect();
                out.push_str(&render(
                    &["subject", "verdict", "numbers", "status"],
                    &rows,
                    &[0, 0, 0, 0],
                ));
            }
        }

        if !self.notes.is_empty() {
            out.push_str("\nnotes\n");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        if !self.improvements.is_empty() {
            let _ = writeln!(out, "\nimprovements ({})", self.improvements.len());
            for n in &self.improvements {
                let _ = writeln!(out, "  - {n}");
            }
        }
        if self.passed() {
            let _ = writeln!(out, "\nPASS: no regressions");
        } else {
            let n = self.regressions.len();
            let _ = writeln!(
                out,
                "\nFAIL: {n} regression{}",
                if n == 1 { "" } else { "s" }
            );
            for r in &self.regressions {
                let _ = writeln!(out, "  - {r}");
            }
        }
        out
    }
}

/// The first 12 characters of a hash.
fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Three decimals, `-` when undefined.
pub(super) fn fixed(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.3}"))
}

/// Three significant digits.
fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{x:.digits$}")
}

/// A plain-text table: columns padded to their widest cell; `right[c]` right-aligns column c.
fn render(headers: &[&str], rows: &[Vec<String>], right: &[u8]) -> String {
    let cols = headers.len();
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (c, cell) in row.iter().enumerate().take(cols) {
            width[c] = width[c].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                s.push_str("  ");
            }
            let w = width[c];
            if right.get(c) == Some(&1) {
                let _ = write!(s, "{cell:>w$}");
            } else {
                let _ = write!(s, "{cell:<w$}");
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        width
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_three_significant_digits() {
        assert_eq!(sig3(0.006875), "0.00688");
        assert_eq!(sig3(1.5), "1.50");
        assert_eq!(sig3(0.0), "0");
    }

    #[test]
    fn tables_pad_by_characters() {
        let t = render(&["a", "bb"], &[vec!["τ".into(), "1".into()]], &[0, 1]);
        assert_eq!(t, "a  bb\n-  --\nτ   1\n");
    }
}
