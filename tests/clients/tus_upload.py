#!/usr/bin/env python3
"""Uploads a file to a tus 1.0 server with tuspy (the tus project's Python client), in chunks.

    tus_upload.py ENDPOINT TOKEN FILE CHUNK_SIZE STATE [--stop-after-chunks N] [--filetype T]
                  [--meta KEY=VALUE ...]

ENDPOINT is the creation URL (http://host:port/uploads). STATE is tuspy's own URL store (a
JSON file): the upload's URL is kept there under the file's fingerprint, so a later run for the
same file finds it, asks the server for the offset (HEAD) and resumes from there, as an
application that was interrupted would.

With --stop-after-chunks N the run sends N chunks (each with a sha1 Upload-Checksum) and exits
without finishing: the interruption. Without it, the run uploads whatever is left.

The last line printed is JSON: {"url", "offset", "resumed_from", "length"}.
"""

import argparse
import json
import os
import sys

from tusclient import client as tus_client
from tusclient.storage.filestorage import FileStorage


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("token")
    parser.add_argument("file")
    parser.add_argument("chunk_size", type=int)
    parser.add_argument("state")
    parser.add_argument("--stop-after-chunks", type=int, default=None)
    parser.add_argument("--filetype", default=None)
    parser.add_argument("--meta", action="append", default=[])
    args = parser.parse_args()

    client = tus_client.TusClient(
        args.endpoint, headers={"Authorization": f"Bearer {args.token}"}
    )
    metadata = {"filename": os.path.basename(args.file)}
    if args.filetype:
        metadata["filetype"] = args.filetype
    for pair in args.meta:
        key, _, value = pair.partition("=")
        metadata[key] = value
    storage = FileStorage(args.state)
    try:
        # With store_url, the uploader looks the file's fingerprint up in the storage; when a
        # URL is there it asks the server for the offset and carries on from it.
        uploader = client.uploader(
            file_path=args.file,
            chunk_size=args.chunk_size,
            metadata=metadata,
            store_url=True,
            url_storage=storage,
            upload_checksum=True,
        )
        resumed_from = uploader.offset if uploader.url else None
        length = uploader.get_file_size()
        if args.stop_after_chunks is not None:
            for _ in range(args.stop_after_chunks):
                if uploader.url and uploader.offset >= length:
                    break
                uploader.upload_chunk()
                print(f"chunk sent: offset {uploader.offset} of {length}", file=sys.stderr)
        else:
            uploader.upload()
        print(
            json.dumps(
                {
                    "url": uploader.url,
                    "offset": uploader.offset,
                    "resumed_from": resumed_from,
                    "length": length,
                }
            )
        )
    finally:
        storage.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
