// The HTTP/JSON API (docs/serve.md "HTTP API"): a request handler for
// node:http and node:https over a ServedStore. It routes, checks the bearer
// token, answers every failure as {"error", "message"} with its status, and
// counts each request, its latency and its bytes in the shared Metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isTzkvError } from '../../errors.js';
import { MAX_VALUE_BYTES } from '../../format/constants.js';
import type { ServedStore } from '../core/served-store.js';
import type { Metrics } from '../metrics.js';
import { runBatch } from './batch-route.js';
import { bearerCheck } from './bearer-auth.js';
import { HttpError } from './http-error.js';
import { listKeys } from './keys-route.js';
import { deleteKey, getKey, putKey } from './kv-routes.js';
import { awaitContinue } from './request-body.js';
import { sendError } from './respond.js';
import type { Route, RouteContext } from './route.js';
import { health, metricsText, stats } from './status-routes.js';

export interface HttpHandlerOptions {
  /** The bearer token every request but GET /healthz must carry; null or absent: none. */
  password?: string | null;
  /** Where requests are counted (shared with the Redis protocol). */
  metrics: Metrics;
  /** The data's clock (ms since the epoch), for TTLs; default Date.now. */
  now?: () => number;
  /** The largest request body, a value or a batch's JSON (default MAX_VALUE_BYTES). */
  maxBodyBytes?: number;
  /** Told of an exception that was no TzkvError (a bug): the client got 500 INTERNAL. */
  onError?: (error: unknown, route: string) => void;
}

/** A request listener; a server also hands it its connections and Expect: 100-continue requests (http-listener.ts does). */
export interface HttpHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** For the server's 'checkContinue' event: 100 Continue is sent only once the body is wanted and its length is within the limit. */
  checkContinue(req: IncomingMessage, res: ServerResponse): void;
  /** For the server's 'connection' event: counts the client while it is connected, and its bytes when it goes. */
  connection(socket: Socket): void;
}

/** A route and its name in the metrics (tzkv_requests_total's command label). */
type Target = { name: string; route: Route };

const KV_PREFIX = '/v1/kv/';

/** Each fixed path's methods; GET's route answers HEAD too. */
const PATHS: Record<string, Record<string, Target>> = {
  '/v1/keys': { GET: { name: 'keys', route: listKeys } },
  '/v1/batch': { POST: { name: 'batch', route: runBatch } },
  '/v1/stats': { GET: { name: 'stats', route: stats } },
  '/healthz': { GET: { name: 'healthz', route: health } },
  '/metrics': { GET: { name: 'metrics', route: metricsText } },
};
const KV_METHODS: Record<string, Target> = {
  GET: { name: 'get', route: getKey },
  HEAD: { name: 'head', route: getKey },
  PUT: { name: 'put', route: putKey },
  DELETE: { name: 'delete', route: deleteKey },
};

/** The route of a method and path; 404 NO_ROUTE or 405 METHOD_NOT_ALLOWED (with Allow) when there is none. */
function resolve(method: string, path: string): Target {
  let methods: Record<string, Target> | undefined;
  if (path.startsWith(KV_PREFIX)) methods = KV_METHODS;
  else if (Object.hasOwn(PATHS, path)) methods = PATHS[path];
  if (methods === undefined) throw new HttpError(404, 'NO_ROUTE', `no route ${JSON.stringify(path.length > 100 ? `${path.slice(0, 100)}…` : path)}: see docs/serve.md "HTTP API"`);
  const target = methods[method] ?? (method === 'HEAD' ? methods.GET : undefined);
  if (target === undefined) {
    const allowed = Object.keys(methods).concat(methods.GET !== undefined && methods.HEAD === undefined ? ['HEAD'] : []);
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not a method of ${path.startsWith(KV_PREFIX) ? '/v1/kv/{key}' : path}: ${allowed.join(', ')}`, {
      Allow: allowed.join(', '),
    });
  }
  return target;
}

export function createHttpHandler(served: ServedStore, options: HttpHandlerOptions): HttpHandler {
  const { metrics } = options;
  const ctx: RouteContext = { served, metrics, now: options.now ?? Date.now, maxBodyBytes: options.maxBodyBytes ?? MAX_VALUE_BYTES };
  const authorize = bearerCheck(options.password ?? null);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let name = 'other';
    res.once('close', () => {
      // 499 (nginx's "client closed request"): the client went before its answer was written.
      metrics.command('http', name, Math.round((performance.now() - started) * 1000), res.writableFinished ? res.statusCode : 499);
      metrics.transferred('http', req.socket);
    });
    try {
      const path = q < 0 ? url : url.slice(0, q);
      const target = resolve(req.method ?? '', path);
      name = target.name;
      if (target.route !== health) authorize(req);
      const rest = path.startsWith(KV_PREFIX) ? path.slice(KV_PREFIX.length) : '';
      await target.route(ctx, { req, res, rest, query: q < 0 ? '' : url.slice(q + 1) });
    } catch (err) {
      if (!(err instanceof HttpError) && !isTzkvError(err)) options.onError?.(err, name);
      // A body not read to its end (refused, or never wanted) is not read at all: the connection closes after the answer.
      if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
      sendError(res, err);
    }
  };

  // handle() answers every failure; should writing that answer fail too, the connection is cut, the process goes on.
  const handler = (req: IncomingMessage, res: ServerResponse) => void handle(req, res).catch(() => res.destroy());
  return Object.assign(handler, {
    checkContinue(req: IncomingMessage, res: ServerResponse) {
      awaitContinue(req);
      handler(req, res);
    },
    connection(socket: Socket) {
      metrics.connected('http');
      socket.once('close', () => {
        metrics.disconnected('http');
        metrics.transferred('http', socket);
      });
    },
  });
}
