//! Estimators decide which coalitions to evaluate and how to turn their values into
//! attributions. All of them go through the same [`Engine`](crate::attribution::engine::Engine).
//!
//! | method | coalitions | solve | standard errors |
//! |---|---|---|---|
//! | [`exact`] | all `2^M` | Shapley formula | none (exact) |
//! | [`kernel`] | shap's scheme: complete sizes first, then paired draws | constrained weighted least squares | delta method over the random draws |
//! | [`leverage`] | Leverage SHAP: every size gets equal mass, paired draws without replacement per size | the same least squares, weights over sampling probabilities | delta method, stratified by size, finite-population corrected |
//! | [`permutation`] | antithetic permutations | telescoping marginals | spread of the per-permutation estimates |
//! | [`lime`] | Bernoulli(½) | weighted ridge on a cosine-distance kernel | ridge coefficient errors |

pub mod exact;
pub mod kernel;
pub mod leverage;
pub mod lime;
pub mod permutation;

use crate::Result;
pub use crate::artifact::spec::Method;

/// What an estimator returns for one explained row.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// One attribution per feature.
    pub values: Vec<f64>,
    /// One standard error per feature (0 where the value is exact).
    pub std_errors: Vec<f64>,
    /// `v(∅)`: the (linked) output with every feature from the baseline. For LIME, the
    /// surrogate's intercept.
    pub base_value: f64,
    /// `v(N)`: the (linked) output at the explained row.
    pub prediction: f64,
    /// Coalitions evaluated (each costs `K` model rows with `K` baseline rows).
    pub coalitions: usize,
    /// LIME's surrogate fit, for `explain lime`.
    pub surrogate: Option<crate::artifact::attributions::Surrogate>,
}

/// The value of the empty and of the full coalition.
pub(crate) fn endpoints(engine: &crate::attribution::engine::Engine) -> Result<(f64, f64)> {
    let v = engine.values(2, |i, z| z.fill(i == 1))?;
    Ok((v[0], v[1]))
}
