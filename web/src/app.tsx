import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken, SESSION_EXPIRED } from './api';
import { t, getLang, setLang, LANGS, LANG_NAMES, type Lang, type Key } from './i18n';
import { navigate, useLocation, match } from './router';
import { Link, Loading, ErrorAlert, useId } from './components';
import type { Enterprise, Session } from './types';
import { RegisterPage } from './pages/register';
import { SignInPage } from './pages/signin';
import { OverviewPage } from './pages/overview';
import { VerificationPage } from './pages/verification';
import { MembersPage } from './pages/members';
import { SealsPage } from './pages/seals';
import { NewSealPage } from './pages/seal-new';
import { SealPage } from './pages/seal';
import { UsagePage } from './pages/usage';
import { DevelopersPage } from './pages/developers';
import { OperatorVerificationsPage, OperatorVerificationPage } from './pages/operator-verifications';
import { OperatorSealsPage, OperatorSealPage } from './pages/operator-seals';
import { NotFoundPage } from './pages/not-found';
import { ContractsPage, NewContractPage, ContractPage } from './pages/contracts';
import { VerifyPage } from './pages/verify';
import { EmbedSignPage } from './pages/embed-sign';

interface SessionState {
  session: Session | null;
  setSession: (s: Session | null) => void;
  signOut: () => Promise<void>;
}
const SessionContext = createContext<SessionState>({ session: null, setSession: () => {}, signOut: async () => {} });
export const useSession = () => useContext(SessionContext);

interface EnterpriseState {
  enterprise: Enterprise | null;
  reload: () => void;
}
const EnterpriseContext = createContext<EnterpriseState>({ enterprise: null, reload: () => {} });
export const useEnterprise = () => useContext(EnterpriseContext);

/** The member's principal (the app pages are only rendered for members). */
export function useMember() {
  const { session } = useSession();
  const p = session?.principal;
  if (!p || p.kind !== 'member') throw new Error('not a member session');
  return p;
}

export function App() {
  const [lang, setLangState] = useState<Lang>(getLang());
  const [session, setSessionState] = useState<Session | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(null);
  const { path } = useLocation();

  const setSession = (s: Session | null) => {
    setCsrfToken(s?.csrf_token ?? null);
    setSessionHint(s ? s.principal.kind : null);
    setSessionState(s);
  };

  // The table is switched before the state changes, so the render that follows reads the new one.
  const changeLang = (l: Lang) => {
    setLang(l);
    setLangState(l);
  };

  // The embedded signing page lives on its link's bearer alone: no session, no cookie.
  const embed = match('/embed/sign/:id', path);

  useEffect(() => {
    if (embed) return;
    // The cookie is HttpOnly, so only the server knows whether there is a session; on a public
    // page with no hint of an earlier sign-in there is nothing to ask (and no 401 to log).
    const isPublic = path === '/' || path === '/signin' || path === '/register' || path === '/operator' || path === '/verify';
    if (isPublic && !sessionHint()) {
      setSession(null);
      return;
    }
    api.session().then(setSession, (e) => {
      if (e instanceof ApiError && (e.status === 401 || e.status === 404)) setSession(null);
      else {
        setLoadError(e);
        setSession(null);
      }
    });
  }, []);

  // A request answered 401 mid-session (idle or absolute expiry, removed member): sign in again.
  useEffect(() => {
    const onExpired = () => {
      const kind = sessionHint();
      setSession(null);
      navigate(kind === 'operator' ? '/operator' : `/signin?next=${encodeURIComponent(location.pathname)}`);
    };
    window.addEventListener(SESSION_EXPIRED, onExpired);
    return () => window.removeEventListener(SESSION_EXPIRED, onExpired);
  }, []);

  const signOut = async () => {
    try {
      await api.signOut();
    } catch {
      /* the session may have ended already */
    }
    const wasOperator = session?.principal.kind === 'operator';
    setSession(null);
    navigate(wasOperator ? '/operator' : '/signin');
  };

  if (embed)
    return (
      <LangContext.Provider value={{ lang, setLang: changeLang }}>
        <EmbedSignPage id={embed.id} />
      </LangContext.Provider>
    );
  if (session === undefined) return <Loading />;

  return (
    <LangContext.Provider value={{ lang, setLang: changeLang }}>
      <SessionContext.Provider value={{ session, setSession, signOut }}>
        {loadError ? <ErrorAlert error={loadError} /> : null}
        <Routes path={path} session={session} />
      </SessionContext.Provider>
    </LangContext.Provider>
  );
}

const HINT = 'esign.session';
/** Whether this browser signed in before (not a secret: just whether asking the server is worth it). */
function sessionHint(): string | null {
  try {
    return localStorage.getItem(HINT);
  } catch {
    return 'unknown';
  }
}
function setSessionHint(kind: string | null) {
  try {
    if (kind) localStorage.setItem(HINT, kind);
    else localStorage.removeItem(HINT);
  } catch {
    /* no storage: the server is always asked */
  }
}

