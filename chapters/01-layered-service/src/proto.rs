//! The Rust code `build.rs` generates from `proto/users/v1/users.proto`: messages, client, server.

pub mod users {
    pub mod v1 {
        #![allow(clippy::all)]
        tonic::include_proto!("users.v1");
    }
}
