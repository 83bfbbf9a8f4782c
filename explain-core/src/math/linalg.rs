//! The small dense linear algebra the estimators need (f64, single-threaded, deterministic),
//! on top of nalgebra.

use nalgebra::{DMatrix, DVector};

/// `n choose k` as f64 (exact for the sizes used here).
pub fn binom(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Moore–Penrose pseudo-inverse of a symmetric matrix (via SVD, relative cutoff 1e-12).
pub fn pinv(a: &DMatrix<f64>) -> DMatrix<f64> {
    let scale = a
        .iter()
        .fold(0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    a.clone()
        .pseudo_inverse(1e-12 * scale)
        .expect("epsilon is non-negative")
}

/// A weighted ridge regression with an unpenalised intercept, as scikit-learn's
/// `Ridge(alpha).fit(X, y, sample_weight=w)` computes it.
#[derive(Debug, Clone)]
pub struct RidgeFit {
    pub coef: Vec<f64>,
    pub intercept: f64,
    /// Weighted R² on the training data (`Ridge.score` with `sample_weight`).
    pub r2: f64,
    /// Standard errors of the coefficients:
    /// `sqrt(diag(σ² (XᵀWX + αI)⁻¹ XᵀWX (XᵀWX + αI)⁻¹))` with `σ² = weighted RSS / (n − p)`
    /// on weighted-centred data (Visani et al.'s CSI uses these).
    pub std_errors: Vec<f64>,
}

/// Fits `y ≈ X coef + intercept` minimising `Σ w (y − ŷ)² + α‖coef‖²`. `x` is row-major
/// `n × p`. With `alpha == 0` a pseudo-inverse gives the minimum-norm least-squares solution.
pub fn weighted_ridge(x: &[f64], n: usize, p: usize, y: &[f64], w: &[f64], alpha: f64) -> RidgeFit {
    let wsum: f64 = w.iter().sum();
    let ymean = y.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / wsum;
    let mut xmean = vec![0f64; p];
    for i in 0..n {
        for j in 0..p {
            xmean[j] += w[i] * x[i * p + j];
        }
    }
    xmean.iter_mut().for_each(|m| *m /= wsum);
    let mut gram = DMatrix::<f64>::zeros(p, p);
    let mut rhs = DVector::<f64>::zeros(p);
    let mut xc = vec![0f64; p];
    for i in 0..n {
        for j in 0..p {
            xc[j] = x[i * p + j] - xmean[j];
        }
        let yc = y[i] - ymean;
        for a in 0..p {
            let wa = w[i] * xc[a];
            rhs[a] += wa * yc;
            for b in 0..=a {
                gram[(a, b)] += wa * xc[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            gram[(b, a)] = gram[(a, b)];
        }
    }
    let mut reg = gram.clone();
    for a in 0..p {
        reg[(a, a)] += alpha;
    }
    let inv = if alpha > 0.0 {
        reg.clone().try_inverse().unwrap_or_else(|| pinv(&reg))
    } else {
        pinv(&reg)
    };
    let coef = &inv * &rhs;
    let intercept = ymean - coef.iter().zip(&xmean).map(|(c, m)| c * m).sum::<f64>();
    let (mut rss, mut tss) = (0f64, 0f64);
    for i in 0..n {
        let pred = intercept + (0..p).map(|j| coef[j] * x[i * p + j]).sum::<f64>();
        rss += w[i] * (y[i] - pred).powi(2);
        tss += w[i] * (y[i] - ymean).powi(2);
    }
    let r2 = if tss > 0.0 { 1.0 - rss / tss } else { 1.0 };
    let dof = n.saturating_sub(p + 1).max(1) as f64;
    let sigma2 = rss / dof;
    let cov = &inv * &gram * &inv * sigma2;
    let std_errors = (0..p).map(|j| cov[(j, j)].max(0.0).sqrt()).collect();
    RidgeFit {
        coef: coef.iter().copied().collect(),
        intercept,
        r2,
        std_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomials() {
        assert_eq!(binom(10, 3), 120.0);
        assert_eq!(binom(20, 10), 184756.0);
        assert_eq!(binom(3, 5), 0.0);
    }

    #[test]
    fn ridge_without_penalty_recovers_an_exact_linear_fit() {
        // y = 2 a − 3 b + 1, with unequal weights.
        let x = [0., 0., 1., 0., 0., 1., 1., 1., 2., 1.];
        let y: Vec<f64> = x.chunks(2).map(|r| 2.0 * r[0] - 3.0 * r[1] + 1.0).collect();
        let w = [1.0, 2.0, 0.5, 1.0, 3.0];
        let fit = weighted_ridge(&x, 5, 2, &y, &w, 0.0);
        approx::assert_abs_diff_eq!(fit.coef[0], 2.0, epsilon = 1e-10);
        approx::assert_abs_diff_eq!(fit.coef[1], -3.0, epsilon = 1e-10);
        approx::assert_abs_diff_eq!(fit.intercept, 1.0, epsilon = 1e-10);
        approx::assert_abs_diff_eq!(fit.r2, 1.0, epsilon = 1e-12);
    }

    #[test]
    fn ridge_matches_the_closed_form_for_one_feature() {
        // One centred feature: coef = Σw x y / (Σw x² + α).
        let x = [-1.0, 0.0, 1.0];
        let y = [-2.0, 0.5, 2.0];
        let w = [1.0, 1.0, 1.0];
        let fit = weighted_ridge(&x, 3, 1, &y, &w, 1.0);
        let ymean = 0.5 / 3.0;
        // Σ x (y − ȳ) over x = −1, 0, 1, divided by Σ x² + α = 2 + 1.
        let expect = ((2.0 + ymean) + (2.0 - ymean)) / (2.0 + 1.0);
        approx::assert_abs_diff_eq!(fit.coef[0], expect, epsilon = 1e-12);
        approx::assert_abs_diff_eq!(fit.intercept, ymean, epsilon = 1e-12);
    }
}
