// What bash and zsh completion share, as shell functions both run (the syntax
// they have in common: case, arrays, [[ ]]), named after the executable. The
// tables of completion-tables.ts:
//   _tzkv_command WORDS         REPLY: the command the words name; status 1 when none
//   _tzkv_spec COMMAND          sets _tzkv_flags, _tzkv_value_flags (" -b --bucket ... "), _tzkv_next
//   _tzkv_values COMMAND WHAT   REPLY: what completes it; status 1 when nothing
//   _tzkv_pass FLAG VALUE       appends --name=VALUE (~ expanded) to the array `passed` for a store flag
// and the reading of a line:
//   _tzkv_parse WORD...         the words between `tzkv` and the cursor, unquoted: sets command (its
//                               words), pending (a value flag the cursor follows), dashes (after "--"),
//                               n (arguments so far) and passed; status 1 for an unknown command
//   _tzkv_kind CUR              what completes CUR, the word at the cursor: sets kind (flags, next,
//                               key, file, dir, "choice A B C" or empty) and head (the part of CUR
//                               before the value: "--format=")
//   _tzkv_keys BIN PREFIX       prints up to 100 keys that start with PREFIX, each ended by NUL
// The caller declares REPLY, command, pending, dashes, n, passed, kind, head and
// the _tzkv_* variables local: the functions set the caller's (both shells
// scope variables dynamically).

import type { CompletionSpec } from './completion-spec.js';
import { type Branch, type Pattern, completionTables } from './completion-tables.js';

/** `text` as one word in single quotes. */
const quoted = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

const pattern = ({ text, anyBefore, anyAfter }: Pattern): string => `${anyBefore ? '*' : ''}${quoted(text)}${anyAfter ? '*' : ''}`;

function caseOf<T>(subject: string, branches: ReadonlyArray<Branch<T>>, body: (value: T) => string, otherwise: string): string {
  const lines = branches.map((branch) => `    ${branch.patterns.map(pattern).join('|')}) ${body(branch.value)} ;;`);
  return `  case ${subject} in\n${lines.join('\n')}\n    *) ${otherwise} ;;\n  esac`;
}

const list = (words: readonly string[]): string => `(${words.map(quoted).join(' ')})`;

/** The functions above, for the executable spec.bin. */
export function shTables(spec: CompletionSpec): string {
  const tables = completionTables(spec);
  const fn = `_${spec.bin}`;
  return `${fn}_command() {
${caseOf('$1', tables.command, (id) => `REPLY=${quoted(id)}`, 'REPLY= ; return 1')}
}

${fn}_spec() {
${caseOf('$1', tables.spec, (s) => `${fn}_flags=${list(s.flags)}; ${fn}_value_flags=${quoted(` ${s.valueFlags.join(' ')} `)}; ${fn}_next=${list(s.next)}`, `${fn}_flags=(); ${fn}_value_flags=; ${fn}_next=()`)}
}

${fn}_values() {
${caseOf('"$1 $2"', tables.values, (kind) => `REPLY=${quoted(kind)}`, 'REPLY= ; return 1')}
}

${fn}_pass() {
${caseOf('$1', tables.pass, (name) => `REPLY=${name}`, 'return 0')}
  case $2 in
    '~'|'~/'*) passed+=("$REPLY=$HOME\${2:1}") ;;
    *) passed+=("$REPLY=$2") ;;
  esac
}

${fn}_parse() {
  local word
  ${fn}_spec ''
  for word in "$@"; do
    if [[ -n $pending ]]; then
      ${fn}_pass "$pending" "$word"
      pending=
    elif [[ -n $dashes ]]; then
      ((n += 1))
    elif [[ $word == -- ]]; then
      dashes=1
    elif [[ $word == --*=* ]]; then
      ${fn}_pass "\${word%%=*}" "\${word#*=}"
    elif [[ $word == -?* ]]; then
      if [[ $${fn}_value_flags == *" $word "* ]]; then pending=$word; fi
    elif ((n == 0)) && ${fn}_command "\${command:+$command }$word"; then
      command=$REPLY
      ${fn}_spec "$command"
    elif [[ -z $command ]]; then
      return 1
    else
      ((n += 1))
    fi
  done
  return 0
}

${fn}_kind() {
  kind= head=
  if [[ -n $pending ]]; then
    ${fn}_values "$command" "$pending" && kind=$REPLY
  elif [[ -z $dashes && $1 == --*=* ]]; then
    head=\${1%%=*}=
    ${fn}_values "$command" "\${1%%=*}" && kind=$REPLY
  elif [[ -z $dashes && $1 == -* ]]; then
    kind=flags
  elif ((n == 0 && \${#${fn}_next[@]} > 0)); then
    kind=next
  else
    ${fn}_values "$command" "#$n" && kind=$REPLY
  fi
  return 0
}

${fn}_keys() {
  local -a line
  line=("$1" keys "\${passed[@]}" -n 100 -0)
  [[ -n $2 ]] && line+=(-- "$2")
  if command -v timeout >/dev/null 2>&1; then line=(timeout 2 "\${line[@]}"); fi
  "\${line[@]}" </dev/null 2>/dev/null
}`;
}