const LangContext = createContext<{ lang: Lang; setLang: (l: Lang) => void }>({ lang: 'zh-CN', setLang: () => {} });

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function Routes({ path, session }: { path: string; session: Session | null }) {
  const kind = session?.principal.kind;
  useEffect(() => {
    document.title = `${t('app.name')}`;
  });

  // Public pages.
  if (path === '/verify') return <PublicShell><VerifyPage /></PublicShell>;
  if (path === '/register') return <PublicShell><RegisterPage /></PublicShell>;
  if (path === '/signin') return kind === 'member' ? <Redirect to="/app" /> : <PublicShell><SignInPage audience="member" /></PublicShell>;
  if (path === '/operator') {
    if (kind === 'operator') return <Redirect to="/operator/verifications" />;
    return <PublicShell operator><SignInPage audience="operator" /></PublicShell>;
  }
  if (path === '/') return <Redirect to={kind === 'operator' ? '/operator/verifications' : kind === 'member' ? '/app' : '/signin'} />;

  // Operator console.
  if (path.startsWith('/operator/')) {
    if (kind !== 'operator') return <Redirect to="/operator" />;
    let m: Record<string, string> | null;
    let page: ComponentChildren;
    if (path === '/operator/verifications') page = <OperatorVerificationsPage />;
    else if ((m = match('/operator/verifications/:id', path))) page = <OperatorVerificationPage id={m.id} />;
    else if (path === '/operator/seals') page = <OperatorSealsPage />;
    else if ((m = match('/operator/seals/:id', path))) page = <OperatorSealPage id={m.id} />;
    else page = <NotFoundPage />;
    return <OperatorShell path={path}>{page}</OperatorShell>;
  }

  // The enterprise's app.
  if (path === '/app' || path.startsWith('/app/')) {
    if (kind !== 'member') return <Redirect to={`/signin?next=${encodeURIComponent(path)}`} />;
    let m: Record<string, string> | null;
    let page: ComponentChildren;
    if (path === '/app') page = <OverviewPage />;
    else if (path === '/app/verification') page = <VerificationPage />;
    else if (path === '/app/members') page = <MembersPage />;
    else if (path === '/app/seals') page = <SealsPage />;
    else if (path === '/app/seals/new') page = <NewSealPage />;
    else if ((m = match('/app/seals/:id', path))) page = <SealPage id={m.id} />;
    else if (path === '/app/contracts') page = <ContractsPage />;
    else if (path === '/app/contracts/new') page = <NewContractPage />;
    else if ((m = match('/app/contracts/:id', path))) page = <ContractPage id={m.id} />;
    else if (path === '/app/usage') page = <UsagePage />;
    else if (path === '/app/developers') page = <DevelopersPage />;
    else page = <NotFoundPage />;
    return <AppShell path={path}>{page}</AppShell>;
  }
  return <PublicShell><NotFoundPage /></PublicShell>;
}

