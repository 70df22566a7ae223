//! Decoding and validation of one Kinesis record into an inventory update.
//!
//! Validation never panics and never guesses: a record is either a fully checked
//! [`InventoryUpdate`] or a [`Rejection`] with a stable code, so a malformed record can be
//! archived and skipped instead of blocking its shard forever.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Longest accepted product or supplier id, so keys stay small in PostgreSQL and Redis.
pub const MAX_ID_LEN: usize = 64;
/// Default largest accepted record payload; an inventory update is a few hundred bytes.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 * 1024;
/// Prices must stay below this (exclusive), matching the `NUMERIC(12,2)` catalog column.
const MAX_PRICE_UNITS: i64 = 10_000_000_000;

/// A Kinesis sequence number in canonical digits, compared numerically at any length
/// (moto emits small integers, Kinesis and kinesalite 56 digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SequenceNumber(String);

impl SequenceNumber {
    /// Parses decimal digits (at most 129, the Kinesis API limit), dropping leading zeros.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 129 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = text.trim_start_matches('0');
        Some(Self(if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        }))
    }

    /// The canonical digits, ready for a `::numeric` cast in SQL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The canonical digits, owned, for a value that outlives the batch (the cache entry).
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        // Canonical digits without leading zeros: longer means larger.
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One record as delivered, before its payload is looked at; the common input of the
/// strict (`KinesisEvent`) and lenient (raw JSON) entry points.
#[derive(Clone, Debug)]
pub struct IncomingRecord {
    /// The sequence number exactly as delivered: it is the `itemIdentifier` Lambda expects.
    pub sequence_number: String,
    /// The Kinesis partition key, archived for audit.
    pub partition_key: String,
    /// The shard, taken from the `eventID` prefix; it names the archive folder.
    pub shard_id: String,
    /// The event id as delivered, archived for audit.
    pub event_id: Option<String>,
    /// When Kinesis received the record; it dates the archive key deterministically.
    pub arrival: Option<DateTime<Utc>>,
    /// The decoded payload, or why the envelope itself could not be read.
    pub data: Result<Vec<u8>, String>,
}

impl IncomingRecord {
    /// Converts a strictly typed Kinesis record (payload already base64-decoded).
    pub fn from_event_record(record: KinesisEventRecord) -> Self {
        let shard_id = shard_from_event_id(record.event_id.as_deref());
        Self {
            sequence_number: record.kinesis.sequence_number,
            partition_key: record.kinesis.partition_key,
            shard_id,
            event_id: record.event_id,
            arrival: Some(record.kinesis.approximate_arrival_timestamp.0),
            data: Ok(record.kinesis.data.0),
        }
    }

    /// Converts one raw JSON record, keeping whatever can be read when the envelope is
    /// broken (bad base64, missing fields) so the record is archived rather than lost.
    pub fn from_json(value: serde_json::Value) -> Self {
        match KinesisEventRecord::deserialize(&value) {
            Ok(record) => Self::from_event_record(record),
            Err(err) => {
                let text = |ptr: &str| {
                    value
                        .pointer(ptr)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                let event_id = value
                    .pointer("/eventID")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                let arrival = value
                    .pointer("/kinesis/approximateArrivalTimestamp")
                    .and_then(|v| v.as_f64())
                    .and_then(|secs| DateTime::from_timestamp_millis((secs * 1000.0) as i64));
                Self {
                    sequence_number: text("/kinesis/sequenceNumber"),
                    partition_key: text("/kinesis/partitionKey"),
                    shard_id: shard_from_event_id(event_id.as_deref()),
                    event_id,
                    arrival,
                    data: Err(format!("unreadable Kinesis record envelope: {err}")),
                }
            }
        }
    }
}

/// `shardId-000000000000:4954...` -> `shardId-000000000000`, restricted to a safe S3 key charset.
fn shard_from_event_id(event_id: Option<&str>) -> String {
    let raw = event_id
        .and_then(|id| id.split(':').next())
        .unwrap_or_default();
    let safe: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if safe.is_empty() {
        "unknown-shard".to_owned()
    } else {
        safe
    }
}

/// A validated inventory update, with the price kept as an exact decimal end to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryUpdate {
    /// Catalog key.
    pub product_id: String,
    /// Units in stock, never negative.
    pub inventory: i64,
    /// Price with at most two decimals.
    pub price: Decimal,
    /// Optional supplier reference.
    pub supplier_id: Option<String>,
    /// Producer-side timestamp, normalised to UTC RFC 3339.
    pub updated_at: Option<String>,
}

