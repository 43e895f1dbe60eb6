//! The chapter's use cases, written against the manager: register a user, buy a product, and a
//! quick purchase that nests the two in one transaction.
//!
//! Notice what is absent: no use case begins, commits or rolls back, and no repository method
//! takes a transaction. Each repository asks the manager for the connection of whatever scope its
//! `Ctx` is in. That is what lets `quick_purchase` call `register` and `buy` unchanged and get one
//! transaction out of the three.

use std::sync::Arc;

use sqlx::{MySql, Postgres, Sqlite};

use crate::{Ctx, Manager, Settings, TxError};

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("{0} is already registered")]
    EmailTaken(String),
    #[error("product {product} has fewer than {wanted} in stock")]
    OutOfStock { product: i64, wanted: i32 },
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The shop's use cases on one database.
pub struct Shop<DB: crate::Dialect> {
    tm: Arc<Manager<DB>>,
    users: Users<DB>,
    messages: Messages<DB>,
    products: Products<DB>,
    orders: Orders<DB>,
}

/// Users: repositories hold the manager, never a transaction.
pub struct Users<DB: crate::Dialect> {
    pub(crate) tm: Arc<Manager<DB>>,
}
/// Messages to publish (what chapter 07's outbox relays).
pub struct Messages<DB: crate::Dialect> {
    pub(crate) tm: Arc<Manager<DB>>,
}
pub struct Products<DB: crate::Dialect> {
    tm: Arc<Manager<DB>>,
}
pub struct Orders<DB: crate::Dialect> {
    tm: Arc<Manager<DB>>,
}

