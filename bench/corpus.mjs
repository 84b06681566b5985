#!/usr/bin/env node
// The compression corpus (issue #17 "Numbers"): realistic JSON documents of
// 1–8 KB, and a small-value corpus, both from a PRNG with a fixed seed, so
// document i is the same bytes on every machine and every run.
//
// Documents come in four kinds, i % 4: an API response (a page of orders),
// a CI test report, a service configuration (indented, as such files are
// kept), a webhook event (an issue with its comments). They carry what such
// documents carry: nested objects, repeated field names, random ids (hex,
// base62, UUIDs), ISO timestamps, amounts and durations, and English-like
// text drawn from a fixed word list with a Zipf-like skew — nothing made
// of long runs. Each document's length is drawn uniformly from 1024–8192
// bytes. Small values (i % 8: tokens, UUIDs, counters, flags, emails, short
// JSON, JWT-like tokens, status lines) are 1–400 bytes: they show where
// compressing stops paying (the threshold, `minBytes`).
//
//   node bench/corpus.mjs [--count N] [--small] [--out FILE]
// writes N records (default 10000) as JSON Lines in `tzkv export`'s shape
// (`{"key":"doc:000000000001","value":"…","expiresAt":null}`), ready for
// `tzkv import`; keys are `doc:` (`val:` with --small) and 12 digits.

import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const CORPUS_SEED = 0x636f7270; // "corp"
export const MIN_DOC_BYTES = 1024;
export const MAX_DOC_BYTES = 8192;

