/** The benchmark's event batches and how they are posted (the load generator's and the probes'). */
import { KEY } from './server.js';

export const BATCH = 500;
const CHANNELS = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];
const TYPES = ['message', 'interaction', 'page.view', 'push.delivered', 'push.open', 'cart.add'];

/** `ts`: an event's time from its number (none: stamped on arrival, i.e. live); `idPrefix` keeps runs apart (ids are deduplicated). */
export function batch(seq: number, ts?: (n: number) => number, idPrefix = 'b'): string {
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    const n = seq * BATCH + i;
    events.push({ id: `${idPrefix}-${n}`, type: TYPES[n % TYPES.length], channel: CHANNELS[n % CHANNELS.length], community: `群${n % 50}`, member: `m${n % 20_000}`, ...(ts ? { ts: ts(n) } : {}) });
  }
  return JSON.stringify(events);
}

export async function postBatch(base: string, body: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });
  const answer = (await res.json()) as { accepted: number };
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
  return answer.accepted;
}

