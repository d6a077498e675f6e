# Every dependency comes from Debian 12 packages (scripts/install-deps installs them).

find_package(ZLIB REQUIRED)
find_package(zstd CONFIG REQUIRED)
find_package(libjpeg-turbo CONFIG REQUIRED)
find_package(zfp CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(ONNX CONFIG REQUIRED)

# libopencv-dnn-dev ships no CMake config: locate headers and libraries directly.
find_path(OpenCV_INCLUDE_DIR opencv2/dnn.hpp PATH_SUFFIXES opencv4 REQUIRED)
add_library(disc_opencv INTERFACE)
target_include_directories(disc_opencv SYSTEM INTERFACE ${OpenCV_INCLUDE_DIR})
foreach(module core imgproc imgcodecs dnn)
  find_library(OpenCV_${module}_LIBRARY opencv_${module} REQUIRED)
  target_link_libraries(disc_opencv INTERFACE ${OpenCV_${module}_LIBRARY})
endforeach()

if(DISC_FUZZ)
  return()
endif()

find_package(Threads REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)  # SHA-256 of model files (the edge-server model check)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark CONFIG REQUIRED)
