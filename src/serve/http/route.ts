// What a route of the HTTP API is handed: the request, its answer, the path
// and query as they came, and what every route shares.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServedStore } from '../core/served-store.js';
import type { Metrics } from '../metrics.js';

export interface RouteContext {
  readonly served: ServedStore;
  readonly metrics: Metrics;
  /** The data's clock (ms since the epoch), for TTLs and expiry headers. */
  now(): number;
  /** The largest request body taken (a value, or a batch's JSON). */
  readonly maxBodyBytes: number;
}

export interface RouteRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The path after the route's own (for /v1/kv/: the key, still percent-encoded). */
  readonly rest: string;
  /** The query string without its `?` ('' when none). */
  readonly query: string;
}

/** Answers one request; a throw is answered as an error (respond.ts sendError). */
export type Route = (ctx: RouteContext, request: RouteRequest) => Promise<void> | void;
