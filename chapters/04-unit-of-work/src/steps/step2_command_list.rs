//! Step 2: the talk's simplified unit of work. The use case saves nothing itself: it registers
//! each row as new, changed or removed, and the registrations are kept as a list of commands that
//! run at the end, in one transaction (chapter 03's manager), inserts parents first and deletes
//! children first.
//!
//! What that fixes: nothing is written until the end, so a failure halfway writes nothing and a
//! use case can register a line before its order. What it still lacks, each shown by a test
//! (`tests/it/steps.rs`): there is no identity map, so two loads of one product are two copies,
//! and the later command overwrites the earlier one's change; and nothing remembers what a row was
//! loaded as, so a registered row is written whole, whether it changed or not, one statement per
//! command.

use ch03_transaction_manager::{Ctx, Dialect, Settings, SqlManager};
use uuid::Uuid;

use crate::commit::CommitError;
use crate::entity::Entity;
use crate::order::insert_order;
use crate::place_order::{OrderError, Products, reserve};
use crate::plan::Write;
use crate::shop::{Order, OrderLine};
use crate::table::Table;
use crate::writer::{PlanWriter, Written};

// ANCHOR: commands
/// The registered commands, run by [`Commands::commit`].
#[derive(Debug, Default)]
pub struct Commands {
    writes: Vec<Write>,
}

impl Commands {
    pub fn new() -> Self {
        Commands::default()
    }

    pub fn register_new<E: Entity>(&mut self, row: &E) {
        self.writes.push(Write::Insert {
            table: E::TABLE,
            id: row.id(),
            values: row.values(),
        });
    }

    /// Every column of `row`, as it is now: the list does not know what it was.
    pub fn register_dirty<E: Entity>(&mut self, row: &E) {
        self.writes.push(Write::Update {
            table: E::TABLE,
            id: row.id(),
            columns: E::TABLE.columns.to_vec(),
            values: row.values(),
            expected: None,
        });
    }

    pub fn register_removed<E: Entity>(&mut self, row: &E) {
        self.writes.push(Write::Delete {
            table: E::TABLE,
            id: row.id(),
            expected: None,
        });
    }

    /// Runs every command, a statement each, in the order the foreign keys need, in the
    /// transaction of `ctx` or one of its own: all of them, or (on any error) none.
    pub async fn commit<DB>(self, tm: &SqlManager<DB>, ctx: &Ctx) -> Result<Written, CommitError>
    where
        DB: PlanWriter + Dialect,
    {
        let writes = self.in_order()?;
        let written = tm
            .run(ctx, Settings::default(), async |ctx| {
                let mut conn = tm.connection(ctx).await?;
                let mut written = Written::default();
                for write in &writes {
                    let one = DB::write(&mut conn, std::slice::from_ref(write)).await?;
                    written.statements += one.statements;
                    written.rows += one.rows;
                }
                Ok::<_, CommitError>(written)
            })
            .await?;
        Ok(written)
    }
    // ANCHOR_END: commands

    /// The commands, inserts first and parents first, then updates, then deletes children first;
    /// in the order registered within each table and kind.
    pub fn in_order(self) -> Result<Vec<Write>, CommitError> {
        let mut tables: Vec<Table> = Vec::new();
        for write in &self.writes {
            let table = table_of(write);
            if !tables.iter().any(|known| known.name == table.name) {
                tables.push(table);
            }
        }
        let order = insert_order(&tables)?;
        let rank = |write: &Write| {
            let position = order
                .iter()
                .position(|name| *name == table_of(write).name)
                .expect("every table is ordered");
            match write {
                Write::Insert { .. } => (0, position),
                Write::Update { .. } => (1, position),
                Write::Delete { .. } => (2, order.len() - position),
            }
        };
        let mut writes = self.writes;
        writes.sort_by_key(rank);
        Ok(writes)
    }
}

fn table_of(write: &Write) -> Table {
    match write {
        Write::Insert { table, .. } | Write::Update { table, .. } | Write::Delete { table, .. } => *table,
    }
}

// ANCHOR: place_order
/// Registers `customer`'s order of `items` (product, quantity) in `commands`: the lines, the
/// products with their stock taken off, and the order last (the commit puts it first).
pub async fn place_order<P: Products>(
    commands: &mut Commands,
    products: &P,
    customer: &str,
    items: &[(Uuid, i64)],
) -> Result<Uuid, OrderError> {
    let order = Order {
        id: Uuid::now_v7(),
        customer: customer.to_owned(),
    };
    for &(product_id, quantity) in items {
        let mut product = products
            .product(product_id)
            .await?
            .ok_or(OrderError::NoSuchProduct(product_id))?;
        reserve(&mut product, quantity)?;
        commands.register_dirty(&product);
        commands.register_new(&OrderLine {
            id: Uuid::now_v7(),
            order_id: order.id,
            product_id,
            quantity,
        });
    }
    commands.register_new(&order);
    Ok(order.id)
}
// ANCHOR_END: place_order

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::place_order::MockProducts;
    use crate::shop::Product;

    fn widget(stock: i64) -> Product {
        Product {
            id: Uuid::from_u128(7),
            name: "widget".into(),
            stock,
            version: 0,
        }
    }

    fn kinds(writes: &[Write]) -> Vec<(&'static str, &'static str)> {
        writes
            .iter()
            .map(|write| match write {
                Write::Insert { table, .. } => ("insert", table.name),
                Write::Update { table, .. } => ("update", table.name),
                Write::Delete { table, .. } => ("delete", table.name),
            })
            .collect()
    }

    #[tokio::test]
    async fn the_order_registered_last_is_written_first_and_each_load_is_a_command_of_its_own() {
        let mut products = MockProducts::new();
        products
            .expect_product()
            .with(eq(widget(0).id))
            .times(2)
            .returning(|_| Box::pin(async { Ok(Some(widget(10))) }));
        let mut commands = Commands::new();

        place_order(&mut commands, &products, "ada", &[(widget(0).id, 2), (widget(0).id, 3)])
            .await
            .unwrap();

        let writes = commands.in_order().unwrap();
        assert_eq!(
            kinds(&writes),
            [
                ("insert", "orders"),
                ("insert", "order_lines"),
                ("insert", "order_lines"),
                ("update", "products"),
                ("update", "products"),
            ]
        );
        let stocks: Vec<&crate::value::Value> = writes[3..]
            .iter()
            .map(|write| match write {
                Write::Update { values, .. } => &values[1],
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            stocks,
            [&8.into(), &7.into()],
            "two copies, each reserved from 10: the second overwrites the first"
        );
    }

    #[test]
    fn removed_children_are_deleted_before_their_parents() {
        let order = Order {
            id: Uuid::from_u128(1),
            customer: "ada".into(),
        };
        let line = OrderLine {
            id: Uuid::from_u128(2),
            order_id: order.id,
            product_id: widget(0).id,
            quantity: 1,
        };
        let mut commands = Commands::new();
        commands.register_removed(&order);
        commands.register_removed(&line);
        commands.register_dirty(&widget(3));

        let writes = commands.in_order().unwrap();

        assert_eq!(
            kinds(&writes),
            [("update", "products"), ("delete", "order_lines"), ("delete", "orders")]
        );
    }
}
