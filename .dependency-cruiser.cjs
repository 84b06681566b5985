// The layers of src/ (CONTRIBUTING.md "Layers").
// Dependencies point one way, down this list; a file may import its own layer and any layer below it:
//   commands → cli → open/index → local → replication → engine → lock, and beside local, etcd;
//   under all of them the checked base (keys, checked-store, checked-batch), then format and io;
//   api.ts and errors.ts are the contract every layer shares. CONTRIBUTING.md "Layers" draws it.
// Files directly in src/ count as their own modules, not as one folder.
// Checked by `npm run lint` (lint:layers) and by npm test (test/unit/layers.test.ts).
/** A rule that forbids `from` importing any of `to`. */
const forbid = (name, from, to, comment) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: 'no-cycle', comment: 'No file imports itself through others (type-only imports count).', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-folder-cycle',
      comment: 'No folder imports itself through others.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { pathNot: '^src$' } },
    },
    forbid('format-is-pure', '^src/format/', '^src/(?!format/)', 'format/ is pure codecs: it imports nothing else of ours.'),
    forbid('io-is-the-bottom', '^src/io/', '^src/(?!io/)', 'io/ is the seam the engine is tested through: it imports nothing of ours.'),
    forbid('contract-imports-nothing', '^src/(api|errors)\\.ts$', '^src/(?!(api|errors)\\.ts$)', 'api.ts and errors.ts are the contract every layer shares.'),
    forbid('checked-base-below-backends', '^src/(keys|checked-store|checked-batch)\\.ts$', '^src/(engine|local|replication|etcd|lock|cli|commands)/|^src/(open|index)\\.ts$', 'The checked base is what both backends extend.'),
    forbid('lock-below-engine', '^src/lock/', '^src/(engine|local|replication|etcd|cli|commands)/|^src/(open|index)\\.ts$'),
    forbid('engine-below-the-rest', '^src/engine/', '^src/(local|replication|etcd|cli|commands)/|^src/(open|index)\\.ts$', 'The engine is handed what it needs from above.'),
    forbid('replication-below-local', '^src/replication/', '^src/(local|etcd|cli|commands)/|^src/(open|index)\\.ts$'),
    forbid('etcd-beside-the-engine', '^src/etcd/', '^src/(engine|local|replication|cli|commands)/|^src/(open|index)\\.ts$', 'The etcd backend shares the contract, not the engine.'),
    forbid('local-below-the-cli', '^src/local/', '^src/(etcd|cli|commands)/|^src/(open|index)\\.ts$'),
    forbid('cli-below-commands', '^src/cli/', '^src/commands/', 'Commands use cli/; whatever needs the command table sits above both.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
