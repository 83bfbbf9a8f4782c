//! One progress trait for every long run: an explanation's coalitions, a validation run's
//! items, a report's stages. The engine calls [`Progress::advance`] from worker threads; the
//! drivers announce a stage's total with [`Progress::begin`] and name it with
//! [`Progress::stage`]. The CLI's progress bar implements it; [`Silent`] reports nothing.

/// Receives progress. Implementations must be cheap and thread-safe.
pub trait Progress: Sync {
    /// `n` more steps (coalitions, or items) were done.
    fn advance(&self, n: u64);
    /// Starts a stage of `total` steps.
    fn begin(&self, _total: u64) {}
    /// Names the stage that follows (shown beside the bar).
    fn stage(&self, _name: &str) {}
    /// Something the user should know that is not an error (e.g. a leftover removed).
    fn note(&self, _text: &str) {}
}

/// Progress that goes nowhere.
pub struct Silent;

impl Progress for Silent {
    fn advance(&self, _: u64) {}
}
