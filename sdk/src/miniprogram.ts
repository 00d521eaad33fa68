/**
 * @siyu-pulse/sdk/miniprogram for WeChat mini-programs: the same client over `wx.request`,
 * `wx.setStorage` / `wx.getStorageSync` and `wx.getNetworkType` /
 * `wx.onNetworkStatusChange`. Call `pulse.onHide()` from a page's onHide if the base library
 * has no `wx.onAppHide` (it is used when present). Mini-programs have no sendBeacon: on hide
 * the queue is sent at once and is in storage already, so a killed app sends it next launch.
 * The server knows the mini-program by the Referer WeChat sets (servicewechat.com/<appid>/…).
 */
import { createCore, type Platform } from './core.js';
import type { PulseClient, PulseEvent, PulseOptions } from './types.js';

export * from './types.js';

/** The parts of the `wx` API used, with WeChat's documented shapes. */
export interface WxLike {
  request(o: {
    url: string;
    method: 'POST';
    data: string;
    header: Record<string, string>;
    dataType: 'json';
    timeout: number;
    success(res: { statusCode: number; data: unknown; header: Record<string, string> }): void;
    fail(err: { errMsg: string }): void;
  }): unknown;
  setStorage(o: { key: string; data: unknown; fail?(err: { errMsg: string }): void }): void;
  getStorageSync(key: string): unknown;
  getNetworkType(o: { success(res: { networkType: string }): void }): void;
  onNetworkStatusChange(cb: (res: { isConnected: boolean; networkType: string }) => void): void;
  onAppHide?(cb: () => void): void;
}

declare const wx: WxLike;

const STORE = 'siyu_pulse_queue';

export function createPulse(o: PulseOptions, api: WxLike = wx): PulseClient & { onHide(): void } {
  let online = true;
  let leftovers = false;
  const platform: Platform = {
    load() {
      try {
        const v = api.getStorageSync(STORE);
        leftovers = Array.isArray(v) && v.length > 0;
        return leftovers ? (v as PulseEvent[]) : [];
      } catch {
        return [];
      }
    },
    save: (queue) => api.setStorage({ key: STORE, data: queue, fail() {} }),
    send(data, done) {
      api.request({
        url: `${o.endpoint.replace(/\/+$/, '')}/api/v1/events`,
        method: 'POST',
        data,
        header: { 'content-type': 'text/plain', authorization: `Bearer ${o.key}` },
        dataType: 'json',
        timeout: 30_000,
        success(res) {
          const h = res.header ?? {};
          const ra = Object.keys(h).find((k) => k.toLowerCase() === 'retry-after');
          done(res.statusCode, ra && String(h[ra]), res.data);
        },
        fail: () => done(0, undefined, null),
      });
    },
    online: () => online,
  };
  const core = createCore(o, platform);
  api.getNetworkType({
    success(res) {
      online = res.networkType !== 'none';
      // What an earlier launch left goes now; new events wait for their batch as usual.
      if (leftovers) core.flush();
    },
  });
  api.onNetworkStatusChange((res) => {
    online = res.isConnected;
    if (online) core.resume();
  });
  api.onAppHide?.(core.hide);
  return { ...core, onHide: core.hide };
}
