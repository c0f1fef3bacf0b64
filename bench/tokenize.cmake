# Tokenizer benchmark (include from bench/CMakeLists.txt):
#   include(${CMAKE_CURRENT_SOURCE_DIR}/tokenize.cmake)
# Run with: cmake --build build --target bench_tokenize
if(TARGET telltale_tokenize_tool)
  add_custom_target(bench_tokenize
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/tokenize_bench.sh $<TARGET_FILE:telltale_tokenize_tool>
      ${TELLTALE_CACHE_DIR} ${PROJECT_SOURCE_DIR}
    DEPENDS telltale_tokenize_tool
    USES_TERMINAL
    COMMENT "Tokenizer throughput vs HF tokenizers and tiktoken")
endif()
