# The conformance vectors, run by the C runner through libddata.so.
add_executable(conformance_runner ${CMAKE_SOURCE_DIR}/tests/conformance/runner.c)
target_link_libraries(conformance_runner PRIVATE ddata dd_abi_test_support PkgConfig::CJSON)
add_test(NAME conformance.crdt
  COMMAND conformance_runner ${CMAKE_SOURCE_DIR}/tests/conformance)
set_tests_properties(conformance.crdt PROPERTIES LABELS conformance TIMEOUT 300)
