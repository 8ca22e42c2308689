//! Test helpers: a platform over the in-memory ports.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::{OperatorKeys, Principal, hash_key};
use crate::enterprises::{NewPerson, RegisterEnterprise};
use crate::memory::{FakeAuthority, FixedClock, MemoryBlobs, MemoryStore};
use crate::platform::{Config, Platform, Ports};
use crate::verification::{AdministratorInput, PersonInput, SubmitVerification};

/// The operator key the test platform accepts.
pub const OPERATOR_KEY: &str = "op-test-key-0123456789abcdef";

/// A platform over fresh in-memory ports at a fixed time, and its blob store.
pub fn platform() -> (Platform, Arc<MemoryBlobs>) {
    let t = full();
    (t.platform, t.blobs)
}

/// A platform and every port behind it, for tests that steer them.
pub struct TestPlatform {
    pub platform: Platform,
    pub blobs: Arc<MemoryBlobs>,
    pub authority: Arc<FakeAuthority>,
    pub clock: Arc<FixedClock>,
}

pub fn full() -> TestPlatform {
    let blobs = Arc::new(MemoryBlobs::default());
    let authority = Arc::new(FakeAuthority::default());
    let clock = Arc::new(FixedClock::new(OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("valid time")));
    let config = Config {
        operator_keys: OperatorKeys::from_list(OPERATOR_KEY).expect("valid operator key"),
        ..Config::default()
    };
    let ports = Ports {
        store: Arc::new(MemoryStore::default()),
        blobs: blobs.clone(),
        clock: clock.clone(),
        authority: authority.clone(),
    };
    TestPlatform { platform: Platform::new(ports, config), blobs, authority, clock }
}

/// Registers and verifies an enterprise; returns its id and its administrator.
pub async fn verified(p: &Platform) -> (String, Principal) {
    use crate::verification::{Decision, DecisionKind};
    let r = p.register_enterprise(registration()).await.expect("registered");
    let admin = p.authenticate(Some(&r.api_key)).await.expect("admin key");
    let vid = p.submit_verification(&admin, &r.enterprise.id, submission()).await.expect("submitted");
    let vid = vid.verification.expect("verification").id;
    p.decide_verification(&operator(), &vid, Decision { decision: DecisionKind::Approve, reason: None })
        .await
        .expect("approved");
    (r.enterprise.id, admin)
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
