# Runs one example program and checks it (the examples.* tests of examples/CMakeLists.txt):
#   cmake -DPROGRAM=<file> -DARGS=<a;b> -DDIR=<working directory> -DEXIT=<code>
#         -DEXPECT=<regex;regex> -P run_example.cmake
# DIR is made anew; the test fails unless the program exits EXIT and, for each regular
# expression of EXPECT, prints a line (stdout) that matches it.
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
execute_process(COMMAND "${PROGRAM}" ${ARGS} WORKING_DIRECTORY "${DIR}"
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(err)
  message("stderr:\n${err}")
endif()
if(NOT "${code}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "${PROGRAM} exited ${code}, expected ${EXIT}")
endif()
string(REPLACE ";" "\\;" lines "${out}")
string(REPLACE "\n" ";" lines "${lines}")
foreach(pattern IN LISTS EXPECT)
  set(found FALSE)
  foreach(line IN LISTS lines)
    if(line MATCHES "${pattern}")
      set(found TRUE)
      break()
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "no line of the output matches: ${pattern}")
  endif()
endforeach()
