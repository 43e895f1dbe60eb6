-- Reviews of products, which the chapter's code does not map: an exercise maps them
-- (`exercises/src/review_mapping.rs`). A review references its product, and its comment may be
-- missing (NULL), which is not the same as empty.
CREATE TABLE reviews (
    id BINARY(16) PRIMARY KEY,
    product_id BINARY(16) NOT NULL,
    stars BIGINT NOT NULL,
    comment TEXT,
    CONSTRAINT reviews_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB;
