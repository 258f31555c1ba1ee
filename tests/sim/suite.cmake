# The simulator harness (sim.c) is compiled into every tests/sim/test_*.c
# executable; tests/CMakeLists.txt creates those targets.
if(TARGET dd_replicator)
  file(GLOB sim_suite_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/sim/test_*.c)
  foreach(src IN LISTS sim_suite_tests)
    get_filename_component(name ${src} NAME_WE)
    if(TARGET sim_${name})
      target_sources(sim_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/sim/sim.c)
      target_include_directories(sim_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/sim)
    endif()
  endforeach()
endif()
