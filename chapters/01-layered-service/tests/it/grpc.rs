//! The gRPC handlers, through a real tonic server on a loopback port and a real client.

use ch01_layered_service::app;
use ch01_layered_service::grpc::with_request_id;
use ch01_layered_service::notify::Providers;
use ch01_layered_service::request_id::RequestId;
use ch01_layered_service::{InMemoryUsers, Running};
use tonic::Code;

use crate::support::*;

async fn running() -> anyhow::Result<(Running, GrpcClient)> {
    let running = app::start(InMemoryUsers::new(), &Providers::default()).await?;
    let client = grpc_client(running.grpc_url()).await?;
    Ok((running, client))
}

#[tokio::test]
async fn a_registered_user_is_found_by_id_and_by_normalised_email() -> anyhow::Result<()> {
    let (running, mut client) = running().await?;

    let registered = client
        .register_user(grpc_registration(" Grace@Navy.MIL "))
        .await?
        .into_inner()
        .user
        .unwrap();
    let by_id = client
        .get_user(pb::GetUserRequest {
            id: registered.id.clone(),
        })
        .await?
        .into_inner()
        .user;
    let by_email = client
        .find_user_by_email(pb::FindUserByEmailRequest {
            email: "GRACE@navy.mil".into(),
        })
        .await?
        .into_inner()
        .user;

    assert_eq!(registered.email, "grace@navy.mil");
    assert_eq!(registered.date_of_birth, "1986-12-09");
    assert_eq!(registered.phone, None);
    assert!(registered.created_at.is_some_and(|t| t.seconds > 0));
    assert_eq!(by_id.as_ref(), Some(&registered));
    assert_eq!(by_email.as_ref(), Some(&registered));
    stop_cleanly(running).await
}

