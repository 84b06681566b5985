// The embedded API: `import { open, serve } from 'tzkv'`.
export type * from './api.js';
export { TzkvError, EXIT_CODES, isTzkvError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { init, open } from './open.js';
export { FORMAT_VERSION, MAX_EXPIRY_MS, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './format/constants.js';
export { serve } from './serve/serve.js';
export type { ListenAddress, ServeOptions, Server } from './serve/serve.js';
export type { SyncMode } from './serve/core/served-store.js';
export type { ServeLog, ServeLogEntry } from './serve/serve-log.js';
