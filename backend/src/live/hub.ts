/**
 * The live hub: Socket.IO namespace `/live`. Every client gets a full snapshot on connect
 * and after any reconnect that connection-state recovery could not restore; then one
 * `tick` a second, computed once and broadcast (it doubles as the heartbeat).
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { SnapshotService } from './snapshot.js';

export interface LiveHubOptions {
  snapshots: SnapshotService;
  /** Returns true when the handshake token may read. */
  authorize(token: string | undefined): boolean;
  onClientCount(n: number): void;
  tickMs?: number;
}

export class LiveHub {
  readonly io: Server;
  private timer: NodeJS.Timeout | undefined;

  constructor(server: HttpServer, private readonly opts: LiveHubOptions) {
    this.io = new Server(server, {
      serveClient: false,
      // Brief network blips replay missed ticks instead of forcing a full snapshot.
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true },
      cors: { origin: false },
    });
    const live = this.io.of('/live');
    live.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown };
      const fromAuth = typeof auth.token === 'string' ? auth.token : undefined;
      const q = socket.handshake.query.token;
      const token = fromAuth ?? (typeof q === 'string' ? q : undefined);
      if (opts.authorize(token)) next();
      else next(new Error('unauthorized: a read token is required (?token=… on the wall URL)'));
    });
    live.on('connection', (socket) => {
      if (!socket.recovered) socket.emit('snapshot', opts.snapshots.snapshot());
      opts.onClientCount(live.sockets.size);
      socket.on('disconnect', () => opts.onClientCount(live.sockets.size));
    });
  }

  /** Sends an event to every live client (alert state changes, remote control). */
  broadcast(event: string, payload: unknown): void {
    this.io.of('/live').emit(event, payload);
  }

  start(): void {
    this.timer = setInterval(() => this.io.of('/live').emit('tick', this.opts.snapshots.tick()), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.io.of('/live').disconnectSockets(true);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }
}
