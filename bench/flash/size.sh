#!/usr/bin/env bash
# B9 flash: builds each variant of this crate for thumbv7em-none-eabihf (opt-level s and z,
# fat LTO, panic=abort) and prints text/data/bss from arm-none-eabi-size, one line per build:
#   <profile> <variant> <text> <data> <bss>
# The "empty" variant is the entry point and panic handler alone, to subtract.
set -euo pipefail
cd "$(dirname "$0")"
unset CARGO_TARGET_DIR
for profile in release release-z; do
  for variant in empty ours-encode sjc-encode ours-decode sjc-decode ours-both sjc-both; do
    features=()
    [ "$variant" != empty ] && features=(--features "$variant")
    cargo build --locked --quiet --profile "$profile" "${features[@]}"
    elf=target/thumbv7em-none-eabihf/$profile/natsbridge-bench-flash
    read -r text data bss _ < <(arm-none-eabi-size "$elf" | tail -1)
    echo "$profile $variant $text $data $bss"
  done
done
