//! Test helpers: a platform over the in-memory ports.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::{OperatorKeys, Principal, hash_key};
use crate::memory::{FixedClock, MemoryBlobs, MemoryStore};
use crate::enterprises::{NewPerson, RegisterEnterprise};
use crate::platform::{Config, Platform};
use crate::verification::{AdministratorInput, PersonInput, SubmitVerification};

/// The operator key the test platform accepts.
pub const OPERATOR_KEY: &str = "op-test-key-0123456789abcdef";

/// A platform over fresh in-memory ports at a fixed time, and its blob store.
pub fn platform() -> (Platform, Arc<MemoryBlobs>) {
    let blobs = Arc::new(MemoryBlobs::default());
    let clock = FixedClock::new(OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("valid time"));
    let config = Config {
        operator_keys: OperatorKeys::from_list(OPERATOR_KEY).expect("valid operator key"),
        ..Config::default()
    };
    (Platform::new(Arc::new(MemoryStore::default()), blobs.clone(), Arc::new(clock), config), blobs)
}

/// The operator principal of [`OPERATOR_KEY`].
pub fn operator() -> Principal {
    Principal::Operator { id: format!("op_{}", &hash_key(OPERATOR_KEY)[..12]) }
}

/// A valid registration.
pub(crate) fn registration() -> RegisterEnterprise {
    RegisterEnterprise {
        name: "深圳市腾讯计算机系统有限公司".into(),
        contact_email: "legal@example.com".into(),
        contact_phone: Some("+86 755 8601 3388".into()),
        admin: NewPerson { name: "张三".into(), mobile: "13800138000".into(), email: "zhang@example.com".into() },
    }
}

/// A valid submission whose administrator is the legal representative.
pub(crate) fn submission() -> SubmitVerification {
    SubmitVerification {
        company_name: "深圳市腾讯计算机系统有限公司".into(),
        uscc: "9144030071526726XG".into(),
        organization_code: "71526726-X".into(),
        legal_representative: PersonInput { name: "马化腾".into(), id_number: "11010519491231002X".into() },
        administrator: AdministratorInput {
            name: "马化腾".into(),
            id_number: "11010519491231002X".into(),
            mobile: "+86 138 0013 8000".into(),
            is_legal_representative: true,
        },
        authorization_letter_file_id: None,
    }
}
