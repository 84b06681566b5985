// The leases of one etcd operation (docs/etcd.md "Leases"): an expiry is a
// lease of whole seconds. A lease is read to tell a key's expiry, and granted
// for a write's: one per expiry second, shared by the operation's writes
// that round to it. A write that keeps an expiry this operation read keeps
// the lease it read, so rewriting a key with its own expiry (INCR, APPEND,
// RENAME, update) moves it neither later nor earlier and grants nothing.
//
// Keeping a lease is sound only in an operation whose etcd transaction
// compares the mod revision of every key it read (a transaction, an update):
// when the compare holds, the key it read the lease from still has that
// lease, so the lease still exists (etcd revokes a lease and deletes its keys
// in one step) and still ends when it did. tzkv never revokes a lease: one
// that no key holds any more runs out at its TTL.
import { type EtcdClient, EtcdReplyError } from './client.js';

/** A lease this operation granted, and the time it ends no earlier than: its TTL counted from before it was asked for. */
interface Granted {
  id: string;
  endsNotBefore: number;
}

export class Leases {
  private readonly granted = new Map<number, Granted>();
  /** The expiry reported for each lease read (null: it has run out). */
  private readonly remaining = new Map<string, Promise<number | null>>();
  /** The leases read, by the expiry reported for them. */
  private readonly byExpiry = new Map<number, string>();

  constructor(
    private readonly client: EtcdClient,
    private readonly now: () => number,
  ) {}

  /**
   * The lease for an absolute expiry ("0" for none): `kept` (the lease the
   * written key was read with) or another lease read, when this instance
   * reported exactly this expiry for it; otherwise a lease of the remaining
   * time in whole seconds, rounded up, granted once and shared while it
   * still covers the expiry. REQUIRES: every lease read was read from a key
   * whose mod revision the write's transaction compares (see the top).
   */
  async forExpiry(expiresAt: number, kept?: string): Promise<string> {
    if (expiresAt === 0) return '0';
    if (kept !== undefined && (await this.remaining.get(kept)) === expiresAt) return kept;
    const read = this.byExpiry.get(expiresAt);
    if (read !== undefined) return read;
    const asked = this.now();
    const seconds = Math.max(1, Math.ceil((expiresAt - asked) / 1000));
    const shared = this.granted.get(seconds);
    // Granted earlier for the same whole seconds, it may end before this expiry: then it is not shared.
    if (shared !== undefined && shared.endsNotBefore >= expiresAt) return shared.id;
    const reply = await this.client.call<{ ID: string; TTL: string }>('lease/grant', { TTL: String(seconds) });
    this.granted.set(seconds, { id: reply.ID, endsNotBefore: asked + seconds * 1000 });
    return reply.ID;
  }

  /** A lease's expiry in ms since the epoch; null when it has already run out. */
  expiryOf(lease: string): Promise<number | null> {
    let expiry = this.remaining.get(lease);
    if (expiry === undefined) {
      expiry = this.timeToLive(lease);
      this.remaining.set(lease, expiry);
      expiry.catch(() => this.remaining.delete(lease)); // asked again next time
    }
    return expiry;
  }

  private async timeToLive(lease: string): Promise<number | null> {
    // Whole seconds left, rounded down: the truth lies in [TTL, TTL + 1) s, so take the middle.
    // The gateway leaves out a field whose value is zero; a lease that ran out has TTL -1.
    const reply = await this.client.call<{ TTL?: string }>('lease/timetolive', { ID: lease });
    const ttl = Number(reply.TTL ?? 0);
    if (ttl < 0) return null;
    const expiresAt = this.now() + ttl * 1000 + 500;
    this.byExpiry.set(expiresAt, lease);
    return expiresAt;
  }
}

/** Whether etcd refused a put because its lease no longer exists (it ran out, or was revoked): the transaction wrote nothing. */
export function isLeaseGone(err: unknown): boolean {
  return err instanceof EtcdReplyError && err.grpcCode === NOT_FOUND && err.reply.includes('requested lease not found');
}

/** The gRPC status etcd answers a put with a lease it does not know with. */
const NOT_FOUND = 5;
