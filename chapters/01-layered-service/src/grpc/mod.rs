//! The gRPC handler layer: the same service, for the shop's other services.
//!
//! Services talk to services over gRPC: a contract both sides compile from (`users.proto`),
//! compact binary messages over HTTP/2. Like the HTTP handlers, these only translate: a message
//! becomes a service call, a `ServiceError` becomes a status code (INVALID_ARGUMENT,
//! ALREADY_EXISTS, NOT_FOUND, INTERNAL). The request id travels in the `x-request-id` metadata, so
//! a caller that passes its own on ([`with_request_id`]) gets one trail across services.

use std::future::Future;
use std::sync::Arc;

use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

use crate::error::ServiceError;
use crate::metrics::Metrics;
use crate::observed::Observed;
use crate::proto::users::v1 as pb;
use crate::proto::users::v1::users_server::{Users, UsersServer};
use crate::repository::UserRepository;
use crate::request_id::{self, RequestId};
use crate::service::UserService;
use crate::user::{Registration, User};

mod rejected;

pub use rejected::CountRejected;

/// The methods of `users.v1.Users`, as their routes are labelled in the metrics.
pub(crate) const RPCS: [&str; 3] = ["RegisterUser", "GetUser", "FindUserByEmail"];

/// The metrics' route label of method `rpc`.
pub(crate) fn route_of(rpc: &str) -> String {
    format!("/users.v1.Users/{rpc}")
}

pub struct UsersGrpc<R> {
    service: Arc<UserService<R>>,
    metrics: Metrics,
}

pub fn server<R: UserRepository>(service: Arc<UserService<R>>, metrics: Metrics) -> UsersServer<UsersGrpc<R>> {
    UsersServer::new(UsersGrpc { service, metrics })
}

/// A request carrying `id` in its metadata: how a service passes its request id on.
pub fn with_request_id<T>(message: T, id: &RequestId) -> Request<T> {
    let mut request = Request::new(message);
    let value = MetadataValue::try_from(id.as_str()).expect("a request id is ASCII");
    request.metadata_mut().insert(request_id::HEADER, value);
    request
}

// ANCHOR: service
#[tonic::async_trait]
impl<R: UserRepository> Users for UsersGrpc<R> {
    async fn register_user(
        &self,
        request: Request<pb::RegisterUserRequest>,
    ) -> Result<Response<pb::RegisterUserResponse>, Status> {
        self.handle("RegisterUser", request, async |service, message| {
            let user = service.register(message.into()).await?;
            Ok(pb::RegisterUserResponse {
                user: Some((&user).into()),
            })
        })
        .await
    }

    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Result<Response<pb::GetUserResponse>, Status> {
        self.handle("GetUser", request, async |service, message| {
            let user = service.get(&message.id).await?;
            Ok(pb::GetUserResponse {
                user: Some((&user).into()),
            })
        })
        .await
    }

    async fn find_user_by_email(
        &self,
        request: Request<pb::FindUserByEmailRequest>,
    ) -> Result<Response<pb::FindUserByEmailResponse>, Status> {
        self.handle("FindUserByEmail", request, async |service, message| {
            let user = service.find_by_email(&message.email).await?;
            Ok(pb::FindUserByEmailResponse {
                user: Some((&user).into()),
            })
        })
        .await
    }
}
// ANCHOR_END: service

impl<R: UserRepository> UsersGrpc<R> {
    /// Runs one call inside a span carrying the request id, maps its error to a status, counts it,
    /// and returns the request id in the response's metadata.
    async fn handle<Q, A, F, Fut>(&self, rpc: &'static str, request: Request<Q>, call: F) -> Result<Response<A>, Status>
    where
        F: FnOnce(Arc<UserService<R>>, Q) -> Fut,
        Fut: Future<Output = Result<A, ServiceError>>,
    {
        let sent = request
            .metadata()
            .get(request_id::HEADER)
            .and_then(|value| value.to_str().ok());
        // Counted here, with the request id; the layer in `rejected.rs` counts only what never
        // got this far.
        if let Some(reached) = request.extensions().get::<rejected::Reached>() {
            reached.mark();
        }
        let observed = Observed::start("grpc", route_of(rpc), sent);
        let service = Arc::clone(&self.service);
        let outcome = async { call(service, request.into_inner()).await.map_err(status_of) }
            .instrument(observed.span())
            .await;

        let code = outcome.as_ref().map_or_else(Status::code, |_| Code::Ok);
        let request_id = observed.finish(&self.metrics, code_name(code));
        let id = MetadataValue::try_from(request_id.as_str()).expect("a request id is ASCII");
        match outcome {
            Ok(answer) => {
                let mut response = Response::new(answer);
                response.metadata_mut().insert(request_id::HEADER, id);
                Ok(response)
            }
            Err(mut status) => {
                status.metadata_mut().insert(request_id::HEADER, id);
                Err(status)
            }
        }
    }
}

// ANCHOR: status
/// The gRPC status for a service error. The message names the field (`email: must contain an @`);
/// an internal error's cause goes to the log only.
pub fn status_of(error: ServiceError) -> Status {
    match error {
        ServiceError::InvalidArgument { .. } => Status::invalid_argument(error.to_string()),
        ServiceError::AlreadyExists { .. } => Status::already_exists(error.to_string()),
        ServiceError::NotFound { .. } => Status::not_found(error.to_string()),
        ServiceError::Internal(source) => {
            tracing::error!(error = %source, "internal error");
            Status::internal("internal error; quote the x-request-id metadata when reporting it")
        }
    }
}
// ANCHOR_END: status

/// The canonical name of a code, as gRPC's documentation and dashboards spell it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

impl From<&User> for pb::User {
    fn from(user: &User) -> Self {
        let created_at = prost_types::Timestamp {
            seconds: user.created_at.timestamp(),
            nanos: user.created_at.timestamp_subsec_nanos() as i32,
        };
        pb::User {
            id: user.id.to_string(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            date_of_birth: user.date_of_birth.to_string(),
            phone: user.phone.clone(),
            created_at: Some(created_at),
        }
    }
}

impl From<pb::RegisterUserRequest> for Registration {
    fn from(request: pb::RegisterUserRequest) -> Self {
        let pb::RegisterUserRequest {
            email,
            first_name,
            last_name,
            date_of_birth,
            phone,
        } = request;
        Registration {
            email,
            first_name,
            last_name,
            date_of_birth,
            phone,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The metrics' fixed list of methods is the contract's: a method added to `users.proto` and
    /// not here would have its rejected calls counted as `unknown`.
    #[test]
    fn the_route_labels_list_every_method_of_the_contract() {
        let contract = include_str!("../../proto/users/v1/users.proto");
        let methods: Vec<&str> = contract
            .lines()
            .filter_map(|line| line.trim().strip_prefix("rpc "))
            .filter_map(|rest| rest.split('(').next())
            .map(str::trim)
            .collect();
        assert_eq!(methods, super::RPCS);
    }
}
