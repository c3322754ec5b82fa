#!/bin/sh
# Installs the build to a temporary prefix, moves the prefix (the install
# must be relocatable), then builds tests/capi_example.c against the
# installed library four ways - pkg-config shared and static, CMake
# find_package shared and static - and checks what each computes on
# LeNet-300-100 (80% sparsity per layer, 4-bit codes).
# usage: install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER [EXTRA_CFLAGS]
# (env CMAKE: the cmake to use; default: cmake from PATH)
set -eu
build=$1 src=$2 cc=$3 extra=${4:-}
cmake=${CMAKE:-cmake}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$tmp/staged" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install failed"; }
mv "$tmp/staged" "$tmp/prefix"
prefix=$tmp/prefix
pc=$(find "$prefix" -name libcompress.pc)
[ -n "$pc" ] || fail "no libcompress.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$prefix/include/libcompress.h" "$prefix/include/libcompress/status.h" \
    "$prefix/include/libcompress/experimental.h" "$prefix/bin/shrink" "$libdir/libcompress.a" "$libdir/libcompress.so" \
    "$libdir/libcompress.so.0" "$libdir/cmake/libcompress/libcompressConfig.cmake" \
    "$libdir/cmake/libcompress/libcompressConfigVersion.cmake"; do
    [ -e "$f" ] || fail "missing ${f#"$prefix"/}"
done
"$prefix/bin/shrink" --version | grep -q "0\.2\.0" || fail "installed shrink --version"
# every part the header includes is installed beside it
for part in $(sed -n 's/^#include <\(libcompress\/[a-z_]*\.h\)>$/\1/p' "$prefix/include/libcompress.h"); do
    [ -e "$prefix/include/$part" ] || fail "missing include/$part"
done

cp "$src/tests/capi_example.c" "$tmp/app.c"
model=$src/benchmarks/zoo/lenet300.onnx
cat >"$tmp/expected" <<'OUT'
net.1.weight: 235200 weights, sparsity 0.8000, 4-bit codes
net.3.weight: 30000 weights, sparsity 0.8000, 4-bit codes
net.5.weight: 1000 weights, sparsity 0.8000, 4-bit codes
OUT
check_run() { # BINARY LABEL
    "$1" "$model" "$tmp/$2.lcm" >"$tmp/$2.out" || fail "$2: the program failed"
    cmp -s "$tmp/expected" "$tmp/$2.out" || { diff "$tmp/expected" "$tmp/$2.out" >&2; fail "$2: wrong output"; }
    [ -s "$tmp/$2.lcm" ] || fail "$2: no .lcm written"
    echo "$2: ok"
}
dynamic_dep() { # BINARY: does it load libcompress.so?
    readelf -d "$1" | grep -q 'NEEDED.*libcompress\.so'
}

# pkg-config (the .pc file's paths are relative to where it lies)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion libcompress)" = 0.2.0 ] || fail "pkg-config --modversion"
# shellcheck disable=SC2046,SC2086
$cc $extra -std=c11 -Wall -Werror "$tmp/app.c" $(pkg-config --cflags --libs libcompress) \
    -Wl,-rpath,"$libdir" -o "$tmp/pc_shared"
dynamic_dep "$tmp/pc_shared" || fail "pc_shared does not link libcompress.so"
check_run "$tmp/pc_shared" pc_shared
# a part alone is refused; the experimental tier is declared only on request
printf '#include <libcompress/status.h>\n' >"$tmp/part.c"
# shellcheck disable=SC2046
$cc -std=c11 -c "$tmp/part.c" $(pkg-config --cflags libcompress) -o "$tmp/part.o" 2>/dev/null &&
    fail "including a part of libcompress.h alone compiled"
printf '#include <libcompress.h>\nint main(void) { int64_t b; return lc_parse_size("1K", &b) != LC_OK || b != 1024; }\n' >"$tmp/exp.c"
# shellcheck disable=SC2046
$cc -std=c11 -Werror=implicit-function-declaration -c "$tmp/exp.c" $(pkg-config --cflags libcompress) \
    -o "$tmp/exp.o" 2>/dev/null && fail "lc_parse_size is declared without LC_EXPERIMENTAL"
# shellcheck disable=SC2046,SC2086
$cc $extra -std=c11 -Wall -Werror -DLC_EXPERIMENTAL "$tmp/exp.c" $(pkg-config --cflags --libs libcompress) \
    -Wl,-rpath,"$libdir" -o "$tmp/exp" || fail "the experimental tier does not compile"
"$tmp/exp" || fail "lc_parse_size(\"1K\") through the installed experimental tier"
static_libs=$(echo " $(pkg-config --static --libs libcompress) " | sed 's# -lcompress # -l:libcompress.a #')
# shellcheck disable=SC2046,SC2086
$cc $extra -std=c11 -Wall -Werror "$tmp/app.c" $(pkg-config --cflags libcompress) $static_libs -o "$tmp/pc_static"
dynamic_dep "$tmp/pc_static" && fail "pc_static links libcompress.so"
check_run "$tmp/pc_static" pc_static

# CMake find_package
mkdir "$tmp/proj"
cat >"$tmp/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(libcompress 0.2 REQUIRED)
if(NOT libcompress_static_FOUND)
  message(FATAL_ERROR "libcompress::libcompress_static is missing")
endif()
add_executable(cm_shared ../app.c)
target_link_libraries(cm_shared PRIVATE libcompress::libcompress)
add_executable(cm_static ../app.c)
target_link_libraries(cm_static PRIVATE libcompress::libcompress_static)
CM
"$cmake" -S "$tmp/proj" -B "$tmp/proj/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" >"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log"; fail "find_package project: configure failed"; }
"$cmake" --build "$tmp/proj/build" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "find_package project: build failed"; }
dynamic_dep "$tmp/proj/build/cm_shared" || fail "cm_shared does not link libcompress.so"
dynamic_dep "$tmp/proj/build/cm_static" && fail "cm_static links libcompress.so"
check_run "$tmp/proj/build/cm_shared" cm_shared
check_run "$tmp/proj/build/cm_static" cm_static
echo "install_test: ok"
