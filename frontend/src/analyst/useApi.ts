/**
 * REST calls for the analyst pages with the signed-in token. Errors carry the server's own
 * explanation (every 4xx answers `{ error }`), so pages can show it as is. A 401 signs the
 * page out (token rotated or revoked while it was open).
 */
import { ApiError, request, type Query } from '../http';
import { useSessionStore } from '../stores/session';

export { ApiError, withQuery, type Query } from '../http';

export function useApi() {
  const session = useSessionStore();

  async function call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    try {
      return await request<T>(method, path, { ...opts, token: session.token });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && method === 'GET') session.lost(err.message);
      throw err;
    }
  }

  return {
    get: <T>(path: string, query?: Query, signal?: AbortSignal) => call<T>('GET', path, { query, signal }),
    post: <T>(path: string, body: unknown) => call<T>('POST', path, { body }),
    del: <T>(path: string, query?: Query) => call<T>('DELETE', path, { query }),
  };
}
