// Where secret bytes could leak: every form of a canary text (itself, hex,
// base64 and base64url at each alignment) searched in every file under some
// directories (test/e2e/crypt-canary.test.ts).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The forms a canary could leak in: itself, its hex (both cases), and its
 * base64 and base64url at each of the three alignments (as it would appear
 * after 0, 1 or 2 bytes of something else), without the edge characters that
 * depend on the bytes around it.
 */
export function leakForms(text: string): Map<string, Buffer> {
  const bytes = Buffer.from(text);
  const forms = new Map<string, Buffer>([
    ['plain', bytes],
    ['hex', Buffer.from(bytes.toString('hex'))],
    ['HEX', Buffer.from(bytes.toString('hex').toUpperCase())],
  ]);
  for (const lead of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(lead), bytes]).toString('base64');
    // Characters that hold bits of the leading bytes, and the last 4 (the partial group and its padding).
    const core = b64.slice(Math.ceil((lead * 8) / 6), b64.length - 4);
    forms.set(`base64+${lead}`, Buffer.from(core));
    forms.set(`base64url+${lead}`, Buffer.from(core.replaceAll('+', '-').replaceAll('/', '_')));
  }
  return forms;
}

/** Every file under `root`, recursively. */
export function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Where any form of any canary is found in any file under the roots: "file: form of canary" lines (none expected). */
export function leaks(roots: string[], canaries: string[]): string[] {
  const found: string[] = [];
  for (const file of roots.flatMap(filesUnder)) {
    const bytes = readFileSync(file);
    for (const c of canaries) {
      for (const [form, needle] of leakForms(c)) if (bytes.includes(needle)) found.push(`${file}: ${form} of ${c}`);
    }
  }
  return found;
}
