# Locates the pinned llama.cpp source (fetched by datasets/reflm/llama_src.py
# from npm node-llama-cpp@3.22.1) at configure time and defines:
#   telltale_llama_cpp          custom target: builds libllama + patched llama-server
#                               into the cache (build_llama.cmake; a no-op when the
#                               stamp matches)
#   telltale::llama             imported libllama with its headers
#   TELLTALE_LLAMA_DIR          the cache directory of that build
#   TELLTALE_LLAMA_SERVER       the patched llama-server executable
#   TELLTALE_LLAMA_SOURCE       the pristine llama.cpp checkout
# The cache key is commit + patch SHA-256 + flags: the build directory is per
# commit, and the stamp inside it holds the whole key.

set(_llama_src_py "${PROJECT_SOURCE_DIR}/datasets/reflm")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "TELLTALE_CACHE_DIR=${TELLTALE_CACHE_DIR}"
          /usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import llama_src; print(llama_src.ensure_source())"
          "${_llama_src_py}"
  OUTPUT_VARIABLE TELLTALE_LLAMA_SOURCE ERROR_VARIABLE _llama_err RESULT_VARIABLE _llama_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
set(TELLTALE_LLAMA_SOURCE_OK TRUE)
if(NOT _llama_rc EQUAL 0)
  # The last line of the Python traceback says what failed.
  string(STRIP "${_llama_err}" _llama_err)
  string(REGEX REPLACE ".*\n" "" _llama_err "${_llama_err}")
  if(_tt_llama_explicit)
    message(FATAL_ERROR "TELLTALE_WITH_LLAMA: fetching llama.cpp (npm pack node-llama-cpp@3.22.1) failed:\n"
                        "${_llama_err}\nConfigure with -DTELLTALE_WITH_LLAMA=OFF to build without it.")
  endif()
  message(WARNING "TELLTALE_WITH_LLAMA: turned OFF because fetching llama.cpp (npm pack node-llama-cpp@3.22.1) "
                  "failed:\n${_llama_err}\nConfigure with -DTELLTALE_WITH_LLAMA=ON to retry.")
  set(TELLTALE_WITH_LLAMA OFF CACHE BOOL "Build the llama.cpp sampler and watermarking llama-server (needs npm and git)" FORCE)
  set(TELLTALE_LLAMA_SOURCE_OK FALSE)
  return()
endif()
execute_process(COMMAND git -C "${TELLTALE_LLAMA_SOURCE}" rev-parse HEAD OUTPUT_VARIABLE _llama_commit
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _llama_rc)
if(NOT _llama_rc EQUAL 0)
  message(FATAL_ERROR "TELLTALE_WITH_LLAMA: ${TELLTALE_LLAMA_SOURCE} is not a git checkout")
endif()

# Exactly the issue's flags, plus what the sampler and server need.
set(TELLTALE_LLAMA_FLAGS
  -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_COMMON=ON
  -DLLAMA_BUILD_APP=OFF)
set(TELLTALE_LLAMA_PATCH "${CMAKE_CURRENT_LIST_DIR}/../patches/llama-server-telltale.patch")
file(SHA256 "${TELLTALE_LLAMA_PATCH}" _llama_patch_sha)
string(JOIN " " _llama_flags_text ${TELLTALE_LLAMA_FLAGS})
set(_llama_stamp "commit=${_llama_commit}\npatch=${_llama_patch_sha}\nflags=${_llama_flags_text}\n")
string(SUBSTRING "${_llama_commit}" 0 12 _llama_short)
set(_llama_stamp_file "${CMAKE_CURRENT_BINARY_DIR}/llama_cpp.stamp")
file(WRITE "${_llama_stamp_file}.tmp" "${_llama_stamp}")
file(RENAME "${_llama_stamp_file}.tmp" "${_llama_stamp_file}")
set(TELLTALE_LLAMA_DIR "${TELLTALE_CACHE_DIR}/llama-server/${_llama_short}")
set(TELLTALE_LLAMA_SERVER "${TELLTALE_LLAMA_DIR}/build/bin/llama-server")
# Editing the patch must re-key the build.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${TELLTALE_LLAMA_PATCH}")

set(TELLTALE_LLAMA_JOBS 2 CACHE STRING "Parallel jobs for the one-time llama.cpp build")
add_custom_target(telltale_llama_cpp ALL
  COMMAND ${CMAKE_COMMAND} "-DSOURCE=${TELLTALE_LLAMA_SOURCE}" "-DDIR=${TELLTALE_LLAMA_DIR}"
          "-DPATCH=${TELLTALE_LLAMA_PATCH}" "-DSTAMP_FILE=${_llama_stamp_file}" "-DFLAGS=${TELLTALE_LLAMA_FLAGS}"
          "-DJOBS=${TELLTALE_LLAMA_JOBS}" -P "${CMAKE_CURRENT_LIST_DIR}/build_llama.cmake"
  BYPRODUCTS "${TELLTALE_LLAMA_DIR}/build/bin/libllama.so" "${TELLTALE_LLAMA_SERVER}"
  COMMENT "llama.cpp: checking the cached build in ${TELLTALE_LLAMA_DIR}"
  USES_TERMINAL VERBATIM)

# Other directories (bench/) read the server path from the target.
set_target_properties(telltale_llama_cpp PROPERTIES TELLTALE_LLAMA_SERVER "${TELLTALE_LLAMA_SERVER}")

add_library(telltale::llama SHARED IMPORTED GLOBAL)
set_target_properties(telltale::llama PROPERTIES
  IMPORTED_LOCATION "${TELLTALE_LLAMA_DIR}/build/bin/libllama.so"
  INTERFACE_INCLUDE_DIRECTORIES "${TELLTALE_LLAMA_SOURCE}/include;${TELLTALE_LLAMA_SOURCE}/ggml/include")

# Links `target` against libllama and orders it after the cached build.
function(telltale_link_llama target)
  target_link_libraries(${target} PRIVATE telltale::llama)
  add_dependencies(${target} telltale_llama_cpp)
  set_property(TARGET ${target} APPEND PROPERTY BUILD_RPATH "${TELLTALE_LLAMA_DIR}/build/bin")
endfunction()
