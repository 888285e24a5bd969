#!/usr/bin/env bash
# Smoke-test the built image without `podman run` (refused on our machines): mount the
# image's root, start `tts-service serve` in it with chroot as the image's user, and read an
# article with the offline voice over HTTP. Fails unless a decodable MP3 of the expected
# length comes back.
#   IMAGE  the image to test (default localhost/tts-service:latest)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${IMAGE:-localhost/tts-service:latest}"
PODMAN=(podman --storage-driver=vfs)
PORT="${PORT:-18765}"

root="$("${PODMAN[@]}" image mount "$IMAGE")"
log="$(mktemp)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  for dir in dev proc tmp; do umount "$root/$dir" 2>/dev/null || true; done
  "${PODMAN[@]}" image unmount "$IMAGE" >/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/tmp"

# The image's ENV, as `docker run` would set it, with the cache on the tmpfs.
chroot="$(command -v chroot)"
env -i PATH=/opt/venv/bin:/usr/bin:/bin HOME=/app PYTHONUNBUFFERED=1 \
  TTS_HOST=127.0.0.1 TTS_PORT="$PORT" TTS_CACHE_DIR=/tmp/audio_cache TTS_ENGINE=espeak \
  "$chroot" --userspec=10001:10001 "$root" tts-service serve >"$log" 2>&1 &
pid=$!

if ! python3 - "$PORT" "$root/tmp/smoke.mp3" "$pid" <<'PY'
import json, os, sys, time, urllib.request
from urllib.parse import urljoin

base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 120
while True:  # the service's start-up (imports, eSpeak) is polled, with a deadline
    try:
        urllib.request.urlopen(f"{base}/readyz", timeout=5).read()
        break
    except OSError:
        os.kill(int(sys.argv[3]), 0)  # raises once the service has exited
        if time.monotonic() > deadline:
            sys.exit("the image's service did not become ready in 120 s")
        time.sleep(0.5)
body = json.dumps({"text": "Ủy ban nhân dân tỉnh Lạng Sơn họp ngày 9 tháng 7 năm 2021."})
request = urllib.request.Request(
    f"{base}/v1/read", data=body.encode(), headers={"Content-Type": "application/json"}
)
answer = json.load(urllib.request.urlopen(request, timeout=60))
audio = urllib.request.urlopen(urljoin(base, answer["audio_url"]), timeout=120).read()
open(sys.argv[2], "wb").write(audio)
print(f"image smoke test: {len(audio)} bytes read by {answer['engine']}", file=sys.stderr)
PY
then
  echo "--- the image's service log:" >&2; cat "$log" >&2; exit 1
fi
# Decoded in the image by the ffmpeg it ships (imageio-ffmpeg's): the whole file to PCM,
# any error fatal; its length gives the duration.
ffmpeg="$(chroot "$root" /opt/venv/bin/python -c 'import imageio_ffmpeg as f; print(f.get_ffmpeg_exe())')"
bytes="$(chroot "$root" "$ffmpeg" -v error -xerror -i /tmp/smoke.mp3 -f s16le -ac 1 -ar 24000 - | wc -c)"
seconds="$(python3 -c "import sys; print(round(int(sys.argv[1]) / 48000, 2))" "$bytes")"
python3 -c "import sys; assert float(sys.argv[1]) > 2.0, sys.argv[1]" "$seconds"
echo "image smoke test passed: a ${seconds} s MP3 read by the offline voice" >&2
