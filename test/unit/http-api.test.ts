// The HTTP/JSON API (src/serve/http) through fetch against a real listener
// over a store in a temp dir: every route, status code and header.
import { describe, expect, test } from 'vitest';
import { MAX_KEY_BYTES } from '../../src/format/constants.js';
import { startHttpApi } from '../helpers/http-api-server.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { tempStore } from '../helpers/temp-store.js';

/** A path segment for `key`: every byte but the unreserved ones percent-encoded. */
const encodeKey = (key: Buffer | string) =>
  [...Buffer.from(key)].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');

async function errorOf(res: Response): Promise<{ error: string; message: string }> {
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as { error: string; message: string };
}

describe('/v1/kv/{key}', () => {
  test('PUT 201 then 204, GET 200 with the bytes, HEAD the headers only, DELETE 204 then 404', async () => {
    const { url, store } = await startHttpApi();
    const put = await fetch(`${url}/v1/kv/greeting`, { method: 'PUT', body: 'hello' });
    expect(put.status).toBe(201);
    expect(put.headers.get('content-length')).toBe('0');
    expect(put.headers.get('x-expires-at')).toBeNull();
    expect((await fetch(`${url}/v1/kv/greeting`, { method: 'PUT', body: 'hello again' })).status).toBe(204);
    const get = await fetch(`${url}/v1/kv/greeting`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/octet-stream');
    expect(get.headers.get('content-length')).toBe('11');
    expect(get.headers.get('x-expires-at')).toBeNull();
    expect(await get.text()).toBe('hello again');
    const head = await fetch(`${url}/v1/kv/greeting`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('11');
    expect(await head.text()).toBe('');
    expect((await store.get('greeting'))?.toString()).toBe('hello again');
    expect((await fetch(`${url}/v1/kv/greeting`, { method: 'DELETE' })).status).toBe(204);
    const gone = await fetch(`${url}/v1/kv/greeting`, { method: 'DELETE' });
    expect(gone.status).toBe(404);
    expect(await errorOf(gone)).toEqual({ error: 'NOT_FOUND', message: 'key not found: "greeting"' });
    expect((await fetch(`${url}/v1/kv/greeting`)).status).toBe(404);
    expect((await fetch(`${url}/v1/kv/greeting`, { method: 'HEAD' })).status).toBe(404);
    expect(await store.has('greeting')).toBe(false);
  });

  test('binary bodies: every byte value in and out exactly, an empty value too', async () => {
    const { url, store } = await startHttpApi();
    const all = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    expect((await fetch(`${url}/v1/kv/bytes`, { method: 'PUT', body: all, headers: { 'content-type': 'text/plain' } })).status).toBe(201);
    expect(Buffer.from(await (await fetch(`${url}/v1/kv/bytes`)).arrayBuffer())).toEqual(all);
    expect(await store.get('bytes')).toEqual(all);
    expect((await fetch(`${url}/v1/kv/empty`, { method: 'PUT', body: '' })).status).toBe(201);
    const empty = await fetch(`${url}/v1/kv/empty`);
    expect([empty.status, empty.headers.get('content-length'), await empty.text()]).toEqual([200, '0', '']);
  });

  test('keys: everything after /v1/kv/, percent-decoded to bytes: slashes, spaces, %2F, +, unicode, every byte value', async () => {
    const { url, store } = await startHttpApi();
    const cases: Array<[string, Buffer]> = [
      ['a/b/c', Buffer.from('a/b/c')],
      ['dir%2Ffile', Buffer.from('dir/file')],
      ['with%20space', Buffer.from('with space')],
      ['a+b', Buffer.from('a+b')],
      [encodeURIComponent('ключ/🔑'), Buffer.from('ключ/🔑')],
      ['%00%FF%fe', Buffer.from([0, 0xff, 0xfe])],
      ['trailing/', Buffer.from('trailing/')],
    ];
    for (const [path, key] of cases) {
      expect((await fetch(`${url}/v1/kv/${path}`, { method: 'PUT', body: path })).status, path).toBe(201);
      expect((await store.get(key))?.toString(), path).toBe(path);
      expect(await (await fetch(`${url}/v1/kv/${path}`)).text(), path).toBe(path);
    }
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect((await fetch(`${url}/v1/kv/${encodeKey(everyByte)}`, { method: 'PUT', body: 'x' })).status).toBe(201);
    expect((await store.get(everyByte))?.toString()).toBe('x');
    expect((await fetch(`${url}/v1/kv/${encodeKey(everyByte)}`, { method: 'DELETE' })).status).toBe(204);
  });

  test('400 for a malformed percent-encoding, an empty key, a key over MAX_KEY_BYTES; nothing written', async () => {
    const { url, store } = await startHttpApi();
    for (const [path, message] of [
      ['bad%2', /^malformed percent-encoding in the key at byte 3/],
      ['bad%zz', /^malformed percent-encoding in the key at byte 3/],
      ['', /^key must not be empty$/],
      ['k'.repeat(MAX_KEY_BYTES + 1), /^key is 1025 bytes, over the limit of 1024 bytes$/],
      ['%41'.repeat(MAX_KEY_BYTES + 1), /^key is 1025 bytes/],
    ] as const) {
      for (const method of ['PUT', 'GET', 'DELETE']) {
        const res = await fetch(`${url}/v1/kv/${path}`, { method, ...(method === 'PUT' ? { body: 'v' } : {}) });
        expect(res.status, `${method} ${path}`).toBe(400);
        const e = await errorOf(res);
        expect(e.error).toBe('INVALID_ARGUMENT');
        expect(e.message).toMatch(message);
      }
    }
    expect((await store.stats()).keys).toBe(0);
    expect((await fetch(`${url}/v1/kv/${'k'.repeat(MAX_KEY_BYTES)}`, { method: 'PUT', body: 'v' })).status).toBe(201);
  });

  test('?ttl=: X-Expires-At (ISO 8601) on PUT and GET, gone once the clock passes it; a bad ttl is 400; a PUT without ttl clears it', async () => {
    let now = Date.UTC(2030, 0, 1);
    const store = await tempStore({ now: () => now });
    const { url } = await startHttpApi({ store, now: () => now });
    const put = await fetch(`${url}/v1/kv/session?ttl=10m`, { method: 'PUT', body: 'token' });
    expect(put.status).toBe(201);
    expect(put.headers.get('x-expires-at')).toBe('2030-01-01T00:10:00.000Z');
    now += 9 * 60_000;
    const get = await fetch(`${url}/v1/kv/session`);
    expect(get.headers.get('x-expires-at')).toBe('2030-01-01T00:10:00.000Z');
    expect((await fetch(`${url}/v1/kv/session`, { method: 'HEAD' })).headers.get('x-expires-at')).toBe('2030-01-01T00:10:00.000Z');
    now += 60_000;
    expect((await fetch(`${url}/v1/kv/session`)).status).toBe(404);
    expect((await fetch(`${url}/v1/kv/short?ttl=1500ms`, { method: 'PUT', body: 'x' })).headers.get('x-expires-at')).toBe('2030-01-01T00:10:01.500Z');
    expect((await fetch(`${url}/v1/kv/plain?ttl=90`, { method: 'PUT', body: 'x' })).headers.get('x-expires-at')).toBe('2030-01-01T00:11:30.000Z');
    expect((await fetch(`${url}/v1/kv/plain`, { method: 'PUT', body: 'y' })).status).toBe(204);
    expect((await fetch(`${url}/v1/kv/plain`)).headers.get('x-expires-at')).toBeNull();
    for (const ttl of ['abc', '0', '-5', '10y', '']) {
      const res = await fetch(`${url}/v1/kv/bad?ttl=${ttl}`, { method: 'PUT', body: 'x' });
      expect(res.status, ttl).toBe(400);
      expect((await errorOf(res)).message).toMatch(/^invalid ttl /);
    }
    expect(await store.has('bad')).toBe(false);
  });

  test('If-None-Match: * writes only an absent key: 201, then 412 leaving the value; another tag or If-Match is 400', async () => {
    const { url, store } = await startHttpApi();
    const first = await fetch(`${url}/v1/kv/once`, { method: 'PUT', body: 'first', headers: { 'if-none-match': '*' } });
    expect(first.status).toBe(201);
    const second = await fetch(`${url}/v1/kv/once`, { method: 'PUT', body: 'second', headers: { 'if-none-match': '*' } });
    expect(second.status).toBe(412);
    expect(await errorOf(second)).toEqual({ error: 'PRECONDITION', message: 'key /v1/kv/once exists (If-None-Match: *): left as it was' });
    expect((await store.get('once'))?.toString()).toBe('first');
    expect((await fetch(`${url}/v1/kv/once`, { method: 'PUT', body: 'x', headers: { 'if-none-match': '"abc"' } })).status).toBe(400);
    expect((await fetch(`${url}/v1/kv/once`, { method: 'PUT', body: 'x', headers: { 'if-match': '*' } })).status).toBe(400);
    expect((await store.get('once'))?.toString()).toBe('first');
  });

  test('405 with Allow for another method; unknown query parameters are 400', async () => {
    const { url } = await startHttpApi();
    const post = await fetch(`${url}/v1/kv/k`, { method: 'POST', body: 'v' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    expect((await errorOf(post)).error).toBe('METHOD_NOT_ALLOWED');
    const typo = await fetch(`${url}/v1/kv/k?tll=10m`, { method: 'PUT', body: 'v' });
    expect(typo.status).toBe(400);
    expect((await errorOf(typo)).message).toBe('unknown query parameter "tll": expected ttl');
    expect((await fetch(`${url}/v1/kv/k?ttl=1m&ttl=2m`, { method: 'PUT', body: 'v' })).status).toBe(400);
    expect((await fetch(`${url}/v1/kv/k?x=1`)).status).toBe(400);
  });
});

describe('413: a body over the limit', () => {
  test('refused by its Content-Length or as it streams past the limit; nothing written; the server goes on', async () => {
    const { url, store } = await startHttpApi({ maxBodyBytes: 1000 });
    expect((await fetch(`${url}/v1/kv/fits`, { method: 'PUT', body: Buffer.alloc(1000, 1) })).status).toBe(201);
    const declared = await fetch(`${url}/v1/kv/big`, { method: 'PUT', body: Buffer.alloc(100_000) });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('connection')).toBe('close');
    expect(await errorOf(declared)).toEqual({
      error: 'TOO_LARGE',
      message: "the body's Content-Length 100000 is over the 1000-byte limit of a request body (the value limit)",
    });
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(700)); // endless: the server must stop reading
      },
    });
    const streamed = await fetch(`${url}/v1/kv/big`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await errorOf(streamed)).message).toMatch(/^the body \(1400 bytes so far\) is over the 1000-byte limit/);
    const batch = await fetch(`${url}/v1/batch`, { method: 'POST', body: JSON.stringify([{ op: 'put', key: 'b', value: 'x'.repeat(2000) }]) });
    expect(batch.status).toBe(413);
    expect(await store.has('big')).toBe(false);
    expect(await store.has('b')).toBe(false);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/v1/kv/fits`)).status).toBe(200);
  });
});

describe('bearer auth', () => {
  test('401 with WWW-Authenticate without the token or with a wrong one; every route but /healthz needs it', async () => {
    const { url, store } = await startHttpApi({ password: 's3cret ✓' });
    const none = await fetch(`${url}/v1/kv/k`, { method: 'PUT', body: 'v' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tzkv"');
    expect((await errorOf(none)).error).toBe('UNAUTHORIZED');
    for (const header of ['Bearer wrong', 'Bearer s3cret', 'Basic czNjcmV0', 'Bearer ']) {
      const res = await fetch(`${url}/v1/kv/k`, { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
    }
    expect((await fetch(`${url}/v1/kv/k`, { headers: { authorization: 'Bearer wrong' } })).headers.get('www-authenticate')).toBe('Bearer realm="tzkv", error="invalid_token"');
    expect(await store.has('k')).toBe(false);
    // fetch sends a header's characters as latin1 bytes: the password's UTF-8 bytes, spelled so.
    const auth = { authorization: `Bearer ${Buffer.from('s3cret ✓').toString('latin1')}` };
    expect((await fetch(`${url}/v1/kv/k`, { method: 'PUT', body: 'v', headers: auth })).status).toBe(201);
    expect(await (await fetch(`${url}/v1/kv/k`, { headers: auth })).text()).toBe('v');
    for (const path of ['/v1/keys', '/v1/stats', '/metrics']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, { headers: auth })).status, path).toBe(200);
    }
    expect((await fetch(`${url}/v1/batch`, { method: 'POST', body: '[]' })).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe('POST /v1/batch', () => {
  test('applies every operation in one unit, results in order; reads see the earlier writes; base64 for bytes that are not UTF-8', async () => {
    const { url, store } = await startHttpApi();
    await store.put('old', 'gone soon');
    const ops = [
      { op: 'put', key: 'a', value: '1' },
      { op: 'put', key: 'AP8=', keyEncoding: 'base64', value: 'AAEC/w==', encoding: 'base64', ttl: '10m' },
      { op: 'get', key: 'a' },
      { op: 'get', key: 'AP8=', keyEncoding: 'base64' },
      { op: 'del', key: 'old' },
      { op: 'del', key: 'never' },
      { op: 'get', key: 'old' },
      { op: 'put', key: 'n', value: 'x', ttl: 60 },
    ];
    const res = await fetch(`${url}/v1/batch`, { method: 'POST', body: JSON.stringify(ops) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const { results } = (await res.json()) as { results: Array<Record<string, unknown>> };
    expect(results).toHaveLength(8);
    expect(results[0]).toEqual({ op: 'put', key: 'a', expiresAt: null });
    expect(results[1]).toMatchObject({ op: 'put', key: 'AP8=', keyEncoding: 'base64', expiresAt: expect.any(String) });
    expect(results[2]).toEqual({ op: 'get', key: 'a', found: true, value: '1', expiresAt: null });
    expect(results[3]).toMatchObject({ op: 'get', key: 'AP8=', keyEncoding: 'base64', found: true, value: 'AAEC/w==', encoding: 'base64' });
    expect(results[4]).toEqual({ op: 'del', key: 'old', deleted: true });
    expect(results[5]).toEqual({ op: 'del', key: 'never', deleted: false });
    expect(results[6]).toEqual({ op: 'get', key: 'old', found: false, value: null, expiresAt: null });
    expect(Date.parse(results[7].expiresAt as string) - Date.now()).toBeGreaterThan(55_000);
    expect(await store.get(Buffer.from([0, 0xff]))).toEqual(Buffer.from([0, 1, 2, 0xff]));
    expect(await store.has('old')).toBe(false);
    const empty = await fetch(`${url}/v1/batch`, { method: 'POST', body: '[]' });
    expect(await empty.json()).toEqual({ results: [] });
  });

  test('one operation that is not right: 400 naming it, and nothing of the batch is applied', async () => {
    const { url, store } = await startHttpApi();
    await store.put('keep', 'v');
    const good = [{ op: 'put', key: 'x', value: '1' }, { op: 'del', key: 'keep' }];
    const bad: Array<[unknown, RegExp]> = [
      [{ op: 'put', key: 'y', value: '2', vaule: 3 }, /^operation 2: "vaule" is not a field of put/],
      [{ op: 'incr', key: 'y' }, /^operation 2: "op" must be one of put, del, get/],
      [{ op: 'put', key: 'y' }, /^operation 2: "value" must be a string/],
      [{ op: 'put', key: '', value: '2' }, /^operation 2: key must not be empty/],
      [{ op: 'put', key: 'y', value: '2', ttl: 'soon' }, /^operation 2: invalid "ttl" "soon"/],
      [{ op: 'put', key: 'y', value: '!!', encoding: 'base64' }, /^operation 2: "value" is not valid base64/],
      [{ op: 'get', key: 'y', keyEncoding: 'hex' }, /^operation 2: "keyEncoding" must be "base64" or absent/],
      ['put y 2', /^operation 2: expected a JSON object/],
    ];
    for (const [op, message] of bad) {
      const res = await fetch(`${url}/v1/batch`, { method: 'POST', body: JSON.stringify([...good, op]) });
      expect(res.status, JSON.stringify(op)).toBe(400);
      const e = await errorOf(res);
      expect(e.error).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/\(nothing was applied\)$/);
    }
    for (const body of ['{"op": "put"}', '[{"op": "put", ', 'not json', '\xff']) {
      const res = await fetch(`${url}/v1/batch`, { method: 'POST', body: body === '\xff' ? Buffer.from([0x5b, 0xff, 0x5d]) : body });
      expect(res.status, body).toBe(400);
    }
    expect(await store.has('x')).toBe(false);
    expect((await store.get('keep'))?.toString()).toBe('v');
    expect((await fetch(`${url}/v1/batch`)).status).toBe(405);
  });
});

describe('GET /v1/keys', () => {
  test('pages: {"keys", "next"} with limit and after; a key that is not UTF-8 base64 with keyEncoding; prefix as bytes', async () => {
    const { url, store } = await startHttpApi();
    for (const k of ['user:1', 'user:2', 'user:3', 'user/x y', 'zeta']) await store.put(k, 'v', k === 'user:2' ? { expiresAt: Date.UTC(2099, 0, 1) } : {});
    await store.put(Buffer.from([0x75, 0xff]), 'binary'); // "u\xff"
    const page = async (query: string) => {
      const res = await fetch(`${url}/v1/keys${query}`);
      expect(res.status, query).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      return (await res.json()) as { keys: Array<{ key: string; keyEncoding?: string; expiresAt: string | null }>; next: string | null };
    };
    expect(await page('?prefix=user:&limit=2')).toEqual({
      keys: [
        { key: 'user:1', expiresAt: null },
        { key: 'user:2', expiresAt: '2099-01-01T00:00:00.000Z' },
      ],
      next: 'user%3A2',
    });
    expect(await page('?prefix=user:&limit=2&after=user%3A2')).toEqual({ keys: [{ key: 'user:3', expiresAt: null }], next: null });
    expect((await page('?prefix=user%2F')).keys).toEqual([{ key: 'user/x y', expiresAt: null }]);
    expect((await page('?prefix=user/x+y')).keys.map((k) => k.key)).toEqual(['user/x y']);
    const all = await page('');
    expect(all.keys.map((k) => k.key)).toEqual(['user/x y', 'user:1', 'user:2', 'user:3', 'df8=', 'zeta']);
    expect(all.keys[4]).toEqual({ key: 'df8=', keyEncoding: 'base64', expiresAt: null });
    expect(all.next).toBeNull();
    const binary = await page('?prefix=u%FF&limit=1');
    expect(binary).toEqual({ keys: [{ key: 'df8=', keyEncoding: 'base64', expiresAt: null }], next: null });
    expect((await page('?after=u%FF')).keys.map((k) => k.key)).toEqual(['zeta']);
    for (const query of ['?limit=0', '?limit=10001', '?limit=abc', '?limit=1.5', '?prefix=%zz', '?cursor=x']) {
      expect((await fetch(`${url}/v1/keys${query}`)).status, query).toBe(400);
    }
  });

  test('paging while other clients write and delete: every key there throughout is listed once, in order, none twice', async () => {
    const { url, store } = await startHttpApi();
    const name = (i: number) => `k:${String(i).padStart(4, '0')}`;
    const b = store.batch();
    for (let i = 0; i < 600; i += 2) b.put(name(i), 'v');
    await b.write();
    const stayed = new Set(Array.from({ length: 300 }, (_, j) => name(j * 2)).filter((_, j) => j % 7 !== 3));
    const listed: string[] = [];
    let after: string | null = null;
    let round = 0;
    do {
      const res = await fetch(`${url}/v1/keys?prefix=k:&limit=37${after === null ? '' : `&after=${after}`}`);
      const body = (await res.json()) as { keys: Array<{ key: string }>; next: string | null };
      listed.push(...body.keys.map((k) => k.key));
      after = body.next;
      // Meanwhile: new keys (odd numbers) everywhere, and some of the even ones deleted, before and after the cursor.
      const writes = [];
      for (let i = 1 + (round % 5) * 2; i < 600; i += 40) writes.push(fetch(`${url}/v1/kv/${name(i)}`, { method: 'PUT', body: 'new' }));
      for (let j = round; j < 300; j += 50) if (j % 7 === 3) writes.push(fetch(`${url}/v1/kv/${name(j * 2)}`, { method: 'DELETE' }));
      await Promise.all(writes);
      round++;
    } while (after !== null);
    expect(round).toBeGreaterThan(8);
    expect(listed).toEqual([...listed].sort());
    expect(new Set(listed).size).toBe(listed.length);
    for (const k of stayed) expect(listed, k).toContain(k);
  });
});

describe('/v1/stats, /healthz, /metrics', () => {
  test('stats: the store\'s stats and "served": counters, clients, requests', async () => {
    const { url, store } = await startHttpApi();
    await store.put('a', '1');
    await fetch(`${url}/v1/kv/b`, { method: 'PUT', body: '2' });
    const res = await fetch(`${url}/v1/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Record<string, unknown> & { served: Record<string, unknown> };
    expect(stats).toMatchObject({ keys: 2, location: store.location, formatVersion: expect.any(Number) });
    expect(stats.served).toMatchObject({ commits: 1, writes: 1, cacheHits: 0, connectedClients: { redis: 0, http: expect.any(Number) }, requests: { redis: 0, http: 1 } });
    expect((stats.served.connectedClients as { http: number }).http).toBeGreaterThanOrEqual(1);
    expect(Date.parse(stats.served.startedAt as string)).toBeLessThanOrEqual(Date.now());
  });

  test('healthz: 200 "ok" while the store answers, 503 with the reason once it does not', async () => {
    const { url, store } = await startHttpApi();
    const ok = await fetch(`${url}/healthz`);
    expect([ok.status, ok.headers.get('content-type'), await ok.text()]).toEqual([200, 'text/plain; charset=utf-8', 'ok\n']);
    await store.close();
    const down = await fetch(`${url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.text()).toMatch(/^the store failed: .*closed/);
    const get = await fetch(`${url}/v1/kv/a`);
    expect([get.status, (await errorOf(get)).error]).toEqual([503, 'CLOSED']);
  });

  test('metrics: Prometheus text 0.0.4 counting requests by command and status, latencies, bytes, clients, commits', async () => {
    const { url } = await startHttpApi();
    await fetch(`${url}/v1/kv/a`, { method: 'PUT', body: 'x'.repeat(100) });
    await fetch(`${url}/v1/kv/a`);
    await fetch(`${url}/v1/kv/missing`);
    await fetch(`${url}/nowhere`);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const e = parsePrometheusText(await res.text());
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(e, name, labels);
    expect(v('tzkv_requests_total', { protocol: 'http', command: 'put', status: '201' })).toBe(1);
    expect(v('tzkv_requests_total', { protocol: 'http', command: 'get', status: '200' })).toBe(1);
    expect(v('tzkv_requests_total', { protocol: 'http', command: 'get', status: '404' })).toBe(1);
    expect(v('tzkv_requests_total', { protocol: 'http', command: 'other', status: '404' })).toBe(1);
    expect(v('tzkv_request_duration_seconds_count', { protocol: 'http', command: 'get' })).toBe(2);
    expect(v('tzkv_received_bytes_total', { protocol: 'http' })).toBeGreaterThan(100 + 4 * 40);
    expect(v('tzkv_sent_bytes_total', { protocol: 'http' })).toBeGreaterThan(100);
    expect(v('tzkv_connected_clients', { protocol: 'http' })).toBeGreaterThanOrEqual(1);
    expect(v('tzkv_commits_total')).toBe(1);
    expect(v('tzkv_cache_hits_total')).toBe(0);
  });

  test('404 NO_ROUTE for a path that is none; 405 with Allow for a method a route does not take', async () => {
    const { url } = await startHttpApi();
    const none = await fetch(`${url}/v2/kv/a`);
    expect(none.status).toBe(404);
    expect((await errorOf(none)).error).toBe('NO_ROUTE');
    for (const [method, path, allow] of [
      ['DELETE', '/v1/keys', 'GET, HEAD'],
      ['GET', '/v1/batch', 'POST'],
      ['POST', '/metrics', 'GET, HEAD'],
      ['PUT', '/healthz', 'GET, HEAD'],
    ]) {
      const res = await fetch(`${url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
    }
  });
});

describe('a bug in a route', () => {
  test('is answered 500 INTERNAL and told to onError with the route, the server going on', async () => {
    const store = await tempStore();
    const told: Array<[unknown, string]> = [];
    const { url } = await startHttpApi({ store, onError: (error, route) => told.push([error, route]) });
    const getEntry = store.getEntry.bind(store);
    store.getEntry = async (key) => (String(key) === 'bug' ? Promise.reject(new TypeError('boom')) : getEntry(key));
    const res = await fetch(`${url}/v1/kv/bug`);
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toEqual({ error: 'INTERNAL', message: 'internal error: boom' });
    expect(told.map(([error, route]) => [(error as Error).message, route])).toEqual([['boom', 'get']]);
    expect((await fetch(`${url}/v1/kv/other`)).status).toBe(404);
    expect(told).toHaveLength(1); // a 404 is no bug
  });
});
