// Every peer script ends here: exit 0 at once (lmdb's and LevelDB's threads must not hold the process).
export function done() {
  process.exit(0);
}
