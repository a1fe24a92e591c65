# Install layout (issue 8). With CMAKE_INSTALL_PREFIX=/usr (the .deb):
#   /usr/bin/virtdeny
#   /usr/share/virtdeny/rules/...            the knowledge base (VIRTDENY_RULES overrides; the
#                                           binary also finds ../share/virtdeny/rules beside it)
#   /usr/share/man/man1/virtdeny.1.gz, /usr/share/man/man8/virtdeny-audisp.8.gz (docs/*.1, docs/*.8)
#   /usr/share/doc/virtdeny/copyright, changelog.gz (dist/debian/, DebianDoc.cmake)
#   /usr/share/bash-completion/completions/virtdeny
#   /usr/share/zsh/vendor-completions/_virtdeny
#   /usr/share/doc/virtdeny/README.md, json.md, fleet.md (docs/*.md)
#   /usr/share/doc/virtdeny/examples/*       from dist/shipping/ (log shipper configurations)
#   /etc/audit/plugins.d/*.conf              from dist/audit/plugins.d/ (or dist/audisp/) when present
#   /usr/libexec/*                           from dist/libexec/ when present (the plugin's wrapper)
#   /usr/lib/systemd/system/*.service        from dist/systemd/ when present
include(GNUInstallDirs)

set(VIRTDENY_DIST_DIR ${PROJECT_SOURCE_DIR}/dist)

install(TARGETS virtdeny RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/rules/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/virtdeny/rules
        FILES_MATCHING PATTERN "*.yaml" PATTERN "*.yml" PATTERN "*.tsv" PATTERN "*.json" PATTERN "*.md")

