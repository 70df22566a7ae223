//! The PostgreSQL product catalog: one set-based, sequence-guarded upsert per batch.

use std::collections::HashSet;

use rust_decimal::Decimal;
use sqlx::PgConnection;

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
#[derive(Clone, Debug, PartialEq, Eq)]
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
/// numerically greater than the stored one; returns the ids of the rows that changed as one
/// array in one row (the values are the caller's own, so nothing more needs to travel back).
/// One row instead of one per product saves PostgreSQL a result message per row and the
/// client a decoded row per product: about a tenth of the statement's time at 500 rows.
const UPSERT: &str = r#"
WITH changed AS (
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
    RETURNING p.product_id
)
SELECT coalesce(array_agg(product_id), '{}') FROM changed
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

/// Applies a batch in one statement on `conn` (the handler passes an open transaction, so the
/// upsert can overlap the archive write and still commit only once the archive exists).
/// Takes the updates by value: the changed ones move on to the cache without a copy.
pub async fn upsert(
    conn: &mut PgConnection,
    updates: Vec<SequencedUpdate>,
) -> Result<Vec<ChangedProduct>, sqlx::Error> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let changed: Vec<String> = {
        let n = updates.len();
        let mut ids = Vec::with_capacity(n);
        let mut inventories = Vec::with_capacity(n);
        let mut prices = Vec::with_capacity(n);
        let mut suppliers = Vec::with_capacity(n);
        let mut stamps = Vec::with_capacity(n);
        let mut seqs = Vec::with_capacity(n);
        for u in &updates {
            ids.push(u.update.product_id.as_str());
            inventories.push(u.update.inventory);
            prices.push(u.update.price);
            suppliers.push(u.update.supplier_id.as_deref());
            stamps.push(u.update.updated_at.as_deref());
            seqs.push(u.sequence.as_str());
        }
        sqlx::query_scalar(UPSERT)
            .bind(&ids)
            .bind(&inventories)
            .bind(&prices)
            .bind(&suppliers)
            .bind(&stamps)
            .bind(&seqs)
            .fetch_one(&mut *conn)
            .await?
    };
    let changed: HashSet<&str> = changed.iter().map(String::as_str).collect();
    Ok(updates
        .into_iter()
        .filter(|u| changed.contains(u.update.product_id.as_str()))
        .map(|u| ChangedProduct {
            kinesis_sequence: u.sequence.into_string(),
            product_id: u.update.product_id,
            inventory: u.update.inventory,
            price: u.update.price,
            supplier_id: u.update.supplier_id,
        })
        .collect())
}
