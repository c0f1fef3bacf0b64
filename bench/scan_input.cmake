# scan/input throughput (reading + decompression + normalization) against a
# plain fread+memchr line split measured in the same run. Included by the
# glob in bench/CMakeLists.txt. Run: build/bench/telltale_scan_input_bench
if(TARGET telltale_scan_input)
  add_executable(telltale_scan_input_bench ${CMAKE_CURRENT_LIST_DIR}/scan_input_bench.cc)
  telltale_target_defaults(telltale_scan_input_bench)
  target_link_libraries(telltale_scan_input_bench PRIVATE telltale_scan_input nlohmann_json::nlohmann_json
    ZLIB::ZLIB PkgConfig::ZSTD PkgConfig::LZMA)
  target_compile_definitions(telltale_scan_input_bench PRIVATE TELLTALE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
