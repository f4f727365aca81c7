# Shared by scripts/test, scripts/demo and the bench scripts.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
# ccache keys on relative paths below the repo, so clones in other places share it.
export CCACHE_BASEDIR="$repo"
export CCACHE_NOHASHDIR=1

# configure_and_build <preset> [targets...]
configure_and_build() {
  local preset=$1; shift
  cmake --preset "$preset" -S "$repo" >/dev/null
  if [[ $# -gt 0 ]]; then
    cmake --build "$repo/build/$preset" -j "$jobs" --target "$@"
  else
    cmake --build "$repo/build/$preset" -j "$jobs"
  fi
}
