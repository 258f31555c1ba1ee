# The bindings' generated declarations match the public header, every
# function the header exports is reachable from every binding, and the
# struct layouts the generator computed match this compiler's.
add_test(NAME bindings.generated
  COMMAND python3 ${CMAKE_SOURCE_DIR}/bindings/gen/gen.py check --root ${CMAKE_SOURCE_DIR})
set_tests_properties(bindings.generated PROPERTIES LABELS bindings TIMEOUT 120
  ENVIRONMENT "CC=${CMAKE_C_COMPILER}")

# The struct version rules (ABI.md "Struct versions"): frozen structs never
# change, versioned ones only grow, and after 1.0.0 only with a version bump.
add_test(NAME bindings.layout_versions
  COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/bindings/test_layout_versions.py)
set_tests_properties(bindings.layout_versions PROPERTIES LABELS bindings TIMEOUT 120)

# What tools/abi/baseline.py (ctest abi.baseline) accepts from abidiff.
add_test(NAME bindings.abi_baseline_rules
  COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/bindings/test_abi_baseline.py)
set_tests_properties(bindings.abi_baseline_rules PROPERTIES LABELS bindings TIMEOUT 120)
