//! The request id: one string that follows a request through every layer and every service.
//!
//! A caller may send `x-request-id` (over HTTP as a header, over gRPC as metadata); otherwise the
//! first service generates one. Every span carries it, every response returns it, and a service that
//! calls another passes it on, so one search of the logs finds a request's whole story. The header
//! is client input like any other: an id that is too long or holds odd characters is replaced, not
//! written into the logs.

use std::fmt;

/// The header (HTTP) and metadata key (gRPC) that carries the id.
pub const HEADER: &str = "x-request-id";

const MAX_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A new id: a UUIDv7, so ids sort by time.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// The caller's id if it is a sensible one (1 to 64 letters, digits, `-`, `_` or `.`), else a
    /// new one.
    pub fn from_caller(sent: Option<&str>) -> Self {
        let acceptable = |id: &&str| {
            (1..=MAX_LEN).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match sent.filter(acceptable) {
            Some(id) => Self(id.to_owned()),
            None => Self::generate(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::kept("req-42_a.b", true)]
    #[case::sixty_four(&"a".repeat(64), true)]
    #[case::sixty_five(&"a".repeat(65), false)]
    #[case::empty("", false)]
    #[case::newline_injection("abc\nlevel=error", false)]
    #[case::spaces("a b", false)]
    fn a_caller_id_is_kept_only_when_it_is_sensible(#[case] sent: &str, #[case] kept: bool) {
        let id = RequestId::from_caller(Some(sent));
        assert_eq!(id.as_str() == sent, kept, "{sent:?} became {id}");
        if !kept {
            assert!(
                uuid::Uuid::parse_str(id.as_str()).is_ok(),
                "a generated id is a UUID: {id}"
            );
        }
    }

    #[test]
    fn without_a_caller_id_one_is_generated() {
        let (a, b) = (RequestId::from_caller(None), RequestId::from_caller(None));
        assert_ne!(a, b);
    }
}