/// Why a record was rejected: a stable machine code plus a human detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Stable code for counting and querying the archive (`malformed_json`, `too_large`, ...).
    pub code: &'static str,
    /// What exactly was wrong, for the log and the archive.
    pub detail: String,
}

impl Rejection {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

/// The wire shape: numbers stay raw so neither inventory nor price goes through `f64`.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow, default)]
    product_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    inventory: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    supplier_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    updated_at: Option<&'a RawValue>,
}

/// Decodes and validates one payload; the size check comes first so huge records are cheap.
pub fn parse_update(data: &[u8], max_bytes: usize) -> Result<InventoryUpdate, Rejection> {
    if data.len() > max_bytes {
        return Err(Rejection::new(
            "too_large",
            format!("{} bytes, limit {max_bytes}", data.len()),
        ));
    }
    let wire: Wire<'_> = serde_json::from_slice(data)
        .map_err(|e| Rejection::new("malformed_json", e.to_string()))?;
    let product_id = required_id(wire.product_id, "product_id")?;
    let inventory = parse_inventory(required(wire.inventory, "inventory")?)?;
    let price = parse_price(required(wire.price, "price")?)?;
    let supplier_id = match wire.supplier_id {
        Some(raw) if raw.get() != "null" => Some(required_id(Some(raw), "supplier_id")?),
        _ => None,
    };
    let updated_at = match wire.updated_at {
        Some(raw) if raw.get() != "null" => Some(parse_timestamp(raw)?),
        _ => None,
    };
    Ok(InventoryUpdate {
        product_id,
        inventory,
        price,
        supplier_id,
        updated_at,
    })
}

fn required<'a>(raw: Option<&'a RawValue>, field: &str) -> Result<&'a RawValue, Rejection> {
    match raw {
        Some(raw) if raw.get() != "null" => Ok(raw),
        _ => Err(Rejection::new(
            "missing_field",
            format!("`{field}` is required"),
        )),
    }
}

fn required_id(raw: Option<&RawValue>, field: &str) -> Result<String, Rejection> {
    let raw = required(raw, field)?;
    let id: String = serde_json::from_str(raw.get())
        .map_err(|_| Rejection::new("invalid_id", format!("`{field}` must be a string")))?;
    let charset_ok = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if id.is_empty() || id.len() > MAX_ID_LEN || !charset_ok {
        return Err(Rejection::new(
            "invalid_id",
            format!("`{field}` must be 1-{MAX_ID_LEN} characters of [A-Za-z0-9._:-]"),
        ));
    }
    Ok(id)
}

fn parse_inventory(raw: &RawValue) -> Result<i64, Rejection> {
    let text = raw.get();
    if let Some(rest) = text.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rejection::new(
                "negative_inventory",
                format!("inventory {text}"),
            ));
        }
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rejection::new(
            "invalid_inventory",
            format!(
                "inventory must be a non-negative integer, got {}",
                preview(text)
            ),
        ));
    }
    text.parse::<i64>().map_err(|_| {
        Rejection::new(
            "invalid_inventory",
            format!("inventory {text} out of range"),
        )
    })
}

fn parse_price(raw: &RawValue) -> Result<Decimal, Rejection> {
    let text = raw.get();
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if !plain || text.starts_with('.') {
        return Err(Rejection::new(
            "invalid_price",
            format!("price must be a plain JSON number, got {}", preview(text)),
        ));
    }
    let price = Decimal::from_str(text).map_err(|_| {
        Rejection::new(
            "invalid_price",
            format!("price {} is not a decimal", preview(text)),
        )
    })?;
    if price.is_sign_negative() && !price.is_zero() {
        return Err(Rejection::new("negative_price", format!("price {text}")));
    }
    let price = price.normalize();
    if price.scale() > 2 {
        return Err(Rejection::new(
            "price_precision",
            format!("price {text} has more than 2 decimals"),
        ));
    }
    if price >= Decimal::from(MAX_PRICE_UNITS) {
        return Err(Rejection::new(
            "invalid_price",
            format!("price {text} too large"),
        ));
    }
    // Exactly two decimals, so the cache and archive show 29.90 rather than 29.9.
    let mut price = price.abs();
    price.rescale(2);
    Ok(price)
}

