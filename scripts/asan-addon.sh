#!/usr/bin/env bash
# Builds the native addon with AddressSanitizer + UndefinedBehaviorSanitizer and, with
# `test`, runs the addon's unit tests against that build.
#
#   scripts/asan-addon.sh         build only: the result is build/asan/tsvisor_native.node
#   scripts/asan-addon.sh test    build, then run test/unit/native.test.ts against it
#
# The sanitized build is made in a scratch tree outside the repository (copies of
# binding.gyp, addon/, src/native.ts with what it imports, and the test; node_modules linked), so build/Release
# is never touched, everything else keeps using the normal addon, and vitest runs of the
# repository never pick up the copied test. Node itself is not instrumented, so the ASan
# runtime has to be loaded first when using the build by hand:
#
#   LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
#     node -e "require('./build/asan/tsvisor_native.node')"
#
# detect_leaks=0 because node does not free everything at exit. UBSan findings are made
# fatal so a finding fails the run instead of scrolling by.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/tsvisor-asan.XXXXXX")
trap 'rm -rf "$stage"' EXIT

node_gyp() {
  if [ -x "$repo/node_modules/.bin/node-gyp" ]; then
    "$repo/node_modules/.bin/node-gyp" "$@"
  elif command -v node-gyp >/dev/null; then
    node-gyp "$@"
  else  # the copy npm bundles (what `npm install` itself runs)
    node "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js" "$@"
  fi
}

nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
gyp_args=()
if [ -n "$nodedir" ] && [ "$nodedir" != undefined ] && [ "$nodedir" != null ]; then
  gyp_args+=(--nodedir="$nodedir")
fi

mkdir -p "$stage/addon" "$stage/src" "$stage/test/unit" "$stage/test/programs"
cp "$repo/binding.gyp" "$repo/package.json" "$repo/tsconfig.json" "$stage/"
cp "$repo"/addon/*.cc "$repo"/addon/*.h "$stage/addon/"
cp "$repo/src/native.ts" "$repo/src/package-root.ts" "$stage/src/"
cp "$repo/test/unit/native.test.ts" "$stage/test/unit/"
cp "$repo"/test/programs/*.c "$stage/test/programs/"
ln -s "$repo/node_modules" "$stage/node_modules"

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cd "$stage"
node_gyp configure --loglevel=warn "${gyp_args[@]}"
CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" \
  make -C build tsvisor_native
mkdir -p "$repo/build/asan"
cp "$stage/build/Release/tsvisor_native.node" "$repo/build/asan/"
echo "ASan+UBSan addon: $repo/build/asan/tsvisor_native.node"

if [ "${1:-}" = test ]; then
  export LD_PRELOAD
  LD_PRELOAD=$(g++ -print-file-name=libasan.so)
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Forks (not threads) so each test file runs in a fresh process under the preload;
  # the worker_threads test still loads the addon in a worker.
  "$repo/node_modules/.bin/vitest" run --root "$stage" --pool=forks test/unit/native.test.ts
fi
