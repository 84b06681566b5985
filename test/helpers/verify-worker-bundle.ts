// vitest's global setup (vitest.config.ts): bundles verify's worker thread
// (src/engine/verify/verify-worker-thread.ts → dist/verify-worker.cjs) before
// any test runs. Tests run the engine from src/, but a worker thread starts
// from a JavaScript file: src/engine/verify/verify-worker.ts starts this
// bundle, so the worker the tests run is built from the same sources, even
// without `npm run build` (which `npm test` runs first anyway).
import { bundleVerifyWorker } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  await bundleVerifyWorker();
}
