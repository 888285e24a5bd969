#!/usr/bin/env bash
# Static checks: ruff (lint and format) and mypy --strict.
source "$(dirname "$0")/_bootstrap.sh"
ruff check tts_service tests bench
ruff format --check tts_service tests bench
mypy
