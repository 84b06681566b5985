// The server's own state: GET /v1/stats (the store's stats as `tzkv stats
// --json` prints them, and "served": the read cache, commits, clients,
// requests), GET /healthz (whether the store answers), GET /metrics
// (Prometheus text).
import { sendJson, sendText } from './respond.js';
import type { Route } from './route.js';
import { queryParameters } from './url-bytes.js';

/** How long /healthz waits for the store before it answers 503. */
const HEALTH_TIMEOUT_MS = 2000;

export const stats: Route = async ({ served, metrics }, { res, query }) => {
  queryParameters(query, []);
  const store = await served.stats();
  sendJson(res, 200, { ...store, served: { ...served.counters, ...metrics.summary() } });
};

/**
 * 200 "ok" when the store answers a listing of one key (the store itself,
 * not the cache) within HEALTH_TIMEOUT_MS; 503 with the reason otherwise.
 */
export const health: Route = async ({ served }, { res, query }) => {
  queryParameters(query, []);
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    for await (const _ of served.keys({ limit: 1 })) void _;
    return 'ok';
  };
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the store did not answer within ${HEALTH_TIMEOUT_MS} ms`), HEALTH_TIMEOUT_MS);
  });
  let outcome: string;
  try {
    outcome = await Promise.race([probe(), late]);
  } catch (err) {
    outcome = `the store failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
  sendText(res, outcome === 'ok' ? 200 : 503, `${outcome}\n`, 'text/plain; charset=utf-8');
};

export const metricsText: Route = ({ served, metrics }, { res, query }) => {
  queryParameters(query, []);
  sendText(res, 200, metrics.render(served.counters), 'text/plain; version=0.0.4; charset=utf-8');
};
