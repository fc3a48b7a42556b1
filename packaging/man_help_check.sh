#!/usr/bin/env bash
# man_help_check.sh CLI GUI MANDIR - the man pages and --help agree: every option that
# `flashchat-cli [COMMAND] --help` and `flashchat --help` print is documented in the program's man
# page, every option the man page documents is one the program prints, every command has a
# section, and the man pages render without groff warnings. Exits non-zero listing differences.
set -euo pipefail
cli=$1 gui=$2 mandir=$3
status=0

# Options named in a text: --long and -s (one letter) tokens.
options_of_help() { grep -oE -- '(^|[ ,[(])--?[a-zA-Z][a-zA-Z0-9-]*' | sed -E 's/^[ ,[(]//' | sort -u; }
# Options a man page documents in its .TP item lines (troff escapes \- removed).
options_of_man() {
  awk '/^\.TP/{getline; print}' "$1" | sed 's/\\-/-/g' | grep -oE -- '(^|[ ",])--?[a-zA-Z][a-zA-Z0-9-]*' |
    sed -E 's/^[ ",]//' | sort -u
}
compare() {  # NAME HELP_OPTIONS MAN_OPTIONS
  local only_help only_man
  only_help=$(comm -23 <(echo "$2") <(echo "$3"))
  only_man=$(comm -13 <(echo "$2") <(echo "$3"))
  if [ -n "$only_help" ]; then echo "FAIL $1: in --help, not in the man page:" $only_help; status=1; fi
  if [ -n "$only_man" ]; then echo "FAIL $1: in the man page, not in --help:" $only_man; status=1; fi
}

# flashchat-cli: the global options plus every command's.
help=$("$cli" --help)
commands=$(echo "$help" | awk '/^Subcommands:/{f=1; next} f && /^  [a-z]/{print $1}')
[ -n "$commands" ] || { echo "FAIL flashchat-cli --help lists no commands"; exit 1; }
cli_help_options=$(echo "$help" | options_of_help)
for c in $commands; do
  grep -q "^\.SS $c\$" "$mandir/flashchat-cli.1" || { echo "FAIL flashchat-cli.1 has no section for '$c'"; status=1; }
  cli_help_options+=$'\n'$("$cli" "$c" --help | options_of_help)
done
compare flashchat-cli "$(echo "$cli_help_options" | sort -u)" "$(options_of_man "$mandir/flashchat-cli.1")"

# flashchat: QCommandLineParser's help (Qt's own -platform etc. are not printed, nor documented).
compare flashchat "$("$gui" --help | options_of_help)" "$(options_of_man "$mandir/flashchat.1")"

for page in flashchat-cli.1 flashchat.1; do
  warnings=$(groff -man -Tutf8 -ww -z "$mandir/$page" 2>&1)
  if [ -n "$warnings" ]; then echo "FAIL $page renders with warnings: $warnings"; status=1; fi
done
[ $status -eq 0 ] && echo "man pages agree with --help ($(echo "$commands" | wc -w) commands)"
exit $status
