//! [`RecordStore`] on one DynamoDB table (single-table design).
//!
//! Item layout: `PK`, `SK` (key), `v` (version), `d` (the record's data as a map), and where set
//! `GSI1PK`/`GSI1SK` (the secondary index) and `ttl` (expiry, epoch seconds).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use esign_core::ports::{
    Condition, Key, MAX_GET_MANY, Partition, Position, Query, Record, RecordPage, RecordStore, StoreError, Write,
};

/// How many times one `get_many` asks for keys DynamoDB left unprocessed.
const BATCH_GET_ATTEMPTS: u32 = 4;

/// Name of the table's one secondary index, as the template declares it.
pub const INDEX_NAME: &str = "GSI1";

/// The record store on a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn key_item(k: &Key) -> Item {
    HashMap::from([("PK".to_owned(), s(&k.pk)), ("SK".to_owned(), s(&k.sk))])
}

fn to_item(r: &Record) -> Result<Item, StoreError> {
    let mut item = key_item(&r.key);
    item.insert("v".into(), AttributeValue::N(r.version.to_string()));
    let d = serde_dynamo::to_attribute_value(&r.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.insert("d".into(), d);
    if let Some(i) = &r.index {
        item.insert("GSI1PK".into(), s(&i.pk));
        item.insert("GSI1SK".into(), s(&i.sk));
    }
    if let Some(t) = r.expires_at {
        item.insert("ttl".into(), AttributeValue::N(t.to_string()));
    }
    Ok(item)
}

fn string_attr(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Corrupt(format!("item without string attribute {name}"))),
    }
}

fn from_item(item: Item) -> Result<Record, StoreError> {
    let key = Key { pk: string_attr(&item, "PK")?, sk: string_attr(&item, "SK")? };
    let version = match item.get("v") {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| StoreError::Corrupt("bad version".into()))?,
        _ => return Err(StoreError::Corrupt(format!("{}/{} has no version", key.pk, key.sk))),
    };
    let data = match item.get("d") {
        Some(d) => serde_dynamo::from_attribute_value(d.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        None => serde_json::Value::Null,
    };
    let index = match (item.get("GSI1PK"), item.get("GSI1SK")) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(Key::new(pk.clone(), sk.clone())),
        _ => None,
    };
    let expires_at = match item.get("ttl") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    Ok(Record { key, version, data, index, expires_at })
}

/// The condition expression, names and values for a write condition.
fn condition(c: Condition) -> Option<(String, HashMap<String, String>, Item)> {
    match c {
        Condition::Always => None,
        Condition::NotExists => Some((
            "attribute_not_exists(#pk)".into(),
            HashMap::from([("#pk".to_owned(), "PK".to_owned())]),
            HashMap::new(),
        )),
        Condition::Version(v) => Some((
            "#v = :expected".into(),
            HashMap::from([("#v".to_owned(), "v".to_owned())]),
            HashMap::from([(":expected".to_owned(), AttributeValue::N(v.to_string()))]),
        )),
    }
}

