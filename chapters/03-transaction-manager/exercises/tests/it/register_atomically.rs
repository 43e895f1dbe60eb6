//! Exercise `register_atomically`: a session killed between the two writes leaves nothing.

use ch03_exercises::register_atomically::register;
use ch03_transaction_manager::Ctx;

use crate::support::Shop;

#[tokio::test]
async fn a_session_killed_before_the_message_leaves_no_user_behind() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    // The server kills the session as the message is inserted: a crash between the two writes.
    harness::killed_session::on_first_write(shop.db.pool(), "messages").await?;

    let registered = register(&shop.tm, &shop.users, &shop.messages, &Ctx::new(), "ada@example.com").await;

    assert!(
        registered.is_err(),
        "the session died while the message was written, so registering cannot have succeeded: {registered:?}"
    );
    let users = shop.count("SELECT count(*) FROM users").await?;
    assert_eq!(
        users, 0,
        "a user was saved without their message: the two writes are not one transaction"
    );
    Ok(())
}

#[tokio::test]
async fn a_registration_saves_the_user_and_the_message() -> anyhow::Result<()> {
    let shop = Shop::new().await?;

    let user = register(&shop.tm, &shop.users, &shop.messages, &Ctx::new(), "grace@example.com").await?;

    assert_eq!(shop.count("SELECT count(*) FROM users").await?, 1);
    let payload: String = sqlx::query_scalar("SELECT payload FROM messages WHERE kind = 'user_registered'")
        .fetch_one(shop.db.pool())
        .await?;
    assert_eq!(payload, format!(r#"{{"user_id":{user}}}"#));
    Ok(())
}
