// The embedded API: `import { open } from 'tzkv'`.
export type * from './api.js';
export { TzkvError, EXIT_CODES, isTzkvError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { open } from './open.js';
export { FORMAT_VERSION, MAX_EXPIRY_MS, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './format/constants.js';
