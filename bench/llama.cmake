# llama.cpp sampler benchmark (issue 9), included by bench/CMakeLists.txt.
#   cmake --build build --target bench_llama     (libllama and llama-server)
# Needs TELLTALE_WITH_LLAMA (watermark/llama defines telltale_llama_core).
if(TARGET telltale_llama_core)
  add_executable(telltale_llama_bench ${CMAKE_CURRENT_LIST_DIR}/llama_bench.cc)
  telltale_target_defaults(telltale_llama_bench)
  target_link_libraries(telltale_llama_bench PRIVATE telltale_llama_core)
  telltale_link_llama(telltale_llama_bench)

  add_custom_target(bench_llama
    COMMAND ${CMAKE_COMMAND} -E env "TELLTALE_CACHE_DIR=${TELLTALE_CACHE_DIR}"
            /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/llama_bench.py
            --bench $<TARGET_FILE:telltale_llama_bench> --server $<TARGET_PROPERTY:telltale_llama_cpp,TELLTALE_LLAMA_SERVER>
            --lib $<TARGET_FILE:telltale_llama> --cli $<TARGET_FILE:telltale_cli>
            --source ${PROJECT_SOURCE_DIR}
    DEPENDS telltale_llama_bench telltale_llama telltale_cli telltale_llama_cpp
    USES_TERMINAL VERBATIM
    COMMENT "Watermark sampler throughput through libllama and llama-server")
endif()
