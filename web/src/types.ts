// The API's shapes, as infra/openapi.yaml describes them (only what the app reads or sends).

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  accounts?: AccountChoice[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type MemberRole = 'admin' | 'member';

export type Principal =
  | { kind: 'member'; member_id: string; enterprise_id: string; role: MemberRole; name: string }
  | { kind: 'operator'; id: string };

export interface Session {
  principal: Principal;
  csrf_token: string;
  expires_at: string;
  idle_expires_at: string;
}

export interface SignInChallenge {
  challenge_id: string;
  channel: 'sms' | 'email';
  expires_at: string;
  resend_after: string;
}

export interface AccountChoice {
  member_id: string;
  enterprise_id: string;
  enterprise_name: string;
}

export type EnterpriseStatus = 'registered' | 'pending_review' | 'verified' | 'rejected';
export type VerificationStatus = 'pending_review' | 'approved' | 'rejected';

export interface VerificationSummary {
  id: string;
  status: VerificationStatus;
  submitted_at: string;
  decided_at: string | null;
  reason: string | null;
}

export interface Enterprise {
  id: string;
  name: string;
  contact_email: string;
  contact_phone: string | null;
  status: EnterpriseStatus;
  verification: VerificationSummary | null;
  created_at: string;
  updated_at: string;
}

export interface Member {
  id: string;
  enterprise_id: string;
  name: string;
  mobile: string;
  email: string;
  role: MemberRole;
  created_at: string;
  mobile_confirmed: boolean;
  email_confirmed: boolean;
}

export interface MemberWithKey {
  member: Member;
  api_key: string;
}

export interface RegisterRequest {
  name: string;
  contact_email: string;
  contact_phone?: string;
  admin: { name: string; mobile: string; email: string };
}

export interface Upload {
  file_id: string;
  upload_url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expires_at: string;
  max_bytes: number;
}

export interface VerificationRequest {
  company_name: string;
  uscc: string;
  organization_code: string;
  legal_representative: { name: string; id_number: string };
  administrator: { name: string; id_number: string; mobile: string; is_legal_representative: boolean };
  authorization_letter_file_id?: string;
}

export interface Verification {
  id: string;
  enterprise_id: string;
  status: VerificationStatus;
  company_name: string;
  uscc: string;
  organization_code: string;
  legal_representative: { name: string; id_number: string };
  administrator: { name: string; id_number: string; mobile: string; is_legal_representative: boolean };
  authorization_letter_file_id: string | null;
  submitted_at: string;
  decided_at: string | null;
  decided_by: string | null;
  reason: string | null;
  uscc_verified_by?: string | null;
}

export interface VerificationDetail extends Verification {
  authorization_letter_url: string | null;
}

export type SealKind = 'official' | 'contract' | 'finance' | 'invoice' | 'personnel';
export type KeyAlgorithm = 'ecdsa_p256' | 'rsa_2048';
export type SealStatus = 'draft' | 'pending_review' | 'active' | 'rejected' | 'suspended' | 'revoked';
/** Why a seal is revoked: the RFC 5280 reason published for its certificates (`POST /v1/seals/{id}/revoke`). */
export type RevocationReason = 'unspecified' | 'key_compromise' | 'affiliation_changed' | 'superseded' | 'cessation_of_operation';
export const REVOCATION_REASONS: RevocationReason[] = ['unspecified', 'key_compromise', 'affiliation_changed', 'superseded', 'cessation_of_operation'];

export interface Seal {
  id: string;
  enterprise_id: string;
  name: string;
  kind: SealKind;
  key_algorithm: KeyAlgorithm;
  status: SealStatus;
  pending_image_file_id: string | null;
  image: { file_id: string; width: number; height: number } | null;
  certificate: { serial: string; not_before: string; not_after: string; pem: string; chain_pem: string } | null;
  review: { decision: 'approved' | 'rejected'; decided_at: string; decided_by: string; reason: string | null } | null;
  created_at: string;
  updated_at: string;
}

/** A seal the member may sign with now (`GET /v1/seals?usable=true`), with a short-lived link to its image. */
export interface UsableSeal extends Seal {
  grant_expires_at: string | null;
  image_url: string;
  image_url_expires_at: string;
}

export interface SealDraft {
  seal: Seal;
  upload: Upload | null;
}

export interface SealForReview extends Seal {
  image_url: string | null;
  image_sha256?: string;
}

export interface SealImageCheck {
  errors: FieldError[];
  width_px?: number;
  height_px?: number;
  diameter_mm?: number;
}

export interface Checks {
  errors: FieldError[];
}

export interface Grant {
  seal_id: string;
  member_id: string;
  expires_at: string | null;
  granted_by: string;
  granted_at: string;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: { kind: 'member' | 'operator' | 'system' | 'anonymous'; id: string | null };
  action: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditPage extends Page<AuditEvent> {
  chain_intact: boolean;
}

export interface Usage {
  enterprise_id: string;
  month: string;
  signatures: number;
  codes_sent: number;
  bytes_stored: number;
}

export const EVENT_TYPES = [
  'enterprise.verification.approved',
  'enterprise.verification.rejected',
  'seal.approved',
  'seal.rejected',
  'seal.revoked',
  'seal.grant.created',
  'seal.grant.revoked',
  'contract.signed',
  'contract.completed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface Webhook {
  id: string;
  enterprise_id: string;
  url: string;
  event_types: EventType[];
  description: string | null;
  created_at: string;
  previous_secret_expires_at?: string | null;
}

export interface WebhookWithSecret {
  webhook: Webhook;
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: EventType;
  status: 'pending' | 'delivered' | 'failed';
  attempt_count: number;
  attempts: { number: number; at: string; status_code?: number | null; error?: string | null; duration_ms: number }[];
  next_attempt_at?: string | null;
  created_at: string;
  updated_at: string;
}

// ---- contracts

export type ContractStatus = 'draft' | 'signing' | 'completed' | 'expired';
export type SigningOrder = 'sequential' | 'parallel';
export type PlacementKind = 'signature' | 'signing_date';

export interface ContractParty {
  enterprise_id: string;
  enterprise_name: string;
  signed: boolean;
}

/** Points from the top-left of the page as a viewer shows it (after /Rotate and the CropBox). */
export interface PagePlacement {
  kind: PlacementKind;
  party: string;
  /** 1-based */
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A party's cross-page seal (骑缝章): the seal, `size` points square, cut into one vertical strip per
 * page of first_page..last_page (every page when absent), each at the right edge of its page as
 * displayed, the seal's top `y` points below the top of the page.
 */
export interface CrossPagePlacement {
  kind: 'cross_page';
  party: string;
  first_page?: number | null;
  last_page?: number | null;
  y: number;
  size?: number;
}

export type ContractPlacement = PagePlacement | CrossPagePlacement;

export const isPagePlacement = (p: ContractPlacement): p is PagePlacement => p.kind !== 'cross_page';

export interface ContractRevision {
  number: number;
  size: number;
  sha256: string;
  party: string | null;
  created_at: string;
}

export interface ContractSignature {
  party: string;
  enterprise_name: string;
  member_id: string;
  seal_id: string;
  seal_name: string;
  certificate_serial: string;
  certificate_serials: string[];
  signed_at: string;
  revision: number;
  acts: number;
}

export interface Contract {
  id: string;
  title: string;
  initiator_id: string;
  created_by: string;
  status: ContractStatus;
  order: SigningOrder;
  expires_at: string | null;
  parties: ContractParty[];
  placements: ContractPlacement[];
  page_count: number | null;
  revisions: ContractRevision[];
  signatures: ContractSignature[];
  created_at: string;
  updated_at: string;
  /** The template it started from, with its roles in party order. */
  template?: { id: string; name: string; roles: string[] } | null;
}

/** A contract template: a document, its layout and its placements by party role (index into `roles`). */
export interface ContractTemplate {
  id: string;
  enterprise_id: string;
  name: string;
  roles: string[];
  placements: (Record<string, unknown> & { role: number; kind: string })[];
  document: { sha256: string; size: number; pages: { width: number; height: number }[] };
  source_contract_id: string;
  created_by: string;
  created_at: string;
}

export interface TemplateView extends ContractTemplate {
  document_url: string;
  document_url_expires_at: string;
}

/** One contract as `GET /v1/contracts` lists it. */
export interface ContractSummary {
  id: string;
  title: string;
  status: ContractStatus;
  order: SigningOrder;
  initiator_id: string;
  parties: { enterprise_id: string; name: string; status: 'pending' | 'signed' }[];
  /** Whose turn it is in a contract signed in order; null otherwise. */
  next_signer: { enterprise_id: string; name: string } | null;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

/** `POST /v1/signing-sessions/exchange`: the embedded signing page's bearer, kept in memory only. */
export interface SigningSessionGrant {
  access_token: string;
  expires_at: string;
  contract_id: string;
  enterprise_id: string;
  member_id: string;
  return_url: string | null;
  parent_origin: string | null;
}

export interface ContractDraft {
  contract: Contract;
  upload: Upload;
}

export interface DocumentDownload {
  url: string;
  method: string;
  revision: number;
  size: number;
  sha256: string;
  expires_at: string;
}

export interface OtpSent {
  otp_id: string;
  channel: 'sms' | 'email';
  sent_to: string;
  expires_at: string;
}

export interface KnownSeal {
  seal_id: string;
  seal_name: string;
  status: string;
  enterprise_id: string;
  enterprise_name: string;
  uscc: string;
}

/** One signature of a verification report: the engine's findings and the platform seal behind it. */
export interface SignatureFinding {
  field: string;
  signer: string | null;
  signer_serial: string | null;
  chain: string[];
  signing_time: string | null;
  time_source: 'timestamp' | 'claimed' | 'none';
  coverage: string;
  covers_whole_document: boolean;
  digest_valid: boolean;
  signature_valid: boolean;
  timestamp_valid: boolean | null;
  trusted: boolean | null;
  disallowed_changes: string[];
  problems: string[];
  intact: boolean;
  seal: KnownSeal | null;
  /** Pages carrying this signature's stamps and dates, and its cross-page seal's strips. */
  stamp_pages?: number[];
  strip_pages?: number[];
  /** PAdES baseline level reached: B-B, B-T, B-LT, B-LTA ("none" when not intact). */
  level?: string;
  /** The validation data embedded for it (null when the file has none). */
  validation_data?: ValidationDataFinding | null;
  /** The signer certificate's status at the signing time by the embedded data (null: nothing embedded). */
  revocation?: RevocationFinding | null;
}

/** The certificates, OCSP answers and CRLs a signature's check relies on, as embedded. */
export interface ValidationDataFinding {
  in_dss: boolean;
  vri: boolean;
  complete: boolean;
  missing: string[];
}

export type RevocationStatus = 'good' | 'revoked_after_signing' | 'revoked_before_signing' | 'unknown';

export interface RevocationFinding {
  status: RevocationStatus;
  /** The moment judged: the time stamp's, else the claimed signing time. */
  at: string;
  /** Where the status comes from (OCSP, CRL and their times), in the engine's words. */
  source: string;
  /** What it means, in the engine's words. */
  meaning: string;
  chain: { subject: string; status: RevocationStatus; source: string }[];
}

/** A document time stamp (PAdES B-LTA): an RFC 3161 token over the file as it was then. */
export interface DocTimestampFinding {
  field: string;
  time: string | null;
  tsa: string | null;
  coverage: string;
  covers_whole_document: boolean;
  token_valid: boolean;
  trusted: boolean | null;
  validation_data_complete: boolean;
  missing_validation_data: string[];
  disallowed_changes: string[];
  problems: string[];
  intact: boolean;
}

export interface VerificationReport {
  valid: boolean;
  revisions: number;
  signatures: SignatureFinding[];
  document_timestamps?: DocTimestampFinding[];
}
