# /usr/share/doc/virtdeny/copyright (machine-readable, copyright-format 1.0) and changelog.gz
# (Debian changelog format; a native package's changelog) from dist/debian/*.in, with the
# maintainer and homepage of Package.cmake's cache variables.
set(VIRTDENY_MAINTAINER "virtdeny maintainers <maintainers@virtdeny.org>" CACHE STRING
    "Maintainer of the .deb (Maintainer field, changelog trailer, copyright Upstream-Contact)")
set(VIRTDENY_HOMEPAGE "https://github.com/virtdeny/virtdeny" CACHE STRING "Homepage of the project")
if(VIRTDENY_MAINTAINER MATCHES "@localhost|@localdomain|@example\\." OR NOT VIRTDENY_MAINTAINER MATCHES "^[^<>]+ <[^<>@ ]+@[^<>@ ]+\\.[^<>@ ]+>$")
    message(FATAL_ERROR "VIRTDENY_MAINTAINER must be 'Name <address>' with a real address, not '${VIRTDENY_MAINTAINER}'")
endif()

set(VIRTDENY_DEBIAN_DIR ${PROJECT_SOURCE_DIR}/dist/debian)
configure_file(${VIRTDENY_DEBIAN_DIR}/copyright.in ${PROJECT_BINARY_DIR}/debian/copyright @ONLY)
configure_file(${VIRTDENY_DEBIAN_DIR}/changelog.in ${PROJECT_BINARY_DIR}/debian/changelog @ONLY)
# the changelog's newest entry names the version being built
file(STRINGS ${PROJECT_BINARY_DIR}/debian/changelog _vd_changelog_head LIMIT_COUNT 1)
if(NOT _vd_changelog_head MATCHES "^virtdeny \\(${PROJECT_VERSION}\\) ")
    message(FATAL_ERROR "dist/debian/changelog.in starts with '${_vd_changelog_head}': add an entry for ${PROJECT_VERSION}")
endif()
install(FILES ${PROJECT_BINARY_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(VIRTDENY_GZIP)
    add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/debian/changelog.gz
        COMMAND ${VIRTDENY_GZIP} -9 -n -c ${PROJECT_BINARY_DIR}/debian/changelog > ${PROJECT_BINARY_DIR}/debian/changelog.gz
        DEPENDS ${PROJECT_BINARY_DIR}/debian/changelog
        COMMENT "Compressing the Debian changelog"
        VERBATIM)
    add_custom_target(virtdeny_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/debian/changelog.gz)
    install(FILES ${PROJECT_BINARY_DIR}/debian/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
else()
    install(FILES ${PROJECT_BINARY_DIR}/debian/changelog DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
