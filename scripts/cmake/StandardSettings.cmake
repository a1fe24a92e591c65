# Settings and warnings shared by product and test code (linked PRIVATE).
add_library(standard_settings INTERFACE)
target_compile_features(standard_settings INTERFACE cxx_std_17)
target_include_directories(standard_settings INTERFACE ${PROJECT_SOURCE_DIR})
target_compile_definitions(standard_settings INTERFACE
    VIRTDENY_VERSION="${PROJECT_VERSION}"
    VIRTDENY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

add_library(standard_warnings INTERFACE)
target_compile_options(standard_warnings INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2)
option(VIRTDENY_WERROR "Treat warnings as errors (dev/CI builds)" OFF)
if(VIRTDENY_WERROR)
    target_compile_options(standard_warnings INTERFACE -Werror)
endif()

option(VIRTDENY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(VIRTDENY_SANITIZE)
    target_compile_options(standard_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(standard_settings INTERFACE -fsanitize=address,undefined)
endif()

# libFuzzer targets (clang only): the core library is instrumented for coverage and built
# with AddressSanitizer + UndefinedBehaviorSanitizer; tests/fuzz/ holds the targets.
option(VIRTDENY_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(VIRTDENY_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "VIRTDENY_FUZZ needs clang++ (-DCMAKE_CXX_COMPILER=clang++)")
    endif()
    target_compile_options(standard_settings INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g)
    target_link_options(standard_settings INTERFACE -fsanitize=address,undefined)
endif()
