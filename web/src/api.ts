// The only way the app talks to the platform: same-origin fetches to /v1 with the session cookie,
// the CSRF token on every write, problem+json turned into ApiError. No API key is ever kept here.
import type {
  AuditPage,
  Checks,
  Contract,
  ContractStatus,
  ContractSummary,
  OtpSent,
  VerificationReport,
  ContractDraft,
  ContractPlacement,
  ContractTemplate,
  TemplateView,
  DocumentDownload,
  SigningOrder,
  Enterprise,
  Grant,
  Member,
  MemberRole,
  MemberWithKey,
  Page,
  Problem,
  RegisterRequest,
  RevocationReason,
  Seal,
  SealDraft,
  SealForReview,
  SealImageCheck,
  UsableSeal,
  SealKind,
  Session,
  SignInChallenge,
  SigningSessionGrant,
  Upload,
  Usage,
  Verification,
  VerificationDetail,
  VerificationRequest,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
  EventType,
  KeyAlgorithm,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.status = problem.status;
    this.problem = problem;
  }
  /** The short name of the problem type: `urn:esign:problem:validation-failed` -> `validation-failed`. */
  get kind(): string {
    const t = this.problem.type || '';
    return t.slice(t.lastIndexOf(':') + 1).slice(t.lastIndexOf('/') + 1);
  }
  get fieldErrors() {
    return this.problem.errors ?? [];
  }
}

let csrfToken: string | null = null;
/** The embedded signing page's `ess_` bearer: in memory only, sent instead of any cookie. */
let bearer: string | null = null;

/** Dispatched on window when a signed-in request is answered 401: the session ended. */
export const SESSION_EXPIRED = 'esign:session-expired';

/** Remembers the session's CSRF token (from GET /v1/session or sign-in), in memory only. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** No cookie goes with any request from now on (the embedded signing page: a third-party frame has none). */
let cookieless = false;
export function setCookieless() {
  cookieless = true;
}

/** Makes every request carry this bearer (`Authorization`) and no cookie: the embedded signing page. */
export function setBearer(token: string | null) {
  bearer = token;
  if (token) cookieless = true;
}

type Body = { json: unknown } | { raw: Blob; type: string } | undefined;

