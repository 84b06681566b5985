// `tzkv completion zsh`: a completion function for zsh, either autoloaded
// from a directory on $fpath as _tzkv (its first line is `#compdef tzkv`) or
// sourced after compinit. It reads the line and chooses what completes the
// word at the cursor as bash's does (completion-sh.ts), and hands zsh the
// candidates: commands and flags with their summaries
// (_describe), files and directories (_files), fixed values and keys
// (compadd, which quotes them). Keys: see completion-bash.ts.

import type { CompletionSpec } from './completion-spec.js';
import { shTables } from './completion-sh.js';

export function zshScript(spec: CompletionSpec): string {
  const bin = spec.bin;
  return `#compdef ${bin}
# zsh completion for ${bin} ${spec.version}: commands, flags, their values, and keys from the store.
# Written by \`${bin} completion zsh\`; write it again after upgrading ${bin}. Install as _${bin} in a
# directory on $fpath, before compinit runs:
#   ${bin} completion zsh > "\${fpath[1]}/_${bin}"
# or, in ~/.zshrc after compinit:  source <(${bin} completion zsh)

${shTables(spec)}

_${bin}() {
  local REPLY _${bin}_value_flags command= pending= dashes= kind= head= n=0
  local -a _${bin}_flags _${bin}_next passed keys
  _${bin}_parse "\${(@Q)words[2,CURRENT-1]}" || return 1
  _${bin}_kind "$PREFIX"
  [[ -n $head ]] && compset -P '*='
  case $kind in
    flags) _describe -t flags flag _${bin}_flags ;;
    next) _describe -t commands command _${bin}_next ;;
    key)
      keys=(\${(0)"$(_${bin}_keys "$words[1]" "\${(Q)PREFIX}")"})
      # A key with control characters would act on the terminal: never offered.
      compadd -- \${keys:#*[[:cntrl:]]*}
      ;;
    file) _files ;;
    dir) _files -/ ;;
    choice\\ *) compadd -- \${=kind#choice } ;;
    *) return 1 ;;
  esac
}

# Autoloaded from $fpath, this file is the body of _${bin}: run the function just defined.
# Sourced, register it.
if [[ $funcstack[1] == _${bin} ]]; then
  _${bin} "$@"
elif (( $+functions[compdef] )); then
  compdef _${bin} ${bin}
else
  print -u2 "${bin} completion: run compinit before sourcing this script"
fi
`;
}
