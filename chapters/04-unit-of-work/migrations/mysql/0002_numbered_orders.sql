-- For the lesson's first step only: orders numbered by the database, as an auto-increment key is.
-- Their lines cannot be written, or even made, until the order's insert has said its number.
CREATE TABLE numbered_orders (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer VARCHAR(200) NOT NULL
) ENGINE = InnoDB;

CREATE TABLE numbered_order_lines (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    order_id BIGINT NOT NULL,
    product_id BINARY(16) NOT NULL,
    quantity BIGINT NOT NULL,
    CONSTRAINT numbered_order_lines_order FOREIGN KEY (order_id) REFERENCES numbered_orders (id),
    CONSTRAINT numbered_order_lines_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB;