export function LanguageSwitch() {
  const { lang, setLang } = useContext(LangContext);
  const id = useId('lang');
  return (
    <div class="lang-switch">
      <label for={id} class="sr-only">
        {t('common.language')}
      </label>
      <select id={id} value={lang} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
        {LANGS.map((l) => (
          <option value={l} key={l} lang={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
    </div>
  );
}

function Brand({ sub }: { sub?: string }) {
  return (
    <span class="brand">
      <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
        <circle cx="16" cy="16" r="13" fill="none" stroke="currentColor" stroke-width="3" />
        <path d="M16 8l2.4 5.6 6 .5-4.6 3.9 1.4 5.9L16 20.8l-5.2 3.1 1.4-5.9-4.6-3.9 6-.5z" fill="currentColor" />
      </svg>
      <span class="brand-name">{t('app.name')}</span>
      {sub ? <span class="brand-sub">{sub}</span> : null}
    </span>
  );
}

function PublicShell({ children, operator }: { children: ComponentChildren; operator?: boolean }) {
  return (
    <div class={`public${operator ? ' public-operator' : ''}`}>
      <header class="public-head">
        <Link href={operator ? '/operator' : '/signin'} class="brand-link">
          <Brand sub={operator ? t('op.console') : undefined} />
        </Link>
        <LanguageSwitch />
      </header>
      <main id="main" class="public-main">
        {children}
      </main>
      <footer class="public-foot">
        <p>
          <Link href="/verify">{t('verify.link')}</Link>
        </p>
        <p>{t('app.footer')}</p>
      </footer>
    </div>
  );
}

interface NavItem {
  href: string;
  label: Key;
  icon: string;
  adminOnly?: boolean;
}

const APP_NAV: NavItem[] = [
  { href: '/app', label: 'nav.overview', icon: 'M3 12l9-8 9 8v8a1 1 0 01-1 1h-5v-6h-6v6H4a1 1 0 01-1-1z' },
  { href: '/app/verification', label: 'nav.verification', icon: 'M12 2l8 4v6c0 5-3.5 8.5-8 10-4.5-1.5-8-5-8-10V6z', adminOnly: true },
  { href: '/app/seals', label: 'nav.seals', icon: 'M12 3a9 9 0 110 18 9 9 0 010-18zm0 5l1.2 2.8 3 .3-2.3 2 .7 3L12 14.6 9.4 16.1l.7-3-2.3-2 3-.3z' },
  { href: '/app/contracts', label: 'nav.contracts', icon: 'M7 3h7l5 5v13H7zM14 3v5h5M10 13h6M10 17h4' },
  { href: '/app/members', label: 'nav.members', icon: 'M9 11a4 4 0 100-8 4 4 0 000 8zm-7 10a7 7 0 0114 0zm15-10a3 3 0 100-6M18 21h4a6 6 0 00-4-5.6', adminOnly: true },
  { href: '/verify', label: 'nav.verify', icon: 'M9 12l2 2 4-4M12 3l8 4v5c0 5-3.5 8-8 9-4.5-1-8-4-8-9V7z' },
  { href: '/app/usage', label: 'nav.usage', icon: 'M4 20V10m6 10V4m6 16v-7m6 7H2' },
  { href: '/app/developers', label: 'nav.developers', icon: 'M8 6l-6 6 6 6m8-12l6 6-6 6' },
];

function NavIcon({ d }: { d: string }) {
  return (
    <svg class="nav-icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
      <path d={d} />
    </svg>
  );
}

function Shell(props: {
  path: string;
  nav: NavItem[];
  sub?: string;
  who: string;
  whoSub?: string;
  children: ComponentChildren;
  operator?: boolean;
}) {
  const { signOut } = useSession();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [props.path]);
  const active = (href: string) => props.path === href || (href !== '/app' && props.path.startsWith(href + '/'));
  return (
    <div class={`shell${props.operator ? ' shell-operator' : ''}`}>
      <a href="#main" class="skip">
        {t('common.skip')}
      </a>
      <header class="topbar">
        <button type="button" class="menu-btn" aria-expanded={open} aria-controls="sidenav" onClick={() => setOpen(!open)}>
          <span class="sr-only">{t('common.menu')}</span>
          <svg viewBox="0 0 24 24" aria-hidden="true" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
            <path d={open ? 'M6 6l12 12M18 6L6 18' : 'M4 7h16M4 12h16M4 17h16'} />
          </svg>
        </button>
        <Link href={props.nav[0].href} class="brand-link">
          <Brand sub={props.sub} />
        </Link>
        <div class="topbar-right">
          <LanguageSwitch />
          <div class="who">
            <span class="who-name">{props.who}</span>
            {props.whoSub ? <span class="who-sub">{props.whoSub}</span> : null}
          </div>
          <button type="button" class="btn btn-ghost signout" onClick={signOut}>
            {t('common.signOut')}
          </button>
        </div>
      </header>
      <div class="shell-body">
        <nav id="sidenav" class={`sidenav${open ? ' open' : ''}`} aria-label={t('common.mainNav')}>
          <div class="nav-who">
            <span class="who-name">{props.who}</span>
            {props.whoSub ? <span class="who-sub">{props.whoSub}</span> : null}
          </div>
          <ul>
            {props.nav.map((n) => (
              <li key={n.href}>
                <Link href={n.href} class={active(n.href) ? 'active' : ''} aria-current={active(n.href) ? 'page' : undefined}>
                  <NavIcon d={n.icon} />
                  {t(n.label)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" class="content" tabIndex={-1}>
          {props.children}
        </main>
      </div>
    </div>
  );
}

function AppShell({ path, children }: { path: string; children: ComponentChildren }) {
  const member = useMember();
  const [enterprise, setEnterprise] = useState<Enterprise | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    api.enterprise(member.enterprise_id).then(setEnterprise, setError);
  }, [member.enterprise_id, n]);
  const nav = APP_NAV.filter((i) => !i.adminOnly || member.role === 'admin');
  const roleLabel = member.role === 'admin' ? t('role.admin') : t('role.member');
  return (
    <EnterpriseContext.Provider value={{ enterprise, reload: () => setN((x) => x + 1) }}>
      <Shell path={path} nav={nav} who={member.name} whoSub={`${enterprise?.name ?? ''} · ${roleLabel}`}>
        {error ? <ErrorAlert error={error} /> : enterprise ? children : <Loading />}
      </Shell>
    </EnterpriseContext.Provider>
  );
}

const OP_NAV: NavItem[] = [
  { href: '/operator/verifications', label: 'nav.opVerifications', icon: 'M12 2l8 4v6c0 5-3.5 8.5-8 10-4.5-1.5-8-5-8-10V6z' },
  { href: '/operator/seals', label: 'nav.opSeals', icon: 'M12 3a9 9 0 110 18 9 9 0 010-18zm0 5l1.2 2.8 3 .3-2.3 2 .7 3L12 14.6 9.4 16.1l.7-3-2.3-2 3-.3z' },
];

function OperatorShell({ path, children }: { path: string; children: ComponentChildren }) {
  const { session } = useSession();
  const id = session?.principal.kind === 'operator' ? session.principal.id : '';
  return (
    <Shell path={path} nav={OP_NAV} sub={t('op.console')} who={t('op.operator')} whoSub={id} operator>
      {children}
    </Shell>
  );
}