fn parse_timestamp(raw: &RawValue) -> Result<String, Rejection> {
    let bad = || {
        Rejection::new(
            "invalid_updated_at",
            format!("updated_at {}", preview(raw.get())),
        )
    };
    let text: String = serde_json::from_str(raw.get()).map_err(|_| bad())?;
    let parsed = DateTime::parse_from_rfc3339(&text).map_err(|_| bad())?;
    Ok(parsed
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Caps what goes into a log line or rejection detail.
fn preview(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((idx, _)) => format!("{}...", &text[..idx]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<InventoryUpdate, Rejection> {
        parse_update(json.as_bytes(), DEFAULT_MAX_RECORD_BYTES)
    }

    fn code(json: &str) -> &'static str {
        match parse(json) {
            Ok(update) => panic!("expected a rejection, got {update:?}"),
            Err(rejection) => rejection.code,
        }
    }

    #[test]
    fn accepts_the_documented_shape_and_keeps_the_price_exact() {
        let update = parse(r#"{"product_id":"product123","inventory":100,"price":29.99}"#)
            .expect("valid update");
        assert_eq!(update.product_id, "product123");
        assert_eq!(update.inventory, 100);
        assert_eq!(update.price.to_string(), "29.99");
        assert_eq!(update.supplier_id, None);
    }

    #[test]
    fn tolerates_unknown_fields_and_reads_optional_ones() {
        let update = parse(
            r#"{"product_id":"p-1","inventory":0,"price":5,"supplier_id":"s.9",
                "updated_at":"2026-11-25T10:00:00+01:00","colour":"red"}"#,
        )
        .expect("valid update");
        assert_eq!(update.price.to_string(), "5.00");
        assert_eq!(update.supplier_id.as_deref(), Some("s.9"));
        assert_eq!(update.updated_at.as_deref(), Some("2026-11-25T09:00:00Z"));
    }

    #[test]
    fn rejects_each_kind_of_bad_record_with_its_own_code() {
        assert_eq!(code("{not json"), "malformed_json");
        assert_eq!(
            code(r#"{"product_id":"p","inventory":-1,"price":1}"#),
            "negative_inventory"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1.5,"price":1}"#),
            "invalid_inventory"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":"7","price":1}"#),
            "invalid_inventory"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1,"price":1.999}"#),
            "price_precision"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1,"price":-1}"#),
            "negative_price"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1,"price":1e3}"#),
            "invalid_price"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1,"price":"1.00"}"#),
            "invalid_price"
        );
        assert_eq!(code(r#"{"inventory":1,"price":1}"#), "missing_field");
        assert_eq!(code(r#"{"product_id":"p","price":1}"#), "missing_field");
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1,"price":null}"#),
            "missing_field"
        );
        assert_eq!(
            code(r#"{"product_id":"","inventory":1,"price":1}"#),
            "invalid_id"
        );
        assert_eq!(
            code(r#"{"product_id":"a b","inventory":1,"price":1}"#),
            "invalid_id"
        );
        assert_eq!(
            code(r#"{"product_id":"p","inventory":1,"price":1,"updated_at":"yesterday"}"#),
            "invalid_updated_at"
        );
    }

    #[test]
    fn trailing_zeros_beyond_two_decimals_are_still_two_decimals() {
        let update = parse(r#"{"product_id":"p","inventory":1,"price":29.900}"#).expect("valid");
        assert_eq!(update.price.to_string(), "29.90");
    }

    #[test]
    fn rejects_oversized_records_before_parsing_them() {
        let huge = format!(
            r#"{{"product_id":"p","inventory":1,"price":1,"pad":"{}"}}"#,
            "x".repeat(20_000)
        );
        assert_eq!(code(&huge), "too_large");
    }

    #[test]
    fn sequence_numbers_compare_as_numbers_at_any_length() {
        let small = SequenceNumber::parse("9").expect("digits");
        let big = SequenceNumber::parse("10").expect("digits");
        let kinesis =
            SequenceNumber::parse("49590338271490256608559692538361571095921575989136588898")
                .expect("digits");
        assert!(small < big);
        assert!(big < kinesis);
        assert_eq!(SequenceNumber::parse("007"), SequenceNumber::parse("7"));
        assert_eq!(SequenceNumber::parse("12a"), None);
        assert_eq!(SequenceNumber::parse(""), None);
    }

    #[test]
    fn shard_comes_from_the_event_id() {
        assert_eq!(
            shard_from_event_id(Some("shardId-000000000001:4959")),
            "shardId-000000000001"
        );
        assert_eq!(shard_from_event_id(None), "unknown-shard");
        assert_eq!(shard_from_event_id(Some("../x:1")), "x");
    }
}
