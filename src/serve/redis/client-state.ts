// What a connection knows about itself: the shared ConnectionState, and what
// CLIENT INFO and CLIENT LIST report besides (the last command, when it came,
// the local address, the commands a MULTI has queued).
import type { ConnectionState } from './command.js';

export class ClientState implements ConnectionState {
  protocol: 2 | 3 = 2;
  name: string | null = null;
  db = 0;
  closing = false;
  /** The last command's name (Redis's "NULL" before the first), and when the client last sent anything (ms, the connection's clock). */
  lastCommand = 'NULL';
  lastActiveAt: number;
  /** Commands queued since MULTI; -1 outside a MULTI. */
  queued = -1;

  constructor(
    readonly id: number,
    public authenticated: boolean,
    readonly remoteAddress: string,
    readonly localAddress: string,
    readonly connectedAt: number,
  ) {
    this.lastActiveAt = connectedAt;
  }
}
