import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { runBatch } from '../cli/batch-action.js';
import { bucketFlag, lockFlag, modeFlag } from '../cli/flags.js';

export default class Batch extends TzkvCommand {
  static override summary = 'Apply many operations, one a line, in one process.';
  static override description = `Reads FILE, or stdin when FILE is "-" (left out, a usage error: stdin is read only when asked for). One operation a line, and what it prints:
  put KEY VALUE [TTL]  OK
  get KEY              the value (an empty line: the key is missing)
  del KEY              1 when the key was there, else 0
  incr KEY [BY]        the new value (a missing key counts as 0)
  expire KEY TTL       the seconds left (an empty line: missing)
  ttl KEY              the seconds left, -1 for no expiry (empty: missing)
(set, and rm or delete, work for put and del, as on the command line.) Words are separated by spaces. A word with spaces, an empty one, or bytes that are not text goes in double quotes, with the escapes \\" \\\\ \\n \\t \\r \\xHH: "two words", "", "\\x00\\xff". Any other word is taken as it is, so a value may start with "-". get prints a value the same way. A line that starts with { is one JSON object: {"op": "put", "key": "k", "value": "v", "ttl": "10m"} ("encoding": "base64" for a binary value). Blank lines and lines starting with # are skipped. TTLs: 60, 90s, 10m, 1h, 2d.
All lines are one atomic step by default: every line is read first, then all are applied in one durable commit, reads seeing the batch's own earlier writes. A malformed line (exit 2), or one that fails (incr of a value that is not an integer: exit 1), applies nothing, and the message names the line. With --each each line is applied on its own as it arrives and its result printed at once; a line that fails prints ERR and its code, its message goes to stderr, and the rest go on (exit 1 at the end), but a failure of the store itself (locked, damaged, I/O: exit 3, 4, 5) stops there.
Results go to stdout in input order, one line per operation; with --json one JSON object per operation line: {"line", "op", "key", "ok", ...}. On etcd an atomic batch that writes is one etcd transaction: at most 128 keys read and 128 written (more: split it, or use --each).`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures.txt',
    "$ printf 'put a 1\\nincr a 5\\nget a\\n' | <%= config.bin %> <%= command.id %> -     # OK 6 6",
    '<%= config.bin %> <%= command.id %> - --each --json < ops.jsonl',
    '$ for i in $(seq 1000); do echo "put user:$i \\"name $i\\" 1h"; done | <%= config.bin %> <%= command.id %> -',
  ];
  static override args = {
    file: Args.string({ description: 'File of operations ("-": stdin).', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    ...modeFlag,
    atomic: Flags.boolean({ summary: 'All lines in one transaction, all or nothing (the default).', default: true, exclusive: ['each'] }),
    json: Flags.boolean({ summary: 'Print one JSON object per operation line (JSON Lines).', default: false }),
    each: Flags.boolean({ summary: 'Apply each line on its own and print its result at once; a failing line does not stop the rest.', default: false, exclusive: ['atomic'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Batch);
    process.exitCode = await runBatch({ ...flags, file: args.file });
  }
}
