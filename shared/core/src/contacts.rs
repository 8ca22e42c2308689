//! Confirming a member's contacts: a member's mobile and email receive signing codes only once
//! the member has proved, with a code sent there, that it receives what goes there. A new member
//! (and a registering administrator) starts with both unconfirmed.

use serde::Deserialize;

use crate::audit::Head;
use crate::auth::{Principal, Role};
use crate::error::DomainError;
use crate::model::{Member, new_id};
use crate::otp::{self, CodeSent, Purpose};
use crate::platform::{MemberData, Platform, enterprise_subject, member_key, member_record, own_enterprise};
use crate::ports::{Channel, Condition, StoreError, Write};
use crate::usage::Meter;

/// `POST /v1/members/{member_id}/contacts/confirm`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmContact {
    /// `sms` (the member's mobile, the default) or `email`.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// `POST /v1/members/{member_id}/contacts/verify`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyContact {
    pub channel: Channel,
    pub otp_id: String,
    pub code: crate::Secret,
}

impl Platform {
    /// Sends a member a code to the destination on `channel`, to confirm it. The member itself
    /// or an administrator of its enterprise may ask; the code is the member's to enter.
    pub async fn send_contact_code(
        &self,
        principal: &Principal,
        member_id: &str,
        input: ConfirmContact,
    ) -> Result<CodeSent, DomainError> {
        let (enterprise_id, me, role) = own_enterprise(principal)?;
        if role != Role::Admin && me != member_id {
            return Err(DomainError::Forbidden("members may only confirm their own contacts".into()));
        }
        let member: Member = self
            .load::<MemberData>(&member_key(enterprise_id, member_id))
            .await?
            .ok_or(DomainError::NotFound("member"))?
            .value
            .member;
        let channel = input.channel.unwrap_or(Channel::Sms);
        if member.confirmed(channel) {
            return Err(DomainError::Conflict(format!("the member's {} is already confirmed", channel.contact())));
        }
        let to = otp::destination(&member, channel).to_owned();
        let now = self.clock.now();
        let otp_id = new_id("otp");
        let (code, stored) = otp::new_code(&otp_id, Purpose::Contact, "", &member, channel, now);
        let usage = self.ensure_usage(enterprise_id, now).await?;
        let mut retries = 0;
        loop {
            let mut writes = self.count_sends(&member, channel, &to, now).await?;
            writes.push(Write::create(otp::code_record(&stored)?));
            writes.push(Self::meter(&usage, &[(Meter::CodesSent, 1)]));
            Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?.append(
                &mut writes,
                now,
                principal.actor(),
                "member.contact_code_sent",
                serde_json::json!({
                    "member_id": member_id, "otp_id": otp_id, "channel": channel, "to": otp::mask(channel, &to)
                }),
            );
            match self.store.write(writes).await {
                Ok(()) => break,
                Err(StoreError::Conflict) if retries < otp::SEND_RETRIES => retries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        if let Err(e) = self.notifier.send(&otp::notice(Purpose::Contact, channel, &to, &code)).await {
            // Never reached anyone: neither usable nor billed (the send still counts).
            let undo = vec![
                Write::Delete { key: otp::code_key(&otp_id), condition: Condition::Always },
                Self::meter(&usage, &[(Meter::CodesSent, -1)]),
            ];
            if let Err(w) = self.store.write(undo).await {
                tracing::error!(otp_id, error = %w, "could not withdraw a contact code whose notice failed");
            }
            return Err(DomainError::Dependency(e.to_string()));
        }
        Ok(CodeSent { otp_id, channel, sent_to: otp::mask(channel, &to), expires_at: stored.expires_at })
    }

    /// Confirms the member's destination on `channel` with the code sent there. Only the member
    /// itself, with its own key, may enter it. Same rules as signing codes: 5 minutes, at most
    /// [`otp::MAX_ATTEMPTS`] codes compared, single use.
    pub async fn verify_contact(
        &self,
        principal: &Principal,
        member_id: &str,
        input: VerifyContact,
    ) -> Result<Member, DomainError> {
        let (enterprise_id, me, _) = own_enterprise(principal)?;
        if me != member_id {
            return Err(DomainError::Forbidden(
                "only the member itself, with its own key, confirms its contacts".into(),
            ));
        }
        let key = member_key(enterprise_id, member_id);
        let loaded = self.load::<MemberData>(&key).await?.ok_or(DomainError::NotFound("member"))?;
        let code_key = otp::code_key(&input.otp_id);
        let unknown = || DomainError::invalid("otp_id", "unknown", "no such code for this member and channel");
        let record = self.store.get(&code_key).await?.ok_or_else(unknown)?;
        let mut code: otp::StoredCode = record.decode()?;
        if code.purpose != Purpose::Contact || code.member_id != member_id || code.channel != input.channel {
            return Err(unknown());
        }
        let now = self.clock.now();
        otp::check_usable(&code, now)?;
        let mut member = loaded.value.member;
        if code.destination != otp::destination_hash(input.channel, otp::destination(&member, input.channel)) {
            return Err(DomainError::invalid("otp_id", "stale", "the contact changed since this code was sent"));
        }
        let attempts = otp::count_attempt(self.store.as_ref(), &code).await?;
        if !otp::matches(&code, &input.code) {
            return Err(otp::mismatch(attempts));
        }
        match input.channel {
            Channel::Sms => member.mobile_confirmed = true,
            Channel::Email => member.email_confirmed = true,
        }
        code.used = true;
        code.attempts = attempts;
        let mut writes = vec![
            Write::replace(member_record(&member, &loaded.value.key_hash)?, loaded.version),
            // The version is that of the read: a concurrent use of the code makes this a 409.
            Write::replace(otp::code_record(&code)?, record.version),
        ];
        Head::load(self.store.as_ref(), &enterprise_subject(enterprise_id)).await?.append(
            &mut writes,
            now,
            principal.actor(),
            "member.contact_confirmed",
            serde_json::json!({ "member_id": member_id, "otp_id": code.id, "channel": input.channel }),
        );
        self.store.write(writes).await?;
        Ok(member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::CreateMember;
    use crate::testing::{full, verified};

    fn code_in(body: &str) -> String {
        body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code").to_owned()
    }

    #[tokio::test]
    async fn a_member_confirms_its_own_contacts_with_the_code_sent_there() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let created = p.create_member(&admin, crate::testing::new_member()).await.unwrap();
        assert!(!created.member.mobile_confirmed && !created.member.email_confirmed);
        let id = created.member.id.clone();
        let member = p.authenticate(Some(&created.api_key)).await.unwrap();
        // The admin may have the code sent; only the member may enter it.
        let sent = p.send_contact_code(&admin, &id, ConfirmContact::default()).await.unwrap();
        assert_eq!(sent.sent_to, "+86 139****9000");
        let notice = t.notifier.last_to("+8613900139000").unwrap();
        assert!(!notice.body.contains("李四"), "no tenant text: {}", notice.body);
        let code = code_in(&notice.body);
        let verify =
            |otp: &str, code: &str| VerifyContact { channel: Channel::Sms, otp_id: otp.into(), code: code.into() };
        assert!(matches!(
            p.verify_contact(&admin, &id, verify(&sent.otp_id, &code)).await,
            Err(DomainError::Forbidden(_))
        ));
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let e = p.verify_contact(&member, &id, verify(&sent.otp_id, wrong)).await.unwrap_err();
        assert!(matches!(&e, DomainError::Validation(f) if f[0].code == "mismatch"), "{e:?}");
        // Not for the other channel.
        let other = VerifyContact { channel: Channel::Email, otp_id: sent.otp_id.clone(), code: code.clone().into() };
        assert!(p.verify_contact(&member, &id, other).await.is_err());
        let confirmed = p.verify_contact(&member, &id, verify(&sent.otp_id, &code)).await.unwrap();
        assert!(confirmed.mobile_confirmed && !confirmed.email_confirmed);
        let listed = p.list_members(&admin, None, None).await.unwrap();
        assert!(listed.items.iter().any(|m| m.id == id && m.mobile_confirmed));
        // Single use; and nothing more to confirm on that channel.
        let e = p.verify_contact(&member, &id, verify(&sent.otp_id, &code)).await.unwrap_err();
        assert!(matches!(&e, DomainError::Validation(f) if f[0].code == "used"), "{e:?}");
        assert!(matches!(
            p.send_contact_code(&member, &id, ConfirmContact::default()).await,
            Err(DomainError::Conflict(_))
        ));
        // Email next, asked by the member itself.
        let sent = p.send_contact_code(&member, &id, ConfirmContact { channel: Some(Channel::Email) }).await.unwrap();
        let code = code_in(&t.notifier.last_to("li@example.com").unwrap().body);
        let both = p
            .verify_contact(
                &member,
                &id,
                VerifyContact { channel: Channel::Email, otp_id: sent.otp_id, code: code.into() },
            )
            .await
            .unwrap();
        assert!(both.mobile_confirmed && both.email_confirmed);
    }

    #[tokio::test]
    async fn others_cannot_confirm_or_have_codes_sent() {
        let t = full();
        let p = &t.platform;
        let (_, admin_a) = verified(p).await;
        let (_, admin_b) = verified(p).await;
        let Principal::Member { member_id: a_id, .. } = &admin_a else { panic!("a member") };
        assert!(matches!(
            p.send_contact_code(&admin_b, a_id, ConfirmContact::default()).await,
            Err(DomainError::NotFound(_))
        ));
        let created = p
            .create_member(
                &admin_a,
                CreateMember {
                    name: Some("王五".into()),
                    mobile: Some("13700137000".into()),
                    email: Some("w@example.com".into()),
                    role: None,
                },
            )
            .await
            .unwrap();
        let plain = p.authenticate(Some(&created.api_key)).await.unwrap();
        assert!(matches!(
            p.send_contact_code(&plain, a_id, ConfirmContact::default()).await,
            Err(DomainError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn sends_stop_at_the_enterprise_and_destination_limits() {
        use crate::ports::{Clock as _, Record};
        let t = full();
        let p = &t.platform;
        let (eid, admin) = verified(p).await;
        let Principal::Member { member_id, .. } = &admin else { panic!("a member") };
        let to = p.list_members(&admin, None, None).await.unwrap().items[0].mobile.clone();
        let now = t.clock.now();
        let [_, enterprise, destination] = otp::send_limits(member_id, &eid, &otp::destination_hash(Channel::Sms, &to));
        for (limit, says) in [(enterprise, "per enterprise"), (destination, "mobile number or email address")] {
            // The window full, as other members (or other enterprises) left it.
            let (key, _) = otp::window_key(&limit, now);
            let full = Record::new(key.clone(), serde_json::json!({ "sent": limit.max }));
            p.store.write(vec![Write::Put { record: full, condition: Condition::Always }]).await.unwrap();
            let e = p.send_contact_code(&admin, member_id, ConfirmContact::default()).await.unwrap_err();
            assert!(matches!(&e, DomainError::RateLimited { message, .. } if message.contains(says)), "{e:?}");
            assert!(t.notifier.last_to(&to).is_none(), "nothing was sent");
            p.store.write(vec![Write::Delete { key, condition: Condition::Always }]).await.unwrap();
        }
        p.send_contact_code(&admin, member_id, ConfirmContact::default()).await.unwrap();
    }

    #[tokio::test]
    async fn a_code_for_a_contact_is_worn_out_after_five_attempts() {
        let t = full();
        let p = &t.platform;
        let (_, admin) = verified(p).await;
        let Principal::Member { member_id, .. } = &admin else { panic!("a member") };
        let sent = p.send_contact_code(&admin, member_id, ConfirmContact::default()).await.unwrap();
        let to = p.list_members(&admin, None, None).await.unwrap().items[0].mobile.clone();
        let code = code_in(&t.notifier.last_to(&to).unwrap().body);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let try_code = |c: &str| VerifyContact { channel: Channel::Sms, otp_id: sent.otp_id.clone(), code: c.into() };
        for _ in 0..otp::MAX_ATTEMPTS {
            p.verify_contact(&admin, member_id, try_code(wrong)).await.unwrap_err();
        }
        let e = p.verify_contact(&admin, member_id, try_code(&code)).await.unwrap_err();
        assert!(matches!(&e, DomainError::Validation(f) if f[0].code == "attempts_exhausted"), "{e:?}");
    }
}
