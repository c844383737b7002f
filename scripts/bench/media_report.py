#!/usr/bin/env python3
"""Helpers of scripts/bench-media: settings, timing, output checks and the table.

usage:
  media_report.py settings CONFIG_TOML SOURCE
      Prints shell assignments (for eval) of what the pipeline would do with SOURCE under the
      [media] settings of CONFIG_TOML: the ladder as planned by src/domain/media.rs
      plan_ladder (never upscaled, even sizes), keyint = round(fps x keyframe_secs) from the
      source's avg_frame_rate, thumbnail time = min(duration / 10, 1 s), and the rest.
  media_report.py measure RESULTS KEY -- CMD [ARG ...]
      Runs CMD, then appends to RESULTS `KEY.wall_s`, `KEY.user_s`, `KEY.sys_s`,
      `KEY.maxrss_kb` (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss: the peak RSS of the
      largest process CMD ran, CMD itself included) and `KEY.rc`. Exits with CMD's status.
  media_report.py inspect RESULTS SIDE DIR SOURCE RUNGS
      Finds the outputs under DIR by their content (so it works on yuanjiao's blob store,
      whose files are named by sha256, as well as on the ffmpeg CLI's output folder), probes
      them with ffprobe and appends `SIDE.out.*` keys, with `SIDE.check` = `ok` or what is
      missing. RUNGS is "name:width:height:kbps,..." as printed by `settings`.
  media_report.py report RESULTS OUT_TXT
      Prints the table (also written to OUT_TXT). Exit status 0 whether targets are met or
      not; 1 when a side's outputs check failed or a command did not exit 0.

Targets (yuanjiao only): at least 4x real time (source seconds / wall seconds) and a peak
RSS under 600 MB.
"""

import json
import math
import os
import resource
import shlex
import subprocess
import sys
import time

REALTIME_TARGET = 4.0
RSS_TARGET_MB = 600.0


# ---------------------------------------------------------------- settings

def ffprobe_json(path, extra=()):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", *extra, path],
        capture_output=True, text=True)
    if out.returncode != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def rational(s):
    try:
        n, d = s.split("/")
        n, d = int(n), int(d)
        return (n, d) if n > 0 and d > 0 else None
    except (AttributeError, ValueError):
        return None


def plan_ladder(sw, sh, rungs):
    """src/domain/media.rs plan_ladder."""
    def even(x):
        x = max(x, 2)
        return (x + 1) // 2 * 2
    lowest = min(rungs, key=lambda r: r["height"]) if rungs else None
    if lowest is not None and lowest["height"] > sh >= 2:
        h = sh - sh % 2
        return [(f"{h}p", sw - sw % 2, h, lowest["video_kbps"])]
    out = []
    for r in rungs:
        if r["height"] <= sh and sh > 0:
            w = sw * r["height"] // sh
            out.append((r["name"], min(even(w), sw - sw % 2), even(r["height"]), r["video_kbps"]))
    return out


def cmd_settings(config_path, source):
    import tomllib
    with open(config_path, "rb") as f:
        media = tomllib.load(f)["media"]
    probe = ffprobe_json(source)
    if probe is None:
        sys.exit(f"media_report: ffprobe cannot read {source}")
    video = next((s for s in probe["streams"] if s.get("codec_type") == "video"), None)
    audio = [s for s in probe["streams"] if s.get("codec_type") == "audio"]
    if video is None:
        sys.exit(f"media_report: {source} has no video")
    duration = float(probe["format"]["duration"])
    fps = rational(video.get("avg_frame_rate")) or (25, 1)
    keyint = max(1, round(fps[0] / fps[1] * media["keyframe_secs"]))
    rungs = plan_ladder(int(video["width"]), int(video["height"]), media["ladder"])
    channels = min(max(int(audio[0].get("channels", 2)), 1), 2) if audio else 0
    values = {
        "SRC_DURATION": f"{duration:.3f}",
        "SRC_WIDTH": video["width"],
        "SRC_HEIGHT": video["height"],
        "SRC_FPS": f"{fps[0]}/{fps[1]}",
        "SRC_AUDIO_CHANNELS": channels,
        "KEYINT": keyint,
        "PRESET": media["x264_preset"],
        "THREADS": media["threads"],
        "AUDIO_KBPS": media["audio_kbps"],
        "SEGMENT_SECS": media["segment_secs"],
        "THUMB_WIDTH": max(16, media["thumbnail_width"]),
        "THUMB_AT": f"{min(duration / 10, 1.0):.3f}",
        "RUNGS": ",".join(f"{n}:{w}:{h}:{k}" for n, w, h, k in rungs),
    }
    for k, v in values.items():
        print(f"{k}={shlex.quote(str(v))}")
    return 0


