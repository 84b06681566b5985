// `tzkv completion fish`: completions fish loads from
// ~/.config/fish/completions/tzkv.fish. The tables of completion-tables.ts as
// fish functions (the same four questions as completion-sh.ts, answered on
// stdout or in global variables: fish functions cannot set their caller's),
// and one function that reads the tokens before the cursor as the bash script
// does and prints the candidates, "word<TAB>summary", for fish to filter.
// Keys: see completion-bash.ts.

import type { CompletionSpec } from './completion-spec.js';
import { type Branch, type Pattern, completionTables } from './completion-tables.js';

/** `text` as one fish word in single quotes (where \ and ' are escaped). */
const quoted = (text: string): string => `'${text.replace(/[\\']/g, '\\$&')}'`;

/** A case pattern: fish matches * in a quoted pattern too. */
const pattern = ({ text, anyBefore, anyAfter }: Pattern): string => quoted(`${anyBefore ? '*' : ''}${text}${anyAfter ? '*' : ''}`);

function switchOf<T>(subject: string, branches: ReadonlyArray<Branch<T>>, body: (value: T) => string, otherwise: string): string {
  const cases = branches.map((branch) => `        case ${branch.patterns.map(pattern).join(' ')}\n            ${body(branch.value)}`);
  return `    switch ${subject}\n${cases.join('\n')}\n        case '*'\n            ${otherwise}\n    end`;
}

const list = (words: readonly string[]): string => words.map(quoted).join(' ');

export function fishScript(spec: CompletionSpec): string {
  const bin = spec.bin;
  const fn = `__${bin}`;
  const tables = completionTables(spec);
  return `# fish completion for ${bin} ${spec.version}: commands, flags, their values, and keys from the store.
# Written by \`${bin} completion fish\`; write it again after upgrading ${bin}. Install with
#   ${bin} completion fish > ~/.config/fish/completions/${bin}.fish

# Prints the command the words name; status 1 when none.
function ${fn}_command
${switchOf('"$argv[1]"', tables.command, (id) => `echo ${quoted(id)}`, 'return 1')}
end

# Sets ${fn}_flags, ${fn}_value_flags and ${fn}_next for a command ('' before one).
function ${fn}_spec
${switchOf('"$argv[1]"', tables.spec, (s) => `set -g ${fn}_flags ${list(s.flags)}; set -g ${fn}_value_flags ${list(s.valueFlags)}; set -g ${fn}_next ${list(s.next)}`, `set -g ${fn}_flags; set -g ${fn}_value_flags; set -g ${fn}_next`)}
end

# Prints what completes a flag's value (COMMAND -b) or an argument (COMMAND #0); status 1 when nothing.
function ${fn}_values
${switchOf('"$argv[1] $argv[2]"', tables.values, (kind) => `echo ${quoted(kind)}`, 'return 1')}
end

# Appends --name=VALUE to ${fn}_passed for a flag of the line that says which store or bucket.
function ${fn}_pass
${switchOf('$argv[1]', tables.pass, (name) => `set -ga ${fn}_passed ${name}=$argv[2]`, 'return 0')}
end

# Prints up to 100 keys that start with $argv[2], without those holding control characters (they would act on the terminal).
function ${fn}_keys
    set -l line $argv[1] keys $${fn}_passed -n 100 -0
    test -n "$argv[2]"; and set -a line -- $argv[2]
    command -q timeout; and set line timeout 2 $line
    command $line </dev/null 2>/dev/null | string split0 | string match -rv '[[:cntrl:]]'
end

function ${fn}_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    # The command's words so far: none before the command.
    set -l command
    set -l pending ''
    set -l dashes ''
    set -l n 0
    set -g ${fn}_passed
    ${fn}_spec ''
    set -l i 2
    while test $i -le (count $tokens)
        set -l word $tokens[$i]
        if test -n "$dashes"
            set n (math $n + 1)
        else if test "$word" = --
            set dashes 1
        else if string match -q -- '--*=*' $word
            ${fn}_pass (string split -m1 -- = $word)
        else if string match -q -- '-?*' $word
            if contains -- $word $${fn}_value_flags
                if test $i -lt (count $tokens)
                    set i (math $i + 1)
                    ${fn}_pass $word (string replace -r -- '^~(?=/|$)' $HOME $tokens[$i])
                else
                    set pending $word
                end
            end
        else if test $n -eq 0; and set -l named (${fn}_command (string join ' ' -- $command $word))
            set command $named
            ${fn}_spec $command
        else if test -z "$command"
            return
        else
            set n (math $n + 1)
        end
        set i (math $i + 1)
    end

    set -l kind ''
    # What the candidates start with (--format=), and the part of the word they complete.
    set -l head ''
    set -l value $cur
    if test -n "$pending"
        set kind (${fn}_values "$command" $pending)
    else if test -z "$dashes"; and string match -q -- '--*=*' $cur
        set -l parts (string split -m1 -- = $cur)
        set head $parts[1]=
        set value $parts[2]
        set kind (${fn}_values "$command" $parts[1])
    else if test -z "$dashes"; and string match -q -- '-*' $cur
        string replace -- : \\t $${fn}_flags
        return
    else if test $n -eq 0; and set -q ${fn}_next[1]
        string replace -- : \\t $${fn}_next
        return
    else
        set kind (${fn}_values "$command" "#$n")
    end

    switch "$kind"
        case key
            ${fn}_keys $tokens[1] $value
        case file
            __fish_complete_path $value
        case dir
            __fish_complete_directories $value
        case 'choice *'
            string split ' ' -- (string replace -- 'choice ' '' $kind)
    end | string replace -r -- '^' "$head"
end

complete -c ${bin} -f -a '(${fn}_complete)'
`;
}