async function request<T>(method: string, path: string, body?: Body, retried = false): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  let payload: BodyInit | undefined;
  if (body && 'json' in body) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body && 'raw' in body) {
    headers['Content-Type'] = body.type;
    payload = body.raw;
  }
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  else if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/v1${path}`, { method, headers, body: payload, credentials: cookieless ? 'omit' : 'same-origin' });
  } catch {
    throw new ApiError({ type: 'urn:esign:problem:network', title: 'network', status: 0 });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (res.status === 401 && csrfToken && !path.startsWith('/session')) {
    window.dispatchEvent(new Event(SESSION_EXPIRED));
  }
  if (!res.ok) {
    const p = (data && typeof data === 'object' ? data : {}) as Partial<Problem>;
    // A CSRF token from before a sign-in in another tab: take the session's current one, once.
    if (res.status === 403 && !retried && !bearer && p.type?.endsWith(':csrf')) {
      const fresh = await fetch('/v1/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (fresh.ok) {
        csrfToken = ((await fresh.json()) as { csrf_token?: string }).csrf_token ?? null;
        return request<T>(method, path, body, true);
      }
    }
    throw new ApiError({ ...p, type: p.type ?? 'about:blank', title: p.title ?? res.statusText, status: res.status } as Problem);
  }
  return data as T;
}

const get = <T>(path: string) => request<T>('GET', path);
const post = <T>(path: string, json?: unknown) => request<T>('POST', path, json === undefined ? undefined : { json });
const put = <T>(path: string, json?: unknown) => request<T>('PUT', path, json === undefined ? undefined : { json });
const del = <T>(path: string) => request<T>('DELETE', path);
const q = encodeURIComponent;

/** PUTs a file to a presigned S3 URL with exactly the headers the platform bound it to. */
export async function uploadTo(upload: Upload, file: Blob): Promise<void> {
  let res: Response;
  try {
    res = await fetch(upload.upload_url, { method: 'PUT', headers: upload.headers, body: file, credentials: 'omit' });
  } catch {
    throw new ApiError({ type: 'urn:esign:problem:upload-failed', title: 'upload failed', status: 0 });
  }
  if (!res.ok) throw new ApiError({ type: 'urn:esign:problem:upload-failed', title: 'upload failed', status: res.status });
}

/** Fetches a presigned GET URL as a blob: URL (the CSP lets images come only from self, data: and blob:). */
export async function blobUrl(url: string): Promise<{ url: string; blob: Blob }> {
  const res = await fetch(url, { credentials: 'omit' });
  if (!res.ok) throw new ApiError({ type: 'urn:esign:problem:download-failed', title: 'download failed', status: res.status });
  const blob = await res.blob();
  return { url: URL.createObjectURL(blob), blob };
}

export const api = {
  // sessions
  session: () => get<Session>('/session'),
  startSignIn: (identifier: string, audience: 'member' | 'operator') =>
    post<SignInChallenge>('/sessions/code', { identifier, audience }),
  createSession: (challenge_id: string, code: string, member_id?: string) =>
    post<Session>('/sessions', member_id ? { challenge_id, code, member_id } : { challenge_id, code }),
  signOut: () => del<void>('/session'),

  // registration and real-name authentication
  register: (body: RegisterRequest) => post<{ enterprise: Enterprise }>('/enterprises', body),
  checkRegistration: (body: Partial<RegisterRequest>) => post<Checks>('/checks/registration', body),
  enterprise: (id: string) => get<Enterprise>(`/enterprises/${q(id)}`),
  enterpriseAudit: (id: string, cursor?: string) =>
    get<AuditPage>(`/enterprises/${q(id)}/audit${cursor ? `?cursor=${q(cursor)}` : ''}`),
  letterUpload: (enterpriseId: string, content_type: string, size: number) =>
    post<Upload>(`/enterprises/${q(enterpriseId)}/verification/letter`, { content_type, size }),
  submitVerification: (enterpriseId: string, body: VerificationRequest) =>
    post<Enterprise>(`/enterprises/${q(enterpriseId)}/verification`, body),
  checkVerification: (body: unknown) => post<Checks>('/checks/verification', body),
  lookupEnterprise: (uscc: string) => get<{ id: string; name: string }>(`/enterprises/lookup?uscc=${q(uscc)}`),

  // members
  members: (cursor?: string) => get<Page<Member>>(`/members?limit=100${cursor ? `&cursor=${q(cursor)}` : ''}`),
  addMember: (body: { name: string; mobile: string; email: string; role: MemberRole }) =>
    post<MemberWithKey>('/members', body),
  removeMember: (id: string) => del<void>(`/members/${q(id)}`),
  rotateKey: (id: string) => post<MemberWithKey>(`/members/${q(id)}/key`),

  // seals
  seals: () => get<Page<Seal>>('/seals?limit=100'),
  usableSeals: () => get<{ items: UsableSeal[] }>('/seals?usable=true'),
  seal: (id: string) => get<Seal>(`/seals/${q(id)}`),
  createSeal: (body: { name: string; kind: SealKind; key_algorithm: KeyAlgorithm; image_size?: number; generate?: boolean }) =>
    post<SealDraft>('/seals', body),
  newSealImage: (id: string, body: { image_size?: number; generate?: boolean }) =>
    post<SealDraft>(`/seals/${q(id)}/image`, body),
  submitSeal: (id: string) => post<Seal>(`/seals/${q(id)}/submit`),
  sealAction: (id: string, action: 'suspend' | 'resume') => post<Seal>(`/seals/${q(id)}/${action}`),
  /** Revokes for good; the reason is published for its certificates (CRL and OCSP). */
  revokeSeal: (id: string, reason: RevocationReason) => post<Seal>(`/seals/${q(id)}/revoke`, { reason }),
  sealAudit: (id: string) => get<AuditPage>(`/seals/${q(id)}/audit`),
  checkSealImage: (png: Blob) => request<SealImageCheck>('POST', '/checks/seal-image', { raw: png, type: 'image/png' }),
  grants: (sealId: string) => get<Page<Grant>>(`/seals/${q(sealId)}/grants?limit=100`),
  grant: (sealId: string, memberId: string, expires_at: string | null) =>
    put<Grant>(`/seals/${q(sealId)}/grants/${q(memberId)}`, expires_at ? { expires_at } : {}),
  revokeGrant: (sealId: string, memberId: string) => del<void>(`/seals/${q(sealId)}/grants/${q(memberId)}`),

  // contracts
  createContract: (body: { title: string; document_size: number; expires_at?: string }) => post<ContractDraft>('/contracts', body),
  contracts: (status?: ContractStatus, cursor?: string) => {
    const p = new URLSearchParams({ limit: '20' });
    if (status) p.set('status', status);
    if (cursor) p.set('cursor', cursor);
    return get<Page<ContractSummary>>(`/contracts?${p}`);
  },
  contract: (id: string) => get<Contract>(`/contracts/${q(id)}`),
  /** Exchanges an embedded signing link's secret, once, for its bearer (no cookie, no CSRF). */
  exchangeSigningSession: (token: string) => post<SigningSessionGrant>('/signing-sessions/exchange', { token }),
  setParties: (id: string, order: SigningOrder, enterpriseIds: string[]) =>
    put<Contract>(`/contracts/${q(id)}/parties`, { order, parties: enterpriseIds.map((enterprise_id) => ({ enterprise_id })) }),
  setPlacements: (id: string, placements: ContractPlacement[]) => put<Contract>(`/contracts/${q(id)}/placements`, { placements }),
  createContractFromTemplate: (body: { title: string; template_id: string; use_template_document?: boolean; document_size?: number }) =>
    post<{ contract: Contract; upload?: Upload }>('/contracts', body),
  templates: () => get<Page<ContractTemplate>>('/templates?limit=100'),
  template: (id: string) => get<TemplateView>(`/templates/${q(id)}`),
  createTemplate: (body: { name: string; contract_id: string; roles?: string[] }) => post<ContractTemplate>('/templates', body),
  deleteTemplate: (id: string) => del<void>(`/templates/${q(id)}`),
  openContract: (id: string) => post<Contract>(`/contracts/${q(id)}/open`),
  contractDocument: (id: string) => get<DocumentDownload>(`/contracts/${q(id)}/document`),
  contractAudit: (id: string) => get<AuditPage>(`/contracts/${q(id)}/audit?limit=100`),
  contractOtp: (id: string, channel: 'sms' | 'email') => post<OtpSent>(`/contracts/${q(id)}/otp`, { channel }),
  signContract: (id: string, seal_id: string, otp_id: string, code: string) =>
    post<Contract>(`/contracts/${q(id)}/sign`, { seal_id, otp_id, code }),
  verifyContract: (contract_id: string) => post<VerificationReport>('/verify', { contract_id }),
  verifyPdf: (pdf: Blob) => request<VerificationReport>('POST', '/verify', { raw: pdf, type: 'application/pdf' }),

  // usage, integrations
  usage: (month: string) => get<Usage>(`/usage?month=${q(month)}`),
  webhooks: () => get<Page<Webhook>>('/webhooks?limit=100'),
  createWebhook: (body: { url: string; event_types: EventType[]; description?: string }) =>
    post<WebhookWithSecret>('/webhooks', body),
  deleteWebhook: (id: string) => del<void>(`/webhooks/${q(id)}`),
  rotateWebhook: (id: string) => post<WebhookWithSecret>(`/webhooks/${q(id)}/rotate`),
  deliveries: (id: string) => get<Page<WebhookDelivery>>(`/webhooks/${q(id)}/deliveries?limit=50`),
  redeliver: (id: string, deliveryId: string) =>
    post<WebhookDelivery>(`/webhooks/${q(id)}/deliveries/${q(deliveryId)}/redeliver`),

  // operators
  verificationQueue: (status: string) => get<Page<Verification>>(`/operator/verifications?status=${q(status)}&limit=100`),
  verification: (id: string) => get<VerificationDetail>(`/operator/verifications/${q(id)}`),
  decideVerification: (id: string, decision: 'approve' | 'reject', reason?: string) =>
    post<Verification>(`/operator/verifications/${q(id)}/decision`, reason ? { decision, reason } : { decision }),
  sealQueue: () => get<Page<SealForReview>>('/operator/seals?limit=100'),
  decideSeal: (id: string, decision: 'approve' | 'reject', reason?: string) =>
    post<Seal>(`/operator/seals/${q(id)}/decision`, reason ? { decision, reason } : { decision }),
};
