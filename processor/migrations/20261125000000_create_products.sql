-- The product catalog kept current from the Kinesis inventory stream.
-- kinesis_sequence is the sequence number of the update that produced the row; it is NUMERIC
-- (not TEXT, not BIGINT) so that 56-digit Kinesis numbers and small moto numbers both compare
-- numerically, which is what makes replays and out-of-order delivery harmless.
CREATE TABLE products (
    product_id        TEXT PRIMARY KEY CHECK (length(product_id) BETWEEN 1 AND 64),
    inventory         BIGINT NOT NULL CHECK (inventory >= 0),
    price             NUMERIC(12, 2) NOT NULL CHECK (price >= 0),
    supplier_id       TEXT,
    source_updated_at TIMESTAMPTZ,
    kinesis_sequence  NUMERIC(130, 0) NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
