// TZKV_TRACE_STARTUP=1 prints where a run's time went, on stderr at exit:
//   tzkv start-up: node 24.1 ms, read 1.2, compile 3.0, load 11.9, config 4.2, command 6.3 (code cache: used)
// Each figure is the time since the previous mark. Shared through globalThis
// because the launcher and the bundle each carry a copy of this module.

const KEY = Symbol.for('tzkv.startup-trace');

interface Trace {
  marks: Array<[string, number]>;
  notes: string[];
}

const now = () => process.uptime() * 1000;

function current(): Trace | undefined {
  return (globalThis as { [KEY]?: Trace })[KEY];
}

/** Starts tracing when TZKV_TRACE_STARTUP is set; the first mark is Node's own start-up. */
export function startTrace(): void {
  if (!process.env.TZKV_TRACE_STARTUP) return;
  const trace: Trace = { marks: [['node', now()]], notes: [] };
  (globalThis as { [KEY]?: Trace })[KEY] = trace;
  process.once('exit', () => {
    let previous = 0;
    const parts = trace.marks.map(([phase, at]) => {
      const part = `${phase} ${(at - previous).toFixed(1)}`;
      previous = at;
      return part;
    });
    process.stderr.write(`tzkv start-up: ${parts.join(' ms, ')} ms${trace.notes.length ? ` (${trace.notes.join(', ')})` : ''}\n`);
  });
}

/** Marks the end of a phase (no-op unless tracing). */
export function mark(phase: string): void {
  current()?.marks.push([phase, now()]);
}

export function note(text: string): void {
  current()?.notes.push(text);
}
