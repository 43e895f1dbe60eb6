-- A table for the harness's own tests: every test writes the same name into it.
CREATE TABLE items (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    owner VARCHAR(200) NOT NULL,
    INDEX items_name (name)
);
