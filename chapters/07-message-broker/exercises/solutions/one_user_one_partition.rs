//! Exercise: keep one user's events in order (statement: `statements/one_user_one_partition.md`,
//! or `workbook hint one_user_one_partition`).

use ch07_message_broker::Event;

/// The key `event` is published under; Kafka picks the partition from it.
pub fn partition_key(event: &Event) -> String {
    // Whose event it is: one user's events share a key, so a partition, so an order.
    event.aggregate_id.clone()
}
