# Integration tests (tests/integration): real `ddata node` processes on
# loopback, driven by a standard-library Python script. Skipped with a
# message when python3 is missing.
find_program(DD_PYTHON3 python3)
if(DD_PYTHON3 AND TARGET ddata_cli)
  set(dd_it_scale 1)
  if(DDATA_SANITIZE)
    set(dd_it_scale 3)
  endif()
  add_test(NAME integration.cluster
    COMMAND ${DD_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/integration/test_cluster.py)
  set_tests_properties(integration.cluster PROPERTIES LABELS integration TIMEOUT 300
    ENVIRONMENT "DDATA_BIN=$<TARGET_FILE:ddata_cli>;DDATA_TIME_SCALE=${dd_it_scale}")
else()
  message(STATUS "integration tests skipped: python3 or the ddata command is missing")
endif()

# A hostile peer that knows the secret: a bare core/net endpoint against a
# public dd_system, so it links the static library.
dd_add_test(${CMAKE_SOURCE_DIR}/tests/integration/test_hostile_peer.c ddata_static)
target_include_directories(integration_test_hostile_peer PRIVATE ${CMAKE_SOURCE_DIR}/abi/include)
# Its honest nodes open as the ABI tests' TCP nodes do (public header only).
target_sources(integration_test_hostile_peer PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/tcp_node.c)

# Address-book announcements under an allow-list (a core/net announcer
# against a public dd_system, so it links the static library too).
dd_add_test(${CMAKE_SOURCE_DIR}/tests/integration/test_book_keys.c ddata_static)
target_include_directories(integration_test_book_keys PRIVATE ${CMAKE_SOURCE_DIR}/abi/include)

# `ddata node --metrics`: the Prometheus endpoint read by prometheus_client
# (in the venv `make venv` makes, build/venv) and promtool; skipped (77)
# when prometheus_client is missing.
if(TARGET ddata_cli)
  find_program(DD_METRICS_PYTHON NAMES python PATHS ${CMAKE_BINARY_DIR}/venv/bin
    ${CMAKE_SOURCE_DIR}/build/venv/bin NO_DEFAULT_PATH)
  if(NOT DD_METRICS_PYTHON)
    # `make test` makes the venv (with prometheus_client) before ctest runs.
    set(DD_METRICS_PYTHON ${CMAKE_SOURCE_DIR}/build/venv/bin/python)
  endif()
  if(DD_METRICS_PYTHON)
    add_test(NAME integration.metrics_http
      COMMAND ${DD_METRICS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/test_metrics_http.py)
    set_tests_properties(integration.metrics_http PROPERTIES LABELS integration TIMEOUT 300
      SKIP_RETURN_CODE 77
      ENVIRONMENT "DDATA_BIN=$<TARGET_FILE:ddata_cli>;DDATA_TIME_SCALE=${dd_it_scale}")
  endif()
endif()
