//! The PostgreSQL product catalog: one set-based, sequence-guarded upsert per batch.

use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::record::{InventoryUpdate, SequenceNumber};

/// The migrations shipped in `processor/migrations`, embedded so the Lambda and tests apply
/// exactly the same schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// One update with the sequence number that orders it against earlier ones.
#[derive(Clone, Debug)]
pub struct SequencedUpdate {
    /// The validated update.
    pub update: InventoryUpdate,
    /// Its Kinesis sequence number.
    pub sequence: SequenceNumber,
}

/// A catalog row that the upsert actually changed; only these are pushed to the cache.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangedProduct {
    /// Catalog key.
    pub product_id: String,
    /// New stock level.
    pub inventory: i64,
    /// New price.
    pub price: Decimal,
    /// New supplier reference.
    pub supplier_id: Option<String>,
    /// Sequence number now stored for the product.
    pub kinesis_sequence: String,
}

/// Insert new products and overwrite existing ones only when the incoming sequence number is
/// numerically greater than the stored one; returns the rows that changed.
const UPSERT: &str = r#"
INSERT INTO products AS p
    (product_id, inventory, price, supplier_id, source_updated_at, kinesis_sequence, updated_at)
SELECT u.product_id, u.inventory, u.price, u.supplier_id, u.source_updated_at::timestamptz,
       u.seq::numeric, now()
FROM UNNEST($1::text[], $2::int8[], $3::numeric[], $4::text[], $5::text[], $6::text[])
    AS u(product_id, inventory, price, supplier_id, source_updated_at, seq)
ON CONFLICT (product_id) DO UPDATE SET
    inventory = EXCLUDED.inventory,
    price = EXCLUDED.price,
    supplier_id = EXCLUDED.supplier_id,
    source_updated_at = EXCLUDED.source_updated_at,
    kinesis_sequence = EXCLUDED.kinesis_sequence,
    updated_at = EXCLUDED.updated_at
WHERE p.kinesis_sequence < EXCLUDED.kinesis_sequence
RETURNING p.product_id, p.inventory, p.price, p.supplier_id, p.kinesis_sequence::text AS kinesis_sequence
"#;

/// Keeps only the newest update per product: PostgreSQL refuses to touch one row twice in a
/// single `ON CONFLICT` statement, and the older ones would lose the guard anyway.
pub fn newest_per_product(updates: Vec<SequencedUpdate>) -> Vec<SequencedUpdate> {
    let mut newest: std::collections::HashMap<String, SequencedUpdate> =
        std::collections::HashMap::with_capacity(updates.len());
    for candidate in updates {
        match newest.get(&candidate.update.product_id) {
            Some(kept) if kept.sequence >= candidate.sequence => {}
            _ => {
                newest.insert(candidate.update.product_id.clone(), candidate);
            }
        }
    }
    let mut out: Vec<SequencedUpdate> = newest.into_values().collect();
    // A stable row order keeps concurrent batches from deadlocking on each other's rows.
    out.sort_by(|a, b| a.update.product_id.cmp(&b.update.product_id));
    out
}

/// Applies a batch in one statement (one round trip, one transaction).
pub async fn upsert(
    pool: &PgPool,
    updates: &[SequencedUpdate],
) -> Result<Vec<ChangedProduct>, sqlx::Error> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let n = updates.len();
    let mut ids = Vec::with_capacity(n);
    let mut inventories = Vec::with_capacity(n);
    let mut prices = Vec::with_capacity(n);
    let mut suppliers = Vec::with_capacity(n);
    let mut stamps = Vec::with_capacity(n);
    let mut seqs = Vec::with_capacity(n);
    for u in updates {
        ids.push(u.update.product_id.as_str());
        inventories.push(u.update.inventory);
        prices.push(u.update.price);
        suppliers.push(u.update.supplier_id.as_deref());
        stamps.push(u.update.updated_at.as_deref());
        seqs.push(u.sequence.as_str());
    }
    sqlx::query_as::<_, ChangedProduct>(UPSERT)
        .bind(&ids)
        .bind(&inventories)
        .bind(&prices)
        .bind(&suppliers)
        .bind(&stamps)
        .bind(&seqs)
        .fetch_all(pool)
        .await
}
