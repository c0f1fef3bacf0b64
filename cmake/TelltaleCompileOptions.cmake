# Warning and sanitizer flags shared by every Telltale target.
# Targets opt in with telltale_target_defaults(<target>) so third-party code
# (pybind11, Google Benchmark) is not held to our warning level.

function(telltale_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Wformat=2 -Wimplicit-fallthrough)
  if(TELLTALE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
endfunction()

if(TELLTALE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Adds CLI command sources (absolute paths) and the libraries they need to
# the telltale executable. Call from a component's CMakeLists.txt.
function(telltale_add_cli_sources)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  foreach(src ${ARG_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY TELLTALE_CLI_SOURCES ${abs})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY TELLTALE_CLI_LIBS ${ARG_LIBS})
endfunction()
