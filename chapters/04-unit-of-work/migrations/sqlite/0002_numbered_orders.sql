-- For the lesson's first step only: orders numbered by the database, as an auto-increment key is.
-- Their lines cannot be written, or even made, until the order's insert has said its number.
CREATE TABLE numbered_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer TEXT NOT NULL
);

CREATE TABLE numbered_order_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES numbered_orders (id),
    product_id BLOB NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL
);
