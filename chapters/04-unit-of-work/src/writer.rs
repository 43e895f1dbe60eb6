//! Writing a plan: one statement per run of writes to one table of one kind (and, for updates,
//! of one set of columns), each cut to stay within the database's limit of bound parameters.
//!
//! New rows go in one multi-row `INSERT ... VALUES (...), (...)`, and removed rows in one `DELETE
//! ... WHERE key IN (...)`, the same on PostgreSQL, MariaDB and SQLite. Changed rows go in one
//! `UPDATE` that joins a table of their keys and new values: `FROM (VALUES ...)` on PostgreSQL and
//! SQLite, `JOIN (SELECT ... UNION ALL ...)` on MariaDB. What else differs between the databases
//! is the limit of parameters (and the placeholders, which sqlx's `QueryBuilder` writes).

use std::future::Future;

use sqlx::{Database, Encode, Executor, IntoArguments, MySql, Postgres, QueryBuilder, Sqlite, Type};
use uuid::Uuid;

use crate::plan::Write;
use crate::table::Table;
use crate::value::Value;

/// A database the writer can batch for: how many parameters one statement may bind, and how many
/// rows a statement touched (sqlx has no one method for it across databases).
pub trait Batched: Database {
    const MAX_PARAMS: usize;
    /// How a run of updates joins its table of new values.
    const UPDATES: UpdateForm;
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// PostgreSQL's wire protocol counts parameters in 16 bits.
impl Batched for Postgres {
    const MAX_PARAMS: usize = 65_535;
    const UPDATES: UpdateForm = UpdateForm::FromValues;
    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// MySQL's and MariaDB's prepared statements count them in 16 bits too. (MariaDB counts the rows
/// an `UPDATE` changed, not those it matched; a versioned update always changes its version.)
impl Batched for MySql {
    const MAX_PARAMS: usize = 65_535;
    const UPDATES: UpdateForm = UpdateForm::JoinedSelects;
    fn rows_affected(result: &sqlx::mysql::MySqlQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// `SQLITE_MAX_VARIABLE_NUMBER` since SQLite 3.32.
impl Batched for Sqlite {
    const MAX_PARAMS: usize = 32_766;
    const UPDATES: UpdateForm = UpdateForm::FromValues;
    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// The one statement that updates many rows, each to values of its own: the rows' keys and new
/// values are a table the `UPDATE` joins on the key, so the database finds each row's values by
/// a join rather than by reading down a `CASE` of every key (which costs the square of the rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateForm {
    /// `UPDATE ... FROM (VALUES ...)`: PostgreSQL, SQLite (3.33 and later).
    FromValues,
    /// `UPDATE ... JOIN (SELECT ... UNION ALL SELECT ...)`: MariaDB and MySQL.
    JoinedSelects,
}

/// Why a write stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A versioned row was updated or deleted by someone else since it was loaded (or is gone).
    #[error("{table} {id} was changed by someone else since it was loaded")]
    Conflict { table: &'static str, id: Uuid },
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

/// What a write sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub statements: usize,
    pub rows: usize,
}

// ANCHOR: write
/// A database a plan can be written to. The `where` clause is what sqlx must know of a database
/// to send these statements: that its connections execute queries, and how it encodes each kind
/// of value. It is written here once, and the commit and its callers need only `PlanWriter`.
pub trait PlanWriter: Batched {
    /// Sends `writes`, in their order, as few statements as the batching allows, on `conn` (in
    /// the caller's transaction).
    /// A versioned row found at another version than it was loaded at stops the write with
    /// `Conflict`, naming it: the caller's transaction must then be rolled back.
    fn write(conn: &mut Self::Connection, writes: &[Write]) -> impl Future<Output = Result<Written, WriteError>>;
}

impl<DB> PlanWriter for DB
where
    DB: Batched + Binds,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'r> (Uuid, i64): sqlx::FromRow<'r, DB::Row>,
{
    async fn write(conn: &mut DB::Connection, writes: &[Write]) -> Result<Written, WriteError> {
        let mut written = Written::default();
        for batch in batches(writes, DB::MAX_PARAMS) {
            let done = statement::<DB>(batch).build().execute(&mut *conn).await?;
            written.statements += 1;
            written.rows += batch.len();
            if versioned(batch) && DB::rows_affected(&done) < batch.len() as u64 {
                return Err(conflict::<DB>(conn, batch).await?);
            }
            // Where a test's child process dies, with a statement sent and the transaction open.
            fail::fail_point!("commit::between_batches");
        }
        Ok(written)
    }
}
// ANCHOR_END: write

/// Whether a run's rows are checked against the versions they were loaded at.
fn versioned(batch: &[Write]) -> bool {
    matches!(
        &batch[0],
        Write::Update { expected: Some(_), .. } | Write::Delete { expected: Some(_), .. }
    )
}

/// The first row of `batch` whose stored version is not the one it was loaded at.
async fn conflict<DB>(conn: &mut DB::Connection, batch: &[Write]) -> sqlx::Result<WriteError>
where
    DB: Binds,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'r> (Uuid, i64): sqlx::FromRow<'r, DB::Row>,
{
    let (table, version) = match &batch[0] {
        Write::Update { table, .. } | Write::Delete { table, .. } | Write::Insert { table, .. } => {
            (table, table.version.expect("a versioned run is of a versioned table"))
        }
    };
    let mut query = QueryBuilder::<DB>::new(format!(
        "SELECT {}, {version} FROM {} WHERE {} IN (",
        table.key, table.name, table.key
    ));
    push_ids(&mut query, batch);
    let stored: Vec<(Uuid, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    let first = batch.iter().find_map(|write| {
        let (Write::Update { id, expected, .. } | Write::Delete { id, expected, .. }) = write else {
            return None;
        };
        let now = stored
            .iter()
            .find(|(stored_id, _)| stored_id == id)
            .map(|(_, version)| *version);
        (now != *expected).then_some(*id)
    });
    // Fewer rows were touched than the run holds, so one of them had moved on. Should another
    // transaction have put every version back by the time of this read, the run's first row is
    // named: the commit is refused either way, and nothing is written.
    let fallback = match &batch[0] {
        Write::Update { id, .. } | Write::Delete { id, .. } | Write::Insert { id, .. } => *id,
    };
    Ok(WriteError::Conflict {
        table: table.name,
        id: first.unwrap_or(fallback),
    })
}

/// `writes` cut into runs that one statement can send: consecutive writes of one kind, to one
/// table and (for updates) of one set of columns, at most `max_params` parameters each.
pub fn batches(writes: &[Write], max_params: usize) -> Vec<&[Write]> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < writes.len() {
        let per_row = parameters(&writes[start]);
        let room = (max_params / per_row).max(1);
        let mut end = start + 1;
        while end < writes.len() && end - start < room && same_statement(&writes[start], &writes[end]) {
            end += 1;
        }
        batches.push(&writes[start..end]);
        start = end;
    }
    batches
}

/// How many parameters one row of this write binds.
fn parameters(write: &Write) -> usize {
    match write {
        Write::Insert { values, .. } => 1 + values.len(),
        // The key, a value per column, and the version it was loaded at if it is checked.
        Write::Update { columns, expected, .. } => 1 + columns.len() + usize::from(expected.is_some()),
        Write::Delete { expected, .. } => 1 + usize::from(expected.is_some()),
    }
}

fn same_statement(a: &Write, b: &Write) -> bool {
    match (a, b) {
        (Write::Insert { table: x, .. }, Write::Insert { table: y, .. })
        | (Write::Delete { table: x, .. }, Write::Delete { table: y, .. }) => x.name == y.name,
        (
            Write::Update {
                table: x, columns: c, ..
            },
            Write::Update {
                table: y, columns: d, ..
            },
        ) => x.name == y.name && c == d,
        _ => false,
    }
}

/// The one statement that sends `batch` (a run made by [`batches`]).
fn statement<DB>(batch: &[Write]) -> QueryBuilder<DB>
where
    DB: Batched + Binds,
    DB::Arguments: Default,
{
    let mut query = QueryBuilder::<DB>::new("");
    match &batch[0] {
        Write::Insert { table, .. } => {
            query.push(format_args!("INSERT INTO {} ({}", table.name, table.key));
            for column in table.columns {
                query.push(format_args!(", {column}"));
            }
            query.push(") VALUES ");
            for (n, write) in batch.iter().enumerate() {
                let Write::Insert { id, values, .. } = write else {
                    unreachable!("a run is of one kind")
                };
                query.push(if n == 0 { "(" } else { ", (" });
                DB::bind_key(&mut query, *id);
                for value in values {
                    query.push(", ");
                    DB::bind(&mut query, value);
                }
                query.push(")");
            }
        }
        Write::Update { table, columns, .. } => match DB::UPDATES {
            UpdateForm::FromValues => update_from_values(&mut query, table, columns, batch),
            UpdateForm::JoinedSelects => update_joined_selects(&mut query, table, columns, batch),
        },
        Write::Delete { table, .. } => {
            query.push(format_args!("DELETE FROM {}", table.name));
            where_keys(&mut query, table, batch);
        }
    }
    query
}

/// Each row's key, new values and (for a versioned run) loaded version, bound in that order: the
/// rows of the table of values an update joins.
fn push_row<DB: Binds>(query: &mut QueryBuilder<DB>, write: &Write) {
    let Write::Update {
        id, values, expected, ..
    } = write
    else {
        unreachable!("a run is of one kind")
    };
    DB::bind_key(query, *id);
    for value in values {
        query.push(", ");
        DB::bind(query, value);
    }
    if let Some(version) = expected {
        query.push(", ");
        DB::bind(query, &Value::Int(Some(*version)));
    }
}

// ANCHOR: update_from_values
/// PostgreSQL and SQLite: `UPDATE t SET c = v.column2 FROM (VALUES (...), ...) AS v WHERE t.key =
/// v.column1`, the new values a table joined on the key (the columns of a `VALUES` list are
/// named `column1`, `column2`, ... on both). A versioned run also matches `t.version` against
/// the loaded version, the row's last value, and moves it on.
fn update_from_values<DB: Binds>(
    query: &mut QueryBuilder<DB>,
    table: &Table,
    columns: &[&'static str],
    batch: &[Write],
) {
    let name = table.name;
    query.push(format_args!("UPDATE {name} SET "));
    for (c, column) in columns.iter().enumerate() {
        let separator = if c == 0 { "" } else { ", " };
        query.push(format_args!("{separator}{column} = v.column{}", c + 2));
    }
    let version = table.version.filter(|_| versioned(batch));
    if let Some(version) = version {
        query.push(format_args!(", {version} = {name}.{version} + 1"));
    }
    query.push(" FROM (VALUES ");
    for (n, write) in batch.iter().enumerate() {
        query.push(if n == 0 { "(" } else { ", (" });
        push_row(query, write);
        query.push(")");
    }
    query.push(format_args!(") AS v WHERE {name}.{} = v.column1", table.key));
    if let Some(version) = version {
        query.push(format_args!(" AND {name}.{version} = v.column{}", columns.len() + 2));
    }
}
// ANCHOR_END: update_from_values

/// MariaDB, whose `VALUES` lists have no column names to join on: the same table of new values
/// as `SELECT ? AS key, ? AS column UNION ALL SELECT ?, ? ...`, joined in a multi-table `UPDATE`.
fn update_joined_selects<DB: Binds>(
    query: &mut QueryBuilder<DB>,
    table: &Table,
    columns: &[&'static str],
    batch: &[Write],
) {
    let (name, key) = (table.name, table.key);
    let version = table.version.filter(|_| versioned(batch));
    query.push(format_args!("UPDATE {name} JOIN ("));
    for (n, write) in batch.iter().enumerate() {
        query.push(if n == 0 { "SELECT " } else { " UNION ALL SELECT " });
        if n > 0 {
            push_row(query, write);
            continue;
        }
        // The first row names the columns.
        let Write::Update {
            id, values, expected, ..
        } = write
        else {
            unreachable!("a run is of one kind")
        };
        DB::bind_key(query, *id);
        query.push(format_args!(" AS {key}"));
        for (column, value) in columns.iter().zip(values) {
            query.push(", ");
            DB::bind(query, value);
            query.push(format_args!(" AS {column}"));
        }
        if let Some(loaded) = expected {
            query.push(", ");
            DB::bind(query, &Value::Int(Some(*loaded)));
            query.push(" AS loaded_version");
        }
    }
    query.push(format_args!(") AS v ON {name}.{key} = v.{key}"));
    if let Some(version) = version {
        query.push(format_args!(" AND {name}.{version} = v.loaded_version"));
    }
    query.push(" SET ");
    for (c, column) in columns.iter().enumerate() {
        let separator = if c == 0 { "" } else { ", " };
        query.push(format_args!("{separator}{name}.{column} = v.{column}"));
    }
    if let Some(version) = version {
        query.push(format_args!(", {name}.{version} = {name}.{version} + 1"));
    }
}

/// ` WHERE key IN (...)`, or for a versioned run ` WHERE (key, version) IN ((...), ...)`: a row
/// that moved on since it was loaded is not touched, and so not counted.
fn where_keys<DB: Binds>(query: &mut QueryBuilder<DB>, table: &Table, batch: &[Write]) {
    let Some(version) = table.version.filter(|_| versioned(batch)) else {
        query.push(format_args!(" WHERE {} IN (", table.key));
        return push_ids(query, batch);
    };
    query.push(format_args!(" WHERE ({}, {version}) IN (", table.key));
    for (n, write) in batch.iter().enumerate() {
        let (Write::Update { id, expected, .. } | Write::Delete { id, expected, .. }) = write else {
            unreachable!("only updates and deletes are versioned")
        };
        query.push(if n == 0 { "(" } else { ", (" });
        DB::bind_key(query, *id);
        query.push(", ");
        DB::bind(query, &Value::Int(*expected));
        query.push(")");
    }
    query.push(")");
}

fn push_ids<DB: Binds>(query: &mut QueryBuilder<DB>, batch: &[Write]) {
    for (n, write) in batch.iter().enumerate() {
        let (Write::Update { id, .. } | Write::Delete { id, .. } | Write::Insert { id, .. }) = write;
        if n > 0 {
            query.push(", ");
        }
        DB::bind_key(query, *id);
    }
    query.push(")");
}

/// A database whose statements can bind every kind of value a plan holds. What sqlx must know
/// of it for that is written here once, in the `where` clause; the statement builders above need
/// only `DB: Binds`.
pub trait Binds: Database {
    /// Binds a value as its column's type, a `NULL` included.
    fn bind(query: &mut QueryBuilder<Self>, value: &Value);
    fn bind_key(query: &mut QueryBuilder<Self>, key: Uuid);
}

impl<DB> Binds for DB
where
    DB: Database,
    for<'q> Option<bool>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB> + Type<DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
{
    fn bind(query: &mut QueryBuilder<DB>, value: &Value) {
        match value {
            Value::Bool(v) => query.push_bind(*v),
            Value::Int(v) => query.push_bind(*v),
            Value::Text(v) => query.push_bind(v.clone()),
            Value::Uuid(v) => query.push_bind(*v),
        };
    }

    fn bind_key(query: &mut QueryBuilder<DB>, key: Uuid) {
        query.push_bind(key);
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::entity::Entity;
    use crate::shop::{Order, Product};

    const PRODUCTS: Table = Product::TABLE;
    const ORDERS: Table = Order::TABLE;

    fn insert(table: Table) -> Write {
        let values = table.columns.iter().map(|_| Value::from(1)).collect();
        Write::Insert {
            table,
            id: Uuid::nil(),
            values,
        }
    }

    fn update(columns: &[&'static str]) -> Write {
        Write::Update {
            table: PRODUCTS,
            id: Uuid::nil(),
            columns: columns.to_vec(),
            values: columns.iter().map(|_| Value::from(1)).collect(),
            expected: None,
        }
    }

    /// The same, checked against the version it was loaded at.
    fn versioned_update(columns: &[&'static str]) -> Write {
        let Write::Update {
            table,
            id,
            columns,
            values,
            ..
        } = update(columns)
        else {
            unreachable!()
        };
        Write::Update {
            table,
            id,
            columns,
            values,
            expected: Some(0),
        }
    }

    fn delete(table: Table) -> Write {
        Write::Delete {
            table,
            id: Uuid::nil(),
            expected: None,
        }
    }

    #[rstest]
    #[case::one_table_one_kind(vec![insert(PRODUCTS), insert(PRODUCTS), insert(PRODUCTS)], 1000, &[3])]
    #[case::a_new_table_starts_a_statement(vec![insert(ORDERS), insert(PRODUCTS), insert(PRODUCTS)], 1000, &[1, 2])]
    #[case::a_new_kind_starts_a_statement(vec![insert(PRODUCTS), update(&["stock"]), delete(PRODUCTS)], 1000, &[1, 1, 1])]
    #[case::other_columns_start_a_statement(vec![update(&["stock"]), update(&["stock"]), update(&["name", "stock"])], 1000, &[2, 1])]
    // Four parameters an inserted product (its key, name, stock and version): seven fit in 28,
    // the eighth starts a statement.
    #[case::cut_at_the_parameter_limit(vec![insert(PRODUCTS); 8], 28, &[7, 1])]
    // Three for an update of two columns (the key and two values), one for a delete.
    #[case::updates_and_deletes_count_their_own(vec![update(&["name", "stock"]); 3], 8, &[2, 1])]
    // And one more for the version it checks: four, so two fit in 8 and not in 7.
    #[case::a_versioned_update_binds_its_version(vec![versioned_update(&["name", "stock"]); 3], 7, &[1, 1, 1])]
    #[case::deletes(vec![delete(ORDERS); 5], 2, &[2, 2, 1])]
    #[case::a_row_larger_than_the_limit_still_goes(vec![insert(PRODUCTS); 2], 2, &[1, 1])]
    #[case::nothing(vec![], 10, &[])]
    fn writes_are_cut_into_statements(#[case] writes: Vec<Write>, #[case] max_params: usize, #[case] sizes: &[usize]) {
        let cut: Vec<usize> = batches(&writes, max_params).iter().map(|batch| batch.len()).collect();
        assert_eq!(cut, sizes);
    }

    // ANCHOR: statement_text
    #[rstest]
    #[case::one_changed_column_is_the_one_set(
        vec![versioned_update(&["stock"])],
        "UPDATE products SET stock = v.column2, version = products.version + 1 \
         FROM (VALUES ($1, $2, $3)) AS v WHERE products.id = v.column1 AND products.version = v.column3"
    )]
    #[case::two_rows_of_one_change_share_a_statement(
        vec![update(&["name"]), update(&["name"])],
        "UPDATE products SET name = v.column2 FROM (VALUES ($1, $2), ($3, $4)) AS v WHERE products.id = v.column1"
    )]
    #[case::new_rows_in_one_insert(
        vec![insert(ORDERS), insert(ORDERS)],
        "INSERT INTO orders (id, customer) VALUES ($1, $2), ($3, $4)"
    )]
    #[case::removed_rows_in_one_delete(vec![delete(ORDERS), delete(ORDERS)], "DELETE FROM orders WHERE id IN ($1, $2)")]
    fn a_batch_is_sent_as_this_statement(#[case] batch: Vec<Write>, #[case] sql: &str) {
        assert_eq!(statement::<Postgres>(&batch).sql().as_str(), sql);
    }
    // ANCHOR_END: statement_text

    #[test]
    fn mariadb_joins_its_new_values_as_selects_named_by_the_first() {
        assert_eq!(
            statement::<MySql>(&[versioned_update(&["stock"]), versioned_update(&["stock"])])
                .sql()
                .as_str(),
            "UPDATE products JOIN (SELECT ? AS id, ? AS stock, ? AS loaded_version UNION ALL SELECT ?, ?, ?) AS v \
             ON products.id = v.id AND products.version = v.loaded_version \
             SET products.stock = v.stock, products.version = products.version + 1"
        );
    }
}
