//! Attributions: the [`objective`] a masked input is worth, coalition values computed by the [`engine`] under a [`budget`], turned into
//! Shapley or LIME values by the [`estimators`], driven end to end by the [`explainer`];
//! [`recipe`] records how a run was asked for so that it can be repeated, and [`quality`]
//! checks the explanations (deletion/insertion, seed stability, model randomisation).

pub mod budget;
pub mod engine;
pub mod estimators;
pub mod explainer;
pub mod objective;
pub mod quality;
pub mod recipe;
