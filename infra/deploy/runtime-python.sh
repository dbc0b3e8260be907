#!/bin/sh
# Print the directory of a python<VERSION> (the template's Lambda runtime, e.g. 3.12): sam build needs
# it on the PATH, and infra/deploy/check_build.py imports the handlers with it. Looks on the PATH, then
# in pyenv (PYENV_VERSION when set, else the newest installed <VERSION>.x). Exits 1 saying how to get one.
v="$1"
where='import os, sys; print(os.path.dirname(sys.executable))'
if dir=$("python$v" -c "$where" 2>/dev/null); then echo "$dir"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  pv="${PYENV_VERSION:-$(pyenv versions --bare 2>/dev/null | grep -E "^$v(\.[0-9]+)?$" | sort -t. -k3 -n | tail -1)}"
  if [ -n "$pv" ] && dir=$(PYENV_VERSION="$pv" pyenv exec "python$v" -c "$where" 2>/dev/null); then
    echo "$dir"; exit 0
  fi
fi
echo "No Python $v found (the template's Lambda runtime; sam build and the import checks need it)." >&2
echo "Install one: 'pyenv install $v' (then PYENV_VERSION=<that version> make package if pyenv is not" >&2
echo "selecting it), or your system's python$v package (apt-get install python$v, brew install python@$v)." >&2
exit 1
