# arm64 (AArch64: Raspberry Pi 4/5 and CM4 with a 64-bit OS, i.MX8, Rockchip RK3399/RK35xx).
set(PHAROS_CROSS_TRIPLET aarch64-linux-gnu)
set(PHAROS_DEBIAN_ARCH arm64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PHAROS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