# ---------------------------------------------------------------- measure

def cmd_measure(results, key, cmd):
    t0 = time.monotonic()
    rc = subprocess.run(cmd).returncode
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(results, "a") as f:
        f.write(f"{key}.wall_s {wall:.3f}\n")
        f.write(f"{key}.user_s {ru.ru_utime:.3f}\n")
        f.write(f"{key}.sys_s {ru.ru_stime:.3f}\n")
        f.write(f"{key}.maxrss_kb {ru.ru_maxrss}\n")
        f.write(f"{key}.rc {rc}\n")
    return rc


# ---------------------------------------------------------------- inspect

def head(path, n=16):
    with open(path, "rb") as f:
        return f.read(n)


def cmd_inspect(results, side, root, source, rungs_spec, segment_secs):
    rungs = []
    for item in filter(None, rungs_spec.split(",")):
        name, w, h, kbps = item.split(":")
        rungs.append((name, int(w), int(h), int(kbps)))
    source_size = os.path.getsize(source)
    files = []
    for d, _, names in os.walk(root):
        files.extend(os.path.join(d, n) for n in names)

    found = {}            # rendition name -> probe facts
    inits = 0
    fragments = 0
    thumbs = []
    masters = []          # variant counts
    media_playlists = 0
    segments = 0
    max_extinf = 0.0
    playlist_totals = []
    output_bytes = 0
    source_copies = 0
    for path in files:
        size = os.path.getsize(path)
        magic = head(path)
        if magic[4:8] == b"ftyp":
            p = ffprobe_json(path)
            if p is None:
                continue
            streams = p.get("streams", [])
            v = next((s for s in streams if s.get("codec_type") == "video"), None)
            a = next((s for s in streams if s.get("codec_type") == "audio"), None)
            dur = float(p.get("format", {}).get("duration") or 0)
            if dur < 0.05:
                inits += 1
                output_bytes += size
                continue
            if size == source_size and v is not None and a is not None and \
                    v.get("codec_name") == "h264" and v.get("height") not in [r[2] for r in rungs]:
                source_copies += 1
                continue
            output_bytes += size
            if v is not None:
                key = f"{v['width']}x{v['height']}"
            elif a is not None:
                key = "audio"
            else:
                continue
            found[key] = {
                "duration": dur,
                "video_s": float(v.get("duration") or 0) if v else None,
                "audio_s": float(a.get("duration") or 0) if a else None,
                "size": size,
                "video_kbps": int(v.get("bit_rate") or 0) / 1000 if v else None,
                "audio_kbps": int(a.get("bit_rate") or 0) / 1000 if a else None,
                "audio_rate": a.get("sample_rate") if a else None,
                "profile": v.get("profile") if v else None,
                "pix_fmt": v.get("pix_fmt") if v else None,
                "has_audio": a is not None,
            }
        elif magic[:3] == b"\xff\xd8\xff":
            p = ffprobe_json(path)
            v = p and next((s for s in p.get("streams", []) if s.get("codec_type") == "video"), None)
            if v:
                thumbs.append(f"{v['width']}x{v['height']}")
            output_bytes += size
        elif magic[:7] == b"#EXTM3U":
            output_bytes += size
            with open(path, errors="replace") as f:
                text = f.read()
            if "#EXT-X-STREAM-INF" in text:
                masters.append(text.count("#EXT-X-STREAM-INF"))
            else:
                media_playlists += 1
                playlist_s = 0.0
                for line in text.splitlines():
                    if line.startswith("#EXTINF:"):
                        segments += 1
                        try:
                            extinf = float(line[8:].split(",")[0])
                        except ValueError:
                            continue
                        max_extinf = max(max_extinf, extinf)
                        playlist_s += extinf
                playlist_totals.append(playlist_s)
        elif magic[4:8] in (b"styp", b"moof", b"sidx"):
            fragments += 1
            output_bytes += size

    problems = []
    out = {"files": len(files), "output_mb": output_bytes / 1e6, "source_copies": source_copies,
           "hls_playlists": media_playlists, "hls_segments": segments,
           "hls_segment_files": fragments, "hls_inits": inits,
           "hls_max_extinf_s": max_extinf,
           "hls_shortest_playlist_s": min(playlist_totals) if playlist_totals else 0.0,
           "hls_longest_playlist_s": max(playlist_totals) if playlist_totals else 0.0,
           "hls_master_variants": masters[0] if masters else 0}
    for name, w, h, kbps in rungs:
        f = found.get(f"{w}x{h}")
        if f is None:
            problems.append(f"no {name} rendition ({w}x{h})")
            continue
        out[f"{name}.video_kbps"] = f["video_kbps"]
        out[f"{name}.audio_kbps"] = f["audio_kbps"]
        out[f"{name}.duration_s"] = f["duration"]
        out[f"{name}.video_s"] = f["video_s"]
        out[f"{name}.audio_s"] = f["audio_s"]
        out[f"{name}.size_mb"] = f["size"] / 1e6
        out[f"{name}.format"] = f"{f['profile']} {f['pix_fmt']}"
        if not f["has_audio"]:
            problems.append(f"{name} has no audio")
    f = found.get("audio")
    if f is None:
        problems.append("no audio-only rendition")
    else:
        out["audio.audio_kbps"] = f["audio_kbps"]
        out["audio.sample_rate"] = f["audio_rate"]
        out["audio.audio_s"] = f["audio_s"]
        out["audio.size_mb"] = f["size"] / 1e6
    if not thumbs:
        problems.append("no JPEG thumbnail")
    else:
        out["thumbnail"] = thumbs[0]
    expected_variants = len(rungs) + 1
    if len(masters) != 1 or masters[0] != expected_variants:
        problems.append(f"master playlists {masters}, expected one with {expected_variants} variants")
    # yuanjiao's blobs are content-addressed: video playlists that differ only in folder are
    # the same text (seg-00000.m4s, ...) and so one blob. Segments are all different.
    lo = 1 if side == "yuanjiao" else expected_variants
    if not lo <= media_playlists <= expected_variants:
        problems.append(f"{media_playlists} media playlists, expected "
                        f"{lo if lo == expected_variants else f'{lo} to {expected_variants}'}")
    src_probe = ffprobe_json(source)
    src_dur = float(src_probe["format"]["duration"]) if src_probe else 0
    per_variant = math.ceil(src_dur / int(segment_secs) - 0.01)
    # A short count is a duration problem (reported by `report`), not a missing output.
    out["hls_segments_expected"] = per_variant * expected_variants
    if fragments < expected_variants:
        problems.append(f"{fragments} segment files for {expected_variants} variants")
    if side == "yuanjiao":
        blobs = sum(1 for p in files if os.sep + "blobs" + os.sep in p)
        out["blobs"] = blobs
        if blobs <= 10:
            problems.append(f"only {blobs} blobs")
        if source_copies != 1:
            problems.append(f"{source_copies} copies of the source among the blobs, expected 1")
    with open(results, "a") as fh:
        for k, v in out.items():
            if isinstance(v, float):
                v = f"{v:.3f}"
            fh.write(f"{side}.out.{k} {v}\n")
        fh.write(f"{side}.check {'; '.join(problems) if problems else 'ok'}\n")
    return 0


