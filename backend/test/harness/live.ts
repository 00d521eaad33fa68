/**
 * Socket.IO helpers for tests: connect to `/live` and wait until the first snapshot (by
 * then the server has placed the socket in its display room), collect events.
 */
import { io, type Socket } from 'socket.io-client';

/** Connects with `token` and resolves once the snapshot arrived; rejects on connect_error. */
export function connectLive(url: string, token: string, opts: { reconnection?: boolean } = {}): Promise<Socket> {
  const socket = io(`${url}/live`, { auth: { token }, transports: ['websocket'], reconnection: opts.reconnection ?? false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('snapshot', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The connect_error message for `token` (resolves '' if it connected instead). */
export function connectError(url: string, token: string): Promise<string> {
  const socket = io(`${url}/live`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err.message);
    });
    socket.once('connect', () => {
      socket.close();
      resolve('');
    });
  });
}

export function nextEvent<T>(socket: Socket, event: string, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Records every payload of `event` on the socket. */
export function record<T>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (payload: T) => seen.push(payload));
  return seen;
}

/** The snapshot a new client receives on connect (the socket is closed afterwards). */
export async function liveSnapshot<T>(url: string, token: string): Promise<T> {
  const socket = io(`${url}/live`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    return await nextEvent<T>(socket, 'snapshot');
  } finally {
    socket.close();
  }
}
