//! Compiles the gRPC contract (`proto/users/v1/users.proto`) into Rust at build time.
//!
//! protox parses the `.proto` files in Rust, so building needs no `protoc` on the machine; tonic's
//! generator then writes the messages, the client and the server trait into `OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = protox::compile(["users/v1/users.proto"], ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto/users/v1/users.proto");
    Ok(())
}
