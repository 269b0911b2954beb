# garage_layer(NAME [DEPS lib...] [PUBLIC_LIBS lib...])
#
# Declares one layer of the node as a static library `garage_<NAME>` built from
# every .cc file in the calling directory. DEPS are the layers this one may use
# (only layers below it: see ../shared/DESIGN.md); the include-direction test in
# tests/ checks the same rule on the sources.
function(garage_layer name)
  cmake_parse_arguments(L "" "" "DEPS;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  add_library(garage_${name} STATIC ${srcs})
  target_include_directories(garage_${name} PUBLIC ${PROJECT_SOURCE_DIR}/node/src)
  target_compile_options(garage_${name} PRIVATE -Wall -Wextra -Werror)
  target_link_libraries(garage_${name} PUBLIC ${L_DEPS} ${L_PUBLIC_LIBS} PRIVATE ${L_PRIVATE_LIBS})
endfunction()

# garage_unit_test(NAME [DEPS lib...] [ENVIRONMENT VAR=value...])
# One GoogleTest executable per layer, from every *_test.cc in the directory.
# ENVIRONMENT is set for each test (generator expressions allowed).
function(garage_unit_test name)
  cmake_parse_arguments(T "" "" "DEPS;ENVIRONMENT" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name}_test ${srcs})
  target_compile_options(${name}_test PRIVATE -Wall -Wextra -Werror)
  target_link_libraries(${name}_test PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  include(GoogleTest)
  if(T_ENVIRONMENT)
    gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60
                         PROPERTIES LABELS unit ENVIRONMENT "${T_ENVIRONMENT}")
  else()
    gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
  endif()
endfunction()
