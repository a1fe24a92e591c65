# cmake -DIN=file -DOUT=header -DNAME=identifier -P EmbedText.cmake: writes a header holding
# the file's text as `inline constexpr const char NAME[]` (a raw string literal), so the
# binary carries the file as it was at build time (rules/schema.json for `rules validate`).
file(READ "${IN}" content)
set(delim "vd_embed")
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${IN} holds the raw-string delimiter )${delim}\"")
endif()
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
file(WRITE "${OUT}" "// Generated from ${IN} by scripts/cmake/EmbedText.cmake: do not edit.\n#pragma once\n\nnamespace virtdeny::generated {\n\ninline constexpr const char ${NAME}[] = R\"${delim}(${content})${delim}\";\n\n} // namespace virtdeny::generated\n")
