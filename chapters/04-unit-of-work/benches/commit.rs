//! What the unit of work saves, measured against writing row by row, in one run.
//!
//! Groups `ch04_commit_postgres` and `ch04_commit_sqlite` (SQLite in memory). Each iteration places
//! 100 orders of 10 lines each and changes the stock of 1,000 products already loaded (the same
//! starting point for all three, so the loading is not timed):
//! - `per_row_autocommit`: a statement per row, each its own transaction (2,100 of them);
//! - `per_row_one_transaction`: the same statements in one transaction;
//! - `unit_of_work`: the products tracked, changed and committed with the new orders and lines:
//!   three multi-row statements in one transaction.
//!
//! Run with `just bench ch04` (PostgreSQL from the harness).

use std::sync::Arc;
use std::time::Duration;

use ch03_transaction_manager::{Ctx, Dialect, SqlManager};
use ch04_unit_of_work::migrations::{POSTGRES, SQLITE};
use ch04_unit_of_work::shop::{Order, OrderLine, Product};
use ch04_unit_of_work::{PlanWriter, UnitOfWork, commit};
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{PgDatabase, SqliteDatabase};
use sqlx::{Acquire, Encode, Executor, IntoArguments, Pool, Type};
use tokio::runtime::Runtime;
use uuid::Uuid;

const ORDERS: usize = 100;
const LINES: usize = 10;
const PRODUCTS: usize = 1_000;

/// The products, stored, as the use case holds them once loaded.
async fn seeded<DB: PlanWriter + Dialect>(pool: &Pool<DB>) -> Vec<Product> {
    let products: Vec<Product> = (0..PRODUCTS)
        .map(|n| Product {
            id: Uuid::now_v7(),
            name: format!("part {n}"),
            stock: 1_000_000,
            version: 0,
        })
        .collect();
    let mut unit = UnitOfWork::new();
    for product in &products {
        unit.register_new(product.clone()).expect("a new product");
    }
    commit(&mut unit, &SqlManager::new(pool.clone()), &Ctx::new())
        .await
        .expect("seeded");
    products
}

/// This iteration's orders with their lines, spread over the products.
fn orders(products: &[Product]) -> Vec<(Order, Vec<OrderLine>)> {
    (0..ORDERS)
        .map(|n| {
            let order = Order {
                id: Uuid::now_v7(),
                customer: format!("customer {n}"),
            };
            let lines = (0..LINES)
                .map(|l| OrderLine {
                    id: Uuid::now_v7(),
                    order_id: order.id,
                    product_id: products[(n * LINES + l) % products.len()].id,
                    quantity: 1,
                })
                .collect();
            (order, lines)
        })
        .collect()
}

/// Every statement of the row-by-row way, on `conn` (each its own transaction unless the caller
/// began one): an INSERT per order and line, an UPDATE per product. `$n` placeholders: PostgreSQL
/// and SQLite both take them.
async fn row_by_row<DB>(conn: &mut DB::Connection, products: &mut [Product], placed: &[(Order, Vec<OrderLine>)])
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    DB::Arguments: IntoArguments<DB>,
{
    for (order, lines) in placed {
        sqlx::query("INSERT INTO orders (id, customer) VALUES ($1, $2)")
            .bind(order.id)
            .bind(order.customer.clone())
            .execute(&mut *conn)
            .await
            .expect("an order");
        for line in lines {
            sqlx::query("INSERT INTO order_lines (id, order_id, product_id, quantity) VALUES ($1, $2, $3, $4)")
                .bind(line.id)
                .bind(line.order_id)
                .bind(line.product_id)
                .bind(line.quantity)
                .execute(&mut *conn)
                .await
                .expect("a line");
        }
    }
    for product in products.iter_mut() {
        product.stock -= 1;
        sqlx::query("UPDATE products SET stock = $1 WHERE id = $2")
            .bind(product.stock)
            .bind(product.id)
            .execute(&mut *conn)
            .await
            .expect("a product");
    }
}

fn compare<DB>(c: &mut Criterion, runtime: &Runtime, backend: &str, pool: Pool<DB>)
where
    DB: PlanWriter + Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    DB::Arguments: IntoArguments<DB>,
{
    let products = runtime.block_on(seeded(&pool));
    let tm = SqlManager::new(pool.clone());
    let mut group = c.benchmark_group(format!("ch04_commit_{backend}"));
    group.sample_size(10).measurement_time(Duration::from_secs(15));

    // What the use case holds between iterations: the products as last written (their stock, and
    // the version the unit of work moved on).
    let holding = |products: &Vec<Product>| Arc::new(tokio::sync::Mutex::new(products.clone()));
    for (name, in_one_transaction) in [("per_row_autocommit", false), ("per_row_one_transaction", true)] {
        let held = holding(&products);
        group.bench_function(name, |b| {
            b.to_async(runtime).iter(|| {
                let (pool, held) = (pool.clone(), Arc::clone(&held));
                async move {
                    let mut held = held.lock().await;
                    let placed = orders(&held);
                    let mut conn = pool.acquire().await.expect("a connection");
                    if in_one_transaction {
                        let mut tx = conn.begin().await.expect("a transaction");
                        row_by_row::<DB>(&mut tx, &mut held, &placed).await;
                        tx.commit().await.expect("committed");
                    } else {
                        row_by_row::<DB>(&mut conn, &mut held, &placed).await;
                    }
                }
            });
        });
    }
    let held = holding(&products);
    group.bench_function("unit_of_work", |b| {
        b.to_async(runtime).iter(|| {
            let (tm, held) = (tm.clone(), Arc::clone(&held));
            async move {
                let mut held = held.lock().await;
                let placed = orders(&held);
                let mut unit = UnitOfWork::new();
                let tracked: Vec<_> = held
                    .iter()
                    .map(|product| unit.loaded(product.clone()).expect("loaded"))
                    .collect();
                for (order, lines) in placed {
                    for line in lines {
                        unit.register_new(line).expect("a line");
                    }
                    unit.register_new(order).expect("an order");
                }
                for handle in &tracked {
                    handle.lock().stock -= 1;
                }
                commit(&mut unit, &tm, &Ctx::new()).await.expect("committed");
                for (product, handle) in held.iter_mut().zip(&tracked) {
                    *product = handle.lock().clone();
                    product.version += 1;
                }
            }
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let postgres = runtime
        .block_on(PgDatabase::new(&POSTGRES))
        .unwrap_or_else(|error| panic!("{error}"));
    compare(c, &runtime, "postgres", postgres.pool().clone());
    let sqlite = runtime
        .block_on(SqliteDatabase::new(&SQLITE))
        .unwrap_or_else(|error| panic!("{error}"));
    compare(c, &runtime, "sqlite", sqlite.pool().clone());
}

criterion_group!(commit_benches, benches);
criterion_main!(commit_benches);
