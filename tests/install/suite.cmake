# `make install` puts what users need in place: checked by installing into
# a scratch prefix and building the quickstart against it.
add_test(NAME install.consumers
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/install/check_install.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(install.consumers PROPERTIES LABELS install TIMEOUT 300)
