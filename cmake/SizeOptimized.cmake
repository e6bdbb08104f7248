# The agent runs on small devices where its resident memory is the budget (bench/RESULTS.md,
# "Agent footprint"). In optimized builds (every configuration but Debug; not with the
# sanitizers or the fuzzers):
#   pharos_sections(<target>)        one section per function and per object (so that a
#                                    program linked with --gc-sections drops what it never calls)
#   pharos_optimize_for_size(<target>)  that, and -Os
#   pharos_link_for_size(<target>)   links a program with --gc-sections and records only the
#                                    shared libraries it calls (--as-needed)
# PHAROS_SMALL_AGENT=OFF builds the agent like everything else (-O2/-O3 for its configuration).
option(PHAROS_SMALL_AGENT "Optimized builds of pharos-agent for size (-Os, --gc-sections, --as-needed)" ON)

set(PHAROS_SIZE_FLAGS_APPLY OFF)
if(PHAROS_SMALL_AGENT AND NOT PHAROS_SANITIZE AND NOT PHAROS_FUZZ)
  set(PHAROS_SIZE_FLAGS_APPLY ON)
endif()

function(pharos_sections target)
  if(PHAROS_SIZE_FLAGS_APPLY)
    target_compile_options(${target} PRIVATE
      "$<$<NOT:$<CONFIG:Debug>>:-ffunction-sections;-fdata-sections>")
  endif()
endfunction()

function(pharos_optimize_for_size target)
  if(PHAROS_SIZE_FLAGS_APPLY)
    pharos_sections(${target})
    target_compile_options(${target} PRIVATE "$<$<NOT:$<CONFIG:Debug>>:-Os>")
  endif()
endfunction()

function(pharos_link_for_size target)
  if(PHAROS_SIZE_FLAGS_APPLY)
    target_link_options(${target} PRIVATE
      "$<$<NOT:$<CONFIG:Debug>>:-Wl,--gc-sections;-Wl,--as-needed>")
  endif()
endfunction()
