//! How similar two attribution vectors are: the numbers behind `explain diff`, the explanation
//! stability gate.
//!
//! Two explanations of the same input (an old and a retrained model, or two seeds) agree when
//! they rank the features alike (Spearman's ρ, Kendall's τ-b), pick the same few most important
//! features (top-k Jaccard of |attribution|), point the same way (cosine similarity) and differ
//! little in absolute terms (largest absolute change).
//!
//! ```
//! use explain_core::math::stability;
//! let old = [0.50, -0.20, 0.05, 0.00];
//! let new = [0.45, -0.25, 0.00, 0.05];
//! let s = stability::similarity(&old, &new, 2).unwrap();
//! assert_eq!(s.topk_jaccard, 1.0); // features 0 and 1 lead on both sides
//! assert!(s.spearman.unwrap() > 0.7 && s.cosine.unwrap() > 0.98);
//! assert!((s.max_abs_change - 0.05).abs() < 1e-12);
//! ```

use crate::{Error, Result, math::stats};
use serde::Serialize;
use std::cmp::Ordering;

/// How alike two attribution vectors are. Correlations are `None` where they are undefined:
/// when either vector is constant (for example all zero) or has fewer than two elements;
/// cosine is `None` when either vector is all zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similarity {
    /// Spearman's rank correlation of the signed values (ties get average ranks).
    pub spearman: Option<f64>,
    /// Kendall's τ-b of the signed values (corrected for ties on either side).
    pub kendall_tau_b: Option<f64>,
    /// |T_k(a) ∩ T_k(b)| / |T_k(a) ∪ T_k(b)|, where T_k is the set of the `k` features with
    /// the largest |value| (ties broken by the lower feature index).
    pub topk_jaccard: f64,
    /// The `k` used: the one asked for, capped at the number of features.
    pub k: usize,
    /// Cosine similarity of the signed values ([`cosine`]).
    pub cosine: Option<f64>,
    /// max_i |a_i − b_i| (0 for empty vectors).
    pub max_abs_change: f64,
}

/// Compares two attribution vectors of the same length; `k` (at least 1) is the size of the
/// top-k sets, capped at the length.
///
/// Errors ([`Error::Input`]) when the lengths differ, `k` is 0 or a value is NaN or infinite.
///
/// ```
/// use explain_core::math::stability::similarity;
/// let s = similarity(&[3.0, 2.0, 1.0], &[1.0, 2.0, 3.0], 1).unwrap();
/// assert_eq!((s.spearman, s.kendall_tau_b), (Some(-1.0), Some(-1.0)));
/// assert_eq!(s.topk_jaccard, 0.0); // {0} vs {2}
/// let flat = similarity(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0], 2).unwrap();
/// assert_eq!((flat.spearman, flat.kendall_tau_b, flat.cosine), (None, None, None));
/// assert!(similarity(&[1.0], &[1.0, 2.0], 1).is_err());
/// ```
pub fn similarity(a: &[f64], b: &[f64], k: usize) -> Result<Similarity> {
    if a.len() != b.len() {
        return Err(Error::Input(format!(
            "cannot compare attribution vectors of different lengths ({} and {})",
            a.len(),
            b.len()
        )));
    }
    if k == 0 {
        return Err(Error::Input(
            "the top-k size must be at least 1 (k = 0)".into(),
        ));
    }
    for (side, v) in [("first", a), ("second", b)] {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::Input(format!(
                "the {side} attribution vector has a non-finite value ({}) at feature {i}",
                v[i]
            )));
        }
    }
    let k = k.min(a.len());
    Ok(Similarity {
        spearman: stats::spearman(a, b),
        kendall_tau_b: kendall_tau_b(a, b),
        topk_jaccard: topk_jaccard(a, b, k),
        k,
        cosine: cosine(a, b),
        max_abs_change: max_abs_change(a, b),
    })
}

