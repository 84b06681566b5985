// A progress bar on stderr, only when stderr is a terminal and the work is
// large enough to be worth watching. cli-progress is loaded only then.

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const NONE: Progress = { update() {}, stop() {} };

/** Work smaller than this finishes before a bar would help. */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

export async function startProgress(label: string, total: number | undefined): Promise<Progress> {
  if (!process.stderr.isTTY || total === undefined || total < PROGRESS_MIN_BYTES) return NONE;
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
