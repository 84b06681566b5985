// A small client for etcd v3's JSON gateway (docs/etcd.md "Client"), over
// node:http / node:https: each call is one POST of a JSON body to
// /v3/<service>/<method>, keys and values base64. Members are tried in turn
// when one is down; a call that no member answers within the timeout fails
// with UNAVAILABLE naming every endpoint. With a user, an auth token is taken
// from /v3/auth/authenticate and renewed when etcd says it is invalid.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { TzkvError } from '../errors.js';

export interface EtcdClientOptions {
  endpoints: string[];
  timeoutMs: number;
  user?: string;
  password?: string;
  /** PEM file paths for TLS. */
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * An error etcd itself answered (as opposed to no answer at all): exit 5 like
 * any other I/O or permission problem, unless the caller handles it.
 */
export class EtcdReplyError extends TzkvError {
  constructor(
    readonly grpcCode: number,
    readonly reply: string,
  ) {
    const hint = grpcCode === UNAUTHENTICATED || grpcCode === PERMISSION_DENIED || /user name is empty/.test(reply)
      ? ' (a cluster with authentication needs --etcd-user and TZKV_ETCD_PASSWORD, and the user a role that covers the prefix)'
      : '';
    super('IO', `etcd refused the request: ${reply}${hint}`, { info: { grpcCode } });
  }
}

// gRPC status codes the gateway returns in its error bodies.
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;
const INVALID_AUTH_TOKEN = 'etcdserver: invalid auth token';

type Json = Record<string, unknown>;

export class EtcdClient {
  /** The member that answered last: tried first next time. */
  private preferred = 0;
  private token: string | undefined;
  private readonly agentOptions: https.AgentOptions;
  private readonly agent: http.Agent;