/// Kendall's τ-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), where n₀ = n(n−1)/2 and
/// n₁, n₂ count the pairs tied in `a` and in `b`. This is `scipy.stats.kendalltau`'s default.
/// `None` when the lengths differ, there are fewer than two elements or either side is
/// constant. O(n log n) (Knight's algorithm: sort by `a` then `b`, count the exchanges a merge
/// sort by `b` needs). `-0.0` and `0.0` are equal; values should be finite.
///
/// ```
/// use explain_core::math::stability::kendall_tau_b;
/// // scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 2]).statistic
/// let tau = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 2.0]).unwrap();
/// assert!((tau - 0.4).abs() < 1e-12);
/// assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), None);
/// ```
pub fn kendall_tau_b(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len();
    if n != b.len() || n < 2 {
        return None;
    }
    // Adding 0.0 turns -0.0 into 0.0, so that total_cmp agrees with ==.
    let a: Vec<f64> = a.iter().map(|x| x + 0.0).collect();
    let b: Vec<f64> = b.iter().map(|x| x + 0.0).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[i].total_cmp(&a[j]).then(b[i].total_cmp(&b[j])));

    // Pairs tied in a (n1) and tied in both (n3), from runs of the sorted order.
    let pairs = |t: u64| t * t.saturating_sub(1) / 2;
    let (mut n1, mut n3) = (0u64, 0u64);
    let (mut run_a, mut run_ab) = (1u64, 1u64);
    for w in order.windows(2) {
        let (i, j) = (w[0], w[1]);
        if a[i] == a[j] {
            run_a += 1;
            if b[i] == b[j] {
                run_ab += 1;
            } else {
                n3 += pairs(run_ab);
                run_ab = 1;
            }
        } else {
            n1 += pairs(run_a);
            n3 += pairs(run_ab);
            run_a = 1;
            run_ab = 1;
        }
    }
    n1 += pairs(run_a);
    n3 += pairs(run_ab);

    // Discordant pairs: the inversions of b in this order (pairs tied in a are already in b
    // order, so they add none).
    let mut seq: Vec<f64> = order.iter().map(|&i| b[i]).collect();
    let mut buffer = vec![0.0; n];
    let discordant = merge_count(&mut seq, &mut buffer);

    // Pairs tied in b, from the now sorted b.
    let mut n2 = 0u64;
    let mut run = 1u64;
    for w in seq.windows(2) {
        if w[0] == w[1] {
            run += 1;
        } else {
            n2 += pairs(run);
            run = 1;
        }
    }
    n2 += pairs(run);

    let n0 = pairs(n as u64);
    if n1 == n0 || n2 == n0 {
        return None;
    }
    // concordant − discordant = n0 − n1 − n2 + n3 − 2·discordant
    let numerator = n0 as f64 - n1 as f64 - n2 as f64 + n3 as f64 - 2.0 * discordant as f64;
    // One square root of the product, so that identical vectors give exactly 1.
    let denominator = ((n0 - n1) as f64 * (n0 - n2) as f64).sqrt();
    Some((numerator / denominator).clamp(-1.0, 1.0))
}

/// Sorts `v` ascending (stable merge sort) and returns the number of inversions (pairs i < j
/// with v[i] > v[j]).
fn merge_count(v: &mut [f64], buffer: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut count = {
        let (left, right) = v.split_at_mut(mid);
        let (bl, br) = buffer.split_at_mut(mid);
        merge_count(left, bl) + merge_count(right, br)
    };
    let (mut i, mut j, mut o) = (0, mid, 0);
    while i < mid && j < n {
        if v[j].total_cmp(&v[i]) == Ordering::Less {
            buffer[o] = v[j];
            count += (mid - i) as u64;
            j += 1;
        } else {
            buffer[o] = v[i];
            i += 1;
        }
        o += 1;
    }
    buffer[o..o + mid - i].copy_from_slice(&v[i..mid]);
    o += mid - i;
    buffer[o..o + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buffer[..n]);
    count
}

/// Cosine similarity; `None` when either vector is all zero or the lengths differ. Unlike
/// [`stats::cosine`] it takes one square root of the product of the squared norms, so that a
/// vector compared with itself gives exactly 1 (√(x²) = x in binary floating point); it falls
/// back to [`stats::cosine`] when that product would overflow or underflow.
///
/// ```
/// let v = [0.3, -0.1, 0.7, 1e-3];
/// assert_eq!(explain_core::math::stability::cosine(&v, &v), Some(1.0));
/// assert_eq!(explain_core::math::stability::cosine(&v, &[0.0; 4]), None);
/// ```
pub fn cosine(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum();
    let nb: f64 = b.iter().map(|x| x * x).sum();
    if na == 0.0 || nb == 0.0 {
        return None;
    }
    let product = na * nb;
    if !product.is_normal() {
        return stats::cosine(a, b);
    }
    Some((dot / product.sqrt()).clamp(-1.0, 1.0))
}

/// The indices of the `k` largest |values|, ties broken by the lower index, in that order.
///
/// ```
/// use explain_core::math::stability::top_k;
/// assert_eq!(top_k(&[0.1, -0.5, 0.5, 0.2], 2), vec![1, 2]);
/// assert_eq!(top_k(&[0.0, 0.0, 0.0], 2), vec![0, 1]);
/// ```
pub fn top_k(values: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[j].abs().total_cmp(&values[i].abs()).then(i.cmp(&j)));
    order.truncate(k);
    order
}

