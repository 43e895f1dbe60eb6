-- Reviews of products, which the chapter's code does not map: an exercise maps them
-- (`exercises/src/review_mapping.rs`). A review references its product, and its comment may be
-- missing (NULL), which is not the same as empty.
CREATE TABLE reviews (
    id UUID PRIMARY KEY,
    product_id UUID NOT NULL REFERENCES products (id),
    stars BIGINT NOT NULL,
    comment TEXT
);
