# .lcm reader fuzzing. The seed corpus is made at build time by lcm_tool
# (lenet5 under several recipes plus damaged copies). fuzz_lcm_replay runs
# every seed through the fuzz target's entry point as an ordinary test (and
# in the sanitizer build); with -DLC_FUZZ=ON and clang, fuzz_lcm is the
# libFuzzer binary (run it with tests/fuzz/run.sh TARGET SECONDS).
option(LC_FUZZ "Build the libFuzzer targets (needs clang)" OFF)

set(LC_FUZZ_CORPUS "${CMAKE_CURRENT_BINARY_DIR}/fuzz/corpus_lcm")
add_custom_command(
  OUTPUT "${LC_FUZZ_CORPUS}/plain.lcm"
  COMMAND ${LC_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/make_corpus.py" $<TARGET_FILE:lcm_tool>
          "${CMAKE_SOURCE_DIR}" "${LC_FUZZ_CORPUS}"
  DEPENDS lcm_tool "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/make_corpus.py" "${CMAKE_SOURCE_DIR}/benchmarks/zoo/lenet5.onnx"
  COMMENT "Making the .lcm fuzz seed corpus")
add_custom_target(fuzz_lcm_corpus ALL DEPENDS "${LC_FUZZ_CORPUS}/plain.lcm")

add_executable(fuzz_lcm_replay "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_lcm.c")
target_compile_definitions(fuzz_lcm_replay PRIVATE LC_FUZZ_REPLAY)
target_link_libraries(fuzz_lcm_replay PRIVATE libcompress_static)
target_include_directories(fuzz_lcm_replay PRIVATE "${CMAKE_SOURCE_DIR}/libcompress/internal")
add_dependencies(fuzz_lcm_replay fuzz_lcm_corpus)
add_test(NAME fuzz_lcm_replay
         COMMAND sh -c "\"$<TARGET_FILE:fuzz_lcm_replay>\" \"${LC_FUZZ_CORPUS}\"/*.lcm")

if(LC_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LC_FUZZ needs clang: configure with CC=clang")
  endif()
  # coverage feedback from the library itself, not just the entry point
  target_compile_options(lc_objects PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  # every program linking the instrumented library needs the runtimes
  target_link_options(libcompress_static INTERFACE -fsanitize=address,undefined)
  target_link_options(libcompress PRIVATE -fsanitize=address,undefined)
  add_executable(fuzz_lcm "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_lcm.c")
  target_compile_options(fuzz_lcm PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_lcm PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_lcm PRIVATE libcompress_static)
  target_include_directories(fuzz_lcm PRIVATE "${CMAKE_SOURCE_DIR}/libcompress/internal")
  add_dependencies(fuzz_lcm fuzz_lcm_corpus)
endif()
