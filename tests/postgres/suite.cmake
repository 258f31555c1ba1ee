# The PostgreSQL suite: the store contract tests (the same executables the
# store.* entries run) on the postgres engine, sealed and unsealed, plus
# the postgres-only tests (store.test_postgres_*), all against a real
# server. The postgres.server fixture starts a throwaway one
# (tools/pg-test-server.sh) before the first of them and removes it after
# the last, also when they fail; with DDATA_PG_URL set, they use that
# server instead. Nothing here skips: without a server the tests fail.
set(DDATA_PG_STATE ${CMAKE_BINARY_DIR}/pg-test)
set(DDATA_PG_ENV
  "DDATA_SOURCE_DIR=${CMAKE_SOURCE_DIR};DDATA_BINARY_DIR=${CMAKE_BINARY_DIR};DDATA_PG_URL_FILE=${DDATA_PG_STATE}/url;DDATA_PG_STATE=${DDATA_PG_STATE};DDATA_PG_SERVER_SCRIPT=${CMAKE_SOURCE_DIR}/tools/pg-test-server.sh")

add_test(NAME postgres.server_start
  COMMAND sh ${CMAKE_SOURCE_DIR}/tools/pg-test-server.sh start ${DDATA_PG_STATE})
add_test(NAME postgres.server_stop
  COMMAND sh ${CMAKE_SOURCE_DIR}/tools/pg-test-server.sh stop ${DDATA_PG_STATE})
set_tests_properties(postgres.server_start PROPERTIES FIXTURES_SETUP pg_server LABELS postgres)
set_tests_properties(postgres.server_stop PROPERTIES FIXTURES_CLEANUP pg_server LABELS postgres)

foreach(name test_journal test_snapshots test_state_store test_recovery test_state_blocks)
  if(TARGET store_${name})
    add_test(NAME postgres.${name} COMMAND store_${name})
    set_tests_properties(postgres.${name} PROPERTIES LABELS postgres TIMEOUT 900
      FIXTURES_REQUIRED pg_server ENVIRONMENT "${DDATA_PG_ENV};DDATA_STORE_ENGINES=postgres")
  endif()
endforeach()

# Every tests/c/<module>/test_postgres_*.c (registered as <module>.test_postgres_*).
file(GLOB pg_only CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/c/*/test_postgres_*.c)
foreach(src IN LISTS pg_only)
  get_filename_component(name ${src} NAME_WE)
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(group ${dir} NAME)
  if(TEST ${group}.${name})
    set_tests_properties(${group}.${name} PROPERTIES LABELS "${group};postgres" TIMEOUT 900
      FIXTURES_REQUIRED pg_server ENVIRONMENT "${DDATA_PG_ENV};DDATA_STORE_ENGINES=postgres")
  endif()
endforeach()

# The ABI's view of the backend (tests/c/abi/test_store_postgres.c).
if(TEST abi.test_store_postgres)
  # It makes its own schema with libpq (tests/support/pg_test.h).
  target_link_libraries(abi_test_store_postgres PRIVATE PkgConfig::LIBPQ)
  set_tests_properties(abi.test_store_postgres PROPERTIES LABELS "abi;postgres" TIMEOUT 900
    FIXTURES_REQUIRED pg_server ENVIRONMENT "${DDATA_PG_ENV}")
endif()

# dd_store_rekey on the postgres engine (tests/c/abi/test_store_rekey_postgres.c).
if(TEST abi.test_store_rekey_postgres)
  target_link_libraries(abi_test_store_rekey_postgres PRIVATE PkgConfig::LIBPQ)
  set_tests_properties(abi.test_store_rekey_postgres PROPERTIES LABELS "abi;postgres" TIMEOUT 900
    FIXTURES_REQUIRED pg_server ENVIRONMENT "${DDATA_PG_ENV}")
endif()

# The `ddata` command on a PostgreSQL store (schema, node --store, inspect).
find_program(DD_PG_PYTHON3 python3)
if(DD_PG_PYTHON3 AND TARGET ddata_cli)
  add_test(NAME postgres.cli COMMAND ${DD_PG_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/postgres/test_cli.py)
  set_tests_properties(postgres.cli PROPERTIES LABELS postgres TIMEOUT 300
    FIXTURES_REQUIRED pg_server
    ENVIRONMENT "${DDATA_PG_ENV};DDATA_BIN=$<TARGET_FILE:ddata_cli>")
endif()