/// `d.<field> += amount` for each pair on an existing item (fields start at 0), leaving the
/// version alone.
fn increment(by: &[(String, i64)]) -> (String, HashMap<String, String>, Item) {
    let mut names = HashMap::from([("#d".to_owned(), "d".to_owned()), ("#pk".to_owned(), "PK".to_owned())]);
    let mut values = HashMap::from([(":zero".to_owned(), AttributeValue::N("0".into()))]);
    let mut sets = Vec::new();
    for (i, (field, amount)) in by.iter().enumerate() {
        names.insert(format!("#f{i}"), field.clone());
        values.insert(format!(":by{i}"), AttributeValue::N(amount.to_string()));
        sets.push(format!("#d.#f{i} = if_not_exists(#d.#f{i}, :zero) + :by{i}"));
    }
    (format!("SET {}", sets.join(", ")), names, values)
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    SdkError<E, R>: ProvideErrorMetadata + std::fmt::Debug,
{
    let code = e.code().unwrap_or("unknown").to_owned();
    let msg = e.message().unwrap_or("").to_owned();
    tracing::warn!(error = ?e, "DynamoDB call failed");
    StoreError::Unavailable(format!("DynamoDB {code}: {msg}"))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    /// A store on `table` with a client from the SDK configuration.
    pub fn from_sdk(sdk: &aws_types::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(crate::calls::dynamodb_client(sdk), table)
    }

    fn transact_item(&self, w: &Write) -> Result<TransactWriteItem, StoreError> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
        Ok(match w {
            Write::Put { record, condition: c } => {
                let mut put = Put::builder().table_name(&self.table).set_item(Some(to_item(record)?));
                if let Some((expr, names, values)) = condition(*c) {
                    put = put.condition_expression(expr).set_expression_attribute_names(Some(names));
                    if !values.is_empty() {
                        put = put.set_expression_attribute_values(Some(values));
                    }
                }
                TransactWriteItem::builder().put(put.build().map_err(built)?).build()
            }
            Write::Delete { key, condition: c } => {
                let mut del = Delete::builder().table_name(&self.table).set_key(Some(key_item(key)));
                if let Some((expr, names, values)) = condition(*c) {
                    del = del.condition_expression(expr).set_expression_attribute_names(Some(names));
                    if !values.is_empty() {
                        del = del.set_expression_attribute_values(Some(values));
                    }
                }
                TransactWriteItem::builder().delete(del.build().map_err(built)?).build()
            }
            Write::Increment { key, by } => {
                let (expr, names, values) = increment(by);
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(key)))
                    .update_expression(expr)
                    .condition_expression("attribute_exists(#pk)")
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values(Some(values));
                TransactWriteItem::builder().update(update.build().map_err(built)?).build()
            }
            Write::Check { key, condition: c } => {
                // A check must say something: `Always` checks that the record exists.
                let (expr, names, values) = condition(*c).unwrap_or_else(|| {
                    ("attribute_exists(#pk)".into(), HashMap::from([("#pk".to_owned(), "PK".to_owned())]), Item::new())
                });
                let mut check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(key)))
                    .condition_expression(expr)
                    .set_expression_attribute_names(Some(names));
                if !values.is_empty() {
                    check = check.set_expression_attribute_values(Some(values));
                }
                TransactWriteItem::builder().condition_check(check.build().map_err(built)?).build()
            }
        })
    }

    async fn write_one(&self, w: &Write) -> Result<(), StoreError> {
        match w {
            Write::Put { record, condition: c } => {
                let mut req = self.client.put_item().table_name(&self.table).set_item(Some(to_item(record)?));
                if let Some((expr, names, values)) = condition(*c) {
                    req = req.condition_expression(expr).set_expression_attribute_names(Some(names));
                    if !values.is_empty() {
                        req = req.set_expression_attribute_values(Some(values));
                    }
                }
                req.send().await.map(|_| ()).map_err(|e| {
                    if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
                        StoreError::Conflict
                    } else {
                        unavailable(e)
                    }
                })
            }
            Write::Increment { key, by } => {
                let (expr, names, values) = increment(by);
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_item(key)))
                    .update_expression(expr)
                    .condition_expression("attribute_exists(#pk)")
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values(Some(values))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(unavailable)
            }
            Write::Delete { key, condition: c } => {
                let mut req = self.client.delete_item().table_name(&self.table).set_key(Some(key_item(key)));
                if let Some((expr, names, values)) = condition(*c) {
                    req = req.condition_expression(expr).set_expression_attribute_names(Some(names));
                    if !values.is_empty() {
                        req = req.set_expression_attribute_values(Some(values));
                    }
                }
                req.send().await.map(|_| ()).map_err(|e| {
                    if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
                        StoreError::Conflict
                    } else {
                        unavailable(e)
                    }
                })
            }
            Write::Check { .. } => {
                Err(StoreError::Unavailable("a lone condition check goes through a transaction".into()))
            }
        }
    }
}

