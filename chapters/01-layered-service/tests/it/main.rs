//! Chapter 01's integration tests: the handlers through real servers and clients, the service on
//! real PostgreSQL, notification providers behind real HTTP servers (wiremock), and step 1's fat
//! handler failing where the layered service holds.

mod support;

mod end_to_end;
mod fat_handler;
mod grpc;
mod http;
mod notifications;
mod slow_clients;
