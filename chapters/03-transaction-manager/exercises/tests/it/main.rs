//! The checks of chapter 03's exercises, one module per exercise, on real databases. As shipped,
//! each exercise fails its checks; with its solution, it passes (`workbook exercises --verify`).

mod audit_survives;
mod optional_gift_wrap;
mod purchase_deadline;
mod register_atomically;
mod support;
