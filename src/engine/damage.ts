// How reads tell about damage they stepped over (docs/design.md "Reading past
// damage"), the one place that decides what a read without an onDamage does.
// Inside the engine (stepOver): a read given an onDamage tells it of each
// damaged stretch and goes on; without one, it stops there with CORRUPT. For
// the API's listings and stats (DamageLog, ReadOptions): each damaged
// stretch goes to the caller's onDamage; without one, CORRUPT is thrown once
// everything readable has been returned, so a program never takes an
// incomplete answer for a whole one.
import { basename } from 'node:path';
import type { VerifyProblem } from '../api.js';
import { REPAIR_HINT, TzkvError } from '../errors.js';

/** Told of each damaged stretch a read steps over (the shape of verify's problems). */
export type OnDamage = (damage: VerifyProblem) => void;

/** A read met `damage`: tells onDamage and returns, for the read to go on past it; without an onDamage, throws `stop()`. */
export function stepOver(onDamage: OnDamage | undefined, damage: VerifyProblem, stop: () => Error): void {
  if (!onDamage) throw stop();
  onDamage(damage);
}

/** Damage reports kept for the error thrown without an onDamage (beyond this they are counted). */
const MAX_KEPT = 1000;

/** The reason a CORRUPT error gives without its file and offset (info.reason, else its message). */
function reasonOf(err: TzkvError): string {
  const reason = err.info?.reason;
  return typeof reason === 'string' ? reason : err.message;
}

/** A CORRUPT error as a damage report of `kind` (the shape of verify's problems). */
export function damageOf(err: TzkvError, kind: string): VerifyProblem {
  return { file: err.path === undefined ? '' : basename(err.path), offset: err.offset ?? null, kind, message: reasonOf(err) };
}

/** Collects the damage one read stepped over: each stretch once, to onDamage or into the error finish() throws. */
export class DamageLog {
  private readonly seen = new Set<string>();
  private readonly kept: VerifyProblem[] = [];
  private count = 0;

  constructor(
    private readonly location: string,
    private readonly onDamage: OnDamage | undefined,
  ) {}

  readonly report = (damage: VerifyProblem): void => {
    const id = `${damage.file}:${damage.offset}`;
    if (this.seen.has(id)) return; // a read retried on a fresh view meets the same damage again
    this.seen.add(id);
    this.count++;
    if (this.onDamage) this.onDamage(damage);
    else if (this.kept.length < MAX_KEPT) this.kept.push(damage);
  };

  /** Throws CORRUPT when damage was met and nobody was told (info.damage lists it). */
  finish(what: string): void {
    if (this.onDamage || this.count === 0) return;
    const first = this.kept[0];
    const where = `${first.file}${first.offset === null ? '' : ` offset ${first.offset}`}: ${first.message}`;
    const more = this.count > 1 ? ` and ${this.count - 1} more damaged ${this.count === 2 ? 'stretch' : 'stretches'}` : '';
    throw new TzkvError('CORRUPT', `${what} stepped over damaged data (${where}${more}): it may lack keys, or show older values, that the damage held; ${REPAIR_HINT}`, {
      path: `${this.location}/${first.file}`,
      ...(first.offset === null ? {} : { offset: first.offset }),
      info: { damage: this.kept },
    });
  }
}
