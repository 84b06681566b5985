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

export async function startProgress(label: string, total: number | undefined, json = false): Promise<Progress> {
  if (total === undefined || !progressWanted(process.stderr.isTTY, total, json)) return NONE;
  const { default: cliProgress } = await import('cli-progress');
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
}
