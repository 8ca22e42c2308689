//! The DynamoDB record store on the emulator: the bounded increment lets at most `limit` of any
//! number of concurrent callers through, and leaves the record's version alone.

mod common;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use esign_aws::dynamo::DynamoStore;
use esign_core::ports::{Key, Record, RecordStore, StoreError, Write};

#[tokio::test]
async fn bounded_increments_let_at_most_the_limit_through() {
    let sdk = common::emulator_sdk().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let table = format!("increment-test-{nanos}");
    let attr = |n: &str| {
        AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().unwrap()
    };
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("PK"))
        .attribute_definitions(attr("SK"))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let store = std::sync::Arc::new(DynamoStore::new(client.clone(), &table));
    let k = Key::new("OTP#1", "OTP");
    assert_eq!(store.increment_below(&k, "attempts", 5).await, Err(StoreError::Conflict), "no record yet");
    store.write(vec![Write::create(Record::new(k.clone(), serde_json::json!({"used": false})))]).await.unwrap();

    let tries: Vec<_> = (0..20)
        .map(|_| {
            let (store, k) = (store.clone(), k.clone());
            tokio::spawn(async move { store.increment_below(&k, "attempts", 5).await })
        })
        .collect();
    let mut won = Vec::new();
    for t in tries {
        match t.await.unwrap() {
            Ok(n) => won.push(n),
            Err(e) => assert_eq!(e, StoreError::Conflict),
        }
    }
    won.sort_unstable();
    assert_eq!(won, [1, 2, 3, 4, 5]);
    let r = store.get(&k).await.unwrap().unwrap();
    assert_eq!(r.version, 1, "the version is left alone");
    assert_eq!(r.data, serde_json::json!({"used": false, "attempts": 5}));
    client.delete_table().table_name(&table).send().await.unwrap();
}
