{
  "targets": [
    {
      "target_name": "tsvisor_native",
      "sources": [
        "addon/native.cc",
        "addon/notify.cc",
        "addon/memory.cc",
        "addon/fileops.cc",
        "addon/io.cc",
        "addon/blocking.cc",
        "addon/nsthread.cc",
        "addon/mounts.cc",
        "addon/spawn.cc",
        "addon/actor.cc"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-Wall", "-Wextra", "-Werror=return-type"],
      "cflags_cc": ["-Wall", "-Wextra", "-std=c++17"]
    },
    {
      "target_name": "tsvisor-launcher",
      "type": "executable",
      "sources": [
        "addon/launcher/main.c",
        "addon/launcher/options.c",
        "addon/launcher/rootfs.c",
        "addon/launcher/confine.c",
        "addon/launcher/channel.c",
        "addon/launcher/identity.c",
        "addon/launcher/netns.c",
        "addon/launcher/cgroup.c",
        "addon/launcher/rlimits.c",
        "addon/launcher/console.c",
        "addon/launcher/userns.c",
        "addon/launcher/join.c"
      ],
      "cflags": ["-Wall", "-Wextra", "-O2", "-std=gnu11"],
      "ldflags": ["-static-libgcc"]
    }
  ]
}