  constructor(private readonly options: EtcdClientOptions) {
    if (options.user !== undefined && options.password === undefined) {
      throw new TzkvError('INVALID_ARGUMENT', `--etcd-user ${options.user} needs its password in TZKV_ETCD_PASSWORD`);
    }
    const read = (what: string, path: string | undefined) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new TzkvError('INVALID_ARGUMENT', `cannot read ${what} ${path}: ${(err as Error).message}`, { path });
      }
    };
    this.agentOptions = { keepAlive: true, ca: read('--etcd-ca', options.ca), cert: read('--etcd-cert', options.cert), key: read('--etcd-key', options.key) };
    const tls = options.endpoints[0].startsWith('https:');
    this.agent = tls ? new https.Agent(this.agentOptions) : new http.Agent({ keepAlive: true });
  }

  get endpoints(): string[] {
    return this.options.endpoints;
  }

  /** POSTs `body` to `/v3/${path}` on the first member that answers. */
  call<T = Json>(path: string, body: Json): Promise<T> {
    return this.authenticated(() => this.anyMember((endpoint, left) => this.post<T>(endpoint, path, body, left)));
  }

  /** POSTs to one member only (status, hashes, defragment: per-member calls). */
  callMember<T = Json>(endpoint: string, path: string, body: Json): Promise<T> {
    return this.authenticated(() => this.post<T>(endpoint, path, body, this.options.timeoutMs));
  }

  /**
   * POSTs `body` to `/v3/${path}` on the first member that starts answering
   * within the timeout, and yields each JSON message of its streamed answer
   * (the gateway's watch: one message a line) for as long as the member
   * sends them. Ends when the member ends the stream; throws when it fails
   * (the caller may start again on another member). `signal` ends it quietly.
   */
  async *stream(path: string, body: Json, signal: AbortSignal | undefined): AsyncGenerator<Json> {
    if (this.options.user !== undefined && this.token === undefined) await this.authenticate();
    let res: http.IncomingMessage;
    try {
      res = await this.anyMember((endpoint, left) => this.send(endpoint, path, body, left, signal));
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    res.socket.setTimeout(0); // a watch may wait for its next event for ever
    let pending = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        pending += chunk.toString('utf8');
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line !== '') yield replyOf(line, 200);
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }

  /** Runs `send` with a token when a user is set, authenticating again once when etcd says the token is no longer valid. */
  private async authenticated<T>(send: () => Promise<T>): Promise<T> {
    if (this.options.user !== undefined && this.token === undefined) await this.authenticate();
    try {
      return await send();
    } catch (err) {
      if (err instanceof EtcdReplyError && this.options.user !== undefined && err.reply.includes(INVALID_AUTH_TOKEN)) {
        await this.authenticate();
        return send();
      }
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private async authenticate(): Promise<void> {
    this.token = undefined;
    try {
      const credentials = { name: this.options.user, password: this.options.password };
      const reply = await this.anyMember((endpoint, left) => this.post<{ token: string }>(endpoint, 'auth/authenticate', credentials, left));
      this.token = reply.token;
    } catch (err) {
      if (err instanceof EtcdReplyError) {
        throw new TzkvError('IO', `etcd refused user ${this.options.user}: ${err.reply}`, { info: { grpcCode: err.grpcCode } });
      }
      throw err;
    }
  }

  /**
   * `send` to each member in turn, the one that answered last first, until one
   * answers; UNAVAILABLE when none does within the timeout. No member may take
   * all of the time while others are left to try: each gets its share of what
   * is left (at least 1 s), the last all of it. A member that holds a request
   * without answering (a follower whose leader just died) or answers
   * "unavailable" (no leader yet) is worth asking again: while time is left,
   * the members are tried again after a pause (100 ms, doubling to 1 s), so a
   * command rides out an election. Members that refuse the connection fail at once.
   */
  private async anyMember<T>(send: (endpoint: string, timeoutMs: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.timeoutMs;
    const { endpoints } = this.options;
    let failures: string[] = [];
    for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
      failures = [];
      let answering = false;
      for (let i = 0; i < endpoints.length; i++) {
        const at = (this.preferred + i) % endpoints.length;
        const left = deadline - Date.now();
        if (left <= 0) break;
        const share = i === endpoints.length - 1 ? left : Math.min(left, Math.max(1000, left / (endpoints.length - i)));
        try {
          const reply = await send(endpoints[at], share);
          this.preferred = at;
          return reply;
        } catch (err) {
          // A member that answers "unavailable" (no leader, shutting down) is as good as down, for now.
          if (err instanceof EtcdReplyError && err.grpcCode !== UNAVAILABLE) throw err;
          if (!UNREACHABLE.has((err as Error).message)) answering = true;
          failures.push(`${endpoints[at]}: ${err instanceof EtcdReplyError ? err.reply : (err as Error).message}`);
        }
      }
      if (!answering || deadline - Date.now() <= pause) break;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    throw new TzkvError('UNAVAILABLE', `no etcd member answered within ${this.options.timeoutMs} ms (${failures.join('; ') || 'timed out'})`, {
      path: endpoints.join(','),
      info: { endpoints },
    });
  }

  /** One POST to one member: its JSON answer, or an EtcdReplyError for an error etcd answered. */
  private async post<T>(endpoint: string, path: string, body: Json, timeoutMs: number): Promise<T> {
    const res = await this.send(endpoint, path, body, timeoutMs, undefined);
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    return replyOf(Buffer.concat(chunks).toString('utf8'), res.statusCode) as T;
  }

  /**
   * Sends one POST to one member and resolves once its answer starts (within
   * `timeoutMs`: also while it is read, until the caller lifts the socket's
   * timeout); a status other than 200 is read whole and thrown as the error etcd answered.
   */
  private send(endpoint: string, path: string, body: Json, timeoutMs: number, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
    const payload = Buffer.from(JSON.stringify(body));
    const url = new URL(`/v3/${path}`, endpoint);
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': payload.length };
    if (this.token !== undefined && path !== 'auth/authenticate') headers.authorization = this.token;
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, agent: this.agent, timeout: timeoutMs, signal }, (res) => {
        res.on('error', reject);
        if (res.statusCode === 200) return resolve(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            replyOf(Buffer.concat(chunks).toString('utf8'), res.statusCode); // throws: the status is not 200
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)));
      req.end(payload);
    });
  }
}

/** The errors of a member nobody listens at (send rejects with the code as its message): not worth asking again. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** A message etcd answered: its JSON; or the error it carries (EtcdReplyError), also for a status other than 200; or an Error when it is not JSON. */
function replyOf(text: string, statusCode: number | undefined): Json {
  let parsed: Json;
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as Json);
  } catch {
    throw new Error(`HTTP ${statusCode}: not JSON (${text.slice(0, 80)})`);
  }
  if (statusCode !== 200 || parsed.error !== undefined) {
    const message = String(parsed.message ?? parsed.error ?? `HTTP ${statusCode}`);
    const code = Number(parsed.code ?? 0);
    throw new EtcdReplyError(code === 0 && statusCode === 401 ? UNAUTHENTICATED : code, message);
  }
  return parsed;
}

/** base64 of bytes, as the gateway wants keys and values. */
export const b64 = (bytes: Buffer): string => bytes.toString('base64');
export const unb64 = (text: string | undefined): Buffer => Buffer.from(text ?? '', 'base64');

/** The key just past every key starting with `prefix`: a range end. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the key space
}
