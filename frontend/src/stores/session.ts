/**
 * Who is signed in on the analyst pages. The token lives in sessionStorage (gone when the
 * tab closes, never in the URL, never logged); `/api/v1/session` says what it may do.
 *
 * A DingTalk / WeCom message carries a signed read-only link (`?link=pl1.…`): it signs the
 * tab in as a reader until it expires, and is taken out of the address bar at once. A token
 * the tab already holds (an admin who signed in before) is kept rather than downgraded.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError, request } from '../http';

const STORAGE_KEY = 'siyu-pulse.token';

export type SessionState = 'checking' | 'signed-in' | 'needs-sign-in' | 'link-refused';
export type LinkRefusal = 'expired' | 'tampered';

interface SessionAnswer {
  scopes: ('read' | 'admin')[];
  readOpen: boolean;
  adminEnabled: boolean;
  timezone: string;
  linkExpiresAt?: number;
  /** Embedded demo: the pages carry the 演示数据 label. */
  demo?: boolean;
}

const isLinkToken = (t: string | undefined) => t !== undefined && t.startsWith('pl1.');

/** The signed link in the address bar, removed from it (and from history) once read. */
function takeLinkFromUrl(): string | undefined {
  try {
    const url = new URL(window.location.href);
    const link = url.searchParams.get('link');
    if (!link) return undefined;
    url.searchParams.delete('link');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return link;
  } catch {
    return undefined;
  }
}

function stored(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: sign in again after a reload
  }
}

function store(token: string | undefined): void {
  try {
    if (token) sessionStorage.setItem(STORAGE_KEY, token);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage disabled: the token lives in memory for this page only */
  }
}

async function ask(token: string | undefined): Promise<{ ok: true; answer: SessionAnswer } | { ok: false; error: string; status: number; link?: LinkRefusal }> {
  try {
    return { ok: true, answer: await request<SessionAnswer>('GET', '/api/v1/session', { token }) };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const link = (err.body as { link?: LinkRefusal } | null)?.link;
    return { ok: false, error: err.message, status: err.status, ...(link ? { link } : {}) };
  }
}

export const useSessionStore = defineStore('session', () => {
  const token = ref<string | undefined>(stored());
  const state = ref<SessionState>('checking');
  const scopes = ref<('read' | 'admin')[]>([]);
  const readOpen = ref(false);
  const adminEnabled = ref(false);
  /** The business time zone from the server (Asia/Shanghai unless configured otherwise). */
  const timezone = ref('Asia/Shanghai');
  /** The server runs the embedded demo (simulated traffic). */
  const demo = ref(false);
  /** Why the last sign-in failed (shown on the form). */
  const problem = ref<string | null>(null);
  /** Why the signed link this tab was opened with was refused. */
  const linkRefusal = ref<LinkRefusal | null>(null);
  /** Signed in through a signed link: when it stops working (epoch ms). */
  const linkExpiresAt = ref<number | null>(null);

  const isAdmin = computed(() => scopes.value.includes('admin'));
  /** Signed in with a token of our own (not just open reading). */
  const hasToken = computed(() => token.value !== undefined);

  function apply(answer: SessionAnswer): void {
    scopes.value = answer.scopes;
    readOpen.value = answer.readOpen;
    adminEnabled.value = answer.adminEnabled;
    timezone.value = answer.timezone;
    linkExpiresAt.value = answer.linkExpiresAt ?? null;
    demo.value = answer.demo === true;
    state.value = 'signed-in';
  }

  /** Checks the stored token (or open reading) when a page opens. */
  async function check(): Promise<void> {
    state.value = 'checking';
    const link = takeLinkFromUrl();
    if (link && (token.value === undefined || isLinkToken(token.value))) {
      token.value = link;
      store(link);
    }
    try {
      const r = await ask(token.value);
      if (r.ok) return apply(r.answer);
      if (r.link && isLinkToken(token.value)) {
        // Say why instead of a bare sign-in form: expired, or altered / revoked.
        token.value = undefined;
        store(undefined);
        linkRefusal.value = r.link;
        problem.value = null;
        state.value = 'link-refused';
        return;
      }
      if (token.value) {
        // A stored token that stopped working (rotated, revoked): forget it and ask again.
        token.value = undefined;
        store(undefined);
        problem.value = r.error;
        const open = await ask(undefined);
        if (open.ok) return apply(open.answer);
      }
    } catch (err) {
      problem.value = `无法连接服务器 / cannot reach the server: ${(err as Error).message}`;
    }
    state.value = 'needs-sign-in';
  }

  async function signIn(candidate: string): Promise<boolean> {
    const t = candidate.trim();
    if (!t) {
      problem.value = '请输入令牌 / enter a token';
      return false;
    }
    try {
      const r = await ask(t);
      if (!r.ok) {
        problem.value = r.error;
        return false;
      }
      token.value = t;
      store(t);
      problem.value = null;
      linkRefusal.value = null;
      apply(r.answer);
      return true;
    } catch (err) {
      problem.value = `无法连接服务器 / cannot reach the server: ${(err as Error).message}`;
      return false;
    }
  }

  async function signOut(): Promise<void> {
    token.value = undefined;
    store(undefined);
    scopes.value = [];
    problem.value = null;
    await check();
  }

  /** An API call answered 401: the token was rotated or revoked while the page was open. */
  function lost(message: string): void {
    token.value = undefined;
    store(undefined);
    scopes.value = [];
    problem.value = message;
    void check(); // open reading (demo) carries on as a reader; otherwise the form shows
  }

  return { token, state, scopes, readOpen, adminEnabled, timezone, demo, problem, linkRefusal, linkExpiresAt, isAdmin, hasToken, check, signIn, signOut, lost };
});
