//! The checks of chapter 02's exercises, one module per exercise, on real databases. As shipped,
//! each exercise fails its checks; with its solution, it passes (`workbook exercises --verify`).

mod channels_as_text;
mod email_any_case;
mod keyset_pages;
mod no_lost_update;
