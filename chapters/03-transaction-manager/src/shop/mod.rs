//! The chapter's use cases, written against the manager: register a user, buy a product, and a
//! quick purchase that nests the two in one transaction.
//!
//! Notice what is absent: no use case begins, commits or rolls back, and no repository method
//! takes a transaction. Each repository asks the manager for the connection of whatever scope its
//! `Ctx` is in. That is what lets `quick_purchase` call `register` and `buy` unchanged and get one
//! transaction out of the three.
//!
//! The use cases and the repositories are written once, for every database. What differs between
//! databases is only the text of the statements and how a new row's id comes back; that is in
//! [`sql`], one `impl` per kind of SQL.

pub mod sql;

use std::sync::Arc;

use crate::{Ctx, Settings, SqlManager, TxError};

pub use sql::ShopSql;

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
pub struct Shop<DB: ShopSql> {
    tm: Arc<SqlManager<DB>>,
    users: Users<DB>,
    messages: Messages<DB>,
    products: Products<DB>,
    orders: Orders<DB>,
}

impl<DB: ShopSql> Shop<DB> {
    pub fn new(tm: Arc<SqlManager<DB>>) -> Self {
        Self {
            users: Users::new(tm.clone()),
            messages: Messages::new(tm.clone()),
            products: Products::new(tm.clone()),
            orders: Orders::new(tm.clone()),
            tm,
        }
    }

    pub fn products(&self) -> &Products<DB> {
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

    /// Registers and buys in one transaction, by calling the two use cases above as they are:
    /// their scopes join this one.
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

/// The repositories hold the manager, never a transaction: each call asks the manager for the
/// connection of the scope its `Ctx` is in.
pub struct Users<DB: ShopSql> {
    pub(crate) tm: Arc<SqlManager<DB>>,
}

/// Messages to publish (what chapter 07's outbox relays).
pub struct Messages<DB: ShopSql> {
    pub(crate) tm: Arc<SqlManager<DB>>,
}

pub struct Products<DB: ShopSql> {
    tm: Arc<SqlManager<DB>>,
}

pub struct Orders<DB: ShopSql> {
    tm: Arc<SqlManager<DB>>,
}

// ANCHOR: repository
impl<DB: ShopSql> Users<DB> {
    pub fn new(tm: Arc<SqlManager<DB>>) -> Self {
        Self { tm }
    }

    /// Inserts a user and returns its id; a taken email is [`ShopError::EmailTaken`].
    pub async fn add(&self, ctx: &Ctx, email: &str) -> Result<i64, ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        DB::insert_user(&mut conn, email).await.map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => ShopError::EmailTaken(email.to_owned()),
            _ => ShopError::Database(error),
        })
    }
}
// ANCHOR_END: repository

impl<DB: ShopSql> Messages<DB> {
    pub fn new(tm: Arc<SqlManager<DB>>) -> Self {
        Self { tm }
    }

    pub async fn add(&self, ctx: &Ctx, kind: &str, payload: &str) -> Result<(), ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        Ok(DB::insert_message(&mut conn, kind, payload).await?)
    }
}

impl<DB: ShopSql> Products<DB> {
    pub fn new(tm: Arc<SqlManager<DB>>) -> Self {
        Self { tm }
    }

    pub async fn add(&self, ctx: &Ctx, id: i64, name: &str, stock: i32) -> Result<(), ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        Ok(DB::insert_product(&mut conn, id, name, stock).await?)
    }

    pub async fn stock(&self, ctx: &Ctx, id: i64) -> Result<i32, ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        Ok(DB::stock(&mut conn, id).await?)
    }

    /// Takes `quantity` off the stock, or fails with [`ShopError::OutOfStock`] without changing it.
    pub async fn write_off(&self, ctx: &Ctx, id: i64, quantity: i32) -> Result<(), ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        if DB::write_off(&mut conn, id, quantity).await? {
            Ok(())
        } else {
            // The guarded UPDATE changed no row: too little stock.
            Err(ShopError::OutOfStock {
                product: id,
                wanted: quantity,
            })
        }
    }
}

impl<DB: ShopSql> Orders<DB> {
    pub fn new(tm: Arc<SqlManager<DB>>) -> Self {
        Self { tm }
    }

    pub async fn add(&self, ctx: &Ctx, user: i64, product: i64, quantity: i32) -> Result<i64, ShopError> {
        let mut conn = self.tm.connection(ctx).await?;
        Ok(DB::insert_order(&mut conn, user, product, quantity).await?)
    }
}
