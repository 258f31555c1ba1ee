# The simulator harness (sim.c) is the dd_sim library (CMakeLists.txt),
# linked into every tests/sim/test_*.c executable; tests/CMakeLists.txt
# creates those targets.
if(TARGET dd_sim)
  file(GLOB sim_suite_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/sim/test_*.c)
  foreach(src IN LISTS sim_suite_tests)
    get_filename_component(name ${src} NAME_WE)
    if(TARGET sim_${name})
      target_link_libraries(sim_${name} PRIVATE dd_sim)
    endif()
  endforeach()
endif()
