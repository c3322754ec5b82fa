# Fuzz targets (issue 9): the .lcm reader, the ONNX loader + executor
# planner, the .npy and IDX readers and the recipe parser. For each target
# TARGET:
#  - fuzz_TARGET_corpus makes the seed corpus at build time
#    (make_corpus.py; never committed);
#  - fuzz_TARGET_replay (ordinary compiler, fuzz_main.c as main) runs the
#    target's entry point on the kept crashing inputs of regress/TARGET and
#    on the seeds, as the ctest test fuzz_TARGET_replay (so CI's sanitizer
#    build runs them too);
#  - with -DLC_FUZZ=ON and clang, fuzz_TARGET is the libFuzzer binary: run
#    it with tests/fuzz/run.sh build-dir/tests/fuzz_TARGET SECONDS.
option(LC_FUZZ "Build the libFuzzer targets (needs clang)" OFF)

set(LC_FUZZ_DIR "${CMAKE_CURRENT_SOURCE_DIR}/fuzz")
set(LC_FUZZ_TARGETS lcm onnx npy idx recipe)
set(LC_FUZZ_SRC_lcm fuzz_lcm.c)
set(LC_FUZZ_SRC_onnx fuzz_onnx.c)
set(LC_FUZZ_SRC_npy fuzz_data.c)
set(LC_FUZZ_SRC_idx fuzz_data.c)
set(LC_FUZZ_SRC_recipe fuzz_recipe.c)
set(LC_FUZZ_DEFS_npy FUZZ_NPY)

if(LC_FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "LC_FUZZ needs clang: configure with CC=clang")
endif()
if(LC_FUZZ)
  # coverage feedback from the library itself, not just the entry point
  target_compile_options(lc_objects PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  # every program linking the instrumented library needs the runtimes
  target_link_options(libcompress_static INTERFACE -fsanitize=address,undefined)
  target_link_options(libcompress PRIVATE -fsanitize=address,undefined)
endif()

foreach(t ${LC_FUZZ_TARGETS})
  set(corpus "${CMAKE_CURRENT_BINARY_DIR}/fuzz/corpus_${t}")
  set(deps "${LC_FUZZ_DIR}/make_corpus.py")
  set(extra)
  if(t STREQUAL "lcm")
    file(GLOB lcm_v1_fixtures "${CMAKE_SOURCE_DIR}/tests/data/lcm_v1/*.lcm" "${CMAKE_SOURCE_DIR}/tests/data/lcm_v2/*.lcm")
    list(APPEND deps lcm_tool "${CMAKE_SOURCE_DIR}/benchmarks/zoo/lenet5.onnx" ${lcm_v1_fixtures})
    set(extra $<TARGET_FILE:lcm_tool>)
  endif()
  add_custom_command(
    OUTPUT "${corpus}/.stamp"
    COMMAND ${CMAKE_COMMAND} -E rm -rf "${corpus}"
    COMMAND ${LC_PYTHON} "${LC_FUZZ_DIR}/make_corpus.py" ${t} "${CMAKE_SOURCE_DIR}" "${corpus}" ${extra}
    DEPENDS ${deps}
    COMMENT "Making the ${t} fuzz seed corpus")
  add_custom_target(fuzz_${t}_corpus ALL DEPENDS "${corpus}/.stamp")

  set(src "${LC_FUZZ_DIR}/${LC_FUZZ_SRC_${t}}")
  add_executable(fuzz_${t}_replay "${src}" "${LC_FUZZ_DIR}/fuzz_main.c")
  target_link_libraries(fuzz_${t}_replay PRIVATE libcompress_static)
  target_include_directories(fuzz_${t}_replay PRIVATE ${LC_INTERNAL_INCLUDE_DIRS})
  if(LC_FUZZ_DEFS_${t})
    target_compile_definitions(fuzz_${t}_replay PRIVATE ${LC_FUZZ_DEFS_${t}})
  endif()
  add_dependencies(fuzz_${t}_replay fuzz_${t}_corpus)
  # the ONNX seeds are the conformance models, which their own test runs;
  # replaying them all here would cost minutes under the sanitizers
  if(t STREQUAL "onnx")
    add_test(NAME fuzz_${t}_replay COMMAND fuzz_${t}_replay "${LC_FUZZ_DIR}/regress/${t}"
             "${CMAKE_SOURCE_DIR}/benchmarks/zoo/lenet5.onnx" "${CMAKE_SOURCE_DIR}/benchmarks/zoo/resnet8.onnx")
  else()
    add_test(NAME fuzz_${t}_replay COMMAND fuzz_${t}_replay "${LC_FUZZ_DIR}/regress/${t}" "${corpus}")
  endif()

  if(LC_FUZZ)
    add_executable(fuzz_${t} "${src}")
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${t} PRIVATE libcompress_static)
    target_include_directories(fuzz_${t} PRIVATE ${LC_INTERNAL_INCLUDE_DIRS})
    if(LC_FUZZ_DEFS_${t})
      target_compile_definitions(fuzz_${t} PRIVATE ${LC_FUZZ_DEFS_${t}})
    endif()
    add_dependencies(fuzz_${t} fuzz_${t}_corpus)
  endif()
endforeach()