// ANCHOR: codes
#[tokio::test]
async fn each_failure_has_its_status_code_and_names_the_field() -> anyhow::Result<()> {
    let (running, mut client) = running().await?;
    client.register_user(grpc_registration("grace@navy.mil")).await?;

    let malformed_id = client
        .get_user(pb::GetUserRequest { id: "42".into() })
        .await
        .unwrap_err();
    let unknown_id = client
        .get_user(pb::GetUserRequest {
            id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();
    let unknown_email = client
        .find_user_by_email(pb::FindUserByEmailRequest {
            email: "nobody@navy.mil".into(),
        })
        .await
        .unwrap_err();
    let taken = client
        .register_user(grpc_registration("GRACE@navy.mil"))
        .await
        .unwrap_err();
    let invalid = client
        .register_user(grpc_registration("grace-at-navy"))
        .await
        .unwrap_err();

    assert_eq!(
        (malformed_id.code(), malformed_id.message()),
        (Code::InvalidArgument, "id: must be a UUID")
    );
    assert_eq!(
        (unknown_id.code(), unknown_id.message()),
        (Code::NotFound, "no user has this id")
    );
    assert_eq!(
        (unknown_email.code(), unknown_email.message()),
        (Code::NotFound, "no user has this email")
    );
    assert_eq!(
        (taken.code(), taken.message()),
        (Code::AlreadyExists, "a user with this email already exists")
    );
    assert_eq!(
        (invalid.code(), invalid.message()),
        (Code::InvalidArgument, "email: must contain an @")
    );
    assert_eq!(running.metrics.requests("/users.v1.Users/GetUser", "NOT_FOUND"), 1);
    assert_eq!(
        running
            .metrics
            .requests("/users.v1.Users/RegisterUser", "ALREADY_EXISTS"),
        1
    );
    assert_eq!(running.metrics.requests("/users.v1.Users/RegisterUser", "OK"), 1);
    stop_cleanly(running).await
}
// ANCHOR_END: codes

#[tokio::test]
async fn the_callers_request_id_comes_back_on_answers_and_on_errors() -> anyhow::Result<()> {
    let (running, mut client) = running().await?;
    let id = RequestId::from_caller(Some("order-service-5d1c"));

    let answer = client
        .register_user(with_request_id(grpc_registration("grace@navy.mil"), &id))
        .await?;
    let error = client
        .get_user(with_request_id(pb::GetUserRequest { id: "42".into() }, &id))
        .await
        .unwrap_err();
    let generated = client
        .get_user(pb::GetUserRequest { id: "42".into() })
        .await
        .unwrap_err();

    assert_eq!(answer.metadata().get("x-request-id").unwrap(), "order-service-5d1c");
    assert_eq!(error.metadata().get("x-request-id").unwrap(), "order-service-5d1c");
    let generated = generated.metadata().get("x-request-id").unwrap().to_str()?;
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
    stop_cleanly(running).await
}

#[tokio::test]
async fn an_internal_error_is_internal_and_tells_the_caller_nothing_of_its_cause() -> anyhow::Result<()> {
    let running = app::start(unreachable_users(), &Providers::default()).await?;
    let mut client = grpc_client(running.grpc_url()).await?;

    let status = client
        .get_user(pb::GetUserRequest {
            id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::Internal);
    for secret in ["127.0.0.1", "nobody", "pool", "timed out"] {
        assert!(
            !status.message().contains(secret),
            "the status leaks {secret:?}: {}",
            status.message()
        );
    }
    assert_eq!(running.metrics.requests("/users.v1.Users/GetUser", "INTERNAL"), 1);
    stop_cleanly(running).await
}

/// A newer client's request: the fields this server knows, and one it does not (tag 99).
#[derive(Clone, PartialEq, prost::Message)]
struct NewerRegisterUserRequest {
    #[prost(string, tag = "1")]
    email: String,
    #[prost(string, tag = "2")]
    first_name: String,
    #[prost(string, tag = "3")]
    last_name: String,
    #[prost(string, tag = "4")]
    date_of_birth: String,
    #[prost(string, tag = "99")]
    nickname: String,
}

/// An older client's request: from before `phone` (tag 5) existed.
#[derive(Clone, PartialEq, prost::Message)]
struct OlderRegisterUserRequest {
    #[prost(string, tag = "1")]
    email: String,
    #[prost(string, tag = "2")]
    first_name: String,
    #[prost(string, tag = "3")]
    last_name: String,
    #[prost(string, tag = "4")]
    date_of_birth: String,
}

/// Calls `RegisterUser` with whatever message a client of another version would send.
async fn register_as<M: prost::Message + Default + Send + Sync + 'static>(
    url: String,
    message: M,
) -> Result<pb::RegisterUserResponse, tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(url)
        .expect("a URL")
        .connect()
        .await
        .expect("the server answers");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/users.v1.Users/RegisterUser");
    let codec = tonic_prost::ProstCodec::<M, pb::RegisterUserResponse>::default();
    grpc.unary(tonic::Request::new(message), path, codec)
        .await
        .map(tonic::Response::into_inner)
}

// ANCHOR: grpc_rollout
/// Over gRPC, both directions of a rollout hold by protobuf's design: the server skips a field
/// number it does not know, and a field an older client never sends reads as absent.
#[tokio::test]
async fn clients_older_and_newer_than_the_server_both_register_over_grpc() -> anyhow::Result<()> {
    let (running, _) = running().await?;
    let newer = NewerRegisterUserRequest {
        email: "newer@example.com".into(),
        first_name: "Nia".into(),
        last_name: "Newer".into(),
        date_of_birth: "1990-01-01".into(),
        nickname: "nia".into(),
    };
    let user = register_as(running.grpc_url(), newer).await?.user.unwrap();
    assert_eq!(user.email, "newer@example.com");

    let older = OlderRegisterUserRequest {
        email: "older@example.com".into(),
        first_name: "Otto".into(),
        last_name: "Older".into(),
        date_of_birth: "1980-01-01".into(),
    };
    let user = register_as(running.grpc_url(), older).await?.user.unwrap();
    assert_eq!((user.email.as_str(), user.phone), ("older@example.com", None));
    Ok(())
}
// ANCHOR_END: grpc_rollout

// ANCHOR: rejected_counted
/// A message larger than the server decodes (tonic's 4 MB) is refused by tonic before any
/// handler runs: the client gets `OUT_OF_RANGE`, and the call is counted under its method like
/// every other. Before, it was answered and never counted.
#[tokio::test]
async fn a_call_refused_before_the_handler_is_counted_too() -> anyhow::Result<()> {
    let (running, mut client) = running().await?;
    let mut huge = grpc_registration("huge@example.com");
    huge.first_name = "a".repeat(5 * 1024 * 1024);

    let refused = client.register_user(huge).await.expect_err("a 5 MB message is refused");
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
    assert_eq!(
        running.metrics.requests("/users.v1.Users/RegisterUser", "OUT_OF_RANGE"),
        1,
        "{}",
        running.metrics.render()
    );
    // Counted once: the handler never saw it, so only the layer did.
    client.register_user(grpc_registration("small@example.com")).await?;
    assert_eq!(running.metrics.requests("/users.v1.Users/RegisterUser", "OK"), 1);
    stop_cleanly(running).await
}
// ANCHOR_END: rejected_counted
