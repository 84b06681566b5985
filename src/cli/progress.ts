// A progress bar on stderr, only when stderr is a terminal and the work is
// large enough to be worth watching. cli-progress is loaded only then.

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const NONE: Progress = { update() {}, stop() {} };

/** Work smaller than this finishes before a bar would help. */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

/** Whether to draw a bar: only on a terminal, never under --json, and only for large work. */
export function progressWanted(stderrIsTTY: boolean | undefined, total: number | undefined, json = false): boolean {
  return stderrIsTTY === true && !json && total !== undefined && total >= PROGRESS_MIN_BYTES;
}

/**
 * Loads the bar's code now when a bar may be drawn, and returns a synchronous
 * factory: work that runs without yielding (verify) can then start and update
 * the bar from its own callbacks.
 */
export async function prepareProgress(label: string, json = false): Promise<(total: number) => Progress> {
  if (!progressWanted(process.stderr.isTTY, PROGRESS_MIN_BYTES, json)) return () => NONE;
  const { default: cliProgress } = await import('cli-progress');
  return (total) => {
    if (!progressWanted(process.stderr.isTTY, total, json)) return NONE;
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {value}/{total} bytes | {eta_formatted} left`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (done) => bar.update(Math.min(done, total)),
      stop: () => bar.stop(),
    };
  };
}

export async function startProgress(label: string, total: number | undefined): Promise<Progress> {
  if (total === undefined) return NONE;
  return (await prepareProgress(label))(total);
}
