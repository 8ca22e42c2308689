//! Creates the stack's stateful resources in an emulator (moto, LocalStack) from the SAM template
//! itself, so local runs and the deployed stack share one definition: the tables, buckets, queues
//! (with their dead-letter redrive) and KMS keys the template declares, with their key schemas,
//! indexes, TTL, versioning and key specs. It answers with the environment the functions would get: every `Globals.Function.Environment`
//! variable whose value is `!Ref <resource>`, mapped to the local resource's name or id.
//! Idempotent: resources that already exist are reused.
//!
//! A bucket's CORS rules come from the template too, with the origins a local run gives
//! ([`LocalOptions::web_origins`]) in place of the deployment's (which name CloudFront): the
//! emulator enforces them on a browser's preflight as S3 does, so the local web app can upload
//! through presigned URLs exactly as the deployed one does.

use std::path::Path;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use aws_sdk_s3::types::{BucketVersioningStatus, CorsConfiguration, CorsRule, VersioningConfiguration};
use aws_types::SdkConfig;
use serde_yaml::Value;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("cannot read the template {0}: {1}")]
    Read(String, String),
    #[error("the template is not what provisioning understands: {0}")]
    Template(String),
    #[error("the emulator refused {0}: {1}")]
    Aws(String, String),
}

/// One environment variable for the functions.
pub type EnvVar = (String, String);

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, ProvisionError> {
    get(v, path).and_then(Value::as_str).ok_or_else(|| ProvisionError::Template(format!("missing {}", path.join("."))))
}

/// The logical id a `!Ref X` (or `{Ref: X}`) names.
fn ref_target(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "!Ref" || t.tag == "Ref" => t.value.as_str(),
        Value::Mapping(m) if m.len() == 1 => m.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

/// Local name of a resource: `<prefix>-<logical id in lower case>`.
pub fn local_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}-{}", logical_id.to_ascii_lowercase())
}

fn aws_err<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> ProvisionError + '_ {
    move |e| ProvisionError::Aws(what.to_owned(), format!("{e:?}"))
}

/// What a local run sets that the template cannot say for it.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// The origins the buckets' CORS rules allow locally, in place of the template's: the local
    /// server's own (its web app uploads straight to the emulator). Empty: no CORS rules are set.
    pub web_origins: Vec<String>,
}

/// Creates every table, bucket and KMS key of the template at `template`, named with `prefix`,
/// and returns the functions' environment for them.
pub async fn provision(config: &SdkConfig, template: &Path, prefix: &str) -> Result<Vec<EnvVar>, ProvisionError> {
    provision_with(config, template, prefix, &LocalOptions::default()).await
}

/// As [`provision`], with the buckets' CORS rules allowing `options.web_origins`.
pub async fn provision_with(
    config: &SdkConfig,
    template: &Path,
    prefix: &str,
    options: &LocalOptions,
) -> Result<Vec<EnvVar>, ProvisionError> {
    let text = std::fs::read_to_string(template)
        .map_err(|e| ProvisionError::Read(template.display().to_string(), e.to_string()))?;
    let doc: Value =
        serde_yaml::from_str(&text).map_err(|e| ProvisionError::Read(template.display().to_string(), e.to_string()))?;
    let resources = get(&doc, &["Resources"])
        .and_then(Value::as_mapping)
        .ok_or_else(|| ProvisionError::Template("no Resources".into()))?;

    let mut ids = Vec::new();
    let mut queues = Vec::new();
    for (name, res) in resources {
        let Some(logical) = name.as_str() else { continue };
        let value = match get(res, &["Type"]).and_then(Value::as_str) {
            Some("AWS::DynamoDB::Table") => {
                let table = local_name(prefix, logical);
                create_table(config, &table, res).await?;
                table
            }
            Some("AWS::S3::Bucket") => {
                let bucket = local_name(prefix, logical);
                create_bucket(config, &bucket, res, &options.web_origins).await?;
                bucket
            }
            Some("AWS::KMS::Key") => create_key(config, &local_name(prefix, logical), res).await?,
            Some("AWS::SQS::Queue") => {
                queues.push((logical, res));
                continue;
            }
            _ => continue,
        };
        ids.push((logical.to_owned(), value));
    }
    // Queues without a redrive policy first: the others name them as dead-letter targets.
    queues.sort_by_key(|(_, res)| get(res, &["Properties", "RedrivePolicy"]).is_some());
    let mut arns: Vec<(String, String)> = Vec::new();
    for (logical, res) in queues {
        let (url, arn) = create_queue(config, &local_name(prefix, logical), res, &arns).await?;
        arns.push((logical.to_owned(), arn));
        ids.push((logical.to_owned(), url));
    }

    // Calls on these resources are then recorded under their logical ids (when recording).
    crate::calls::name_resources(ids.iter().map(|(l, p)| (l.as_str(), p.as_str())));

    let vars = get(&doc, &["Globals", "Function", "Environment", "Variables"])
        .and_then(Value::as_mapping)
        .ok_or_else(|| ProvisionError::Template("no Globals.Function.Environment.Variables".into()))?;
    let mut env = Vec::new();
    for (k, v) in vars {
        let (Some(k), Some(target)) = (k.as_str(), ref_target(v)) else { continue };
        if let Some((_, value)) = ids.iter().find(|(logical, _)| logical == target) {
            env.push((k.to_owned(), value.clone()));
        }
    }
    Ok(env)
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    v.as_sequence()
        .ok_or_else(|| ProvisionError::Template("KeySchema is not a list".into()))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(str_at(k, &["AttributeName"])?)
                .key_type(KeyType::from(str_at(k, &["KeyType"])?))
                .build()
                .map_err(aws_err("KeySchema"))
        })
        .collect()
}

