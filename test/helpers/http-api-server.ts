// The HTTP API on a loopback port in the test's own process, over a store in
// a temp dir (checked by verify after the test, as every tempStore): closed,
// with its store, when the test ends.
import { afterEach } from 'vitest';
import type { Store } from '../../src/api.js';
import { createHttpHandler, type HttpHandlerOptions } from '../../src/serve/http/http-handler.js';
import { type HttpLimits, type HttpListener, listenHttp } from '../../src/serve/http/http-listener.js';
import { Metrics } from '../../src/serve/metrics.js';
import { DirectServedStore } from './direct-served-store.js';
import { tempStore } from './temp-store.js';

export interface TestServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  store: Store;
  metrics: Metrics;
  listener: HttpListener;
}

const running: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

export async function startHttpApi(
  options: Partial<HttpHandlerOptions> & { limits?: HttpLimits; tls?: { cert: string; key: string }; store?: Store } = {},
): Promise<TestServer> {
  const store = options.store ?? (await tempStore());
  const metrics = options.metrics ?? new Metrics();
  const handler = createHttpHandler(new DirectServedStore(store), { ...options, metrics });
  const listener = await listenHttp({ host: '127.0.0.1', port: 0, handler, limits: options.limits, tls: options.tls });
  running.push(async () => {
    await listener.close(false);
    await store.close();
  });
  const port = Number(listener.address.split(':').pop());
  return { url: `${options.tls ? 'https' : 'http'}://${listener.address}`, port, store, metrics, listener };
}
