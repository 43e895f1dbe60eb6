-- The shop's products, orders and order lines. Keys are assigned by the application (UUIDv7), and
-- the foreign keys are not deferrable: each statement must leave them satisfied, so the unit of
-- work inserts orders before their lines and deletes lines before their orders. A product's
-- version moves on with each commit that changes it (optimistic locking).
CREATE TABLE products (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    stock BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE orders (
    id UUID PRIMARY KEY,
    customer TEXT NOT NULL
);

CREATE TABLE order_lines (
    id UUID PRIMARY KEY,
    order_id UUID NOT NULL REFERENCES orders (id),
    product_id UUID NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL
);
