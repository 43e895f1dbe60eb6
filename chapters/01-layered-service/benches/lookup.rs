//! The same lookup over HTTP/JSON and over gRPC: is gRPC faster between services, and by how much?
//!
//! One running users service (in-memory repository, so the database does not drown the difference
//! being measured) serves both protocols on loopback. Each iteration fetches the same user by id
//! and decodes it: `GET /users/{id}` with reqwest over a kept-alive HTTP/1.1 connection, parsed
//! from JSON; `GetUser` with tonic over one HTTP/2 connection, decoded from protobuf. The
//! `_32_in_flight` pair sends 32 lookups at once, where HTTP/2's multiplexing may matter. Client
//! and server share a two-thread runtime. Run with `just bench ch01_lookup`.

use std::sync::Arc;
use std::time::Duration;

use ch01_layered_service::http::UserBody;
use ch01_layered_service::proto::users::v1::GetUserRequest;
use ch01_layered_service::proto::users::v1::users_client::UsersClient;
use ch01_layered_service::{InMemoryUsers, Metrics, Notifications, Registration, UserService, app};
use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::join_all;

fn lookup(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let metrics = Metrics::new();
    let service = Arc::new(UserService::new(
        InMemoryUsers::new(),
        Notifications::new(Duration::from_secs(1), metrics.clone()),
    ));
    let (running, user) = runtime.block_on(async {
        let registration = Registration {
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            date_of_birth: "1990-12-10".into(),
            phone: Some("+447700900123".into()),
        };
        let user = service.register(registration).await.expect("registered");
        (app::serve(Arc::clone(&service), metrics).await.expect("serving"), user)
    });
    let url = format!("{}/users/{}", running.http_url(), user.id);
    let http = reqwest::Client::new();
    let grpc = runtime
        .block_on(UsersClient::connect(running.grpc_url()))
        .expect("a gRPC channel");
    let id = user.id.to_string();

    let http_get = async |http: &reqwest::Client| {
        let user: UserBody = http.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(user.id, id);
    };
    let grpc_get = async |grpc: &UsersClient<_>| {
        let mut grpc = grpc.clone();
        let user = grpc
            .get_user(GetUserRequest { id: id.clone() })
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        assert_eq!(user.id, id);
    };

    let mut group = c.benchmark_group("ch01_lookup");
    group.bench_function("http_json", |b| b.to_async(&runtime).iter(|| http_get(&http)));
    group.bench_function("grpc", |b| b.to_async(&runtime).iter(|| grpc_get(&grpc)));
    group.bench_function("http_json_32_in_flight", |b| {
        b.to_async(&runtime).iter(|| join_all((0..32).map(|_| http_get(&http))));
    });
    group.bench_function("grpc_32_in_flight", |b| {
        b.to_async(&runtime).iter(|| join_all((0..32).map(|_| grpc_get(&grpc))));
    });
    group.finish();
    runtime.block_on(running.stop()).expect("a clean stop");
}

criterion_group!(benches, lookup);
criterion_main!(benches);
