/**
 * REST access. The read token comes from the page URL (`?token=…`) and is sent as
 * `Authorization: Bearer …`; on loopback demo mode there is none. The token is never logged.
 */
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import type { KpiDef, Label } from '@siyu-pulse/contracts/catalogue';
import { request } from './http';

export interface KpiGroup {
  id: string;
  label: Label;
  note?: Label;
}
export interface KpiCatalogue {
  groups: KpiGroup[];
  kpis: KpiDef[];
  /** Channel id → name (built-in and PULSE_CHANNEL_NAMES); absent from an older server. */
  channels?: Record<string, Label>;
}

export function tokenFromUrl(search: string): string | undefined {
  const t = new URLSearchParams(search).get('token');
  return t ? t : undefined;
}

export const getJson = <T>(path: string, token: string | undefined, signal?: AbortSignal): Promise<T> => request<T>('GET', path, { token, ...(signal ? { signal } : {}) });

/** `GET /api/v1/boards`: unknown JSON, validated by `normalizeBoards`. */
export const fetchBoards = (token: string | undefined, signal?: AbortSignal) => getJson<unknown>('/api/v1/boards', token, signal);
export const fetchCatalogue = (token: string | undefined, signal?: AbortSignal) => getJson<KpiCatalogue>('/api/v1/kpis', token, signal);
export const fetchSnapshot = (token: string | undefined, signal?: AbortSignal) => getJson<LiveSnapshot>('/api/v1/snapshot', token, signal);
