/**
 * REST calls for the analyst pages with the signed-in token. Errors carry the server's own
 * explanation (every 4xx answers `{ error }`), so pages can show it as is. A 401 signs the
 * page out (token rotated or revoked while it was open).
 */
import { useSessionStore } from '../stores/session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export function useApi() {
  const session = useSessionStore();

  async function call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (session.token) headers.Authorization = `Bearer ${session.token}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      cache: 'no-store',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      const message = (body as { error?: string } | null)?.error ?? `HTTP ${res.status}`;
      if (res.status === 401 && method === 'GET') session.lost(message);
      throw new ApiError(res.status, message);
    }
    return body as T;
  }

  return {
    get: <T>(path: string, query?: Query, signal?: AbortSignal) => call<T>('GET', path, { query, signal }),
    post: <T>(path: string, body: unknown) => call<T>('POST', path, { body }),
    del: <T>(path: string, query?: Query) => call<T>('DELETE', path, { query }),
  };
}
