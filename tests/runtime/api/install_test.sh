#!/usr/bin/env bash
# The installed package, as a user meets it: installs the build tree to a temporary prefix, then
# configures, builds and runs examples/embed from outside the source tree against that prefix
# only (CMAKE_PREFIX_PATH), and checks what it prints (route and spend).
#   install_test.sh BUILD_DIR SOURCE_DIR [CONSUMER_CXX_FLAGS]
# Uses nothing but the build tree and a directory under /tmp (removed at the end).
set -euo pipefail
build=$1
source=$2
flags=${3:-}

work=$(mktemp -d /tmp/switchyard-install-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
for f in include/switchyard/switchyard.h lib/cmake/switchyard/switchyardConfig.cmake \
         lib/cmake/switchyard/switchyardConfigVersion.cmake bin/switchyard; do
  test -e "$work/prefix/$f" || { echo "not installed: $f" >&2; exit 1; }
done
# The installed headers include nothing but themselves, the standard library and nlohmann/json.
if grep -hE '#include "(graph|tools|monitors|runtime)/' "$work/prefix/include/switchyard/"*.h; then
  echo "an installed header includes an internal one" >&2
  exit 1
fi

# The library exports the API and none of the internals: no internal namespace, and nothing that
# takes or touches the insides of a handle (Impl, State), such as the handles' private
# constructors from them.
lib=$(find "$work/prefix" -name 'libswitchyard.so' | head -1)
test -n "$lib" || { echo "not installed: libswitchyard.so" >&2; exit 1; }
exported=$(nm -D --defined-only -C "$lib")
grep -q 'switchyard::api::Runtime::open' <<<"$exported"
if grep -E 'switchyard::(runtime|graph|tools|monitors|api::internal)::|switchyard::api::[A-Za-z]+::(Impl|State)\b' \
    <<<"$exported"; then
  echo "libswitchyard.so exports internals" >&2
  exit 1
fi

# The example, copied out of the tree so that nothing of the source tree is reachable.
cp -r "$source/examples/embed" "$work/embed"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$work/embed" -B "$work/embed-build" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/configure.log" ||
  { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/embed-build" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }

out=$(cd "$work/embed" && "$work/embed-build/embed" refund.json)
echo "$out"
grep -qx "status: completed" <<<"$out"
grep -qx "route: Start -> Lookup -> Razorpay -> Done" <<<"$out"
grep -qx "reroutes: 1" <<<"$out"
# Stripe's failed call ($0.02) and Razorpay's ($0.03) are both charged.
grep -qxF 'spend: $0.05, 0 LLM call(s)' <<<"$out"
echo "install test: ok"