async fn create_table(config: &SdkConfig, table: &str, res: &Value) -> Result<(), ProvisionError> {
    let client = aws_sdk_dynamodb::Client::new(config);
    let props = get(res, &["Properties"]).ok_or_else(|| ProvisionError::Template("table without Properties".into()))?;
    let mut req = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(str_at(props, &["BillingMode"]).unwrap_or("PAY_PER_REQUEST")))
        .set_key_schema(Some(key_schema(get(props, &["KeySchema"]).unwrap_or(&Value::Null))?));
    for a in get(props, &["AttributeDefinitions"]).and_then(Value::as_sequence).into_iter().flatten() {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(str_at(a, &["AttributeName"])?)
                .attribute_type(ScalarAttributeType::from(str_at(a, &["AttributeType"])?))
                .build()
                .map_err(aws_err("AttributeDefinition"))?,
        );
    }
    for g in get(props, &["GlobalSecondaryIndexes"]).and_then(Value::as_sequence).into_iter().flatten() {
        let projection = str_at(g, &["Projection", "ProjectionType"]).unwrap_or("ALL");
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(str_at(g, &["IndexName"])?)
                .set_key_schema(Some(key_schema(get(g, &["KeySchema"]).unwrap_or(&Value::Null))?))
                .projection(Projection::builder().projection_type(ProjectionType::from(projection)).build())
                .build()
                .map_err(aws_err("GlobalSecondaryIndex"))?,
        );
    }
    match req.send().await {
        Ok(_) => tracing::info!(table, "created table"),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {
            tracing::info!(table, "table exists");
            return Ok(());
        }
        Err(e) => return Err(aws_err("CreateTable")(e)),
    }
    if let Some(ttl) = get(props, &["TimeToLiveSpecification"])
        && get(ttl, &["Enabled"]).and_then(Value::as_bool) == Some(true)
    {
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(str_at(ttl, &["AttributeName"])?)
                    .enabled(true)
                    .build()
                    .map_err(aws_err("TimeToLiveSpecification"))?,
            )
            .send()
            .await
            .map_err(aws_err("UpdateTimeToLive"))?;
    }
    Ok(())
}

async fn create_bucket(
    config: &SdkConfig,
    bucket: &str,
    res: &Value,
    web_origins: &[String],
) -> Result<(), ProvisionError> {
    let client = crate::s3_client(config);
    let mut req = client.create_bucket().bucket(bucket);
    if let Some(region) = config.region().map(|r| r.as_ref().to_owned())
        && region != "us-east-1"
    {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => tracing::info!(bucket, "created bucket"),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()) =>
        {
            tracing::info!(bucket, "bucket exists")
        }
        Err(e) => return Err(aws_err("CreateBucket")(e)),
    }
    if str_at(res, &["Properties", "VersioningConfiguration", "Status"]).ok() == Some("Enabled") {
        client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
            )
            .send()
            .await
            .map_err(aws_err("PutBucketVersioning"))?;
    }
    let rules = get(res, &["Properties", "CorsConfiguration", "CorsRules"]).and_then(Value::as_sequence);
    if let Some(rules) = rules
        && !web_origins.is_empty()
    {
        let rules = local_cors_rules(rules, web_origins)?;
        client
            .put_bucket_cors()
            .bucket(bucket)
            .cors_configuration(
                CorsConfiguration::builder()
                    .set_cors_rules(Some(rules))
                    .build()
                    .map_err(aws_err("CorsConfiguration"))?,
            )
            .send()
            .await
            .map_err(aws_err("PutBucketCors"))?;
        tracing::info!(bucket, origins = ?web_origins, "bucket CORS set");
    }
    Ok(())
}

