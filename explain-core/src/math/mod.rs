//! Numerics with no knowledge of models: linear algebra ([`linalg`]), statistics with
//! intervals and tests ([`stats`]), similarity of attribution vectors ([`stability`]) and the
//! seeded, counter-keyed sampling streams every estimator draws from ([`sampling`]).

pub mod linalg;
pub mod sampling;
pub mod stability;
pub mod stats;