# Man pages (docs/*.1, docs/*.8), gzipped as Debian wants them (plain when gzip is missing).
file(GLOB VIRTDENY_MAN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.1 ${PROJECT_SOURCE_DIR}/docs/*.8)
find_program(VIRTDENY_GZIP gzip)
set(VIRTDENY_MAN_OUTPUTS "")
foreach(page IN LISTS VIRTDENY_MAN_SOURCES)
    get_filename_component(page_name ${page} NAME)
    string(REGEX REPLACE ".*\\." "" section ${page_name})
    if(VIRTDENY_GZIP)
        set(page_gz ${PROJECT_BINARY_DIR}/docs/${page_name}.gz)
        add_custom_command(OUTPUT ${page_gz}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/docs
            COMMAND ${VIRTDENY_GZIP} -9 -n -c ${page} > ${page_gz}
            DEPENDS ${page}
            COMMENT "Compressing ${page_name}"
            VERBATIM)
        list(APPEND VIRTDENY_MAN_OUTPUTS ${page_gz})
        install(FILES ${page_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    else()
        install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    endif()
endforeach()
if(VIRTDENY_MAN_OUTPUTS)
    add_custom_target(virtdeny_man ALL DEPENDS ${VIRTDENY_MAN_OUTPUTS})
endif()

# Shell completion.
if(EXISTS ${VIRTDENY_DIST_DIR}/completion/virtdeny.bash)
    install(FILES ${VIRTDENY_DIST_DIR}/completion/virtdeny.bash
            DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME virtdeny)
endif()
if(EXISTS ${VIRTDENY_DIST_DIR}/completion/_virtdeny)
    install(FILES ${VIRTDENY_DIST_DIR}/completion/_virtdeny
            DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
endif()

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The licence and the changelog, in the Debian formats (dist/debian/; Package.cmake fills in
# the maintainer and checks the version): /usr/share/doc/virtdeny/copyright and changelog.gz.
include(${CMAKE_CURRENT_LIST_DIR}/DebianDoc.cmake)
# The JSON contract and the fleet guide (README links them), and the shipper examples.
file(GLOB VIRTDENY_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
if(VIRTDENY_DOCS)
    install(FILES ${VIRTDENY_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
if(IS_DIRECTORY ${VIRTDENY_DIST_DIR}/shipping)
    install(DIRECTORY ${VIRTDENY_DIST_DIR}/shipping/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
endif()

# The dist/ files below name the package's paths, /usr/bin/virtdeny and /usr/libexec/virtdeny-*.
# They are installed through virtdeny_install_dist(), which rewrites those two paths at install
# time to the prefix actually installed to: unchanged under /usr (the .deb), the /usr/local
# paths for a source install, so that the plugin and the unit run the virtdeny they came with.
function(virtdeny_install_dist file destination)
    get_filename_component(name ${file} NAME)
    string(REPLACE ";" " " permissions "${ARGN}")
    install(CODE "
        file(READ \"${file}\" _vd_text)
        string(REPLACE \"/usr/libexec/virtdeny\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/virtdeny\" _vd_text \"\${_vd_text}\")
        string(REPLACE \"/usr/bin/virtdeny\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/virtdeny\" _vd_text \"\${_vd_text}\")
        string(RANDOM LENGTH 12 _vd_run)  # installs running at once (cpack, cmake --install) never share it
        set(_vd_staged \"${PROJECT_BINARY_DIR}/dist-staged/\${_vd_run}\")
        file(WRITE \"\${_vd_staged}/${name}\" \"\${_vd_text}\")
        file(INSTALL DESTINATION \"${destination}\" TYPE FILE PERMISSIONS ${permissions}
             FILES \"\${_vd_staged}/${name}\")
        file(REMOVE_RECURSE \"\${_vd_staged}\")
    ")
endfunction()

# auditd plugin config and systemd unit (owned by dist/'s maintainer; installed when present).
# auditd reads plugins only from /etc/audit/plugins.d, whatever the prefix: an absolute
# destination (set VIRTDENY_AUDISP_PLUGIN_DIR to stage elsewhere). The files there are the
# package's conffiles (Package.cmake).
set(VIRTDENY_AUDISP_PLUGIN_DIR "/etc/audit/plugins.d" CACHE PATH "where auditd plugin configs go")
set(VIRTDENY_CONFFILES "")
foreach(audisp_dir IN ITEMS ${VIRTDENY_DIST_DIR}/audit/plugins.d ${VIRTDENY_DIST_DIR}/audisp ${VIRTDENY_DIST_DIR}/auditd)
    if(IS_DIRECTORY ${audisp_dir})
        file(GLOB VIRTDENY_AUDISP_FILES CONFIGURE_DEPENDS ${audisp_dir}/*.conf)
        if(VIRTDENY_AUDISP_FILES)
            foreach(f IN LISTS VIRTDENY_AUDISP_FILES)
                # 0644 (Debian policy for a conffile); auditd only refuses a world-writable one
                virtdeny_install_dist(${f} ${VIRTDENY_AUDISP_PLUGIN_DIR} OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
                get_filename_component(name ${f} NAME)
                list(APPEND VIRTDENY_CONFFILES ${VIRTDENY_AUDISP_PLUGIN_DIR}/${name})
            endforeach()
        endif()
    endif()
endforeach()
if(IS_DIRECTORY ${VIRTDENY_DIST_DIR}/systemd)
    file(GLOB VIRTDENY_SYSTEMD_UNITS CONFIGURE_DEPENDS
         ${VIRTDENY_DIST_DIR}/systemd/*.service ${VIRTDENY_DIST_DIR}/systemd/*.socket
         ${VIRTDENY_DIST_DIR}/systemd/*.timer ${VIRTDENY_DIST_DIR}/systemd/*.path)
    if(VIRTDENY_SYSTEMD_UNITS)
        foreach(f IN LISTS VIRTDENY_SYSTEMD_UNITS)
            virtdeny_install_dist(${f} "\${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
                                  OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
        endforeach()
    endif()
endif()
if(IS_DIRECTORY ${VIRTDENY_DIST_DIR}/libexec)
    file(GLOB VIRTDENY_LIBEXEC_PROGRAMS CONFIGURE_DEPENDS ${VIRTDENY_DIST_DIR}/libexec/*)
    if(VIRTDENY_LIBEXEC_PROGRAMS)
        foreach(f IN LISTS VIRTDENY_LIBEXEC_PROGRAMS)
            virtdeny_install_dist(${f} "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}"
                                  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                  WORLD_READ WORLD_EXECUTE)
        endforeach()
    endif()
endif()
