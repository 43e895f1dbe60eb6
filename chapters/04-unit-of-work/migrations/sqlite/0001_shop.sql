-- The shop's products, orders and order lines. Keys are assigned by the application (UUIDv7);
-- sqlx turns SQLite's foreign keys on, and they are checked at each statement: the unit of work
-- inserts orders before their lines and deletes lines before their orders. A product's version
-- moves on with each commit that changes it (optimistic locking).
CREATE TABLE products (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    stock INTEGER NOT NULL,
    version INTEGER NOT NULL
);

CREATE TABLE orders (
    id BLOB PRIMARY KEY,
    customer TEXT NOT NULL
);

CREATE TABLE order_lines (
    id BLOB PRIMARY KEY,
    order_id BLOB NOT NULL REFERENCES orders (id),
    product_id BLOB NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL
);