/// The template's CORS rules with `origins` as their allowed origins.
fn local_cors_rules(rules: &[Value], origins: &[String]) -> Result<Vec<CorsRule>, ProvisionError> {
    let strings = |rule: &Value, key: &str| -> Option<Vec<String>> {
        get(rule, &[key])
            .and_then(Value::as_sequence)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    };
    rules
        .iter()
        .map(|rule| {
            CorsRule::builder()
                .set_id(get(rule, &["Id"]).and_then(Value::as_str).map(str::to_owned))
                .set_allowed_methods(strings(rule, "AllowedMethods"))
                .set_allowed_headers(strings(rule, "AllowedHeaders"))
                .set_expose_headers(strings(rule, "ExposedHeaders"))
                .set_max_age_seconds(get(rule, &["MaxAge"]).and_then(Value::as_i64).and_then(|m| i32::try_from(m).ok()))
                .set_allowed_origins(Some(origins.to_vec()))
                .build()
                .map_err(aws_err("CorsRule"))
        })
        .collect()
}

/// The logical id a `!GetAtt X.Arn` (or `{Fn::GetAtt: [X, Arn]}`) names.
fn get_att_arn(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "!GetAtt" || t.tag == "GetAtt" => t.value.as_str()?.strip_suffix(".Arn"),
        Value::Mapping(m) if m.len() == 1 => {
            let parts = m.get("Fn::GetAtt")?.as_sequence()?;
            (parts.get(1)?.as_str()? == "Arn").then_some(parts.first()?.as_str()?)
        }
        _ => None,
    }
}

/// Creates (or finds) a queue with the template's attributes; answers its URL and ARN.
async fn create_queue(
    config: &SdkConfig,
    name: &str,
    res: &Value,
    arns: &[(String, String)],
) -> Result<(String, String), ProvisionError> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let client = aws_sdk_sqs::Client::new(config);
    let mut req = client.create_queue().queue_name(name);
    for (prop, attr) in [
        ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
        ("MessageRetentionPeriod", QueueAttributeName::MessageRetentionPeriod),
        ("DelaySeconds", QueueAttributeName::DelaySeconds),
        ("ReceiveMessageWaitTimeSeconds", QueueAttributeName::ReceiveMessageWaitTimeSeconds),
    ] {
        if let Some(v) = get(res, &["Properties", prop]).and_then(Value::as_u64) {
            req = req.attributes(attr, v.to_string());
        }
    }
    if let Some(redrive) = get(res, &["Properties", "RedrivePolicy"]) {
        let target = get(redrive, &["deadLetterTargetArn"])
            .and_then(get_att_arn)
            .ok_or_else(|| ProvisionError::Template(format!("{name}: RedrivePolicy needs !GetAtt <queue>.Arn")))?;
        let arn = arns
            .iter()
            .find(|(l, _)| l == target)
            .map(|(_, a)| a.clone())
            .ok_or_else(|| ProvisionError::Template(format!("{name}: no queue {target} for its RedrivePolicy")))?;
        let max = get(redrive, &["maxReceiveCount"]).and_then(Value::as_u64).unwrap_or(5);
        let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max }).to_string();
        req = req.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    let url = req
        .send()
        .await
        .map_err(aws_err("CreateQueue"))?
        .queue_url()
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::Aws("CreateQueue".into(), "no queue URL".into()))?;
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(aws_err("GetQueueAttributes"))?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| ProvisionError::Aws("GetQueueAttributes".into(), "no queue ARN".into()))?;
    tracing::info!(queue = name, "queue ready");
    Ok((url, arn))
}

