// src/serve/metrics.ts: what both protocols count, rendered as Prometheus text.
import { describe, expect, test } from 'vitest';
import type { ServedStoreCounters } from '../../src/serve/core/served-store.js';
import { Metrics } from '../../src/serve/metrics.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const counters: ServedStoreCounters = { cacheHits: 7, cacheMisses: 3, cacheBytes: 4096, cacheEntries: 12, commits: 5, writes: 9 };

describe('Metrics', () => {
  test('requests by protocol, command and outcome; a cumulative latency histogram; bytes; clients; the store counters', () => {
    const m = new Metrics(() => 1_700_000_000_000);
    m.command('redis', 'get', 80, true);
    m.command('redis', 'get', 300, true);
    m.command('redis', 'get', 2_000_000, false);
    m.command('http', 'put', 50, 201);
    m.command('http', 'put', 7_000_000, 413);
    const socket = { bytesRead: 60, bytesWritten: 30 };
    m.transferred('http', socket);
    Object.assign(socket, { bytesRead: 100, bytesWritten: 40 });
    m.transferred('http', socket);
    m.transferred('redis', { bytesRead: 10, bytesWritten: 0 });
    m.connected('redis');
    m.connected('redis');
    m.disconnected('redis');
    m.connected('http');
    const text = m.render(counters);
    const e = parsePrometheusText(text);
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(e, name, labels);
    expect(v('tzkv_requests_total', { protocol: 'redis', command: 'get', status: 'ok' })).toBe(2);
    expect(v('tzkv_requests_total', { protocol: 'redis', command: 'get', status: 'error' })).toBe(1);
    expect(v('tzkv_requests_total', { protocol: 'http', command: 'put', status: '413' })).toBe(1);
    expect(v('tzkv_request_duration_seconds_bucket', { protocol: 'redis', command: 'get', le: '0.0001' })).toBe(1);
    expect(v('tzkv_request_duration_seconds_bucket', { protocol: 'redis', command: 'get', le: '0.0005' })).toBe(2);
    expect(v('tzkv_request_duration_seconds_bucket', { protocol: 'redis', command: 'get', le: '1' })).toBe(2);
    expect(v('tzkv_request_duration_seconds_bucket', { protocol: 'redis', command: 'get', le: '2.5' })).toBe(3);
    expect(v('tzkv_request_duration_seconds_bucket', { protocol: 'http', command: 'put', le: '5' })).toBe(1);
    expect(v('tzkv_request_duration_seconds_bucket', { protocol: 'http', command: 'put', le: '+Inf' })).toBe(2);
    expect(v('tzkv_request_duration_seconds_count', { protocol: 'redis', command: 'get' })).toBe(3);
    expect(v('tzkv_request_duration_seconds_sum', { protocol: 'redis', command: 'get' })).toBeCloseTo(2.00038, 9);
    expect(v('tzkv_received_bytes_total', { protocol: 'http' })).toBe(100);
    expect(v('tzkv_sent_bytes_total', { protocol: 'http' })).toBe(40);
    expect(v('tzkv_received_bytes_total', { protocol: 'redis' })).toBe(10);
    expect(v('tzkv_connected_clients', { protocol: 'redis' })).toBe(1);
    expect(v('tzkv_connections_total', { protocol: 'redis' })).toBe(2);
    expect(v('tzkv_connected_clients', { protocol: 'http' })).toBe(1);
    expect(v('tzkv_cache_hits_total')).toBe(7);
    expect(v('tzkv_cache_misses_total')).toBe(3);
    expect(v('tzkv_cache_bytes')).toBe(4096);
    expect(v('tzkv_cache_entries')).toBe(12);
    expect(v('tzkv_commits_total')).toBe(5);
    expect(v('tzkv_writes_total')).toBe(9);
    expect(v('process_start_time_seconds')).toBe(1_700_000_000);
    expect(v('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(e.types.get('tzkv_request_duration_seconds')).toBe('histogram');
    expect(e.types.get('tzkv_connected_clients')).toBe('gauge');
    expect(m.summary()).toEqual({
      startedAt: '2023-11-14T22:13:20.000Z',
      connectedClients: { redis: 1, http: 1 },
      requests: { redis: 3, http: 2 },
    });
  });

  test('a command name is escaped in its label; past 200 names the rest count as "other"', () => {
    const m = new Metrics();
    m.command('redis', 'we"ird\\na\nme', 1, false);
    for (let i = 0; i < 250; i++) m.command('redis', `junk${i}`, 1, false);
    const e = parsePrometheusText(m.render(counters));
    expect(sampleValue(e, 'tzkv_requests_total', { command: 'we"ird\\na\nme' })).toBe(1);
    const names = new Set(e.samples.filter((s) => s.name === 'tzkv_requests_total').map((s) => s.labels.command));
    expect(names.size).toBe(201);
    expect(sampleValue(e, 'tzkv_requests_total', { command: 'other' })).toBe(51);
  });

  test('with nothing counted the text still parses, every family declared once', () => {
    const e = parsePrometheusText(new Metrics().render(counters));
    expect(sampleValue(e, 'tzkv_connected_clients', { protocol: 'http' })).toBe(0);
    expect(e.samples.some((s) => s.name === 'tzkv_requests_total')).toBe(false);
  });

  test('the reader used here refuses what Prometheus would', () => {
    for (const bad of ['x 1\n', '# TYPE x counter\nx{a="b} 1\n', '# TYPE x counter\nx one\n', '# TYPE x counter\nx 1', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n']) {
      expect(() => parsePrometheusText(bad), bad).toThrow();
    }
  });
});
