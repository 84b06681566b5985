// How a command that read past damaged data tells the user (docs/cli.md
// "Exit codes"): a warning on stderr for each damaged stretch as it is met,
// naming file and offset and what fixes it; after the output, one line saying
// the answer is incomplete, and exit 4.
import type { VerifyProblem } from '../api.js';
import { EXIT_CODES, REPAIR_HINT } from '../errors.js';
import { printMessage } from './output.js';

/**
 * `FILE offset N: message`; the offset is left out when the problem has none,
 * and the file when there is none (the store as a whole) or when the message
 * already starts with its name ("MANIFEST is missing from ...").
 */
export function problemLine(problem: VerifyProblem): string {
  if (problem.offset === null && (problem.file === '' || problem.message.startsWith(`${problem.file} `))) return problem.message;
  return `${problem.file}${problem.offset === null ? '' : ` offset ${problem.offset}`}: ${problem.message}`;
}

export class DamageWarnings {
  /** Damaged stretches stepped over so far. */
  count = 0;

  /** The store's onDamage (ReadOptions). */
  readonly onDamage = (damage: VerifyProblem): void => {
    this.count++;
    printMessage(`warning: ${problemLine(damage)}; stepped over it (${REPAIR_HINT})`);
  };

  /** What to say when `what` is incomplete; `effect`, what that means for it. */
  summary(what: string, effect = 'it may lack keys, or show older values, that the damage held'): string {
    const stretches = this.count === 1 ? '1 damaged stretch' : `${this.count} damaged stretches`;
    return `${what} stepped over ${stretches} of the store: ${effect}; ${REPAIR_HINT}`;
  }

  /** After the output: when damage was stepped over, says so and sets exit 4. */
  finish(what: string, effect?: string): void {
    if (this.count === 0) return;
    printMessage(this.summary(what, effect));
    process.exitCode = EXIT_CODES.CORRUPT;
  }
}
