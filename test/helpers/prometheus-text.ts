// A strict reader of the Prometheus text exposition format 0.0.4, for tests:
// it throws on any line a Prometheus server would refuse (a sample before its
// family's TYPE, a bad name, a badly escaped label, a value that is no
// number, a family declared twice), and on a histogram whose buckets do not
// ascend to a +Inf equal to its _count.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

export function parsePrometheusText(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!NAME.test(name) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)) throw new Error(`bad TYPE, ${where}`);
      if (types.has(name)) throw new Error(`${name} declared twice, ${where}`);
      types.set(name, type);
    } else if (line.startsWith('# HELP ')) {
      if (!NAME.test(line.slice(7).split(' ')[0])) throw new Error(`bad HELP, ${where}`);
    } else if (line.startsWith('#') || line === '') {
      continue;
    } else {
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`not a sample, ${where}`);
      const [, name, labelText, valueText] = m;
      const family = [...types.entries()].find(([f, t]) => (SUFFIXES[t] ?? ['']).some((s) => name === f + s));
      if (!family) throw new Error(`a sample before its family's TYPE, ${where}`);
      const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
      if (!/^[-+]?(\d+\.?\d*(e[-+]?\d+)?|\.\d+|Inf|NaN)$/i.test(valueText)) throw new Error(`bad value, ${where}`);
      samples.push({ name, labels: parseLabels(labelText ?? '', where), value });
    }
  }
  checkHistograms(types, samples);
  return { types, samples };
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels, ${where}`);
    if (m[1] in labels) throw new Error(`label ${m[1]} twice, ${where}`);
    labels[m[1]] = m[2].replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const id = JSON.stringify(rest);
      series.set(id, [...(series.get(id) ?? []), s]);
    }
    for (const [id, buckets] of series) {
      const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
      if (les[les.length - 1] !== Infinity) throw new Error(`${family}${id}: no +Inf bucket`);
      for (let i = 1; i < buckets.length; i++) {
        if (!(les[i] > les[i - 1]) || buckets[i].value < buckets[i - 1].value) throw new Error(`${family}${id}: buckets do not ascend`);
      }
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(s.labels) === id);
      if (count?.value !== buckets[buckets.length - 1].value) throw new Error(`${family}${id}: _count is not the +Inf bucket`);
    }
  }
}

/** The value of the one sample of `name` whose labels include `labels` (undefined: none). */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
