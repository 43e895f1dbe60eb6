-- The shop's products, orders and order lines. Keys are assigned by the application (UUIDv7), and
-- InnoDB checks foreign keys at each statement: the unit of work inserts orders before their lines
-- and deletes lines before their orders. A product's version moves on with each commit that changes
-- it (optimistic locking).
CREATE TABLE products (
    id BINARY(16) PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    stock BIGINT NOT NULL,
    version BIGINT NOT NULL
) ENGINE = InnoDB;

CREATE TABLE orders (
    id BINARY(16) PRIMARY KEY,
    customer VARCHAR(200) NOT NULL
) ENGINE = InnoDB;

CREATE TABLE order_lines (
    id BINARY(16) PRIMARY KEY,
    order_id BINARY(16) NOT NULL,
    product_id BINARY(16) NOT NULL,
    quantity BIGINT NOT NULL,
    CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT order_lines_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB;
