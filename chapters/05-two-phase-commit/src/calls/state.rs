//! Where a remote call stands, as the caller records it: the source's table of states.
//!
//! | operation | on the call | on success | on failure |
//! |---|---|---|---|
//! | create | `create_requested` | `created` | `create_failed` |
//! | update | `update_requested` | `updated` | `update_failed` |
//! | delete | `delete_requested` | `deleted` | `delete_failed` |
//!
//! A row moves to `..._requested` *before* the call is made, so whatever happens to the caller
//! or the answer, the row says a call may have happened, and recovery knows what to finish.
//! [`State::then`] is the whole table of moves; everything else is refused by name.

/// What a call asks of the remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// A call's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// The call may have been made, and its outcome is not known yet.
    Requested(Operation),
    /// The remote said it is done.
    Done(Operation),
    /// The remote said it will not do it, or the caller gave up asking.
    Failed(Operation),
}

/// What happened to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The caller is about to ask for this operation.
    Request(Operation),
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("a call in state {from} cannot take {event:?}")]
    Refused { from: &'static str, event: Event },
    #[error("{0:?} is not a call's state")]
    Unknown(String),
}

impl State {
    /// The state a new call starts in: nothing exists remotely yet, so only a create.
    pub fn first(operation: Operation) -> Result<State, StateError> {
        match operation {
            Operation::Create => Ok(State::Requested(Operation::Create)),
            other => Err(StateError::Refused {
                from: "(none)",
                event: Event::Request(other),
            }),
        }
    }

    // ANCHOR: then
    /// The state after `event`, or the refusal of a move the table does not have.
    pub fn then(self, event: Event) -> Result<State, StateError> {
        use Operation::{Create, Delete, Update};
        use State::{Done, Failed, Requested};
        let next = match (self, event) {
            // The outcome of the call in flight.
            (Requested(op), Event::Succeeded) => Some(Done(op)),
            (Requested(op), Event::Failed) => Some(Failed(op)),
            // Asking again for what is in flight: a retry, with the same key.
            (Requested(op), Event::Request(again)) if again == op => Some(Requested(op)),
            // A create that failed may be tried again; nothing else is there to change.
            (Failed(Create), Event::Request(Create)) => Some(Requested(Create)),
            // What exists remotely can be updated or deleted.
            (Done(Create | Update) | Failed(Update), Event::Request(op @ (Update | Delete))) => Some(Requested(op)),
            (Failed(Delete), Event::Request(Delete)) => Some(Requested(Delete)),
            _ => None,
        };
        next.ok_or(StateError::Refused {
            from: self.as_str(),
            event,
        })
    }
    // ANCHOR_END: then

    /// Whether recovery has anything left to do for this call.
    pub fn is_settled(self) -> bool {
        !matches!(self, State::Requested(_))
    }

    pub fn as_str(self) -> &'static str {
        use Operation::{Create, Delete, Update};
        match self {
            State::Requested(Create) => "create_requested",
            State::Done(Create) => "created",
            State::Failed(Create) => "create_failed",
            State::Requested(Update) => "update_requested",
            State::Done(Update) => "updated",
            State::Failed(Update) => "update_failed",
            State::Requested(Delete) => "delete_requested",
            State::Done(Delete) => "deleted",
            State::Failed(Delete) => "delete_failed",
        }
    }

    pub fn parse(text: &str) -> Result<State, StateError> {
        ALL.iter()
            .copied()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| StateError::Unknown(text.to_owned()))
    }
}

/// Every state, in the table's order.
pub const ALL: [State; 9] = {
    use Operation::{Create, Delete, Update};
    [
        State::Requested(Create),
        State::Done(Create),
        State::Failed(Create),
        State::Requested(Update),
        State::Done(Update),
        State::Failed(Update),
        State::Requested(Delete),
        State::Done(Delete),
        State::Failed(Delete),
    ]
};

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::Operation::{Create, Delete, Update};
    use super::State::{Done, Failed, Requested};
    use super::*;

    // ANCHOR: table
    #[rstest]
    #[case::a_create_succeeds(Requested(Create), Event::Succeeded, Done(Create))]
    #[case::a_create_fails(Requested(Create), Event::Failed, Failed(Create))]
    #[case::a_create_retried_in_flight(Requested(Create), Event::Request(Create), Requested(Create))]
    #[case::a_failed_create_tried_again(Failed(Create), Event::Request(Create), Requested(Create))]
    #[case::a_created_resource_updated(Done(Create), Event::Request(Update), Requested(Update))]
    #[case::an_update_succeeds(Requested(Update), Event::Succeeded, Done(Update))]
    #[case::an_update_fails(Requested(Update), Event::Failed, Failed(Update))]
    #[case::a_failed_update_tried_again(Failed(Update), Event::Request(Update), Requested(Update))]
    #[case::an_updated_resource_updated_again(Done(Update), Event::Request(Update), Requested(Update))]
    #[case::a_created_resource_deleted(Done(Create), Event::Request(Delete), Requested(Delete))]
    #[case::an_updated_resource_deleted(Done(Update), Event::Request(Delete), Requested(Delete))]
    #[case::a_delete_succeeds(Requested(Delete), Event::Succeeded, Done(Delete))]
    #[case::a_delete_fails(Requested(Delete), Event::Failed, Failed(Delete))]
    #[case::a_failed_delete_tried_again(Failed(Delete), Event::Request(Delete), Requested(Delete))]
    fn the_tables_moves(#[case] from: State, #[case] event: Event, #[case] to: State) {
        assert_eq!(from.then(event), Ok(to));
    }

    #[rstest]
    #[case::nothing_to_update_after_a_failed_create(Failed(Create), Event::Request(Update))]
    #[case::a_deleted_resource_is_gone(Done(Delete), Event::Request(Update))]
    #[case::and_stays_gone(Done(Delete), Event::Request(Delete))]
    #[case::no_new_call_while_one_is_in_flight(Requested(Create), Event::Request(Update))]
    #[case::an_outcome_without_a_call(Done(Create), Event::Succeeded)]
    #[case::a_failure_without_a_call(Failed(Update), Event::Failed)]
    #[case::no_second_create(Done(Create), Event::Request(Create))]
    fn moves_the_table_does_not_have_are_refused(#[case] from: State, #[case] event: Event) {
        assert_eq!(
            from.then(event),
            Err(StateError::Refused {
                from: from.as_str(),
                event
            })
        );
    }
    // ANCHOR_END: table

    #[test]
    fn a_new_call_can_only_create() {
        assert_eq!(State::first(Create), Ok(Requested(Create)));
        assert!(State::first(Update).is_err());
        assert!(State::first(Delete).is_err());
    }

    #[test]
    fn every_state_reads_back_as_written_and_only_requested_ones_are_unsettled() {
        for state in ALL {
            assert_eq!(State::parse(state.as_str()), Ok(state));
            assert_eq!(state.is_settled(), !matches!(state, Requested(_)));
        }
        assert_eq!(State::parse("charged"), Err(StateError::Unknown("charged".into())));
    }
}