# ---------------------------------------------------------------- report

def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip():
                k, _, v = line.partition(" ")
                r[k] = v
    return r


def num(r, key):
    try:
        return float(r.get(key))
    except (TypeError, ValueError):
        return None


def fmt(x, digits=1):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def cmd_report(results, out_txt):
    r = load(results)
    src_s = num(r, "meta.source_seconds")
    steps = {}  # side -> list of step keys (prefix before .wall_s)
    for k in r:
        if k.endswith(".wall_s"):
            side = k.split(".")[0]
            steps.setdefault(side, []).append(k[:-len(".wall_s")])

    def total(side, field):
        keys = steps.get(side, [])
        vals = [num(r, f"{k}.{field}") for k in keys]
        if not keys or any(v is None for v in vals):
            return None
        return max(vals) if field == "maxrss_kb" else sum(vals)

    def side_ok(side):
        keys = steps.get(side, [])
        return bool(keys) and all(r.get(f"{k}.rc") == "0" for k in keys) \
            and r.get(f"{side}.check") == "ok"

    rows = []
    verdicts = []

    def ratio(a, b):
        return f"{a / b:.2f}" if a is not None and b else "-"

    def row(metric, yj, ff, digits=1, target="(info)", judge=None, show_ratio=True):
        result = ""
        if judge is not None:
            if yj is None:
                result = "n/a"
            else:
                ok = judge(yj)
                verdicts.append(ok)
                result = "PASS" if ok else "FAIL"
        rows.append((metric, fmt(yj, digits), fmt(ff, digits),
                     ratio(yj, ff) if show_ratio and not isinstance(yj, str) else "-",
                     target, result))

    yw, fw = total("yuanjiao", "wall_s"), total("ffmpeg", "wall_s")
    row("wall seconds", yw, fw, 1)
    yx = src_s / yw if src_s and yw else None
    fx = src_s / fw if src_s and fw else None
    row("times real time (source s / wall s)", yx, fx, 2,
        f">= {REALTIME_TARGET:g}", lambda v: v >= REALTIME_TARGET)
    yr, fr = total("yuanjiao", "maxrss_kb"), total("ffmpeg", "maxrss_kb")
    yr = yr / 1024 if yr is not None else None
    fr = fr / 1024 if fr is not None else None
    row("peak RSS MB", yr, fr, 1, f"< {RSS_TARGET_MB:g}", lambda v: v < RSS_TARGET_MB)
    yc = (total("yuanjiao", "user_s") or 0) + (total("yuanjiao", "sys_s") or 0) if yw else None
    fc = (total("ffmpeg", "user_s") or 0) + (total("ffmpeg", "sys_s") or 0) if fw else None
    row("  CPU seconds (user + sys)", yc, fc, 1)
    row("  cores busy on average (CPU s / wall s)", yc / yw if yc and yw else None,
        fc / fw if fc and fw else None, 2)
    for k in steps.get("ffmpeg", []):
        row(f"  ffmpeg step {k.split('.', 1)[1]}: wall s / peak RSS MB", "",
            f"{num(r, k + '.wall_s'):.1f} / {num(r, k + '.maxrss_kb') / 1024:.0f}",
            show_ratio=False)

    rungs = [x.split(":")[0] for x in r.get("meta.rungs", "").split(",") if x]
    for name in rungs:
        row(f"  {name} H.264 kbit/s (target {r.get('meta.rung_kbps.' + name, '?')})",
            num(r, f"yuanjiao.out.{name}.video_kbps"), num(r, f"ffmpeg.out.{name}.video_kbps"), 0)
        row(f"  {name} file MB", num(r, f"yuanjiao.out.{name}.size_mb"),
            num(r, f"ffmpeg.out.{name}.size_mb"), 1)
    row("  audio.m4a audio stream s", num(r, "yuanjiao.out.audio.audio_s"),
        num(r, "ffmpeg.out.audio.audio_s"), 2)
    row("  audio.m4a AAC kbit/s", num(r, "yuanjiao.out.audio.audio_kbps"),
        num(r, "ffmpeg.out.audio.audio_kbps"), 1)
    row("  thumbnail", r.get("yuanjiao.out.thumbnail"), r.get("ffmpeg.out.thumbnail"),
        show_ratio=False)
    row(f"  HLS variants in master / segment files (expected "
        f"{r.get('ffmpeg.out.hls_segments_expected', r.get('yuanjiao.out.hls_segments_expected', '?'))})",
        f"{r.get('yuanjiao.out.hls_master_variants', '-')} / "
        f"{r.get('yuanjiao.out.hls_segment_files', '-')}",
        f"{r.get('ffmpeg.out.hls_master_variants', '-')} / "
        f"{r.get('ffmpeg.out.hls_segment_files', '-')}",
        show_ratio=False)
    row("  HLS playlist s, shortest / longest",
        f"{fmt(num(r, 'yuanjiao.out.hls_shortest_playlist_s'), 2)} / "
        f"{fmt(num(r, 'yuanjiao.out.hls_longest_playlist_s'), 2)}",
        f"{fmt(num(r, 'ffmpeg.out.hls_shortest_playlist_s'), 2)} / "
        f"{fmt(num(r, 'ffmpeg.out.hls_longest_playlist_s'), 2)}", show_ratio=False)
    row("  longest HLS segment s", num(r, "yuanjiao.out.hls_max_extinf_s"),
        num(r, "ffmpeg.out.hls_max_extinf_s"), 2, show_ratio=False)
    row("  output MB (source copy excluded)", num(r, "yuanjiao.out.output_mb"),
        num(r, "ffmpeg.out.output_mb"), 1)
    row("  files written (yuanjiao: blobs, source included)",
        num(r, "yuanjiao.out.blobs"), num(r, "ffmpeg.out.files"), 0, show_ratio=False)
    row("  outputs check", r.get("yuanjiao.check", "-"), r.get("ffmpeg.check", "-"),
        show_ratio=False)

    headers = ("metric", "yuanjiao", "ffmpeg CLI", "ratio", "target", "result")
    widths = [max(len(str(x[i])) for x in rows + [headers]) for i in range(len(headers))]

    def line(cells):
        return " | ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                          for i, c in enumerate(cells)).rstrip()

    text = ["yuanjiao media pipeline vs ffmpeg CLI (ratio = yuanjiao / ffmpeg CLI: below 1 is "
            "less time or memory, above 1 on 'times real time' is faster; targets apply to "
            "yuanjiao)"]
    for k, v in r.items():
        if k.startswith("meta.") and not k.startswith("meta.rung"):
            text.append(f"  {k[5:]}: {v}")
    text += ["", line(headers), "-+-".join("-" * w for w in widths)]
    text += [line(x) for x in rows]
    text.append("")
    if verdicts:
        text.append(f"targets: {sum(verdicts)}/{len(verdicts)} met -> "
                    f"{'PASS' if all(verdicts) else 'FAIL'} (yuanjiao >= {REALTIME_TARGET:g}x "
                    f"real time, peak RSS < {RSS_TARGET_MB:g} MB)")
    notes = []
    if src_s:
        for side in ("yuanjiao", "ffmpeg"):
            for k, v in r.items():
                if k.startswith(f"{side}.out.") and (k.endswith(".video_s") or k.endswith(".audio_s")
                                                     or k.endswith("_playlist_s")):
                    try:
                        d = float(v)
                    except ValueError:
                        continue
                    if abs(d - src_s) > 0.5:
                        notes.append(f"{side}: {k[len(side) + 5:]} = {d:.2f} s, the source "
                                     f"lasts {src_s:.2f} s")
    if notes:
        text.append("durations off by more than 0.5 s (outputs are not equivalent there):")
        text += [f"  - {n}" for n in notes]
    broken = []
    for side in ("yuanjiao", "ffmpeg"):
        if not side_ok(side):
            bad = [k for k in steps.get(side, []) if r.get(f"{k}.rc") != "0"]
            broken.append(f"{side}: " + (f"exit status not 0 in {bad}; " if bad else "")
                          + f"check: {r.get(side + '.check', 'not run')}")
    if broken:
        text.append("RUN BROKEN:")
        text += [f"  - {b}" for b in broken]
    out = "\n".join(text) + "\n"
    sys.stdout.write(out)
    with open(out_txt, "w") as f:
        f.write(out)
    return 1 if broken else 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "settings":
        return cmd_settings(argv[1], argv[2])
    if len(argv) >= 5 and argv[0] == "measure" and argv[3] == "--":
        return cmd_measure(argv[1], argv[2], argv[4:])
    if len(argv) == 7 and argv[0] == "inspect":
        return cmd_inspect(*argv[1:])
    if len(argv) == 3 and argv[0] == "report":
        return cmd_report(argv[1], argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
