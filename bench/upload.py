"""Upload benchmark: MP3s of about 10 MB and 57 MB (a 60-minute recording at 128 kbit/s) sent over
HTTP to a running server, plus the cost of measuring and checking the 57 MB file.

Starts gunicorn (one sync worker, as in production) on a free port, with a throwaway SQLite
database and MEDIA_ROOT, and streams each file to `POST /api/audio/` from disk.
For each file it prints the wall time of the upload, the worker's peak RSS growth during the
request (its high-water mark is reset through /proc/PID/clear_refs just before), and the ratio of
the upload time to copying the same file on the same disk (medians of 3 runs, largest growth).
Then it starts a server with MAX_UPLOAD_MB=10 and sends the 57 MB file again, to show the refusal
arriving after about 10 MB rather than after the whole body.

    .venv/bin/python -m bench.upload
"""

import http.client
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import ROOT, Row, ffmpeg, manage, print_rows, start_gunicorn, stop

BOUNDARY = "bench-upload-boundary"
MB = 1024 * 1024
RUNS = 3  # uploads and copies per file: the median time and the largest RSS growth are shown


def make_mp3s(directory: Path) -> dict[str, Path]:
    """128 kbit/s stereo MP3s: one encoded minute, repeated by stream copy (fast, and a valid file)."""
    minute = directory / "minute.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=60", "-ac", 2, "-b:a", "128k", minute)
    files = {}
    for label, seconds in (("10 MB", 625), ("57 MB", 3590)):
        path = directory / f"{seconds}s.mp3"
        ffmpeg("-stream_loop", -1, "-i", minute, "-t", seconds, "-c", "copy", path)
        files[label] = path
    return files


@contextmanager
def server(env: dict):
    """gunicorn with one sync worker; yields (port, worker pid)."""
    master, base = start_gunicorn(env, workers=1)
    try:
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        yield urlsplit(base).port, int(children[0])
    finally:
        stop(master)


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def multipart_parts(path: Path) -> tuple[bytes, bytes]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    return head, f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(port: int, token: str, path: Path) -> tuple[int, float]:
    """Stream `path` from disk as a multipart upload; returns (status, seconds)."""
    head, tail = multipart_parts(path)

    def body():
        yield head
        with open(path, "rb") as file:
            while chunk := file.read(MB):
                yield chunk
        yield tail

    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request(
        "POST",
        "/api/audio/",
        body=body(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(head) + path.stat().st_size + len(tail)),
        },
    )
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def oversized_upload(port: int, token: str, path: Path) -> tuple[str, float, int]:
    """Send `path` on a raw socket while reading the answer; returns (status line, seconds, bytes sent)."""
    head, tail = multipart_parts(path)
    request = (
        f"POST /api/audio/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(head) + path.stat().st_size + len(tail)}\r\n\r\n"
    ).encode()
    sent = 0
    sock = socket.create_connection(("127.0.0.1", port))

    def send():
        nonlocal sent
        try:
            sock.sendall(request + head)
            with open(path, "rb") as file:
                while chunk := file.read(64 * 1024):
                    sock.sendall(chunk)
                    sent += len(chunk)
            sock.sendall(tail)
        except OSError:
            pass  # the server has answered and closed the connection

    started = time.perf_counter()
    sender = threading.Thread(target=send)
    sender.start()
    answer = b""
    try:
        while b"\r\n" not in answer and (data := sock.recv(4096)):
            answer += data
    except ConnectionResetError:
        pass
    elapsed = time.perf_counter() - started
    sock.close()
    sender.join()
    return answer.split(b"\r\n", 1)[0].decode() or "(connection reset before the answer)", elapsed, sent


def run() -> list[Row]:
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        tmp = Path(tmp)
        files = make_mp3s(tmp)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "MEDIA_ROOT": str(tmp / "media"),
            "THROTTLE_RATES": "upload=1000/min",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput")
        token = manage(env, "issue_token", "bench@example.com", "--create", "--access-only")

        print(f"{'file':>6} {'size':>9} {'upload':>9} {'disk copy':>10} {'ratio':>7} {'peak RSS growth':>16}")
        measured = {}
        with server(env) as (port, worker):
            status, _ = upload(port, token, files["10 MB"])  # warm-up: imports, first queries
            assert status == 201, status
            for label, path in files.items():
                times, growths = [], []
                for _ in range(RUNS):
                    Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset the worker's high-water mark
                    baseline = rss_kb(worker, "VmRSS")
                    status, seconds = upload(port, token, path)
                    growths.append((rss_kb(worker, "VmHWM") - baseline) / 1024)
                    times.append(seconds)
                    assert status == 201, status
                seconds, growth_mb = statistics.median(times), max(growths)
                copy_seconds = statistics.median(_timed(shutil.copyfile, path, tmp / "copy.mp3") for _ in range(RUNS))
                measured[label] = seconds, copy_seconds, growth_mb
                print(
                    f"{label:>6} {path.stat().st_size / MB:>6.1f} MB {seconds * 1000:>7.0f} ms "
                    f"{copy_seconds * 1000:>7.0f} ms {seconds / copy_seconds:>6.1f}x {growth_mb:>13.1f} MB"
                )

        os.environ.update(env)
        import django

        django.setup()
        from audio.probe import probe_audio, read_duration, sniff_container

        big = files["57 MB"]
        header = statistics.median(_timed(lambda: read_duration(sniff_container(big), big)) for _ in range(20))
        whole = statistics.median(_timed(probe_audio, big) for _ in range(10))
        print(
            f"\nduration probe (magic bytes + mutagen header) on the 57 MB MP3: {header * 1000:.2f} ms (median of 20)"
        )
        print(f"whole content check (adds ffprobe demuxing the last seconds): {whole * 1000:.0f} ms (median of 10)")

        stored_before = stored_files(tmp / "media")
        with server({**env, "MAX_UPLOAD_MB": "10"}) as (port, _):
            status_line, seconds, sent = oversized_upload(port, token, big)
        print(
            f"\n57 MB against MAX_UPLOAD_MB=10: '{status_line}' after {seconds * 1000:.0f} ms, with "
            f"{sent / MB:.1f} MB of the body sent (socket buffers included); "
            f"files added under MEDIA_ROOT: {stored_files(tmp / 'media') - stored_before}"
        )
    seconds, copy_seconds, growth_mb = measured["57 MB"]
    small_growth = measured["10 MB"][2]
    return [
        Row(
            "upload: worker's peak RSS growth, 57 MB MP3",
            f"{growth_mb:.1f} MB",
            f"10 MB MP3: {small_growth:.1f} MB",
            growth_mb / small_growth,
            "<= 30 MB",
            growth_mb <= 30,
        ),
        Row(
            "upload: 57 MB MP3 over HTTP",
            f"{seconds * 1000:.0f} ms",
            f"disk copy: {copy_seconds * 1000:.0f} ms",
            seconds / copy_seconds,
        ),
        Row("upload: duration probe, 57 MB MP3", f"{header * 1000:.2f} ms", target="<= 50 ms", met=header <= 0.05),
    ]


def stored_files(directory: Path) -> int:
    return sum(1 for path in directory.rglob("*") if path.is_file())


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


if __name__ == "__main__":
    print_rows("Uploads", run())
