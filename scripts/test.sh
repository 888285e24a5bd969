#!/usr/bin/env bash
# Run the whole test suite (offline; Google's endpoint is faked on loopback).
source "$(dirname "$0")/_bootstrap.sh"
exec python -m pytest "$@"
