# A Debian package with CPack (scripts/package): virtdeny_VERSION_ARCH.deb, installable with
# `apt install ./virtdeny_*.deb`. Contents are Install.cmake's rules under /usr (and /etc).
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "virtdeny")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "virtdeny")
# VIRTDENY_MAINTAINER (DebianDoc.cmake, -DVIRTDENY_MAINTAINER="Name <address>" to change)
set(CPACK_PACKAGE_CONTACT "${VIRTDENY_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VIRTDENY_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "explain SELinux/AppArmor denials on KVM/libvirt hosts")
# lines of at most 80 columns (lintian: extended-description-line-too-long)
set(CPACK_PACKAGE_DESCRIPTION
    "virtdeny reads SELinux and AppArmor denials on KVM/QEMU hosts under libvirt\n\
and says which VM and which device each is about, why it happened, and the\n\
narrowest fix: a per-VM AppArmor rule, a per-VM SELinux rule or relabel, or a\n\
boolean with its host-wide scope said out loud.")
# The package installs under /usr whatever CMAKE_INSTALL_PREFIX the build was configured
# with (scripts/package configures /usr; a /usr/local build still finds its rules through
# ../share/virtdeny/rules beside the binary). /etc/audit/plugins.d is an absolute
# destination, so everything is staged through DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${VIRTDENY_HOMEPAGE}")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "auditd, apparmor, policycoreutils, selinux-utils, libvirt-daemon-system")
find_program(VIRTDENY_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(VIRTDENY_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
    message(STATUS "dpkg-shlibdeps not found (package dpkg-dev): the .deb will have no Depends")
endif()
if(VIRTDENY_CONFFILES)
    list(JOIN VIRTDENY_CONFFILES "\n" _virtdeny_conffiles)
    file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${_virtdeny_conffiles}\n")
    set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/debian/conffiles)
endif()

include(CPack)
