# `telltale scan` end-to-end throughput against reading alone and tokenization
# alone, measured in the same run. Included by the glob in bench/CMakeLists.txt.
# Run: build/bench/telltale_scan_bench TOKENIZER [MB]
if(TARGET telltale_scan)
  add_executable(telltale_scan_bench ${CMAKE_CURRENT_LIST_DIR}/scan_bench.cc)
  telltale_target_defaults(telltale_scan_bench)
  target_link_libraries(telltale_scan_bench PRIVATE telltale_scan nlohmann_json::nlohmann_json)
  target_compile_definitions(telltale_scan_bench PRIVATE TELLTALE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
