//! Test helpers: a platform over the in-memory ports.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::{OperatorKeys, Principal, hash_key};
use crate::enterprises::{NewPerson, RegisterEnterprise};
use crate::memory::{FakeAuthority, FakeSender, FixedClock, MemoryBlobs, MemoryNotifier, MemoryQueue, MemoryStore};
use crate::platform::{Config, Platform, Ports};
use crate::verification::{AdministratorInput, PersonInput, SubmitVerification};

/// The operator key the test platform accepts.
pub const OPERATOR_KEY: &str = "op-test-key-0123456789abcdef";

/// The operators who may sign in with a code on the test platform.
pub const OPERATOR_IDENTITIES: &str = "+8613700137000, Ops@Example.com";

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
    pub notifier: Arc<MemoryNotifier>,
    pub queue: Arc<MemoryQueue>,
    pub sender: Arc<FakeSender>,
}

pub fn full() -> TestPlatform {
    let blobs = Arc::new(MemoryBlobs::default());
    let authority = Arc::new(FakeAuthority::default());
    let notifier = Arc::new(MemoryNotifier::default());
    let queue = Arc::new(MemoryQueue::default());
    let sender = Arc::new(FakeSender::default());
    // The machine's time (whole seconds), then moved by the tests: the fake authority's TSA and
    // certificates run on the machine's clock, and validation data (CRLs from this clock) must be
    // current at their time stamps' time.
    let start = OffsetDateTime::now_utc().unix_timestamp();
    let clock = Arc::new(FixedClock::new(OffsetDateTime::from_unix_timestamp(start).expect("valid time")));
    let config = Config {
        operator_keys: OperatorKeys::from_list(OPERATOR_KEY).expect("valid operator key"),
        operators: crate::sessions::Operators::from_list(OPERATOR_IDENTITIES).expect("valid operators"),
        ..Config::default()
    };
    let ports = Ports {
        store: Arc::new(MemoryStore::default()),
        blobs: blobs.clone(),
        clock: clock.clone(),
        authority: authority.clone(),
        notifier: notifier.clone(),
        queue: queue.clone(),
        webhook_sender: sender.clone(),
        secrets: Arc::new(crate::memory::MemorySecretBox::default()),
    };
    TestPlatform { platform: Platform::new(ports, config), blobs, authority, clock, notifier, queue, sender }
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
        admin: NewPerson { name: "张三".into(), mobile: unique_mobile(), email: "zhang@example.com".into() },
    }
}

/// A valid registration whose administrator has this mobile number and email address.
pub(crate) fn registration_with(mobile: &str, email: &str) -> RegisterEnterprise {
    let mut r = registration();
    r.admin.mobile = mobile.into();
    r.admin.email = email.into();
    r
}

/// `13800138000` first, then other numbers: codes to different administrators are told apart
/// and do not share a destination's send limit.
fn unique_mobile() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(8000);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("1380013{:04}", n % 10_000)
}

/// Confirms the member's mobile and email with the codes sent there, as the member would.
pub async fn confirm_contacts(t: &TestPlatform, who: &Principal) {
    use crate::contacts::{ConfirmContact, VerifyContact};
    use crate::ports::Channel;
    let Principal::Member { member_id, enterprise_id, .. } = who else { panic!("a member") };
    let member = t
        .platform
        .load::<crate::platform::MemberData>(&crate::platform::member_key(enterprise_id, member_id))
        .await
        .expect("loaded")
        .expect("a member")
        .value
        .member;
    for (channel, to) in [(Channel::Sms, &member.mobile), (Channel::Email, &member.email)] {
        let sent = t
            .platform
            .send_contact_code(who, member_id, ConfirmContact { channel: Some(channel) })
            .await
            .expect("contact code sent");
        let body = t.notifier.last_to(to).expect("the code arrived").body;
        let code = body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code").to_owned();
        t.platform
            .verify_contact(who, member_id, VerifyContact { channel, otp_id: sent.otp_id, code: code.into() })
            .await
            .expect("contact confirmed");
    }
}

/// A member to add: 李四, with a mobile number and an email address.
pub(crate) fn new_member() -> crate::members::CreateMember {
    crate::members::CreateMember {
        name: Some("李四".into()),
        mobile: Some("13900139000".into()),
        email: Some("li@example.com".into()),
        role: None,
    }
}

/// A USCC (with its organization code) no other call in this process answers.
pub(crate) fn fresh_uscc() -> (String, String) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    crate::kyb::sample_uscc(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// A valid submission whose administrator is the legal representative, under a USCC of its own
/// (one USCC has at most one verified enterprise).
pub(crate) fn submission() -> SubmitVerification {
    let (uscc, organization_code) = fresh_uscc();
    SubmitVerification {
        company_name: "深圳市腾讯计算机系统有限公司".into(),
        uscc,
        organization_code,
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

/// A small valid PDF of A4 pages with a line of text each (classic xref).
pub fn sample_pdf(pages: usize) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for i in 0..pages {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let text = format!("BT /F1 14 Tf 72 770 Td (Contract page {}) Tj ET", i + 1);
        objects.push(format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()));
    }
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// An approved seal of the admin's enterprise, granted to the admin; returns its id.
pub async fn active_seal(t: &TestPlatform, admin: &Principal) -> String {
    use crate::grants::GrantRequest;
    use crate::seals::{CreateSeal, SealDecision, SealKind};
    use crate::verification::DecisionKind;
    let p = &t.platform;
    let draft = p
        .create_seal(
            admin,
            CreateSeal {
                name: "合同专用章".into(),
                kind: SealKind::Contract,
                key_algorithm: None,
                image_size: Some(10),
                generate: false,
            },
        )
        .await
        .expect("seal draft");
    t.blobs.put(
        draft.upload.as_ref().unwrap().upload_url.trim_start_matches("memory://"),
        crate::seal_image::samples::red_seal(),
        "image/png",
    );
    p.submit_seal(admin, &draft.seal.id).await.expect("submitted");
    p.decide_seal(&operator(), &draft.seal.id, SealDecision { decision: DecisionKind::Approve, reason: None })
        .await
        .expect("approved");
    let Principal::Member { member_id, .. } = admin else { panic!("a member") };
    p.put_grant(admin, &draft.seal.id, member_id, GrantRequest::default()).await.expect("granted");
    // The CRLs signing embeds (B-LT), as the scheduled refresh-crls publishes them.
    p.refresh_crls().await.expect("CRLs published");
    draft.seal.id
}

/// Does the webhook queue's work until it is empty, moving the clock over each message's delay.
pub async fn drain_webhooks(t: &TestPlatform) {
    for _ in 0..500 {
        let Some((body, delay)) = t.queue.pop() else { return };
        if !delay.is_zero() {
            t.clock.advance(time::Duration::try_from(delay).expect("a short delay"));
        }
        t.platform.handle_webhook_message(&body).await.expect("queue message handled");
    }
    panic!("the webhook queue never emptied");
}
