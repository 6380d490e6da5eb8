{
  # Every target, present and future, is built for the oldest glibc vrngd ships on
  # (RHEL 6: 2.12): src/native/glibc-floor.h is force-included into each C file,
  # and libdl.so.2 is linked by name (where dlsym@GLIBC_2.2.5 lives before 2.34).
  # test/packaging/symbol-versions.test.ts checks every ELF file the packages carry.
  # Executables also get __libc_start_main@GLIBC_2.2.5 instead of crt1.o's 2.34 one
  # (glibc-floor.h's wrapper, through --wrap).
  "target_defaults": {
    "include_dirs": ["src/native"],
    "cflags": ["-include", "glibc-floor.h"],
    "ldflags": ["-Wl,--no-as-needed", "-l:libdl.so.2", "-Wl,--as-needed"],
    "target_conditions": [
      ["_type=='executable'", {
        "defines": ["VRNGD_EXECUTABLE"],
        "ldflags": ["-Wl,--wrap=__libc_start_main"]
      }]
    ]
  },
  "targets": [
    {
      "target_name": "vrngd",
      "sources": ["src/native/vrngd.c", "src/native/addon.c", "src/native/poll.c", "src/native/rdrand.c", "src/native/physmem.c", "src/native/fips.c", "src/native/repeat.c", "src/native/inject.c"],
      "defines": ["NAPI_VERSION=7", "_GNU_SOURCE"],
      "cflags": ["-std=gnu99", "-O2", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-fstack-protector-strong"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    },
    {
      "target_name": "vrngd-preload",
      "type": "shared_library",
      "product_name": "vrngd-preload",
      "product_extension": "so",
      "sources": ["src/native/preload.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu99", "-O2", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-fstack-protector-strong"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    },
    {
      "target_name": "vrngd-reader",
      "type": "executable",
      "sources": ["src/native/reader.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu99", "-O2", "-Wall", "-Wextra", "-Werror", "-fstack-protector-strong"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    }
  ]
}