/// Finds the key behind `alias/<name>` or creates one with the template's spec and usage.
async fn create_key(config: &SdkConfig, name: &str, res: &Value) -> Result<String, ProvisionError> {
    let client = aws_sdk_kms::Client::new(config);
    let alias = format!("alias/{name}");
    let mut aliases = client.list_aliases().into_paginator().items().send();
    while let Some(a) = aliases.next().await {
        let a = a.map_err(aws_err("ListAliases"))?;
        if a.alias_name() == Some(alias.as_str())
            && let Some(id) = a.target_key_id()
        {
            return Ok(id.to_owned());
        }
    }
    let spec = str_at(res, &["Properties", "KeySpec"]).unwrap_or("SYMMETRIC_DEFAULT");
    let usage = str_at(res, &["Properties", "KeyUsage"]).unwrap_or("ENCRYPT_DECRYPT");
    let out = client
        .create_key()
        .key_spec(KeySpec::from(spec))
        .key_usage(KeyUsageType::from(usage))
        .description(format!("{name} (local)"))
        .send()
        .await
        .map_err(aws_err("CreateKey"))?;
    let id = out
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .ok_or_else(|| ProvisionError::Aws("CreateKey".into(), "no key id".into()))?;
    client.create_alias().alias_name(&alias).target_key_id(&id).send().await.map_err(aws_err("CreateAlias"))?;
    tracing::info!(key = %alias, spec, "created KMS key");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_in_both_forms() {
        let short: Value = serde_yaml::from_str("!Ref RecordsTable").unwrap();
        assert_eq!(ref_target(&short), Some("RecordsTable"));
        let long: Value = serde_yaml::from_str("Ref: FilesBucket").unwrap();
        assert_eq!(ref_target(&long), Some("FilesBucket"));
        let plain: Value = serde_yaml::from_str("production").unwrap();
        assert_eq!(ref_target(&plain), None);
        let att: Value = serde_yaml::from_str("!GetAtt WebhookDeadLetterQueue.Arn").unwrap();
        assert_eq!(get_att_arn(&att), Some("WebhookDeadLetterQueue"));
        let long: Value = serde_yaml::from_str("Fn::GetAtt: [WebhookDeadLetterQueue, Arn]").unwrap();
        assert_eq!(get_att_arn(&long), Some("WebhookDeadLetterQueue"));
    }

    #[test]
    fn cors_rules_take_the_local_origins() {
        let rules: Value = serde_yaml::from_str(
            "- Id: Uploads\n  AllowedMethods: [PUT, GET]\n  AllowedOrigins: [!Sub 'https://${Web.DomainName}']\n  \
             AllowedHeaders: ['*']\n  ExposedHeaders: [ETag]\n  MaxAge: 3000\n",
        )
        .unwrap();
        let origin = "http://127.0.0.1:3000".to_owned();
        let local = local_cors_rules(rules.as_sequence().unwrap(), std::slice::from_ref(&origin)).unwrap();
        assert_eq!(local.len(), 1);
        let r = &local[0];
        assert_eq!(
            (r.id(), r.allowed_methods(), r.allowed_origins()),
            (Some("Uploads"), &["PUT".to_owned(), "GET".to_owned()][..], &[origin][..])
        );
        assert_eq!(
            (r.allowed_headers(), r.expose_headers(), r.max_age_seconds()),
            (&["*".to_owned()][..], &["ETag".to_owned()][..], Some(3000))
        );
    }

    #[test]
    fn the_projects_template_declares_what_the_code_needs() {
        let path =
            Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()))
                .join("../../infra/template.yaml");
        let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let vars = get(&doc, &["Globals", "Function", "Environment", "Variables"]).unwrap();
        for var in [
            crate::ENV_TABLE,
            crate::ENV_FILES_BUCKET,
            crate::ENV_ROOT_CA_KEY,
            crate::ENV_ISSUING_CA_KEY,
            crate::ENV_TSA_KEY,
            crate::ENV_OCSP_KEY,
            crate::ENV_EVIDENCE_KEY,
            crate::ENV_WEBHOOK_QUEUE,
            crate::ENV_SECRETS_KEY,
        ] {
            let target = ref_target(vars.get(var).unwrap()).unwrap();
            assert!(get(&doc, &["Resources", target]).is_some(), "{var} refers to a missing resource");
        }
        let table = get(&doc, &["Resources", "RecordsTable", "Properties"]).unwrap();
        let index = &get(table, &["GlobalSecondaryIndexes"]).unwrap()[0];
        assert_eq!(str_at(index, &["IndexName"]).unwrap(), crate::dynamo::INDEX_NAME);
        assert_eq!(str_at(table, &["TimeToLiveSpecification", "AttributeName"]).unwrap(), "ttl");
    }
}
