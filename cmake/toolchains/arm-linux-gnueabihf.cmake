# armhf (32-bit ARMv7 with hardware floating point: Raspberry Pi OS 32-bit, i.MX6/7).
set(PHAROS_CROSS_TRIPLET arm-linux-gnueabihf)
set(PHAROS_DEBIAN_ARCH armhf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(PHAROS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
