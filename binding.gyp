{
  "targets": [
    {
      "target_name": "vrngd",
      "sources": ["src/native/vrngd.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
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
      "ldflags": ["-Wl,-z,relro,-z,now"],
      "libraries": ["-ldl"]
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
