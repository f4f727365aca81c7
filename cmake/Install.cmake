# Where `cmake --install` (and so the Debian package, packaging/debian/rules)
# puts edgepoll: the FHS layout through GNUInstallDirs. With the prefix /usr,
# GNUInstallDirs puts the configuration in /etc itself.
include(GNUInstallDirs)

# Debian 12 keeps packaged units in /lib/systemd/system (not /usr/lib yet).
set(EDGEPOLL_SYSTEMD_UNITDIR "/lib/systemd/system" CACHE PATH "where the systemd unit is installed")

install(TARGETS edgepolld RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
# The operator CLI is optional in a tree that does not have it yet.
if(TARGET edgepollctl)
  install(TARGETS edgepollctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES docs/man/edgepollctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

install(FILES systemd/edgepoll.service DESTINATION ${EDGEPOLL_SYSTEMD_UNITDIR})
install(FILES packaging/config/edgepoll.toml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/edgepoll)
# Operators drop one file per device (or group of devices) here.
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/edgepoll/devices.d)

install(FILES docs/man/edgepolld.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/man/edgepoll.toml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES README.md docs/architecture.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES packaging/config/device.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
