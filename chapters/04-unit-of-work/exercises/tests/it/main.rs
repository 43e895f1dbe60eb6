//! The checks of chapter 04's exercises, one module per exercise, on real databases. As shipped,
//! each exercise fails its checks; with its solution, it passes (`workbook exercises --verify`).

mod cancel_order;
mod restock_retries;
mod review_mapping;
mod stale_form;
mod support;
