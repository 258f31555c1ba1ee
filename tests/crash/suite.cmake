# Crash-consistency tests (tests/crash): a writer process killed with
# SIGKILL at random moments, and a checker that reopens the store.
add_executable(crash_writer ${CMAKE_SOURCE_DIR}/tests/crash/crash_writer.c)
target_link_libraries(crash_writer PRIVATE ddata)
dd_add_test(${CMAKE_SOURCE_DIR}/tests/crash/test_crash.c ddata)
add_dependencies(crash_test_crash crash_writer)
target_compile_definitions(crash_test_crash PRIVATE CRASH_WRITER="$<TARGET_FILE:crash_writer>")