/// |T_k(a) ∩ T_k(b)| / |T_k(a) ∪ T_k(b)| for the top-k sets of |values| ([`top_k`]); 1 when
/// both sets are empty (`k = 0` or empty vectors).
///
/// ```
/// use explain_core::math::stability::topk_jaccard;
/// // {0, 1} and {0, 2}: one shared out of three
/// assert!((topk_jaccard(&[3.0, 2.0, 1.0], &[3.0, 1.0, -2.0], 2) - 1.0 / 3.0).abs() < 1e-15);
/// ```
pub fn topk_jaccard(a: &[f64], b: &[f64], k: usize) -> f64 {
    let (ta, tb) = (top_k(a, k), top_k(b, k));
    let shared = ta.iter().filter(|i| tb.contains(i)).count();
    let union = ta.len() + tb.len() - shared;
    if union == 0 {
        1.0
    } else {
        shared as f64 / union as f64
    }
}

/// max_i |a_i − b_i| over the common length; 0 for empty vectors.
///
/// ```
/// assert_eq!(explain_core::math::stability::max_abs_change(&[1.0, -2.0], &[1.5, 1.0]), 3.0);
/// ```
pub fn max_abs_change(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// τ-b straight from its definition, O(n²).
    fn tau_b_naive(a: &[f64], b: &[f64]) -> Option<f64> {
        let (mut s, mut n1, mut n2, mut n0) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for i in 0..a.len() {
            for j in i + 1..a.len() {
                n0 += 1.0;
                let (da, db) = (a[i] - a[j], b[i] - b[j]);
                if da == 0.0 {
                    n1 += 1.0;
                }
                if db == 0.0 {
                    n2 += 1.0;
                }
                s += (da.signum() * db.signum()) * f64::from(da != 0.0 && db != 0.0);
            }
        }
        let d: f64 = (n0 - n1) * (n0 - n2);
        (d > 0.0).then(|| s / d.sqrt())
    }

    #[test]
    fn kendall_matches_the_definition_with_and_without_ties() {
        // A small deterministic generator: values on a coarse grid, so many ties.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |levels: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % levels) as f64 - (levels / 2) as f64
        };
        for (n, levels) in [(2, 3), (5, 2), (17, 4), (64, 7), (200, 1000), (333, 5)] {
            let a: Vec<f64> = (0..n).map(|_| next(levels)).collect();
            let b: Vec<f64> = (0..n).map(|_| next(levels)).collect();
            let (fast, slow) = (kendall_tau_b(&a, &b), tau_b_naive(&a, &b));
            match (fast, slow) {
                (Some(f), Some(s)) => assert!((f - s).abs() < 1e-12, "n {n}: {f} vs {s}"),
                (f, s) => assert_eq!(f, s, "n {n}"),
            }
        }
        assert_eq!(
            kendall_tau_b(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]),
            Some(-1.0)
        );
        assert_eq!(
            kendall_tau_b(&[-0.0, 0.0, 1.0], &[1.0, 2.0, 3.0]),
            tau_b_naive(&[0.0, 0.0, 1.0], &[1.0, 2.0, 3.0])
        );
        assert_eq!(kendall_tau_b(&[1.0], &[1.0]), None);
        assert_eq!(kendall_tau_b(&[1.0, 2.0], &[1.0]), None);
    }

    #[test]
    fn merge_count_counts_inversions() {
        let mut v = [3.0, 1.0, 2.0, 2.0, 0.0];
        let mut buffer = [0.0; 5];
        assert_eq!(merge_count(&mut v, &mut buffer), 7);
        assert_eq!(v, [0.0, 1.0, 2.0, 2.0, 3.0]);
    }

    #[test]
    fn similarity_of_identical_and_reversed_vectors() {
        let a = [0.3, -0.1, 0.0, 0.7, -0.4];
        let s = similarity(&a, &a, 3).unwrap();
        assert_eq!(
            s,
            Similarity {
                spearman: Some(1.0),
                kendall_tau_b: Some(1.0),
                topk_jaccard: 1.0,
                k: 3,
                cosine: Some(1.0),
                max_abs_change: 0.0
            }
        );
        let neg: Vec<f64> = a.iter().map(|x| -x).collect();
        let s = similarity(&a, &neg, 10).unwrap();
        assert_eq!(
            (s.spearman, s.kendall_tau_b, s.cosine),
            (Some(-1.0), Some(-1.0), Some(-1.0))
        );
        assert_eq!((s.topk_jaccard, s.k), (1.0, 5)); // |values| unchanged; k capped
        assert!((s.max_abs_change - 1.4).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = similarity(&[1.0, f64::NAN], &[1.0, 2.0], 1).unwrap_err();
        assert!(e.to_string().contains("feature 1"), "{e}");
        assert!(similarity(&[1.0], &[f64::INFINITY], 1).is_err());
        assert!(similarity(&[1.0], &[1.0, 2.0], 1).is_err());
        assert!(similarity(&[1.0], &[1.0], 0).is_err());
        let empty = similarity(&[], &[], 5).unwrap();
        assert_eq!(
            (empty.k, empty.topk_jaccard, empty.spearman),
            (0, 1.0, None)
        );
    }
}