/** A mulberry32 generator seeded by (CORPUS_SEED, stream, i): numbers in [0, 1). */
function generator(stream, i) {
  let s = (CORPUS_SEED ^ Math.imul(stream, 0x85ebca6b) ^ Math.imul(i, 0x9e3779b9)) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = `the of and to a in is that for it as was with be by on not he this are or his from at which but have an they you
were her she there been one all we their has would when if so no will more can who some its them out time up into than only other then
new also these two may first any like now my such made over did down way could our where after back use used well year work between
should because each just those people how too little state good very make world still see own men long here get both under never know
last might while great old off come since against go came right take three himself few house use during without again place around
however home small found thought went say part once general high upon school every does another began number course given fact though
order customer payment invoice shipment account service request response status error warning build test release deploy branch commit
merge review cluster node region zone bucket object storage queue worker job task schedule retry timeout latency throughput cache index
query table column record field value key token session user group role permission policy secret certificate domain host port route
endpoint gateway proxy balancer metric alert dashboard report summary detail item product price discount tax total currency address city
country phone email message comment issue label milestone project team owner member admin guest public private draft pending active
closed failed passed skipped running queued canceled approved rejected expired refunded delivered returned updated created deleted
config feature flag option default limit threshold window interval period daily weekly monthly version update upgrade migration backup
restore snapshot replica primary secondary leader follower stream event handler listener callback promise result output input file path
directory archive package module library framework runtime compiler parser format schema validation check verify audit log trace span
quickly slowly carefully often rarely always usually sometimes already almost enough quite rather really probably certainly clearly
simple complex stable broken missing invalid valid unknown expected unexpected previous next current recent early late large tiny fast
slow safe secure open empty full partial complete ready busy idle healthy degraded available unavailable local remote internal external`
  .split(/\s+/)
  .filter(Boolean);
const FIRST = 'Ada Alan Barbara Brian Carla Chen Daniel Dana Elena Emeka Farah Felix Grace Gustavo Hana Hugo Ines Ivan Jamal Julia Kai Keiko Lars Leila Maya Marco Nadia Noah Olga Omar Priya Pablo Quinn Rosa Ravi Sara Stefan Tariq Tomas Uma Victor Wei Yara Yusuf Zoe'.split(' ');
const LAST = 'Abbott Bakker Castillo Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau Nakamura Okafor Petrov Quintero Rossi Schmidt Tanaka Usman Varga Weber Xu Yilmaz Zhang'.split(' ');
const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.net', 'users.example.io', 'example.co.uk'];
const CITIES = ['Lisbon', 'Osaka', 'Nairobi', 'Toronto', 'Utrecht', 'Porto Alegre', 'Krakow', 'Austin', 'Pune', 'Tallinn', 'Leeds', 'Busan'];
const COUNTRIES = ['PT', 'JP', 'KE', 'CA', 'NL', 'BR', 'PL', 'US', 'IN', 'EE', 'GB', 'KR'];
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const EPOCH = Date.UTC(2026, 0, 1);

/** The helpers one document draws from, over its own generator. */
function drawing(random) {
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const chars = (alphabet, n) => {
    let s = '';
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(random() * alphabet.length)];
    return s;
  };
  // Zipf-like: common words far more often than rare ones, as in English.
  const word = () => WORDS[Math.floor(random() ** 2.2 * WORDS.length)];
  const words = (n) => Array.from({ length: n }, word).join(' ');
  const sentence = () => {
    const s = words(int(5, 16));
    return `${s[0].toUpperCase()}${s.slice(1)}${pick(['.', '.', '.', '?', '!'])}`;
  };
  const paragraph = () => Array.from({ length: int(2, 6) }, sentence).join(' ');
  const uuid = () => {
    const h = chars(HEX, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  let clock = EPOCH + int(0, 300 * 86_400) * 1000;
  /** ISO times of one document move forward from a random start. */
  const time = () => {
    clock += int(1, 7_200_000);
    return new Date(clock).toISOString();
  };
  const person = () => {
    const first = pick(FIRST);
    const last = pick(LAST);
    return { id: int(1000, 9_999_999), name: `${first} ${last}`, email: `${first}.${last}${int(1, 99)}@${pick(DOMAINS)}`.toLowerCase() };
  };
  const slug = (n) => Array.from({ length: n }, word).join('-');
  return { random, int, pick, chars, word, words, sentence, paragraph, uuid, time, person, slug };
}

function apiResponse(d, fits) {
  const data = [];
  const doc = {
    object: 'list',
    data,
    meta: { page: d.int(1, 40), perPage: 0, total: d.int(100, 90_000), requestId: `req_${d.chars(BASE62, 24)}`, generatedAt: d.time() },
    links: {},
  };
  while (fits(doc)) {
    const customer = d.person();
    const items = Array.from({ length: d.int(1, 4) }, () => ({
      sku: `${d.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 3)}-${d.int(1000, 99_999)}`,
      name: d.words(d.int(2, 4)),
      quantity: d.int(1, 12),
      unitPrice: Math.round(d.random() * 50_000) / 100,
    }));
    data.push({
      id: `ord_${d.chars(BASE62, 16)}`,
      object: 'order',
      createdAt: d.time(),
      updatedAt: d.time(),
      status: d.pick(['pending', 'paid', 'shipped', 'delivered', 'refunded', 'canceled']),
      customer: { ...customer, address: { line1: `${d.int(1, 999)} ${d.word()} street`, city: d.pick(CITIES), country: d.pick(COUNTRIES), postalCode: d.chars('0123456789', 5) } },
      items,
      total: Math.round(items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0) * 100) / 100,
      currency: d.pick(['EUR', 'USD', 'GBP', 'JPY']),
      ...(d.random() < 0.4 ? { note: d.sentence() } : {}),
      tags: Array.from({ length: d.int(0, 3) }, d.word),
      metadata: { source: d.pick(['web', 'ios', 'android', 'api']), campaign: d.random() < 0.5 ? null : d.slug(2) },
    });
  }
  doc.meta.perPage = data.length;
  doc.links = { self: `/v1/orders?page=${doc.meta.page}`, next: `/v1/orders?page=${doc.meta.page + 1}&cursor=${d.chars(BASE62, 20)}` };
  return { doc, items: data };
}

function ciReport(d, fits) {
  const suites = [];
  const doc = {
    run: {
      id: d.int(1_000_000, 99_999_999),
      workflow: d.pick(['ci', 'nightly', 'release', 'e2e']),
      branch: d.pick(['main', `feature/${d.slug(2)}`, `fix/${d.slug(3)}`]),
      commit: d.chars(HEX, 40),
      startedAt: d.time(),
      runner: { os: d.pick(['ubuntu-24.04', 'debian-12', 'macos-14']), cores: d.pick([2, 4, 8]), image: `runner-${d.chars(HEX, 12)}` },
    },
    suites,
    summary: {},
  };
  let passed = 0;
  let failed = 0;
  while (fits(doc)) {
    const tests = [];
    const suite = { file: `test/${d.pick(['unit', 'e2e', 'model'])}/${d.slug(d.int(1, 3))}.test.ts`, durationMs: 0, tests };
    for (let t = d.int(2, 6); t > 0; t--) {
      const status = d.random() < 0.85 ? 'passed' : d.pick(['failed', 'skipped']);
      const test = { name: d.words(d.int(4, 10)), status, durationMs: d.int(1, 4000), retries: status === 'failed' ? d.int(0, 2) : 0 };
      if (status === 'failed') {
        test.error = {
          message: `Expected ${d.word()} to be ${d.word()}, received ${d.int(0, 9999)}`,
          stack: Array.from({ length: d.int(2, 5) }, () => `    at ${d.word()}${d.pick(['', 'Store', 'Writer', 'Reader'])} (src/${d.slug(2)}.ts:${d.int(1, 900)}:${d.int(1, 80)})`).join('\n'),
        };
        failed++;
      } else if (status === 'passed') passed++;
      suite.durationMs += test.durationMs;
      tests.push(test);
    }
    suites.push(suite);
  }
  doc.summary = { suites: suites.length, passed, failed, finishedAt: d.time() };
  return { doc, items: suites };
}

function serviceConfig(d, fits) {
  const routes = [];
  const service = d.slug(2);
  const doc = {
    service,
    version: `${d.int(0, 4)}.${d.int(0, 30)}.${d.int(0, 99)}`,
    description: d.sentence(),
    env: Object.fromEntries(Array.from({ length: d.int(3, 8) }, () => [`${d.word()}_${d.word()}`.toUpperCase(), d.random() < 0.5 ? String(d.int(1, 65_535)) : d.slug(2)])),
    listeners: Array.from({ length: d.int(1, 3) }, () => ({ host: d.pick(['0.0.0.0', '127.0.0.1', '::']), port: d.int(1024, 65_535), tls: d.random() < 0.5 ? { cert: `/etc/${service}/tls/${d.word()}.pem`, minVersion: 'TLSv1.2' } : null })),
    routes,
    features: {},
  };
  while (fits(doc)) {
    routes.push({
      path: `/api/v${d.int(1, 3)}/${d.word()}s/${d.random() < 0.5 ? ':id' : d.word()}`,
      methods: d.pick([['GET'], ['GET', 'POST'], ['PUT', 'DELETE'], ['POST']]),
      upstream: `http://${d.slug(2)}.internal:${d.int(3000, 9999)}`,
      timeoutMs: d.pick([500, 1000, 2500, 5000, 30_000]),
      retry: { attempts: d.int(0, 5), backoffMs: d.int(10, 2000) },
      auth: { required: d.random() < 0.8, scopes: Array.from({ length: d.int(0, 3) }, () => `${d.word()}:${d.pick(['read', 'write'])}`) },
      ...(d.random() < 0.3 ? { comment: d.sentence() } : {}),
    });
    doc.features[`${d.word()}_${d.word()}`] = d.random() < 0.5;
  }
  return { doc, items: routes, indent: 2 };
}

function webhookEvent(d, fits) {
  const comments = [];
  const sender = d.person();
  const doc = {
    event: d.pick(['issue_comment.created', 'issues.opened', 'issues.edited']),
    deliveryId: d.uuid(),
    deliveredAt: d.time(),
    repository: { id: d.int(10_000, 900_000_000), fullName: `${d.slug(1)}/${d.slug(2)}`, private: d.random() < 0.3, defaultBranch: 'main' },
    sender: { login: sender.email.split('@')[0], id: sender.id },
    issue: {
      number: d.int(1, 20_000),
      title: d.sentence(),
      state: d.pick(['open', 'closed']),
      labels: Array.from({ length: d.int(0, 4) }, () => ({ name: d.word(), color: d.chars(HEX, 6) })),
      body: d.paragraph(),
      createdAt: d.time(),
    },
    comments,
  };
  while (fits(doc)) {
    const author = d.person();
    comments.push({ id: d.int(100_000_000, 999_999_999), user: { login: author.email.split('@')[0], id: author.id }, createdAt: d.time(), body: d.paragraph(), reactions: { '+1': d.int(0, 9), heart: d.int(0, 3) } });
  }
  return { doc, items: comments };
}

const KINDS = [apiResponse, ciReport, serviceConfig, webhookEvent];

/** Document i (i ≥ 1) of the corpus: UTF-8 JSON, MIN_DOC_BYTES ≤ length ≤ MAX_DOC_BYTES. */
export function documentOf(i) {
  const d = drawing(generator(1, i));
  const target = d.int(MIN_DOC_BYTES, MAX_DOC_BYTES);
  // Grows until the compact form reaches the target, then drops the last
  // parts while the written (maybe indented) form is longer, never below
  // MIN_DOC_BYTES.
  const fits = (doc) => JSON.stringify(doc).length < target;
  const { doc, items, indent } = KINDS[i % KINDS.length](d, fits);
  let text = JSON.stringify(doc, null, indent);
  while (text.length > target && items.length > 1) {
    const dropped = items.pop();
    const shorter = JSON.stringify(doc, null, indent);
    if (shorter.length < MIN_DOC_BYTES) {
      items.push(dropped);
      break;
    }
    text = shorter;
  }
  return Buffer.from(text);
}

/** Small value i (i ≥ 1): what stores hold beside documents, 1–400 bytes. */
export function smallValueOf(i) {
  const d = drawing(generator(2, i));
  switch (i % 8) {
    case 0:
      return Buffer.from(`tzk_${d.chars(BASE62, 32)}`); // an API token
    case 1:
      return Buffer.from(d.uuid()); // a session id
    case 2:
      return Buffer.from(String(d.int(0, 10 ** d.int(1, 9)))); // a counter
    case 3:
      return Buffer.from(d.pick(['true', 'false', 'on', 'off', '1', '0'])); // a flag
    case 4:
      return Buffer.from(d.person().email);
    case 5: {
      const p = d.person();
      return Buffer.from(JSON.stringify({ userId: p.id, name: p.name, role: d.pick(['admin', 'member', 'guest']), expires: d.time(), scopes: Array.from({ length: d.int(0, 6) }, () => `${d.word()}:${d.pick(['read', 'write'])}`) }));
    }
    case 6: {
      // A JWT-like bearer token: base64url header, claims and signature.
      const p = d.person();
      const claims = Buffer.from(JSON.stringify({ sub: String(p.id), email: p.email, iat: Math.floor(EPOCH / 1000) + d.int(0, 9e6), scope: d.words(d.int(1, 6)) })).toString('base64url');
      return Buffer.from(`eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${claims}.${d.chars(BASE62 + '-_', 43)}`);
    }
    default:
      return Buffer.from(`${d.pick(['ok', 'warn', 'error'])} ${d.time()} ${d.sentence()}`); // a status line
  }
}

/** The JSON Lines record of entry i, in `tzkv export`'s shape. */
export function recordLine(i, small = false) {
  const key = `${small ? 'val' : 'doc'}:${String(i).padStart(12, '0')}`;
  const value = (small ? smallValueOf(i) : documentOf(i)).toString('utf8');
  return `${JSON.stringify({ key, value, expiresAt: null })}\n`;
}

async function main() {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '10000' }, small: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const count = Number(values.count);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${values.count}`);
  const out = values.out === undefined ? process.stdout : createWriteStream(values.out);
  for (let i = 1; i <= count; i++) {
    if (!out.write(recordLine(i, values.small))) await new Promise((resolve) => out.once('drain', resolve));
  }
  if (out !== process.stdout) await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