#[async_trait]
impl RecordStore for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.map(from_item).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        if keys.len() > MAX_GET_MANY {
            return Err(StoreError::Unavailable(format!("{} keys in one read (at most {MAX_GET_MANY})", keys.len())));
        }
        let mut distinct: Vec<&Key> = Vec::new();
        for k in keys {
            if !distinct.contains(&k) {
                distinct.push(k);
            }
        }
        let mut found: Vec<Record> = Vec::new();
        let mut pending: Vec<Item> = distinct.iter().map(|k| key_item(k)).collect();
        // DynamoDB may leave keys unprocessed under throttling: ask again for those, a few times.
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let out =
                self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(unavailable)?;
            if let Some(mut items) = out.responses
                && let Some(items) = items.remove(&self.table)
            {
                for item in items {
                    found.push(from_item(item)?);
                }
            }
            if let Some(mut rest) = out.unprocessed_keys
                && let Some(rest) = rest.remove(&self.table)
            {
                pending = rest.keys;
            }
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable(format!("{} keys stayed unprocessed", pending.len())));
        }
        Ok(keys.iter().map(|k| found.iter().find(|r| &r.key == k).cloned()).collect())
    }

    async fn query(&self, q: &Query) -> Result<RecordPage, StoreError> {
        let (pk_attr, sk_attr, pk) = match &q.partition {
            Partition::Table(pk) => ("PK", "SK", pk),
            Partition::Index(pk) => ("GSI1PK", "GSI1SK", pk),
        };
        let mut expr = "#pk = :pk".to_owned();
        let mut names = HashMap::from([("#pk".to_owned(), pk_attr.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), s(pk))]);
        if !q.prefix.is_empty() {
            expr.push_str(" AND begins_with(#sk, :prefix)");
            names.insert("#sk".into(), sk_attr.into());
            values.insert(":prefix".into(), s(&q.prefix));
        }
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(expr)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!q.descending)
            // One more than asked, to know whether another page exists.
            .limit(i32::try_from(q.limit + 1).unwrap_or(i32::MAX));
        if let Partition::Index(_) = q.partition {
            req = req.index_name(INDEX_NAME);
        } else {
            req = req.consistent_read(true);
        }
        if let Some(p) = &q.after {
            let mut start = key_item(&p.key);
            if let Some(i) = &p.index {
                start.insert("GSI1PK".into(), s(&i.pk));
                start.insert("GSI1SK".into(), s(&i.sk));
            }
            req = req.set_exclusive_start_key(Some(start));
        }
        let out = req.send().await.map_err(unavailable)?;
        let mut records = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        let more = records.len() > q.limit;
        records.truncate(q.limit);
        let next = if more {
            records.last().map(|r| Position {
                key: r.key.clone(),
                index: matches!(q.partition, Partition::Index(_)).then(|| r.index.clone()).flatten(),
            })
        } else {
            None
        };
        Ok(RecordPage { records, next })
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        match writes.len() {
            0 => Ok(()),
            1 if !matches!(writes[0], Write::Check { .. }) => self.write_one(&writes[0]).await,
            _ => {
                let items = writes.iter().map(|w| self.transact_item(w)).collect::<Result<Vec<_>, _>>()?;
                let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        // A cancelled transaction whose reasons are failed conditions or a
                        // concurrent transaction lost a race; anything else is an outage.
                        let conflict = match e.as_service_error() {
                            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                                let reasons = c.cancellation_reasons();
                                reasons.iter().any(|r| {
                                    matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))
                                }) || (reasons.is_empty()
                                    && c.message().is_some_and(|m| m.contains("ConditionalCheckFailed")))
                            }
                            Some(s) => s.is_transaction_in_progress_exception(),
                            None => false,
                        };
                        if conflict { Err(StoreError::Conflict) } else { Err(unavailable(e)) }
                    }
                }
            }
        }
    }

    async fn increment_below(&self, key: &Key, field: &str, limit: i64) -> Result<i64, StoreError> {
        let (update, condition, names, values) = increment_below_expression(field, limit);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
                    StoreError::Conflict
                } else {
                    unavailable(e)
                }
            })?;
        // UPDATED_NEW answers the updated path: {"d": {field: n}}.
        let updated = out.attributes.and_then(|mut a| a.remove("d"));
        match updated {
            Some(AttributeValue::M(mut d)) => match d.remove(field) {
                Some(AttributeValue::N(n)) => {
                    n.parse().map_err(|_| StoreError::Corrupt(format!("{field} is not a number")))
                }
                _ => Err(StoreError::Corrupt(format!("the update did not answer {field}"))),
            },
            _ => Err(StoreError::Corrupt(format!("the update did not answer {field}"))),
        }
    }
}

/// `d.<field> += 1` on an existing item, only while `d.<field>` is absent or below `limit`:
/// the update, the condition, and their names and values.
fn increment_below_expression(field: &str, limit: i64) -> (String, String, HashMap<String, String>, Item) {
    let names = HashMap::from([
        ("#pk".to_owned(), "PK".to_owned()),
        ("#d".to_owned(), "d".to_owned()),
        ("#f".to_owned(), field.to_owned()),
    ]);
    let values = HashMap::from([
        (":zero".to_owned(), AttributeValue::N("0".into())),
        (":one".to_owned(), AttributeValue::N("1".into())),
        (":limit".to_owned(), AttributeValue::N(limit.to_string())),
    ]);
    (
        "SET #d.#f = if_not_exists(#d.#f, :zero) + :one".to_owned(),
        "attribute_exists(#pk) AND (attribute_not_exists(#d.#f) OR #d.#f < :limit)".to_owned(),
        names,
        values,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_items() {
        let mut r =
            Record::new(Key::new("ENT#1", "PROFILE"), serde_json::json!({"a": [1, "x", null], "b": {"c": true}}));
        r.version = 7;
        r.index = Some(Key::new("I", "2"));
        r.expires_at = Some(1_800_000_000);
        assert_eq!(from_item(to_item(&r).unwrap()).unwrap(), r);
    }

    #[test]
    fn the_bounded_increment_names_its_field_and_limit() {
        let (update, condition, names, values) = increment_below_expression("attempts", 5);
        assert_eq!(update, "SET #d.#f = if_not_exists(#d.#f, :zero) + :one");
        assert!(condition.contains("#d.#f < :limit") && condition.starts_with("attribute_exists(#pk)"));
        assert_eq!(names["#f"], "attempts");
        assert_eq!(values[":limit"], AttributeValue::N("5".into()));
    }
}
