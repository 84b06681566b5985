// 1,000 fuzzed and truncated HTTP requests over raw TCP while another client
// keeps asking GET /healthz: every one of its requests is answered 200, the
// server (this process) never throws, and what it wrote is a store verify
// passes (the temp store's end-of-test check).
import { describe, expect, test } from 'vitest';
import { seededRandom } from '../helpers/fault-fs.js';
import { startHttpApi } from '../helpers/http-api-server.js';
import { rawExchange } from '../helpers/raw-http.js';

const batch = JSON.stringify([{ op: 'put', key: 'b', value: 'v' }, { op: 'get', key: 'b' }, { op: 'del', key: 'x' }]);
/** Valid requests the fuzzer starts from: every route, bodies with a length and chunked, keep-alive pipelines. */
const TEMPLATES = [
  'GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n\r\n',
  'PUT /v1/kv/a%2Fb?ttl=10m HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
  'PUT /v1/kv/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nIf-None-Match: *\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n',
  'DELETE /v1/kv/a HTTP/1.1\r\nHost: x\r\n\r\n',
  'HEAD /v1/kv/c HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /v1/keys?prefix=a&limit=2&after=a HTTP/1.1\r\nHost: x\r\n\r\n',
  `POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${batch.length}\r\n\r\n${batch}`,
  'GET /v1/stats HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n',
  'PUT /v1/kv/e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc',
];
const JUNK = ['\r\n', '\0', '%', '%zz', ':', ' ', 'Content-Length: 99999999999\r\n', 'Transfer-Encoding: chunked\r\n', 'ffffffffff\r\n', '\xff\xfe', 'HTTP/1.1', '?ttl=', '[{"op":'];

/** One request, changed: cut short, bytes flipped, junk put in, or parts repeated. */
function mutate(random: () => number): Buffer {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  let bytes = Buffer.from(pick(TEMPLATES), 'latin1');
  const steps = 1 + Math.floor(random() * 3);
  for (let s = 0; s < steps; s++) {
    const at = Math.floor(random() * (bytes.length + 1));
    switch (Math.floor(random() * 5)) {
      case 0: // truncated
        bytes = bytes.subarray(0, at);
        break;
      case 1: // flipped bytes
        bytes = Buffer.from(bytes);
        for (let i = 0; i < 1 + random() * 4 && bytes.length > 0; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        break;
      case 2: // junk inserted
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(JUNK), 'latin1'), bytes.subarray(at)]);
        break;
      case 3: // random bytes inserted
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256))), bytes.subarray(at)]);
        break;
      default: // a stretch repeated
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.floor(at / 2), at), bytes.subarray(at)]);
    }
  }
  return bytes;
}

describe('fuzzed and truncated requests', () => {
  test('1,000 of them: the server answers or closes each, and another client gets 200 from /healthz throughout', async () => {
    const { url, port, store } = await startHttpApi({ limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, idleTimeoutMs: 400 } });
    const random = seededRandom(16);
    const requests = Array.from({ length: 1000 }, () => ({ bytes: mutate(random), end: random() < 0.8 }));
    let fuzzing = true;
    let healthy = 0;
    const prober = (async () => {
      while (fuzzing) {
        const res = await fetch(`${url}/healthz`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('ok\n');
        healthy++;
      }
    })();
    let answered = 0;
    let hung = 0;
    // 50 clients at once, each sending its share one after another.
    await Promise.all(
      Array.from({ length: 50 }, async (_, client) => {
        for (let i = client; i < requests.length; i += 50) {
          const { text, closed } = await rawExchange(port, requests[i].bytes, { end: requests[i].end, timeoutMs: 5000 });
          if (text.startsWith('HTTP/1.1 ')) answered++;
          if (!closed) hung++;
        }
      }),
    );
    fuzzing = false;
    await prober;
    expect(hung, 'connections the server neither answered nor closed within 5 s').toBe(0);
    expect(healthy).toBeGreaterThan(20);
    expect(answered).toBeGreaterThan(500);
    expect((await fetch(`${url}/v1/kv/after`, { method: 'PUT', body: 'still here' })).status).toBe(201);
    expect((await store.get('after'))?.toString()).toBe('still here');
  });
});
