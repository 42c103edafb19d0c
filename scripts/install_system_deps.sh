#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian machine (run as root; a no-op when all are there):
#   xvfb, x11-apps  - the live-window tests open a real window on a virtual screen and read it back (xwd);
#   chromium, chromium-driver - the browser tests of `realtime-fer serve` drive a real headless Chromium.
# Without root or apt it says what is missing and exits 0: the tests that need a package skip or fail by name.
set -uo pipefail
need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xwd >/dev/null 2>&1 || need+=(x11-apps)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_system_deps: missing ${need[*]}: install them with your package manager (needs root)" >&2
    exit 0
fi
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null) \
    || echo "install_system_deps: could not install ${need[*]}; the tests that need them will fail" >&2
