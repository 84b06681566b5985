// `tzkv completion bash`: the script bash sources. What it shares with zsh's
// (the command table's tables, reading the line, choosing what completes the
// word at the cursor) is in completion-sh.ts; the function below gathers the
// words up to the cursor and offers commands, subcommands, flags, flag values,
// files and keys. Keys come from `tzkv keys PREFIX -n 100 -0` on the store the line names
// (its -d, -b and etcd flags, else $TZKV_DIR or the default store), which never
// creates a store; within 2 s (`timeout`, where there is one) or nothing, and
// its errors are dropped. A key with control characters is never offered: it
// would act on the terminal.

import type { CompletionSpec } from './completion-spec.js';
import { shTables } from './completion-sh.js';

export function bashScript(spec: CompletionSpec): string {
  const bin = spec.bin;
  return `# bash completion for ${bin} ${spec.version}: commands, flags, their values, and keys from the store.
# Written by \`${bin} completion bash\`; write it again after upgrading ${bin}. Install with
#   ${bin} completion bash > ~/.local/share/bash-completion/completions/${bin}
# or, in ~/.bashrc:  source <(${bin} completion bash)

${shTables(spec)}

# REPLY: a word as the command will see it, without simple quoting ('a b', "a b", a\\ b).
_${bin}_unquote() {
  case $1 in
    \\'*) REPLY=\${1#\\'}; REPLY=\${REPLY%\\'} ;;
    \\"*) REPLY=\${1#\\"}; REPLY=\${REPLY%\\"} ;;
    *) REPLY=\${1//\\\\/} ;;
  esac
}

_${bin}() {
  local REPLY _${bin}_flags _${bin}_value_flags word cur command= pending= dashes= kind= head= i at=0 n=0
  local -a _${bin}_next words=() args=() passed=()
  COMPREPLY=()
  # The words up to the cursor, split at blanks only: COMP_WORDS is split at ":" and "=" too, which keys hold.
  for ((i = 0; i <= COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    local glued=1
    while [[ \${COMP_LINE:at:1} == [[:blank:]] ]]; do ((at++)); glued=; done
    ((i == COMP_CWORD)) && word=\${word:0:COMP_POINT-at}
    if ((i > 0)) && [[ -n $glued ]]; then words[\${#words[@]}-1]+=$word; else words+=("$word"); fi
    ((at += \${#COMP_WORDS[i]}))
  done
  cur=\${words[\${#words[@]}-1]}
  unset "words[\${#words[@]}-1]"
  for word in "\${words[@]:1}"; do
    _${bin}_unquote "$word"
    args+=("$REPLY")
  done
  _${bin}_parse "\${args[@]}" || return 0
  _${bin}_kind "$cur"

  local value=\${cur#"$head"}
  case $kind in
    flags)
      COMPREPLY=($(compgen -W "\${_${bin}_flags[*]%%:*}" -- "$cur"))
      return 0
      ;;
    next)
      COMPREPLY=($(compgen -W "\${_${bin}_next[*]%%:*}" -- "$cur"))
      return 0
      ;;
    key)
      _${bin}_unquote "$value"
      local key
      while IFS= read -r -d '' key; do
        # A key with control characters would act on the terminal: never offered.
        [[ $key == *[[:cntrl:]]* ]] || COMPREPLY+=("$head$key")
      done < <(_${bin}_keys "\${COMP_WORDS[0]}" "$REPLY")
      ;;
    file | dir)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen "-\${kind:0:1}" -- "$value"))
      return 0
      ;;
    choice\\ *)
      COMPREPLY=($(compgen -W "\${kind#choice }" -- "$value"))
      COMPREPLY=("\${COMPREPLY[@]/#/$head}")
      ;;
  esac
  # Readline replaces only the text after the last ":" or "=" (when COMP_WORDBREAKS has them): leave out what comes before.
  local tail=$cur
  [[ $COMP_WORDBREAKS == *:* ]] && tail=\${tail##*:}
  [[ $COMP_WORDBREAKS == *=* ]] && tail=\${tail##*=}
  head=\${cur%"$tail"}
  [[ -n $head ]] && COMPREPLY=("\${COMPREPLY[@]#"$head"}")
  # A key is inserted as the shell must read it back.
  if [[ $kind == key && $cur != [\\'\\"]* ]]; then
    for i in "\${!COMPREPLY[@]}"; do printf -v 'COMPREPLY[i]' %q "\${COMPREPLY[i]}"; done
  fi
}

complete -F _${bin} ${bin}
`;
}
