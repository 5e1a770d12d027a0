#!/usr/bin/env bash
# lifeline: run a command that dies with the process that started it.
# Model: our stdin is a pipe whose only writer is the parent (the harness). When the parent exits for any reason,
# kill -9 included, the pipe reaches EOF and we SIGKILL the command, so no JVM or toxiproxy outlives the harness.
# The command's pid is written to fd 3 so the harness can signal the real process (kill -9, SIGSTOP) directly.
# The command runs in a process group of its own (setsid), so a signal to the group also reaches what a shell
# command started (`bash -c "cd x && node y"`): a kill fault kills the whole SUT, not just its shell.
# Background jobs of a non-interactive shell get /dev/null as stdin, so keep the parent's pipe on fd 4 first.
exec 4<&0
setsid "$@" 0</dev/null 3>&- 4<&- &
child=$!
echo "$child" >&3
exec 3>&-
trap 'kill -TERM -- -"$child" 2>/dev/null' TERM
trap 'kill -INT -- -"$child" 2>/dev/null' INT
( while read -r _ <&4; do :; done; kill -KILL -- -"$child" 2>/dev/null; kill -KILL "$child" 2>/dev/null ) &
exec 4<&-
watcher=$!
rc=0
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  rc=$?
done
kill -KILL "$watcher" 2>/dev/null
exit "$rc"
