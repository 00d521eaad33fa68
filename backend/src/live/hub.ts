/**
 * The live hub: Socket.IO namespace `/live`. Every client gets a full snapshot on connect
 * and after any reconnect that connection-state recovery could not restore; then `tick`s,
 * each computed once and broadcast: one a second at least (the heartbeat), and sooner when
 * new events were counted (`changed()`), no closer together than `pushMs`, so an event
 * reaches the walls within about `pushMs` instead of waiting up to a second, and a busy
 * stream of events still costs at most 1000 / pushMs ticks a second. Sockets
 * opened with a display token join that display's room, so remote control can address
 * one display and a revoked token's sockets can be dropped at once.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import type { WallControl } from '@siyu-pulse/contracts/live';
import type { SnapshotService } from './snapshot.js';

export type LiveGrant = { ok: true; displayId: string | null } | { ok: false; message: string };

export interface LiveHubOptions {
  snapshots: SnapshotService;
  /** Whether the handshake token may read, and as which display. */
  authorize(token: string | undefined): LiveGrant;
  onClientCount(n: number): void;
  /** A display's socket connected or disconnected (its lastSeenAt). */
  onDisplaySeen?(displayId: string): void;
  /** The heartbeat: a tick at least this often (default 1000). */
  tickMs?: number;
  /**
   * After `changed()`, the next tick comes this long after the previous one (default 250;
   * at most tickMs). Many changes in between are one tick.
   */
  pushMs?: number;
  /**
   * Cluster mode: the Socket.IO adapter shared by every node (Redis Streams). Control
   * messages, revocations and alert events then reach the walls of every node; each node
   * still sends its own ticks and snapshots to its own sockets only.
   */
  adapter?: ServerOptions['adapter'];
}

const displayRoom = (id: string) => `display:${id}`;

function handshakeToken(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as { token?: unknown };
  if (typeof auth.token === 'string') return auth.token;
  const q = socket.handshake.query.token;
  return typeof q === 'string' ? q : undefined;
}

export class LiveHub {
  readonly io: Server;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  private readonly pushMs: number;
  private lastTickAt = 0;
  /** When the next tick is due (Infinity: not started or closed). */
  private nextTickAt = Number.POSITIVE_INFINITY;
  private running = false;

  constructor(server: HttpServer, private readonly opts: LiveHubOptions) {
    this.tickMs = opts.tickMs ?? 1000;
    this.pushMs = Math.min(opts.pushMs ?? 250, this.tickMs);
    this.io = new Server(server, {
      serveClient: false,
      // Brief network blips replay missed ticks instead of forcing a full snapshot.
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true },
      cors: { origin: false },
      ...(opts.adapter ? { adapter: opts.adapter } : {}),
    });
    const live = this.io.of('/live');
    live.use((socket, next) => {
      const grant = opts.authorize(handshakeToken(socket));
      if (grant.ok) next();
      else next(new Error(grant.message));
    });
    live.on('connection', (socket) => {
      // Recovered sessions skip the middleware: check again, or a token revoked while
      // its wall was briefly offline would slip back in (revocation is the only grant
      // that changes at runtime).
      const grant = opts.authorize(handshakeToken(socket));
      if (!grant.ok) {
        socket.emit('control', { action: 'revoked' } satisfies WallControl);
        socket.disconnect();
        return;
      }
      const displayId = grant.displayId;
      if (displayId !== null) {
        void socket.join(displayRoom(displayId));
        opts.onDisplaySeen?.(displayId);
      }
      if (!socket.recovered) socket.emit('snapshot', opts.snapshots.snapshot());
      opts.onClientCount(live.sockets.size);
      socket.on('disconnect', () => {
        opts.onClientCount(live.sockets.size);
        if (displayId !== null) opts.onDisplaySeen?.(displayId);
      });
    });
  }

  /** Sockets of one display now connected. */
  displayClients(displayId: string): number {
    return this.io.of('/live').adapter.rooms.get(displayRoom(displayId))?.size ?? 0;
  }

  /**
   * Sends a control message to every live client, or to one display's sockets, on every
   * node of a cluster. Resolves with how many sockets it was sent to (all nodes).
   */
  async control(message: WallControl, targetDisplayId?: string): Promise<number> {
    const live = this.io.of('/live');
    const to = targetDisplayId === undefined ? live : live.to(displayRoom(targetDisplayId));
    const n = (await to.fetchSockets()).length;
    to.emit('control', message);
    return n;
  }

  /**
   * Tells a revoked display's sockets why, then disconnects them (on every node). A
   * server-side disconnect is final for the client (no automatic reconnect). Returns how
   * many of this node's sockets were dropped.
   */
  revokeDisplay(displayId: string): number {
    const n = this.displayClients(displayId);
    const room = this.io.of('/live').to(displayRoom(displayId));
    room.emit('control', { action: 'revoked' } satisfies WallControl);
    this.io.of('/live').in(displayRoom(displayId)).disconnectSockets();
    return n;
  }

  /** Sends an event to every live client (alert state changes, remote control). */
  broadcast(event: string, payload: unknown): void {
    this.io.of('/live').emit(event, payload);
  }

  start(): void {
    this.running = true;
    this.schedule(this.tickMs);
  }

  /**
   * New events were counted: the next tick comes `pushMs` after the last one (now, if that
   * is past) rather than at the heartbeat. Cheap enough to call on every journal commit.
   */
  changed(): void {
    if (!this.running) return;
    const due = this.lastTickAt + this.pushMs;
    if (due >= this.nextTickAt) return;
    this.schedule(Math.max(0, due - Date.now()));
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.nextTickAt = Date.now() + delayMs;
    this.timer = setTimeout(() => this.sendTick(), delayMs);
    this.timer.unref();
  }

  private sendTick(): void {
    this.timer = undefined;
    this.lastTickAt = Date.now();
    // Scheduled first: a tick that throws must not stop the heartbeat.
    this.schedule(this.tickMs);
    // `local`: in a cluster every node ticks its own sockets (a wall gets its node's ticks, not one per node).
    this.io.of('/live').local.emit('tick', this.opts.snapshots.tick());
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextTickAt = Number.POSITIVE_INFINITY;
    this.io.of('/live').disconnectSockets(true);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }
}
