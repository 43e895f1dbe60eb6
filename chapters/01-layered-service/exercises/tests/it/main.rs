//! The checks of chapter 01's exercises, one module per exercise, on a real PostgreSQL and real
//! HTTP servers. As shipped, each exercise fails its checks; with its solution, it passes
//! (`workbook exercises --verify`).

mod error_answers;
mod lookup_through_the_service;
mod support;
mod webhook_provider;
mod welcome_without_waiting;
