// src/serve/http/http-listener.ts: the HTTP API's connections: requests the
// parser refuses, Expect: 100-continue, slow and idle clients, a limit on
// connections, HTTPS, and closing gracefully or not.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MAX_VALUE_BYTES } from '../../src/format/constants.js';
import { startHttpApi } from '../helpers/http-api-server.js';
import { rawExchange, statuses } from '../helpers/raw-http.js';
import { tempDir } from '../helpers/temp-store.js';

describe('requests no client should send', () => {
  test('a request the parser refuses: 400 JSON and a closed connection; headers too large: 431', async () => {
    const { port } = await startHttpApi();
    const garbage = await rawExchange(port, 'GARBAGE\r\n\r\n');
    expect(garbage.closed).toBe(true);
    expect(garbage.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(garbage.text).toContain('Connection: close');
    expect(JSON.parse(garbage.text.slice(garbage.text.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'INVALID_ARGUMENT',
      message: 'malformed or incomplete HTTP request: bad request (HPE_INVALID_METHOD)',
    });
    const huge = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    expect(statuses(huge.text)).toEqual([431]);
  });

  test('a declared body over the value limit: 413 before a byte of it is sent', async () => {
    const { port, store } = await startHttpApi();
    const res = await rawExchange(port, `PUT /v1/kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_VALUE_BYTES + 1}\r\n\r\n`, { end: false });
    expect(statuses(res.text)).toEqual([413]);
    expect(res.closed).toBe(true);
    expect(await store.has('big')).toBe(false);
  });

  test('Expect: 100-continue: 100 once the body is wanted; an over-long one gets 413 and no 100', async () => {
    const { port, store } = await startHttpApi({ maxBodyBytes: 10 });
    const fits = await rawExchange(port, 'PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', {
      end: false,
      onData: (chunk, socket) => {
        if (chunk.toString('latin1').startsWith('HTTP/1.1 100 Continue')) socket.end('hello');
      },
    });
    expect(statuses(fits.text)).toEqual([100, 201]);
    expect((await store.get('k'))?.toString()).toBe('hello');
    const over = await rawExchange(port, 'PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n', { end: false });
    expect(statuses(over.text)).toEqual([413]);
    const refused = await rawExchange(port, 'PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n', {
      end: false,
      onData: (chunk, socket) => {
        if (chunk.toString('latin1').startsWith('HTTP/1.1 100 Continue')) socket.end('abc');
      },
    });
    expect(statuses(refused.text)).toEqual([100, 204]);
  });

  test('a body that stops part way: the request fails, nothing is written', async () => {
    const { port, store } = await startHttpApi();
    const res = await rawExchange(port, 'PUT /v1/kv/half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this');
    expect(res.closed).toBe(true);
    expect(await store.has('half')).toBe(false);
  });
});

describe('limits', () => {
  test('slow headers and slow bodies get 408 and a closed connection; an idle keep-alive connection is closed', async () => {
    const { port } = await startHttpApi({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 200 } });
    const started = Date.now();
    const headers = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', { end: false });
    expect(statuses(headers.text)).toEqual([408]);
    expect(Date.now() - started).toBeLessThan(3000);
    const body = await rawExchange(port, 'PUT /v1/kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', { end: false });
    expect(body.closed).toBe(true);
    expect(statuses(body.text)).toEqual([408]);
    const idle = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { end: false });
    expect(statuses(idle.text)).toEqual([200]);
    expect(idle.closed).toBe(true);
  });

  test('maxClients: a connection past the limit is closed at once; the others are served', async () => {
    const { port, url } = await startHttpApi({ limits: { maxClients: 2 } });
    const open = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(open.map((s) => new Promise((resolve) => s.once('connect', resolve))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { end: false });
    expect(third).toEqual({ text: '', closed: true });
    for (const s of open) s.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe('closing', () => {
  test('graceful: a request in flight finishes and is answered, idle connections close, new ones are refused', async () => {
    const { port, listener, store } = await startHttpApi();
    let sentHead!: () => void;
    const headSent = new Promise<void>((resolve) => (sentHead = resolve));
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('connect', () => {
      socket.write('PUT /v1/kv/inflight HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello', () => sentHead());
    });
    await headSent;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = listener.close(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await rawExchange(port, 'GET /healthz HTTP/1.1\r\n\r\n').catch(() => ({ text: '', closed: true }));
    expect(refused.text).toBe('');
    socket.write('world');
    await closed;
    await ended;
    expect(statuses(answer)).toEqual([201]);
    expect((await store.get('inflight'))?.toString()).toBe('helloworld');
  });

  test('not graceful: connections are cut at once', async () => {
    const { port, listener, store } = await startHttpApi();
    const pending = rawExchange(port, 'PUT /v1/kv/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello', { end: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await listener.close(false);
    expect(await pending).toEqual({ text: '', closed: true });
    expect(await store.has('cut')).toBe(false);
  });
});

describe('HTTPS', () => {
  test('with a certificate and key the same API answers over TLS', async () => {
    const dir = tempDir();
    await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir });
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const { port, store } = await startHttpApi({ tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') }, password: 'pw' });
    await store.put('k', 'over tls');
    const get = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, ca: cert, headers }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/v1/kv/k', { authorization: 'Bearer pw' })).toEqual({ status: 200, body: 'over tls' });
    expect((await get('/v1/kv/k', {})).status).toBe(401);
    const plain = await rawExchange(port, 'GET /healthz HTTP/1.1\r\n\r\n');
    expect(plain.text).not.toMatch(/^HTTP\/1\.1 200/);
  });
});
