//! The checks of chapter 07's exercises, one module per exercise, on real services. As shipped,
//! each exercise fails its checks; with its solution, it passes (`workbook exercises --verify`).

mod idempotent_counter;
mod one_user_one_partition;
mod outbox_with_the_user;
mod retry_what_can_heal;
