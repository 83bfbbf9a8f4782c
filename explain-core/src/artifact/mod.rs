//! The documents explain writes, as typed records, and the vocabulary they name.
//!
//! Everything a user consumes is one of four documents: `explain.attributions/1`
//! ([`attributions::Attributions`]), `explain.slices/1`, `explain.inventory/1` and
//! `explain.report/1`. Their record types live here, apart from the computations that fill
//! them, so that the computations (attribution, validation) and the readers (render, report,
//! check) all depend on this folder and never on each other. [`spec`] holds the small
//! vocabulary the records carry (methods, links, budgets, targets, quality settings).

pub mod attributions;
pub mod slices;
pub mod spec;
