# Builds the pinned llama.cpp (libllama + the patched llama-server) into the
# cache. Script mode, run by the telltale_llama_cpp target on every build:
#
#   cmake -DSOURCE=<pristine llama.cpp checkout> -DDIR=<cache dir> -DPATCH=<file>
#         -DSTAMP_FILE=<file holding the key> -DFLAGS=<;-list> -DJOBS=<n> -P build_llama.cmake
#
# DIR/stamp holds the key (commit, patch hash, flags) of the build in DIR.
# When it matches, the script returns at once and never touches the build,
# so a warm cache costs milliseconds. Otherwise it (re)creates DIR/src as a
# clone of SOURCE, applies PATCH with `git apply`, configures DIR/build and
# builds the two targets; ninja rebuilds only what the patch or flags
# changed. A file lock serializes clones building the same DIR at once.
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE DIR PATCH STAMP_FILE FLAGS JOBS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_llama.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${STAMP_FILE}" STAMP_TEXT)
set(stamp "${DIR}/stamp")
set(outputs "${DIR}/build/bin/libllama.so" "${DIR}/build/bin/llama-server")

function(stamp_matches out)
  set(ok FALSE)
  if(EXISTS "${stamp}")
    file(READ "${stamp}" have)
    if(have STREQUAL STAMP_TEXT)
      set(ok TRUE)
      foreach(f ${outputs})
        if(NOT EXISTS "${f}")
          set(ok FALSE)
        endif()
      endforeach()
    endif()
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

stamp_matches(fresh)
if(fresh)
  return()
endif()

file(MAKE_DIRECTORY "${DIR}")
file(LOCK "${DIR}.lock" GUARD PROCESS TIMEOUT 7200 RESULT_VARIABLE lock_result)
if(NOT lock_result EQUAL 0)
  message(FATAL_ERROR "llama.cpp build: cannot lock ${DIR}.lock: ${lock_result}")
endif()
# Another process may have finished the same build while we waited.
stamp_matches(fresh)
if(fresh)
  return()
endif()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "llama.cpp build: ${what} failed (exit ${rc}): ${ARGN}")
  endif()
endfunction()

message(STATUS "llama.cpp: building into ${DIR} (stamp missing or different; one-time cost of a few minutes)")
file(REMOVE "${stamp}")
if(NOT EXISTS "${DIR}/src/.git")
  file(REMOVE_RECURSE "${DIR}/src")
  run("git clone" git clone -q "${SOURCE}" "${DIR}/src")
endif()
# Back to the pristine commit (undoes an older patch), then apply ours.
execute_process(COMMAND git -C "${SOURCE}" rev-parse HEAD OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llama.cpp build: ${SOURCE} is not a git checkout")
endif()
run("git checkout" git -C "${DIR}/src" -c advice.detachedHead=false checkout -q -f "${commit}")
run("git clean" git -C "${DIR}/src" clean -q -fd)
run("git apply --check (the patch does not apply to ${commit})" git -C "${DIR}/src" apply --check "${PATCH}")
run("git apply" git -C "${DIR}/src" apply "${PATCH}")

set(launcher)
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  # Relative paths under DIR let ccache share objects between cache dirs.
  set(ENV{CCACHE_BASEDIR} "${DIR}")
  set(ENV{CCACHE_NOHASHDIR} 1)
  set(launcher -DCMAKE_C_COMPILER_LAUNCHER=${CCACHE_PROGRAM} -DCMAKE_CXX_COMPILER_LAUNCHER=${CCACHE_PROGRAM})
endif()
run("cmake configure" cmake -S "${DIR}/src" -B "${DIR}/build" -G Ninja ${FLAGS} ${launcher})
run("ninja" ninja -C "${DIR}/build" -j${JOBS} llama llama-server)

file(WRITE "${stamp}.tmp" "${STAMP_TEXT}")
file(RENAME "${stamp}.tmp" "${stamp}")
message(STATUS "llama.cpp: ready in ${DIR}")
