-- For the lesson's first step only: orders numbered by the database, as an auto-increment key is.
-- Their lines cannot be written, or even made, until the order's insert has said its number.
CREATE TABLE numbered_orders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer TEXT NOT NULL
);

CREATE TABLE numbered_order_lines (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES numbered_orders (id),
    product_id UUID NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL
);
