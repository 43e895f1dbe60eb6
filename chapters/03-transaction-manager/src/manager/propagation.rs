//! The one place where propagation is decided, for every backend.
//!
//! Each manager (SQL, Redis) asks the same question when a scope starts: given this propagation,
//! and the transaction (if any) that the context already has open, what does the scope do? The
//! answer is one of four actions, and the seven modes map onto them here, once, so the managers
//! cannot drift apart. A backend then carries out the action in its own way; one that cannot
//! (Redis has no savepoints) says so with a typed error.

use crate::error::TxError;
use crate::settings::Propagation;

/// What a scope does. `S` is the backend's handle on the open transaction.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision<S> {
    /// Run inside the open transaction: its writes commit or roll back with it.
    Join(S),
    /// Run inside the open transaction, behind a savepoint that a failure rolls back to.
    Savepoint(S),
    /// Begin a transaction of its own (any open one waits, untouched, until it ends).
    Begin,
    /// Run outside any transaction of this manager (an open one is suspended meanwhile).
    Suspend,
}

// Not mutated (`.cargo/mutants.toml`): cargo-mutants can only replace this `match` whole, with
// constructors `Decision` does not have (four unviable mutants). Each of its 14 cases, every mode
// with and without an open transaction, is pinned by `every_mode_maps_to_one_action` below.
// ANCHOR: decide
/// Decides what a scope with `propagation` does, when `open` is the context's transaction.
pub(crate) fn decide<S>(propagation: Propagation, open: Option<S>) -> Result<Decision<S>, TxError> {
    use Propagation::*;
    Ok(match (propagation, open) {
        (Required | Supports | Mandatory, Some(open)) => Decision::Join(open),
        (Nested, Some(open)) => Decision::Savepoint(open),
        (Required | Nested, None) | (RequiresNew, _) => Decision::Begin,
        (Supports | Never, None) | (NotSupported, _) => Decision::Suspend,
        (Mandatory, None) => return Err(TxError::NoTransaction(Mandatory)),
        (Never, Some(_)) => return Err(TxError::ExistingTransaction),
    })
}
// ANCHOR_END: decide

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    /// What each mode does, with a transaction open ("outer") and without.
    #[rstest]
    #[case(Propagation::Required, true, "join")]
    #[case(Propagation::Required, false, "begin")]
    #[case(Propagation::RequiresNew, true, "begin")]
    #[case(Propagation::RequiresNew, false, "begin")]
    #[case(Propagation::Nested, true, "savepoint")]
    #[case(Propagation::Nested, false, "begin")]
    #[case(Propagation::Supports, true, "join")]
    #[case(Propagation::Supports, false, "suspend")]
    #[case(Propagation::Mandatory, true, "join")]
    #[case(
        Propagation::Mandatory,
        false,
        "error: propagation Mandatory needs an open transaction, and there is none"
    )]
    #[case(Propagation::Never, true, "error: propagation Never found a transaction open")]
    #[case(Propagation::Never, false, "suspend")]
    #[case(Propagation::NotSupported, true, "suspend")]
    #[case(Propagation::NotSupported, false, "suspend")]
    fn every_mode_maps_to_one_action(#[case] propagation: Propagation, #[case] open: bool, #[case] expected: &str) {
        let decided = match decide(propagation, open.then_some("outer")) {
            Ok(Decision::Join(scope)) => format!("join{}", if scope == "outer" { "" } else { " ?" }),
            Ok(Decision::Savepoint(scope)) => format!("savepoint{}", if scope == "outer" { "" } else { " ?" }),
            Ok(Decision::Begin) => "begin".to_owned(),
            Ok(Decision::Suspend) => "suspend".to_owned(),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(decided, expected, "{propagation:?} with a transaction open: {open}");
    }
}
