# Shared part of the Debian cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake): the caller sets PHAROS_CROSS_TRIPLET (GNU triplet, also the
# multiarch directory), PHAROS_DEBIAN_ARCH (Debian architecture name), CMAKE_SYSTEM_PROCESSOR
# and PHAROS_QEMU (the qemu-user-static binary). tools/setup-cross.sh installs the compilers
# (crossbuild-essential-*), the target libraries (Debian multiarch, /usr/lib/<triplet>) and
# the -dev packages that cannot be installed beside the amd64 ones (/opt/pharos-cross/<arch>).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${PHAROS_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${PHAROS_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${PHAROS_CROSS_TRIPLET})
set(PHAROS_DEBIAN_ARCH ${PHAROS_DEBIAN_ARCH} CACHE STRING "Debian architecture of the packages")

# Libraries, headers and CMake packages of the target only; programs of the build machine.
list(APPEND CMAKE_PREFIX_PATH /opt/pharos-cross/${PHAROS_DEBIAN_ARCH}/usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config (used by FindCURL, FindOpenSSL) reads the target's .pc files, never amd64's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${PHAROS_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# ctest runs the target's test binaries under qemu-user (binfmt_misc need not be registered).
# No -L /usr/<triplet>: the loader and C library come from Debian's multiarch libc6:<arch>
# (/lib/ld-linux-*.so, /usr/lib/<triplet>), like every other library. With -L, qemu takes
# the loader from the cross toolchain's copy but libc.so.6 from ld.so.cache's multiarch path,
# two different builds of glibc, and the first thread the program starts never runs.
find_program(PHAROS_QEMU_PATH ${PHAROS_QEMU} REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${PHAROS_QEMU_PATH})