/// The use cases are the same on every database; this stamps them out for one.
macro_rules! use_cases_on {
    ($db:ty) => {
        impl Shop<$db> {
            pub fn new(tm: Arc<Manager<$db>>) -> Self {
                Self {
                    users: Users { tm: tm.clone() },
                    messages: Messages { tm: tm.clone() },
                    products: Products { tm: tm.clone() },
                    orders: Orders { tm: tm.clone() },
                    tm,
                }
            }

            pub fn products(&self) -> &Products<$db> {
                &self.products
            }

            // ANCHOR: use_cases
            /// Saves the user and the "user registered" message: both, or neither.
            #[tracing::instrument(name = "shop.register", skip(self, ctx))]
            pub async fn register(&self, ctx: &Ctx, email: &str) -> Result<i64, ShopError> {
                self.tm
                    .run(ctx, Settings::default(), async |ctx| {
                        let user = self.users.add(ctx, email).await?;
                        self.messages
                            .add(ctx, "user_registered", &format!(r#"{{"user_id":{user}}}"#))
                            .await?;
                        Ok(user)
                    })
                    .await
            }

            /// Writes off the stock and creates the order: both, or neither.
            #[tracing::instrument(name = "shop.buy", skip(self, ctx))]
            pub async fn buy(&self, ctx: &Ctx, user: i64, product: i64, quantity: i32) -> Result<i64, ShopError> {
                self.tm
                    .run(ctx, Settings::default(), async |ctx| {
                        self.products.write_off(ctx, product, quantity).await?;
                        self.orders.add(ctx, user, product, quantity).await
                    })
                    .await
            }

            /// Registers and buys in one transaction, by calling the two use cases above as
            /// they are: their scopes join this one.
            #[tracing::instrument(name = "shop.quick_purchase", skip(self, ctx))]
            pub async fn quick_purchase(
                &self,
                ctx: &Ctx,
                email: &str,
                product: i64,
                quantity: i32,
            ) -> Result<(i64, i64), ShopError> {
                self.tm
                    .run(ctx, Settings::default(), async |ctx| {
                        let user = self.register(ctx, email).await?;
                        let order = self.buy(ctx, user, product, quantity).await?;
                        Ok((user, order))
                    })
                    .await
            }
            // ANCHOR_END: use_cases
        }
    };
}

/// PostgreSQL and SQLite share the repositories' SQL: `$n` placeholders and `RETURNING`.
macro_rules! numbered_sql_repositories_on {
    ($db:ty) => {
        // ANCHOR: repository
        impl Users<$db> {
            pub async fn add(&self, ctx: &Ctx, email: &str) -> Result<i64, ShopError> {
                let mut conn = self.tm.connection(ctx).await?;
                sqlx::query_scalar("INSERT INTO users (email) VALUES ($1) RETURNING id")
                    .bind(email)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|error| email_taken_or(error, email))
            }
        }
        // ANCHOR_END: repository

        impl Messages<$db> {
            pub async fn add(&self, ctx: &Ctx, kind: &str, payload: &str) -> Result<(), ShopError> {
                let mut conn = self.tm.connection(ctx).await?;
                sqlx::query("INSERT INTO messages (kind, payload) VALUES ($1, $2)")
                    .bind(kind)
                    .bind(payload)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }

        impl Products<$db> {
            pub async fn add(&self, ctx: &Ctx, id: i64, name: &str, stock: i32) -> Result<(), ShopError> {
                let mut conn = self.tm.connection(ctx).await?;
                sqlx::query("INSERT INTO products (id, name, stock) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(name)
                    .bind(stock)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            pub async fn stock(&self, ctx: &Ctx, id: i64) -> Result<i32, ShopError> {
                let mut conn = self.tm.connection(ctx).await?;
                Ok(sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?)
            }

            /// Takes `quantity` off the stock, or fails without changing it.
            pub async fn write_off(&self, ctx: &Ctx, id: i64, quantity: i32) -> Result<(), ShopError> {
                let mut conn = self.tm.connection(ctx).await?;
                let done = sqlx::query("UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1")
                    .bind(quantity)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                out_of_stock_unless_written(done.rows_affected(), id, quantity)
            }
        }

        impl Orders<$db> {
            pub async fn add(&self, ctx: &Ctx, user: i64, product: i64, quantity: i32) -> Result<i64, ShopError> {
                let mut conn = self.tm.connection(ctx).await?;
                Ok(sqlx::query_scalar(
                    "INSERT INTO orders (user_id, product_id, quantity) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(user)
                .bind(product)
                .bind(quantity)
                .fetch_one(&mut *conn)
                .await?)
            }
        }
    };
}

use_cases_on!(Postgres);
use_cases_on!(Sqlite);
use_cases_on!(MySql);
numbered_sql_repositories_on!(Postgres);
numbered_sql_repositories_on!(Sqlite);

/// MySQL and MariaDB: `?` placeholders, and the new row's id from the statement's result.
impl Users<MySql> {
    pub async fn add(&self, ctx: &Ctx, email: &str) -> Result<i64, ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        let done = sqlx::query("INSERT INTO users (email) VALUES (?)")
            .bind(email)
            .execute(&mut *conn)
            .await
            .map_err(|error| email_taken_or(error, email))?;
        Ok(done.last_insert_id() as i64)
    }
}

impl Messages<MySql> {
    pub async fn add(&self, ctx: &Ctx, kind: &str, payload: &str) -> Result<(), ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        sqlx::query("INSERT INTO messages (kind, payload) VALUES (?, ?)")
            .bind(kind)
            .bind(payload)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

impl Products<MySql> {
    pub async fn add(&self, ctx: &Ctx, id: i64, name: &str, stock: i32) -> Result<(), ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        sqlx::query("INSERT INTO products (id, name, stock) VALUES (?, ?, ?)")
            .bind(id)
            .bind(name)
            .bind(stock)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn stock(&self, ctx: &Ctx, id: i64) -> Result<i32, ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        Ok(sqlx::query_scalar("SELECT stock FROM products WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?)
    }

    pub async fn write_off(&self, ctx: &Ctx, id: i64, quantity: i32) -> Result<(), ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        let done = sqlx::query("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?")
            .bind(quantity)
            .bind(id)
            .bind(quantity)
            .execute(&mut *conn)
            .await?;
        out_of_stock_unless_written(done.rows_affected(), id, quantity)
    }
}

impl Orders<MySql> {
    pub async fn add(&self, ctx: &Ctx, user: i64, product: i64, quantity: i32) -> Result<i64, ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        let done = sqlx::query("INSERT INTO orders (user_id, product_id, quantity) VALUES (?, ?, ?)")
            .bind(user)
            .bind(product)
            .bind(quantity)
            .execute(&mut *conn)
            .await?;
        Ok(done.last_insert_id() as i64)
    }
}

/// A unique violation on insert means the email is taken; anything else is the database's.
fn email_taken_or(error: sqlx::Error, email: &str) -> ShopError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => ShopError::EmailTaken(email.to_owned()),
        _ => ShopError::Database(error),
    }
}

/// A guarded write-off that changed no row found too little stock.
fn out_of_stock_unless_written(rows: u64, product: i64, wanted: i32) -> Result<(), ShopError> {
    match rows {
        0 => Err(ShopError::OutOfStock { product, wanted }),
        _ => Ok(()),
    }
}
