// The commands about a store directory's machinery (promote, replicate,
// verify --repair) reach it through Store.admin(); a backend without one (an
// etcd cluster) is refused with the command's own reason.
import type { Store, StoreAdmin } from '../api.js';
import { TzkvError } from '../errors.js';

/** The store's administration; INVALID_ARGUMENT with `why(location)` when it has none. */
export function adminOf(store: Store, why: (location: string) => string): StoreAdmin {
  const admin = store.admin();
  if (!admin) throw new TzkvError('INVALID_ARGUMENT', why(store.location));
  return admin;
}
