//! The event envelope: what every message on the broker looks like, whoever publishes it.
//!
//! An event has its id before it is stored or sent (a UUIDv7, made by the application), so that a
//! consumer can tell a redelivery from a new event. Its aggregate id (here, the user's id) is the
//! Kafka key: Kafka keeps the order of messages within a partition, and one key always goes to
//! the same partition, so one user's events arrive in the order they happened. The id and the
//! type also travel as headers, so that a consumer can route or drop a message without parsing
//! its body.

use chrono::{DateTime, SubsecRound, Utc};
use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Header names.
pub const ID_HEADER: &str = "event-id";
pub const TYPE_HEADER: &str = "event-type";

// ANCHOR: event
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub aggregate_id: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}
// ANCHOR_END: event

/// A message that is not an event this code can read. The consumer parks it in the dead-letter
/// topic rather than retrying it forever.
#[derive(Debug, thiserror::Error)]
pub enum MalformedEvent {
    #[error("the message has no body")]
    NoBody,
    #[error("the message body is not an event: {0}")]
    NotAnEvent(#[from] serde_json::Error),
    #[error("the {ID_HEADER} header ({header}) differs from the body's id ({body})")]
    IdMismatch { header: String, body: Uuid },
}

impl Event {
    /// A new event about `aggregate_id`, happening now.
    pub fn new(kind: &str, aggregate_id: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind: kind.to_owned(),
            aggregate_id: aggregate_id.into(),
            // Microseconds: what every database here stores, so an event read back from the
            // outbox equals the one written.
            occurred_at: Utc::now().trunc_subsecs(6),
            payload,
        }
    }

    /// The Kafka message body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an event always serialises")
    }

    /// The Kafka headers: the id and the type.
    pub fn headers(&self) -> OwnedHeaders {
        let id = self.id.to_string();
        OwnedHeaders::new()
            .insert(Header {
                key: ID_HEADER,
                value: Some(&id),
            })
            .insert(Header {
                key: TYPE_HEADER,
                value: Some(&self.kind),
            })
    }

    /// Reads an event from a consumed message.
    pub fn from_message(message: &BorrowedMessage<'_>) -> Result<Self, MalformedEvent> {
        let body = message.payload().ok_or(MalformedEvent::NoBody)?;
        let event: Event = serde_json::from_slice(body)?;
        if let Some(header) = header_of(message, ID_HEADER)
            && header != event.id.to_string()
        {
            return Err(MalformedEvent::IdMismatch { header, body: event.id });
        }
        Ok(event)
    }
}

/// The value of header `key` of a message, as text.
pub fn header_of(message: &impl Message, key: &str) -> Option<String> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|header| header.key == key)
        .and_then(|header| header.value)
        .map(|value| String::from_utf8_lossy(value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_survives_its_trip_through_json_with_the_envelope_names() {
        let event = Event::new(
            "user_registered",
            "u-1",
            serde_json::json!({"email": "ada@example.com"}),
        );
        let json: serde_json::Value = serde_json::from_slice(&event.body()).unwrap();
        assert_eq!(json["type"], "user_registered");
        assert_eq!(json["aggregate_id"], "u-1");
        assert_eq!(json["id"], event.id.to_string());
        let back: Event = serde_json::from_slice(&event.body()).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn ids_are_version_7_and_ordered_by_time() {
        let first = Event::new("t", "a", serde_json::Value::Null);
        let second = Event::new("t", "a", serde_json::Value::Null);
        assert_eq!(first.id.get_version_num(), 7);
        assert!(first.id < second.id);
    }
}
